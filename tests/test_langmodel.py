import numpy as np
import pytest
import tensorflow as tf

from hfsent.config import Config
from hfsent.langmodel import build_language_model, lm_targets, pretrain_language_model
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.selftrain import unlabeled_ids
from hfsent.train import prepare_data, train
from tests.conftest import tiny_config


def test_targets_are_the_neighbouring_words_with_rare_ones_as_unk_and_padding_unweighted():
    ids = tf.constant([[5, 9, 3, 0], [2, 7, 0, 0]])
    (nxt, prev), (w_next, w_prev) = lm_targets(ids, lm_vocab_size=8, bidirectional=True)
    np.testing.assert_array_equal(nxt, [[1, 3, 0, 0], [7, 0, 0, 0]])  # 9 is outside the softmax
    np.testing.assert_array_equal(prev, [[0, 5, 1, 3], [0, 2, 7, 0]])
    np.testing.assert_array_equal(w_next, [[1, 1, 0, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(w_prev, [[0, 1, 1, 1], [0, 1, 1, 0]])
    targets, _ = lm_targets(ids, lm_vocab_size=8, bidirectional=False)
    assert len(targets) == 1


def test_each_direction_predicts_only_from_words_it_has_not_to_predict():
    cfg = Config(embedding_dim=8, gru_units=8, dropout=0.0, lm_vocab_size=20)
    lm = build_language_model(cfg, vocab_size=30)
    a = np.array([[4, 5, 6, 7, 8, 9]], dtype=np.int32)
    b = a.copy()
    b[0, 3] = 25  # differ at position 3 only
    (fa, ba), (fb, bb) = lm.predict(a, verbose=0), lm.predict(b, verbose=0)
    # next-word logits at t read words 0..t; previous-word logits at t read words t..end
    np.testing.assert_allclose(fa[0, :3], fb[0, :3], atol=1e-6)
    assert not np.allclose(fa[0, 3:], fb[0, 3:])
    np.testing.assert_allclose(ba[0, 4:], bb[0, 4:], atol=1e-6)
    assert not np.allclose(ba[0, :4], bb[0, :4])
    assert fa.shape == (1, 6, 20)
    forward_only = build_language_model(Config(embedding_dim=8, gru_units=8, bidirectional=False), 30)
    assert len(forward_only.outputs) == 1 and forward_only.get_layer("gru").return_sequences


@pytest.mark.parametrize("bidirectional", [True, False])
def test_pretraining_moves_embedding_and_gru_into_the_classifier_and_learns(hub_layout_with_unsup,
                                                                            bidirectional):
    cfg = tiny_config(hub_layout_with_unsup, pretrain_lm=True, lm_epochs=6, lm_vocab_size=40,
                      bidirectional=bidirectional)
    data = prepare_data(cfg)
    model = build_model(cfg, len(data.vocab))
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    summary = pretrain_language_model(model, data.vocab, data.splits["train"],
                                      unlabeled_ids(cfg, data.vocab), data.boundaries, cfg, verbose=0)
    assert summary["reviews"] == len(data.splits["train"]) + 60
    losses = summary["loss_per_epoch"]
    # per-word nats: from about uniform over the 40-word softmax to well below it
    assert len(losses) == 6 and losses[-1] < losses[0] and losses[-1] < 0.8 * np.log(40)
    for name in ("embedding", "bidirectional_gru" if bidirectional else "gru"):
        after = model.get_layer(name).get_weights()
        assert not any(np.allclose(a, b) for a, b in zip(after, before[name])), name
    np.testing.assert_array_equal(model.get_layer("output").get_weights()[0], before["output"][0])


def test_train_with_lm_pretraining_saves_a_plain_classifier(hub_layout_with_unsup, tmp_path):
    cfg = tiny_config(hub_layout_with_unsup, epochs=2, pretrain_lm=True, lm_epochs=1, lm_vocab_size=40)
    result = train(cfg, tmp_path / "model", verbose=0, score_test=False)
    assert result.metrics["language_model"]["reviews"] == result.metrics["num_examples"]["train"] + 60
    names = {layer.name for layer in SentimentClassifier.load(tmp_path / "model").model.layers}
    assert "bidirectional_gru" in names and not names & {"next_word", "previous_word"}
    card = (tmp_path / "model" / "README.md").read_text()
    reviews = result.metrics["num_examples"]["train"] + 60
    assert f"next and previous word (40-word softmax) over {reviews}" in card


def test_a_frozen_embedding_stays_fixed_through_pretraining(hub_layout_with_unsup):
    cfg = tiny_config(hub_layout_with_unsup, pretrain_lm=True, lm_vocab_size=40, freeze_embeddings=True)
    data = prepare_data(cfg)
    model = build_model(cfg, len(data.vocab))
    embedding, gru = (model.get_layer(n).get_weights() for n in ("embedding", "bidirectional_gru"))
    pretrain_language_model(model, data.vocab, data.splits["train"], None, data.boundaries, cfg, verbose=0)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], embedding[0])
    assert not np.allclose(model.get_layer("bidirectional_gru").get_weights()[0], gru[0])
