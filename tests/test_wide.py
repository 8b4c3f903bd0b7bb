import numpy as np
import pytest

from hfsent import linear_kinds
from hfsent.blend import blend_weight
from hfsent.config import ModelConfig, preset
from hfsent.linear import fit_wide_branch
from hfsent.model import build_model
from hfsent.names import WIDE_OUTPUT
from hfsent.ngrams import bigram_buckets, count_matrix
from hfsent.tasks import task_for
from hfsent.tasks.classify import Classify
from hfsent.train import prepare_data, train
from hfsent.wide import (
    deep_part,
    has_wide_branch,
    set_blend_weight,
    wide_part,
    with_wide_branch,
)
from tests.conftest import tiny_config


def test_bigrams_stay_inside_each_review():
    values = np.array([3, 4, 5, 6, 7, 9])
    splits = np.array([0, 2, 2, 5, 6, 6])  # (3,4) | empty | (5,6), (6,7) | (9) alone | empty
    buckets, rows = bigram_buckets(values, splits, vocab_size=10, num_bins=1 << 20)
    np.testing.assert_array_equal(rows, [0, 2, 2])
    same, _ = bigram_buckets(np.array([5, 6]), np.array([0, 2]), vocab_size=10, num_bins=1 << 20)
    assert buckets[1] == same[0] and len(set(buckets)) == 3


@pytest.fixture(scope="module")
def fitted(hub_layout_dir):
    cfg = tiny_config(hub_layout_dir, wide_buckets=64)
    data = prepare_data(cfg)
    model = with_wide_branch(build_model(cfg.model, len(data.vocab)), len(data.vocab), cfg.model.wide_buckets)
    kind, t = task_for(cfg.model).linear_kind(), cfg.training
    summary = fit_wide_branch(model, data.splits["train"], kind, t.wide_c, cfg.preprocessing.max_length)
    return cfg, data, model, summary


@pytest.fixture(scope="module")
def wide_trained(hub_layout_dir, tmp_path_factory):
    cfg = tiny_config(hub_layout_dir, wide_ngrams=True, wide_buckets=64)
    return train(cfg, tmp_path_factory.mktemp("wide") / "model", verbose=0)


def test_keras_branch_computes_the_fitted_linear_model(fitted):
    cfg, data, model, summary = fitted
    max_length, buckets = cfg.preprocessing.max_length, cfg.model.wide_buckets
    x, _ = count_matrix(data.splits["validation"], len(data.vocab), buckets, max_length)
    weights = np.concatenate([model.get_layer("wide_words").get_weights()[0][:, 0],
                              model.get_layer("wide_bigrams").get_weights()[0][:, 0]])
    bias = model.get_layer("wide_output").get_weights()[1][0]
    expected = 1 / (1 + np.exp(-(x @ weights + bias)))
    wide = wide_part(model)
    for row, ids in enumerate(data.splits["validation"]["input_ids"]):
        ids = ids[:max_length]
        padded = np.asarray([ids + [0] * 7], dtype=np.int32)  # padding must not count
        got = wide.predict_on_batch(np.asarray([ids], dtype=np.int32))[0, 0]
        np.testing.assert_allclose(got, expected[row], rtol=1e-5)
        np.testing.assert_allclose(wide.predict_on_batch(padded)[0, 0], got, rtol=1e-6)
    assert 0 < summary["features"] <= len(data.vocab) + buckets


def test_the_linear_model_learns_word_polarity_and_the_output_blends_both_halves(fitted):
    cfg, data, model, _ = fitted
    words = model.get_layer("wide_words").get_weights()[0][:, 0]
    assert words[data.vocab.encode(["great"])[0]] > 0 > words[data.vocab.encode(["awful"])[0]]
    ids = np.asarray([data.vocab.encode(["a", "great", "and", "wonderful", "film"])], dtype=np.int32)
    assert wide_part(model).predict_on_batch(ids)[0, 0] > 0.5
    gru, linear = deep_part(model).predict_on_batch(ids)[0, 0], wide_part(model).predict_on_batch(ids)[0, 0]
    np.testing.assert_allclose(model.predict_on_batch(ids)[0, 0], (gru + linear) / 2, rtol=1e-6)
    set_blend_weight(model, 0.2)
    np.testing.assert_allclose(model.predict_on_batch(ids)[0, 0], 0.2 * gru + 0.8 * linear, rtol=1e-6)
    set_blend_weight(model, 0.5)
    single = np.asarray([[ids[0, 1]]], dtype=np.int32)  # one token: no bigram at all
    np.testing.assert_allclose(model(single), model.predict_on_batch(single), rtol=1e-6)
    assert wide_part(model)(single).shape == (1, 1)


def test_blend_weight_follows_the_better_calibrated_half():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    sharp = np.where(labels == 1, 0.9, 0.1)  # right every time
    noise = rng.uniform(0.05, 0.95, 2000)  # knows nothing
    rows = Classify(ModelConfig()).class_rows  # blend_weight takes a row of class probabilities
    sharp, noise = rows(sharp), rows(noise)
    assert blend_weight(sharp, noise, labels) > 0.95 and blend_weight(noise, sharp, labels) < 0.05
    # Each half right on a different half of the reviews, and unsure elsewhere: both are needed.
    first = np.arange(2000) < 1000
    a = np.where(first[:, None], sharp, 0.5)
    b = np.where(first[:, None], 0.5, sharp)
    assert abs(blend_weight(a, b, labels) - 0.5) < 0.02


def test_training_adds_the_fitted_branch_and_reports_each_half(wide_trained):
    model, wide = wide_trained.classifier.model, wide_trained.stage("wide")["figures"]
    assert has_wide_branch(model)
    weight = wide["gru_weight"]
    assert 0 <= weight <= 1 and wide["gru_weight_fitted"]
    np.testing.assert_allclose(model.get_layer("wide_and_deep").get_weights()[0][:, 0], [weight, 1 - weight])
    assert set(wide["gru"]) == {"validation", "test"}
    assert wide["linear"]["validation"] > 0.8  # the fixture is separable by single words
    assert not any(layer.trainable_weights for layer in model.layers if layer.name.startswith("wide"))
    card = (wide_trained.output_dir / "README.md").read_text()
    assert f"Validation accuracy alone: GRU {wide['gru']['validation']:.4f}, linear" in card
    assert f"output = {weight:.2f} × the GRU's probability" in card


def test_the_saved_blend_loads_with_plain_keras_and_predicts_the_same(wide_trained):
    import keras

    from hfsent.predict import SentimentClassifier

    folder = wide_trained.output_dir
    loaded = SentimentClassifier.load(folder)
    assert has_wide_branch(loaded.model)
    words = ["a", "great", "and", "wonderful", "film", ",", "not", "awful"]
    ids = np.asarray([loaded.vocab.encode(words)], np.int32)
    plain = keras.saving.load_model(folder, safe_mode=True)
    expected = wide_trained.classifier.model.predict_on_batch(ids)
    np.testing.assert_allclose(loaded.model.predict_on_batch(ids), expected, rtol=1e-6)
    np.testing.assert_allclose(plain.predict_on_batch(ids), expected, rtol=1e-6)


def test_the_rating_task_blends_the_gru_with_a_ridge_regression(rating_model):
    from sklearn.linear_model import Ridge

    from hfsent.blend import rating_blend_weight

    model, wide = rating_model.classifier.model, rating_model.stage("wide")["figures"]
    cfg = rating_model.classifier.config
    assert has_wide_branch(model)  # a ridge's output, no activation:
    assert model.get_layer(WIDE_OUTPUT).get_config()["activation"] == "linear"
    # the stars follow the polarity words: R² 0.38 on these 20 validation reviews, where a ridge
    # that learned nothing gives about 0
    assert wide["linear"]["validation"] > 0.2
    data = prepare_data(cfg.replace(wide_ngrams=True))
    buckets, max_length = cfg.model.wide_buckets, cfg.preprocessing.max_length
    x, y = count_matrix(data.splits["train"], len(data.vocab), buckets, max_length)
    ridge = Ridge(alpha=cfg.training.wide_alpha, solver="sparse_cg").fit(x, y)
    ids = data.splits["validation"]["input_ids"][:5]
    gru, linear = deep_part(model), wide_part(model)
    for row in ids:
        batch = np.asarray([row[:max_length]], np.int32)
        xs, _ = count_matrix(data.splits["validation"].select([ids.index(row)]), len(data.vocab), buckets,
                             max_length)
        np.testing.assert_allclose(linear.predict_on_batch(batch)[0, 0], ridge.predict(xs)[0], rtol=1e-3)
        g, w = gru.predict_on_batch(batch)[0, 0], wide["gru_weight"]
        np.testing.assert_allclose(model.predict_on_batch(batch)[0, 0],
                                   w * g + (1 - w) * linear.predict_on_batch(batch)[0, 0], rtol=1e-5)
    assert rating_blend_weight(np.array([2.0, 8.0]), np.array([4.0, 6.0]), np.array([3.0, 7.0])) == 0.5
    assert rating_blend_weight(np.array([1.0, 9.0]), np.array([5.0, 5.0]), np.array([1.0, 9.0])) == 1.0


def test_a_given_weight_is_kept(hub_layout_dir):
    result = train(tiny_config(hub_layout_dir, epochs=1, wide_ngrams=True, wide_weight=0.25), verbose=0,
                   score_test=False)
    wide = result.stage("wide")["figures"]
    assert wide["gru_weight"] == 0.25 and not wide["gru_weight_fitted"]
    assert set(wide["gru"]) == {"validation"}, "test stays untouched with score_test=False"
    np.testing.assert_allclose(result.classifier.model.get_layer("wide_and_deep").get_weights()[0][:, 0],
                               [0.25, 0.75])
    with pytest.raises(ValueError, match="wide_weight"):
        preset("default", wide_weight=1.5)


def test_no_branch_when_turned_off(trained):
    assert not has_wide_branch(trained.classifier.model)
    assert trained.stage("wide")["summary"] == "skipped: off (--no-wide-ngrams)"


def test_presets_choose_the_branch():
    assert preset("default").model.wide_ngrams and not preset("notebook").model.wide_ngrams


def test_seen_columns_are_renumbered_in_order():
    import scipy.sparse as sp

    from hfsent.linear import compact, seen_columns

    x = sp.csr_matrix(np.array([[0, 2, 0, 1, 0], [3, 0, 0, 1, 0]], np.float32))
    columns = seen_columns(x)
    np.testing.assert_array_equal(columns, [0, 1, 3])
    np.testing.assert_array_equal(compact(x, columns).toarray(), x.toarray()[:, columns])


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("classes", [2, 5])
def test_the_fit_on_the_seen_columns_is_the_fit_on_every_column(classes, tmp_path, monkeypatch):
    """The Keras branch, fitted on the seen columns only, gives the probabilities of the same
    model fitted on the full count matrix by scikit-learn, as the linear half was before it was
    compacted (and, for more classes, before it had a solver of its own)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from tests.test_classes import WORDS, make_classes

    names = list(WORDS)[:classes] if classes > 2 else ["very negative", "very positive"]
    make_classes(300, names, seed=1).to_csv(tmp_path / "a.csv", index=False)
    cfg = tiny_config(tmp_path / "a.csv", wide_buckets=4096, max_length=16)
    data = prepare_data(cfg)
    cfg = cfg.replace(label_names=list(data.classes))
    model = with_wide_branch(build_model(cfg.model, len(data.vocab)), len(data.vocab), cfg.model.wide_buckets)
    monkeypatch.setattr(linear_kinds, "MULTICLASS_TOL", 1e-6)  # both solvers at the optimum
    fit_wide_branch(model, data.splits["train"], task_for(cfg.model).linear_kind(), 1.0, 16)
    x, y = count_matrix(data.splits["train"], len(data.vocab), cfg.model.wide_buckets, 16)
    assert np.flatnonzero(x.getnnz(axis=0)).size < x.shape[1] / 2  # most columns are empty here
    if classes == 2:  # as the binary half was fitted before: NB ratio and fit over every column
        present = (x > 0).astype(np.float64)
        pos = 1 + np.asarray(present[y == 1].sum(axis=0)).ravel()
        neg = 1 + np.asarray(present[y == 0].sum(axis=0)).ravel()
        ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
        full = LogisticRegression(C=1.0, max_iter=3000, tol=1e-8).fit(x @ sp.diags(ratio), y)
    else:  # each column scaled by twice the spread of its classes' log presence rates
        present = (x > 0).astype(np.float64)
        counts = 1 + np.stack([np.asarray(present[y == k].sum(axis=0)).ravel() for k in range(classes)])
        ratio = 2 * np.log(counts / counts.sum(axis=1, keepdims=True)).std(axis=0)
        full = LogisticRegression(C=1.0, solver="newton-cg", max_iter=3000, tol=1e-9)
        full.fit(x @ sp.diags(ratio), y)
    held, _ = count_matrix(data.splits["validation"], len(data.vocab), cfg.model.wide_buckets, 16)
    expected = full.predict_proba(held @ sp.diags(ratio))
    ids = [row[:16] for row in data.splits["validation"]["input_ids"]]
    got = np.concatenate([wide_part(model).predict_on_batch(np.asarray([r], np.int32)) for r in ids])
    got = np.column_stack([1 - got[:, 0], got[:, 0]]) if classes == 2 else got
    assert len(ids) >= 40 and expected.max(axis=1).mean() > 0.6  # a fitted model, not a uniform one
    # binary: L-BFGS to tol=1e-4 here, 1e-8 there (differences of 2e-4 seen), tight enough that
    # half the smoothing shows (3e-3); more classes: both converged (float32 products), so two
    # swapped columns show too (1e-3)
    np.testing.assert_allclose(got, expected, atol=1e-3 if classes == 2 else 1e-4)
