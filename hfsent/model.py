"""The network: Embedding(mask_zero) -> GRU -> the task's head (:mod:`hfsent.tasks`): Dense(1,
sigmoid) for two classes, Dense(N, softmax) for N > 2, or a rating head.

Only built-in Keras layers are used, so a saved model loads with plain
``keras.saving.load_model`` and ``safe_mode`` on, without importing hfsent.

The GRU keeps the settings under which Keras runs NVIDIA's cuDNN kernel on a GPU
(tanh / sigmoid activations, ``recurrent_dropout=0``, ``unroll=False``, ``use_bias``,
``reset_after=True``) together with right-padded masks from :mod:`hfsent.batching`.
Dropout is applied outside the GRU for the same reason.

``pooling="last"`` feeds the classifier the GRU's final state (for a bidirectional GRU,
both directions' final states); ``pooling="mean"`` averages the GRU states over the real
tokens, the mask excluding padding; ``pooling="concat"`` (the default: it won on the
movie-grouped validation split, see BENCHMARKS.md) puts the masked maximum beside that mean.
"""

from __future__ import annotations

import keras
from keras import layers

from hfsent.config import ModelConfig, TrainingConfig
from hfsent.names import BIDIRECTIONAL_GRU, EMBEDDING, GRU
from hfsent.tasks import task_for


def build_model(config: ModelConfig, vocab_size: int, trainable_embeddings: bool = True) -> keras.Model:
    """The classifier (or rating regressor) over right-padded ids, 0 being padding.

    Args:
        config: the model component (task, sizes, pooling, dropout).
        vocab_size: rows of the Embedding, i.e. ``len(vocab)``.
        trainable_embeddings: ``False`` keeps the Embedding fixed (``--freeze-embeddings``).

    Example:
        >>> model = build_model(ModelConfig(gru_units=8, embedding_dim=8), vocab_size=100)
        >>> model.output_shape
        (None, 1)
    """
    inputs = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    # The mask is also passed by hand to the GRU and the pooling: Keras' main branch after 3.15
    # stops propagating masks through RNN and Bidirectional, and the mean would then count padding.
    mask = keras.ops.not_equal(inputs, 0)
    x = layers.Embedding(vocab_size, config.embedding_dim, mask_zero=True, name=EMBEDDING,
                         trainable=trainable_embeddings)(inputs)
    x = layers.Dropout(config.dropout, name="embedding_dropout")(x)
    gru = layers.GRU(config.gru_units, return_sequences=config.pooling != "last", name=GRU)
    x = (layers.Bidirectional(gru, name=BIDIRECTIONAL_GRU) if config.bidirectional else gru)(x, mask=mask)
    if config.pooling != "last":
        mean = layers.GlobalAveragePooling1D(name="mean_pool")(x, mask=mask)
        x = mean if config.pooling == "mean" else layers.Concatenate(name="concat_pool")(
            [mean, _masked_max(x, inputs)])
    x = layers.Dropout(config.dropout, name="head_dropout")(x)
    outputs = task_for(config).head(x)  # the task owns the head: hfsent.tasks
    return keras.Model(inputs, outputs, name="hfsent_gru")


def _masked_max(states, ids):
    """The largest state over the real tokens.  ``GlobalMaxPooling1D`` ignores masks, so the
    padding is pushed out of the max by a penalty made of built-in layers: ``Discretization``
    maps an id to 0 for padding and 1 for a word, ``Rescaling`` maps that to -1e4 and 0."""
    is_word = layers.Discretization(bin_boundaries=[0.5], output_mode="int", name="is_word")(
        layers.Reshape((-1, 1), name="ids_as_column")(ids))
    penalty = layers.Rescaling(1e4, offset=-1e4, name="padding_penalty")(is_word)
    return layers.GlobalMaxPooling1D(name="max_pool")(layers.Add(name="penalised")([states, penalty]))


def compile_model(model: keras.Model, training: TrainingConfig, config: ModelConfig | None = None,
                  steps_per_epoch: int | None = None) -> keras.Model:
    """Adam at ``training.learning_rate``, multiplied by ``training.lr_decay`` after each epoch
    of ``steps_per_epoch`` steps, with the loss and metrics of ``config``'s task
    (:mod:`hfsent.tasks`; default: two-class sentiment).

    Example:
        >>> compile_model(model, TrainingConfig(lr_decay=1.0)).optimizer.name
        'adam'
    """
    task = task_for(config or ModelConfig())
    learning_rate = training.learning_rate
    if training.lr_decay is None:
        raise ValueError("lr_decay is unset: fill the schedule first (hfsent.schedule.schedule_for)")
    if training.lr_decay != 1.0:
        if not steps_per_epoch:
            raise ValueError("lr_decay needs steps_per_epoch")
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            training.learning_rate, decay_steps=steps_per_epoch, decay_rate=training.lr_decay, staircase=True)
    model.compile(
        # clipnorm keeps early GRU updates from exploding on long reviews
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0),
        loss=task.loss,
        metrics=list(task.keras_metrics),
    )
    return model


def embedding_size(model: keras.Model) -> int:
    """Rows of the embedding matrix, i.e. the vocabulary size the model was trained with.

    Example:
        >>> embedding_size(build_model(ModelConfig(), vocab_size=100))
        100
    """
    return int(model.get_layer(EMBEDDING).input_dim)


def describe(config: ModelConfig) -> str:
    """The architecture in one line.

    Example:
        >>> describe(ModelConfig())
        'Embedding(128, mask_zero) → bidirectional GRU(64) → masked mean and max pooling → Dense(1, sigmoid)'
    """
    head = task_for(config).describe_head()
    gru = ("bidirectional " if config.bidirectional else "") + f"GRU({config.gru_units})"
    pooling = "masked mean and max" if config.pooling == "concat" else config.pooling
    return f"Embedding({config.embedding_dim}, mask_zero) → {gru} → {pooling} pooling → {head}"
