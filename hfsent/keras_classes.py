"""Which Keras classes a stranger's ``config.json`` may name, found as Keras would find them.

Keras builds each object of ``config.json`` from the class it resolves: a ``registered_name``
in the process' registry first, then the exported name ``module.class_name``, then the class
of that name in the ``keras`` module named.  :func:`resolve` does the same, without importing
anything, so spelling a module ``keras.src.layers`` or ``keras.src.layers.core.embedding``
reaches the same checks as ``keras.layers``.  :func:`check_class` then refuses any object that
does not resolve to one of :data:`ALLOWED`, the built-in classes that hfsent models are made
of: a Lambda, a custom class, a ``registered_name`` pointing at some class registered in the
process, or a Keras class that reads files (lookup layers' ``assets/``), none of it imported
or run.  The rest of the screen (sizes, budget, output) is :mod:`hfsent.screen`'s.
"""

from __future__ import annotations

import sys
from typing import Any

import keras
from keras.src import api_export  # the table of exported names that Keras resolves with
from keras.src.models.functional import Functional
from keras.src.ops.numpy import NotEqual

from hfsent.errors import UnsafeModelError

_LAYERS = ("Add", "Average", "Bidirectional", "Concatenate", "Cropping1D", "Dense", "Discretization", "Dot",
           "Dropout", "Embedding", "GRU", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Hashing",
           "InputLayer", "ReLU", "Rescaling", "Reshape", "ZeroPadding1D")
_INITIALIZERS = ("Constant", "GlorotUniform", "Ones", "Orthogonal", "RandomUniform", "Zeros")
# Every class that hfsent has built a model from, and nothing else (the optimizer and its schedule
# appear in compile_config, which loading never compiles).
ALLOWED = frozenset({
    *(getattr(keras.layers, name) for name in _LAYERS),
    *(getattr(keras.initializers, name) for name in _INITIALIZERS),
    Functional, NotEqual, keras.DTypePolicy, keras.dtype_policies.FloatDTypePolicy,
    keras.optimizers.Adam, keras.optimizers.schedules.ExponentialDecay,
})
_MODULELESS = {"__keras_tensor__"}  # the one kind of node Keras writes without a module
_PACKAGES = {"keras", "keras_hub", "keras_cv", "keras_nlp"}  # whose modules Keras imports by name


def resolve(node: dict) -> type | None:
    """The class Keras would build ``node`` (an object of ``config.json``) as, or ``None`` where
    Keras would have to import a module or find nothing.

    Example:
        >>> resolve({"module": "keras.src.layers.core.embedding", "class_name": "Embedding"})
        <class 'keras.src.layers.core.embedding.Embedding'>
    """
    registered, module, name = node.get("registered_name"), node.get("module"), node.get("class_name")
    if not (isinstance(module, str) and isinstance(name, str) and isinstance(registered, (str, type(None)))):
        return None
    if registered is not None:
        found = keras.saving.get_registered_object(registered)
        if found is not None:
            return found
    if module == "keras" or module.startswith("keras."):
        found = api_export.get_symbol_from_name(f"{module}.{name}")
        if found is not None:
            return found
    loaded = sys.modules.get(module) if module.split(".")[0] in _PACKAGES else None
    return vars(loaded).get(name) if loaded is not None else None


def shown(value: Any) -> str:
    """``value`` for an error message: one line, at most 80 characters."""
    return repr(value if isinstance(value, str) else "?")[1:-1][:80]


def check_class(node: dict, where: str) -> type | None:
    """The class of ``node`` if it is one of :data:`ALLOWED`; ``None`` for a Keras tensor."""
    name, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    if module is None and registered is None and name in _MODULELESS:
        return None
    cls = resolve(node)  # may be any value of a module, a list say, so tested for a class first
    if not (isinstance(cls, type) and cls in ALLOWED) or registered not in (None, name):
        alias = f" registered as '{shown(registered)}'" if registered not in (None, name) else ""
        raise UnsafeModelError(
            f"{where} refers to {shown(module)}.{shown(name)}{alias}: hfsent models contain only the "
            "built-in Keras classes that hfsent builds, so this model is refused without running any of "
            "its code")
    return cls

