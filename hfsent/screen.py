"""The screen of a stranger's ``config.json``: what Keras would build from it, checked before
Keras reads it (on top of Keras' own ``safe_mode``).

Keras builds each object of ``config.json`` from the class it resolves; :func:`resolve` does the
same without importing anything (see :mod:`hfsent.keras_classes`).  Then:

* Classes: each object must resolve to one of :data:`ALLOWED`, the built-in classes that hfsent
  models are made of.  A Lambda, a custom class, a ``registered_name`` pointing at some class
  registered in the process, or a Keras class that reads files (lookup layers' ``assets/``) is
  refused, and none of it imported or run.
* Sizes: units and dimensions within :data:`~hfsent.bounds.MAX_UNITS`, hash buckets within
  :data:`~hfsent.bounds.MAX_BUCKETS`, every shape (any setting named ``*shape``, each
  ``build_config``), padding and cropping within :data:`MAX_SHAPE`, each Embedding with as many
  rows as ``vocab.txt`` has lines (or as a Hashing layer has bins).
* Budget: the weights that all layers together imply (Embedding, Dense and GRU kernels, their
  widths taken from ``build_config`` as Keras builds them) within :data:`MAX_PARAMETERS` and
  :data:`MAX_WEIGHT_BYTES`, so nothing huge is allocated whatever each field says alone.  A
  layer whose weights depend on its input's width (:data:`_SHAPED`) must have a
  ``build_config`` that gives it (a GRU in a Bidirectional: the Bidirectional's): Keras builds
  the layer from it before calling it on the graph's tensors, and a call on a wider tensor
  (a Concatenate of many, say) then fails symbolically, before allocating anything.
* Output: a ``Rescaling`` output layer for the rating task, any other for sentiment.

Errors name the file, the class and the field, never a value longer than a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
from keras.src.models.functional import Functional

from hfsent.bounds import MAX_BUCKETS, MAX_UNITS
from hfsent.errors import InputError, UnsafeModelError
from hfsent.keras_classes import ALLOWED, resolve
from hfsent.keras_classes import check_class as _check_class
from hfsent.keras_classes import shown as _shown
from hfsent.locate import KERAS_CONFIG
from hfsent.names import WIDE_AND_DEEP, WIDE_OUTPUT
from hfsent.saved_config import CONFIG_NAME

if TYPE_CHECKING:
    from hfsent.tasks import Task

__all__ = ["ALLOWED", "MAX_DEPTH", "MAX_PARAMETERS", "MAX_SHAPE", "MAX_WEIGHT_BYTES", "check_keras_config",
           "resolve"]

_LIMITS = {"units": MAX_UNITS, "output_dim": MAX_UNITS, "num_bins": MAX_BUCKETS}
# Layers whose weights Keras sizes by their input's width (an Embedding's by its settings alone).
_SHAPED = frozenset({keras.layers.Dense, keras.layers.GRU, keras.layers.Bidirectional})
MAX_SHAPE = 4 * MAX_UNITS  # a width or length in a build_config, a padding or a cropping
MAX_DEPTH = 64  # objects in objects; an hfsent config.json is 11 deep
MAX_PARAMETERS = 1 << 28  # the default IMDB model has 5 million, --preset best 5.2 million
MAX_WEIGHT_BYTES = 1 << 30


def check_keras_config(config: Any, vocab_lines: int, task: Task, where: str = KERAS_CONFIG) -> None:
    """Refuse ``config`` (the parsed ``config.json``) unless it passes every check of the module
    docstring, with an :class:`~hfsent.errors.UnsafeModelError` (or an ``InputError`` for a task
    that does not match).

    Args:
        config: the parsed ``config.json``.
        vocab_lines: the lines of ``vocab.txt``.
        task: the task that ``hfsent_config.json`` says (:func:`hfsent.tasks.task_for`), which
            says whether the output layer predicts classes or ratings.
        where: the file name for the error message.

    Example:
        >>> check_keras_config(read_json(Path("runs/m/config.json"), 2 << 20), 30000, task_for(ModelConfig()))
    """
    if not isinstance(config, dict) or resolve(config) is not Functional:
        raise UnsafeModelError(f"{where} must describe a Keras functional model, as hfsent saves it")
    nodes, stack = [], [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnsafeModelError(f"{where} nests objects more than {MAX_DEPTH} deep; an hfsent model's "
                                   "are 11 deep")
        if isinstance(node, dict):
            if "class_name" in node:
                _check_shapes(node, where)
                cls = _check_class(node, where)
                if cls is not None:
                    nodes.append((cls, node))
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    bins = {_settings(node).get("num_bins") for cls, node in nodes if cls is keras.layers.Hashing}
    bins = {b for b in bins if type(b) is int}
    # A Bidirectional builds the GRUs it wraps (which have no build_config) from its own.
    wrapped = {id(_settings(node).get(key)): node for cls, node in nodes if cls is keras.layers.Bidirectional
               for key in ("layer", "backward_layer")}
    parameters = weight_bytes = 0
    for cls, node in nodes:
        count = _check_sizes(cls, node, vocab_lines, bins, where, wrapped.get(id(node), node))
        parameters += count
        weight_bytes += count * _item_size(node)
    if parameters > MAX_PARAMETERS or weight_bytes > MAX_WEIGHT_BYTES:
        raise UnsafeModelError(
            f"{where} implies {parameters:,} weights ({weight_bytes / 2**20:,.0f} MiB); an hfsent model has "
            f"at most {MAX_PARAMETERS:,} ({MAX_WEIGHT_BYTES / 2**20:,.0f} MiB), so it is refused before "
            "allocating any")
    _check_output(config, nodes, task, where)


def _settings(node: dict) -> dict:
    """The ``config`` of an object of ``config.json``, or ``{}`` where it has none that is an object."""
    settings = node.get("config")
    return settings if isinstance(settings, dict) else {}


def _whole(value: Any, least: int, most: int) -> bool:
    return type(value) is int and least <= value <= most


def _check_shapes(node: dict, where: str) -> None:
    """Refuse any shape of an object (``batch_shape``, ``shape``, ``input_shape``,
    ``batch_input_shape``, ``target_shape``: every setting named ``*shape``) with a size outside
    [-1, :data:`MAX_SHAPE`], so that no tensor wider than that flows into a layer."""
    settings = _settings(node)
    for key, value in settings.items():
        if isinstance(key, str) and key.endswith("shape") and not all(
                v is None or _whole(v, -1, MAX_SHAPE) for v in _flat(value)):
            label = f"{_shown(node.get('class_name'))} {_shown(settings.get('name'))}"
            raise UnsafeModelError(f"{where}: {label} has a {_shown(key)} with a size outside "
                                   f"[-1, {MAX_SHAPE}]")


def _build_width(node: dict, name: str, where: str) -> int | None:
    """The input width that ``build_config`` builds a layer for; ``None`` if it builds none.  Keras
    builds from ``input_shape`` or from ``shapes_dict``: hfsent writes only the first, so any other
    key is refused."""
    build, label = node.get("build_config"), _shown(_settings(node).get("name"))
    if build is None:
        return None
    if not isinstance(build, dict) or set(build) - {"input_shape"}:
        raise UnsafeModelError(f"{where}: the build_config of {name} {label} holds more than the "
                               "input_shape that Keras writes")
    shape = build.get("input_shape")
    if not all(v is None or _whole(v, -1, MAX_SHAPE) for v in _flat(shape)):
        raise UnsafeModelError(f"{where}: the build_config of {name} {label} has a size outside "
                               f"[-1, {MAX_SHAPE}]")
    return shape[-1] if isinstance(shape, list) and shape and _whole(shape[-1], 1, MAX_SHAPE) else None


def _check_sizes(cls: type, node: dict, vocab_lines: int, bins: set, where: str, builder: dict) -> int:
    """Check the sizes of one layer; its number of weights.  ``builder``: the node whose
    build_config builds it (itself, or the Bidirectional that wraps it)."""
    settings, name = _settings(node), cls.__name__
    for key, most in _LIMITS.items():
        value = settings.get(key)
        if cls is keras.layers.Discretization and key == "num_bins" and value is None:
            continue  # it has bin_boundaries instead (concat pooling's padding penalty)
        if key in settings and not _whole(value, 1, most):
            raise UnsafeModelError(f"{where}: {name}.{key} must be a whole number in [1, {most}]")
    for key in ("padding", "cropping"):
        values = settings.get(key)
        if key in settings and not all(_whole(v, 0, MAX_SHAPE) for v in _flat(values)):
            raise UnsafeModelError(f"{where}: {name}.{key} must be whole numbers in [0, {MAX_SHAPE}]")
    width = _build_width(node, name, where)
    if builder is not node:
        width = _build_width(builder, keras.layers.Bidirectional.__name__, where)
    if cls in _SHAPED and width is None:
        # Else Keras would size its weights by whatever flows in at the first call; built from
        # build_config, a call on a wider input fails symbolically, before allocating anything.
        raise UnsafeModelError(f"{where}: {name} {_shown(settings.get('name'))} has no build_config with "
                               "the width of its input, which hfsent always writes; refused, since Keras "
                               "would size its weights by whatever flows into it")
    width = width or MAX_SHAPE
    units = settings.get("units", 1)
    if cls is keras.layers.Embedding:
        rows = settings.get("input_dim")
        if type(rows) is not int or rows not in {vocab_lines, *bins}:
            shown = f"{rows} rows" if type(rows) is int else "an input_dim that is no number"
            raise UnsafeModelError(f"{where}: an Embedding has {shown}, but vocab.txt has {vocab_lines} "
                                   "lines; refused before allocating it")
        return rows * settings.get("output_dim", 1)
    if cls is keras.layers.Dense:
        return (width + (settings.get("use_bias") is not False)) * units
    if cls is keras.layers.GRU:
        return 3 * units * (width + units + 2)
    return 0


def _flat(value: Any) -> list:
    """The leaves of nested lists (a shape, a padding); a lone value as a list of one."""
    return [leaf for item in value for leaf in _flat(item)] if isinstance(value, list) else [value]


def _item_size(node: dict) -> int:
    """Bytes per weight of a layer: 8 for a float64 policy, else 4 (an upper bound for 16 bits)."""
    dtype = _settings(node).get("dtype")
    name = _settings(dtype).get("name") if isinstance(dtype, dict) else dtype
    return 8 if isinstance(name, str) and name.endswith("64") else 4


def _check_output(config: dict, nodes: list[tuple[type, dict]], task: Task, where: str) -> None:
    outputs = _settings(config).get("output_layers")
    outputs = outputs if isinstance(outputs, list) else []
    names = {outputs[0]} if outputs and isinstance(outputs[0], str) else \
        {o[0] for o in outputs if isinstance(o, list) and o and isinstance(o[0], str)}
    by_name = {_settings(node).get("name"): (cls, node) for cls, node in nodes
               if isinstance(_settings(node).get("name"), str)}
    kinds = {by_name[n][0].__name__ for n in names if n in by_name}
    # A rating model ends in the Rescaling onto the scale, or in the blend of that rating with
    # the linear half's, whose own output has no activation.
    wide = _settings(by_name.get(WIDE_OUTPUT, (None, {}))[1])
    rating = kinds == {"Rescaling"} or (names == {WIDE_AND_DEEP} and wide.get("activation") == "linear")
    if len(kinds) != 1 or ("ratings" if rating else "classes") != task.predicts:
        output = "/".join(sorted(kinds)) or "missing"
        raise InputError(f"{CONFIG_NAME} says task {task.name!r}, but the model of {where} predicts "
                         f"{'ratings' if rating else 'classes'} (output layer {output}): the folder's files "
                         "do not belong together")
