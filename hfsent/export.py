"""A model folder as a TensorFlow SavedModel that takes raw strings: ``hfsent export``.

The SavedModel's ``serving_default`` signature takes a 1-D string tensor ``text`` (a model of
several text fields: one per field, see :func:`input_keys`, joined in the graph as
:func:`hfsent.fields.join` joins them) and does, inside the graph, everything
:meth:`hfsent.predict.SentimentClassifier.encode` does in Python: HTML line breaks out, spaCy's
English tokenizer redone in ``tf.strings`` ops (:mod:`hfsent.graph_tokenizer`), lowercasing,
the vocabulary lookup (``vocab.txt`` as the SavedModel's asset, read by a ``StaticHashTable``:
the line number is the id, so ``[PAD]`` = 0, unknown words ``[UNK]`` = 1, exactly hfsent's ids)
and truncation to the first ``max_length`` tokens; then both halves of the Keras network.
It returns

* ``scores``: ``[batch, classes]`` float32, each class's probability (a binary model's two
  columns are ``1 - p`` and ``p``, as :meth:`~hfsent.predict.SentimentClassifier.class_probabilities`);
* ``label``: ``[batch]`` int64, the index of the most probable class, and ``label_name`` its name;
* for a rating model, ``rating`` instead: ``[batch]`` float32, clipped to the scale.

A second signature, ``encode``, takes the same inputs and returns what the network reads:
``input_ids`` (right-padded with 0) and ``length``, to check the in-graph tokenizer against
hfsent's.  ``hfsent_export.json`` names the inputs, and for several fields which field each is.

A text without any token gets scores of NaN and label -1 (``hfsent predict`` refuses it).
Loading needs TensorFlow only: ``tf.saved_model.load(folder).signatures["serving_default"]``,
and TF Serving serves the folder as version ``1`` of a model (see README.md).

``quantize="int8"`` first applies Keras' ``Model.quantize("int8")`` to the Embedding layers
whose int8 form is smaller (the word embeddings: most of the weights; the linear half's
one-column embeddings would grow with a scale per row).  Dense layers stay float32: they hold a
few hundred weights, and Keras' int8 Dense also quantizes its inputs.

Limits: only spaCy's English tokenizer (``blank:en`` or an English pipeline) is redone; the
tokens differ from spaCy's on 2 of the 25,000 IMDB test reviews (BENCHMARKS.md, "Export", has
what that does to the labels).  TFLite: see :data:`TFLITE_NOTE`.
"""

from __future__ import annotations

import json
import keyword
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hfsent import fields
from hfsent.errors import InputError
from hfsent.folder import atomic_folder
from hfsent.tasks import task_for

FORMATS = ("saved_model",)
QUANTIZE_MODES = ("int8",)
SIGNATURE = "serving_default"
ENCODE = "encode"  # the second signature: the token ids the model reads, right-padded, and their count
EXPORT_INFO = "hfsent_export.json"  # beside saved_model.pb: what the signature takes and returns
MIN_INT8_WIDTH = 4  # an int8 embedding row of this width plus its float32 scale is at least 2x smaller
TFLITE_NOTE = (
    "TFLite: with builtins only the converter fails (first on the GRU's TensorList ops, whose element "
    "shape is not static; the string ops, hash tables and ragged ops have no builtin kernels either). "
    "With SELECT_TF_OPS it converts, the string ops (StaticRegexReplace, StaticRegexFullMatch, "
    "StringSplitV2, StringLower, StringJoin, StringLength, Substr, StringStrip, and AsString with "
    "StringToHashBucketFast of the bigram hashing), the hash tables, the ragged ops and the GRU's "
    "TensorList ops becoming TF Select ops; such a model runs only where the Flex delegate is linked, "
    "which TensorFlow 2.21's tf.lite.Interpreter is not, so no tflite format is offered.")


def input_keys(names: Sequence[str]) -> list[str]:
    """The signature's input for each text field ``names``: ``["text"]`` for a model of one (as
    ever); else each field's name as a key that TensorFlow keeps as it is (it renames a key that is
    no identifier starting with a letter, and refuses a Python keyword).  A field name is a
    stranger's string, so it is never trusted as one: each character outside ASCII letters, digits
    and ``_`` becomes ``_``, a key not starting with a letter gets ``field_`` before it, a keyword
    ``_`` after it, and a key already taken ``_<position>`` until it is free.

    Example:
        >>> input_keys(["title", "review body", "class", "2nd"])
        ['title', 'review_body', 'class_', 'field_2nd']
    """
    if len(names) == 1:
        return ["text"]
    keys: list[str] = []
    for i, name in enumerate(names):
        key = re.sub(r"[^A-Za-z0-9_]", "_", name)
        key = key if re.match(r"[A-Za-z]", key) else f"field_{key}"
        key = f"{key}_" if keyword.iskeyword(key) else key
        while key in keys:
            key += f"_{i}"
        keys.append(key)
    return keys


def inputs_said(folder: Path) -> str:
    """What the export in ``folder`` takes, in words, from its :data:`EXPORT_INFO` (whose input
    keys are :func:`input_keys`: plain identifiers, safe to print).

    Example:
        >>> inputs_said(Path("exports/titled/1"))
        "a string tensor per text field: 'title', 'body'"
    """
    keys = list(json.loads((folder / EXPORT_INFO).read_text(encoding="utf-8"))["inputs"])
    said = ", ".join(f"'{key}'" for key in keys)
    return f"a string tensor {said}" if len(keys) == 1 else f"a string tensor per text field: {said}"


def quantize_int8(model) -> list[str]:
    """Quantize ``model``'s large Embedding layers to int8 in place; returns their names.

    Example:
        >>> quantize_int8(clf.model)
        ['embedding']
    """
    import keras

    def wide(layer) -> bool:
        return isinstance(layer, keras.layers.Embedding) and layer.output_dim >= MIN_INT8_WIDTH

    names = [layer.name for layer in model.layers if wide(layer)]
    if names:
        model.quantize("int8", filters=wide)
    return names


def _module(model, vocab_file: Path, config):
    """The ``tf.Module`` that is saved: tables, the Keras model and the serving function."""
    import tensorflow as tf

    from hfsent.graph_tokenizer import WHITESPACE, english_rules, graph_tokenize, specials_table
    from hfsent.tokenize import load_spacy
    from hfsent.vocab import PAD_ID, UNK_ID

    pre, spec = config.preprocessing, config.model
    nlp = load_spacy(pre.spacy_model)
    if nlp.lang != "en":
        raise InputError(f"export redoes spaCy's English tokenizer only; this model's tokenizer is "
                         f"{pre.spacy_model[:40]!r}")
    rules = english_rules(nlp.tokenizer)
    task = task_for(spec)
    module = tf.Module()
    module.model = model
    module.vocab_file = tf.saved_model.Asset(str(vocab_file))
    module.vocab = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
        module.vocab_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
        tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER), default_value=UNK_ID)
    module.specials = specials_table(rules)

    inputs = [tf.TensorSpec([None], tf.string, name=key)
              for key in input_keys(fields.parse(config.data.text_column))]

    def joined(texts):
        """The text the model reads, as hfsent.fields.join makes it: one field as it is; several
        joined by the separator word, or "" where every one is blank (str.strip's whitespace)."""
        if len(texts) == 1:
            return texts[0]
        blank = tf.reduce_all([tf.strings.regex_full_match(t, f"(?:{WHITESPACE})?") for t in texts], axis=0)
        return tf.where(blank, "", tf.strings.join(list(texts), separator=fields.JOINER))

    def token_ids(texts):
        tokens = graph_tokenize(joined(texts), rules, module.specials, pre.lowercase)[:, :pre.max_length]
        return tf.cast(tf.ragged.map_flat_values(module.vocab.lookup, tokens), tf.int32)

    @tf.function(input_signature=inputs)
    def encode(*texts):
        ids = token_ids(texts)
        return {"input_ids": ids.to_tensor(default_value=PAD_ID), "length": ids.row_lengths()}

    @tf.function(input_signature=inputs)
    def serve(*texts):
        ids = token_ids(texts)
        empty = tf.equal(ids.row_lengths(), 0)
        dense = ids.to_tensor(default_value=PAD_ID)
        # A row must hold a token (an all-padding row has no masked GRU output): a text without
        # one is scored on [UNK], then its answer is replaced by NaN.
        dense = tf.pad(dense, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(dense)[1])]])
        dense = tf.concat([tf.where(empty[:, None], UNK_ID, dense[:, :1]), dense[:, 1:]], axis=1)
        out = tf.cast(module.model(dense, training=False), tf.float32)
        # hfsent.tasks shapes each task's outputs; its Python branches are on the task, not on
        # tensors, so AutoGraph (which mistakes the bound method's arguments) is kept out of it
        return tf.autograph.experimental.do_not_convert(task.serve_outputs)(tf, out, empty)

    module.serve, module.encode = serve, encode
    return module, serve


def export_saved_model(model_dir: str | Path, output_dir: str | Path, quantize: str | None = None,
                       overwrite: bool = False) -> Path:
    """Write ``model_dir`` (an hfsent model folder) as a string-in SavedModel to ``output_dir``,
    atomically (:func:`hfsent.folder.atomic_folder`); nothing pickled, no local path inside.

    Args:
        model_dir: a local model folder, loaded and checked as ``predict`` does.
        output_dir: refused if it exists and is not empty, unless ``overwrite``.
        quantize: ``None`` or ``"int8"`` (:func:`quantize_int8`).

    Example:
        >>> export_saved_model("runs/imdb-gru", "exports/imdb-gru")
        PosixPath('exports/imdb-gru')
    """
    import tensorflow as tf

    from hfsent import __version__
    from hfsent.artifacts import load_artifacts

    if quantize not in (None, *QUANTIZE_MODES):
        raise InputError(f"quantize must be one of {QUANTIZE_MODES}, got {str(quantize)[:20]!r}")
    model, vocab, config = load_artifacts(model_dir)
    quantized = quantize_int8(model) if quantize == "int8" else []
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = vocab.save(scratch)  # refuses a token with a line break: one id per line
        module, serve = _module(model, vocab_file, config)
        outputs = {name: {"dtype": spec.dtype.name, "shape": spec.shape.as_list()}
                   for name, spec in serve.get_concrete_function().structured_outputs.items()}

        names = fields.parse(config.data.text_column)
        inputs = {key: {"dtype": "string", "shape": [None], **({"field": name} if len(names) > 1 else {})}
                  for key, name in zip(input_keys(names), names)}

        def fill(tmp: Path) -> None:
            tf.saved_model.save(module, str(tmp), signatures={SIGNATURE: serve, ENCODE: module.encode})
            info = {"hfsent_version": __version__, "signature": SIGNATURE,
                    "inputs": inputs, "outputs": outputs,
                    "labels": task_for(config.model).labels,
                    "max_length": config.preprocessing.max_length, "quantize": quantize,
                    "quantized_layers": quantized}
            (tmp / EXPORT_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

        return atomic_folder(output_dir, fill, overwrite=overwrite)
