"""Word2vec initialisation: the Embedding starts from the task's own text, and the record says which."""

import numpy as np

from hfsent.train import train
from tests.conftest import tiny_config


def _embeddings(folder):
    # Frozen, so the weights after training are exactly what word2vec put there.
    cfg = tiny_config(folder, pretrain_embeddings=True, freeze_embeddings=True, word2vec_epochs=2, epochs=1)
    return train(cfg, None, verbose=0, score_test=False)


def test_word2vec_fills_the_embedding_from_train_and_the_unlabelled_split(hub_layout_with_unsup):
    result = _embeddings(hub_layout_with_unsup)
    emb = result.classifier.model.get_layer("embedding").get_weights()[0]
    # Keras' random-uniform initialiser never gives an exact zero row: word2vec's matrix did.
    assert np.all(emb[0] == 0), "[PAD] row is zero"
    vocab = result.classifier.vocab
    great, wonderful = (emb[vocab.index[w]] for w in ("great", "wonderful"))
    assert np.abs(great).sum() > 0 and not np.allclose(great, wonderful)
    record = result.stage("embeddings")
    assert record["figures"] == {"unlabeled_split": "unsupervised"}
    assert "trained on the training reviews and the unlabelled 'unsupervised' split" in record["summary"]
    assert "kept fixed in training" in record["summary"]


def test_without_an_unlabelled_split_the_record_says_train_only(hub_layout_dir, caplog):
    record = _embeddings(hub_layout_dir).stage("embeddings")
    assert record["figures"] == {"unlabeled_split": None}
    assert "the training reviews only (the source has no unlabelled split)" in record["summary"]
    assert "word2vec sees the training reviews only" in caplog.text
