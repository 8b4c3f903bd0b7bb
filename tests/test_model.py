"""The network: built-in layers only, masks that ignore padding, the rating head."""

import keras
import numpy as np
import pytest

from hfsent.config import ModelConfig, TrainingConfig
from hfsent.model import build_model, compile_model, describe


@pytest.mark.parametrize("propagated", [True, False])
def test_padding_does_not_change_the_output(monkeypatch, propagated):
    # The mask must reach the GRU and the pooling: many extra zeros after a review leave its output
    # alone, also where RNN and Bidirectional stop propagating masks (Keras' main branch after 3.15).
    if not propagated:
        for layer in (keras.layers.RNN, keras.layers.Bidirectional):
            monkeypatch.setattr(layer, "compute_mask", lambda self, inputs, mask=None: None)
    for pooling in ("mean", "last", "concat"):
        for bidirectional in (True, False):
            model = build_model(ModelConfig(embedding_dim=8, gru_units=8, pooling=pooling, dropout=0.0,
                                            bidirectional=bidirectional), 50)
            ids = np.array([[5, 9, 3, 7]], dtype=np.int32)
            padded = np.concatenate([ids, np.zeros((1, 200), np.int32)], axis=1)
            np.testing.assert_allclose(model.predict_on_batch(padded), model.predict_on_batch(ids), rtol=1e-5)


def test_the_rating_head_outputs_the_scale_midpoint_at_zero():
    config = ModelConfig(task="rating", embedding_dim=4, gru_units=4, rating_min=1, rating_max=5)
    model = build_model(config, 10)
    kernel = model.get_layer("output").kernel
    model.get_layer("output").set_weights([np.zeros(kernel.shape, np.float32), np.zeros(1, np.float32)])
    assert model.predict_on_batch(np.array([[2, 3]], np.int32))[0, 0] == 3.0


def test_compile_decays_the_learning_rate_per_epoch():
    model = compile_model(build_model(ModelConfig(embedding_dim=4, gru_units=4), 10),
                          TrainingConfig(learning_rate=0.01, lr_decay=0.5), steps_per_epoch=10)
    schedule = model.optimizer._learning_rate  # the schedule itself, not its current value
    assert float(schedule(9)) == np.float32(0.01) and float(schedule(10)) == np.float32(0.005)


def test_only_built_in_layers_and_a_readable_description():
    model = build_model(ModelConfig(embedding_dim=4, gru_units=4), 10, trainable_embeddings=False)
    assert all(type(layer).__module__.startswith("keras.") for layer in model.layers)
    assert not model.get_layer("embedding").trainable
    assert describe(ModelConfig()) == ("Embedding(128, mask_zero) → bidirectional GRU(64) → masked mean and "
                                       "max pooling → Dense(1, sigmoid)")


def test_concat_pooling_takes_the_max_over_the_real_tokens_only():
    keras.utils.set_random_seed(3)  # weights that give a negative max (checked below), every run
    model = build_model(ModelConfig(embedding_dim=8, gru_units=8, pooling="concat", dropout=0.0), 50)
    probe = keras.Model(model.input, [model.get_layer("bidirectional_gru").output,
                                      model.get_layer("max_pool").output])
    ids = np.array([[5, 9, 3, 7, 0, 0, 0]], dtype=np.int32)
    states, pooled = (np.asarray(x) for x in probe.predict_on_batch(ids))
    np.testing.assert_allclose(pooled[0], states[0, :4].max(axis=0), rtol=1e-6)
    assert (states[0, :4].max(axis=0) < 0).any(), "a negative max: padding's zeros would have won"
    assert model.get_layer("concat_pool").output.shape[-1] == 4 * 8  # mean and max, both directions


@pytest.mark.parametrize(("steps", "given", "expected"), [
    (7, {}, (1.0, 2, 12)),  # a few hundred texts: a constant rate, or the GRU stops before learning
    (63, {}, (1.0, 2, 12)),
    (64, {}, (0.3, 1, 8)),  # IMDB's 176 steps and upward keep the decay tuned there
    (176, {}, (0.3, 1, 8)),
    (7, {"lr_decay": 0.5, "epochs": 3}, (0.5, 2, 3)),  # what the user sets is kept, field by field
    (176, {"patience": 4}, (0.3, 4, 8)),
])
def test_the_unset_schedule_follows_the_length_of_an_epoch(steps, given, expected):
    from hfsent.schedule import schedule_for

    t = schedule_for(TrainingConfig(**given), steps)
    assert (t.lr_decay, t.patience, t.epochs) == expected


def test_compiling_with_an_unfilled_schedule_is_a_bug_not_a_guess():
    with pytest.raises(ValueError, match="lr_decay is unset"):
        compile_model(build_model(ModelConfig(embedding_dim=4, gru_units=4), 10), TrainingConfig(),
                      steps_per_epoch=10)
