"""The linear half's strength chosen by cross-validation (hfsent.regularization)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from hfsent.linear import fit_wide_branch
from hfsent.linear_kinds import NaiveBayesLogistic, RidgeRating, ScaledMultinomial
from hfsent.model import build_model
from hfsent.regularization import (
    ALPHA_GRID,
    BY_DUPLICATES,
    BY_GROUP,
    C_GRID,
    choose_strength,
    duplicate_groups,
    folds,
    nb_ratio,
    nb_scale,
)
from hfsent.train import prepare_data
from hfsent.wide import with_wide_branch
from tests.conftest import make_reviews, tiny_config


def _counts(n: int, seed: int = 0, noise: float = 0.0) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows of 20 columns; columns 0 and 1 tell the label, the rest are noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.poisson(0.5, (n, 20)).astype(np.float32)
    x[:, 0] += (y == 1) * rng.poisson(1.0 + noise, n)
    x[:, 1] += (y == 0) * rng.poisson(1.0 + noise, n)
    return sp.csr_matrix(x), y


def test_folds_keep_each_group_on_one_side():
    x, y = _counts(120)
    groups = np.repeat(np.arange(30), 4)
    for train, held in folds(x, y, groups, k=3):
        assert not set(groups[train]) & set(groups[held])
        assert len(train) + len(held) == 120
    duplicated = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [0, 1], [2, 0], [1, 1]] * 3))
    codes = duplicate_groups(duplicated)
    assert codes[0] == codes[2] and codes[1] == codes[3] and codes[0] != codes[4]
    for train, held in folds(duplicated, np.zeros(18, int), None, k=3):
        assert not set(codes[train]) & set(codes[held])


def test_choose_strength_reports_the_grid_and_its_best():
    x, y = _counts(300)
    cv = choose_strength(x, y, NaiveBayesLogistic())
    assert set(cv["scores"]) == set(C_GRID) and cv["folds"] == 3
    assert cv["scores"][cv["chosen"]] == max(cv["scores"].values())
    assert cv["chosen"] == C_GRID[list(cv["scores"].values()).index(max(cv["scores"].values()))]
    ratings = x[:, 0].toarray().ravel() * 2.0 + 1
    assert set(choose_strength(x, ratings, RidgeRating())["scores"]) == set(ALPHA_GRID)
    multi = choose_strength(x, np.arange(300) % 3, ScaledMultinomial(3), metric="log_loss")
    assert all(score < 0 for score in multi["scores"].values())  # negated log loss


def test_nb_ratio_known_answer():
    ratio = nb_ratio(sp.csr_matrix(np.array([[1, 0], [0, 2]])), np.array([1, 0]))
    np.testing.assert_allclose(ratio, [np.log(2 / 3) - np.log(1 / 3), np.log(1 / 3) - np.log(2 / 3)])
    with_unseen = nb_ratio(sp.csr_matrix(np.array([[1, 0], [0, 2]])), np.array([1, 0]), unseen=2)
    np.testing.assert_allclose(with_unseen, ratio)  # both totals grow alike: the ratio is unchanged


def test_nb_scale_is_the_spread_of_the_class_rates():
    x, y = _counts(60)
    two = np.abs(nb_ratio(x, y, unseen=3))
    np.testing.assert_allclose(nb_scale(x, y, unseen=3), two, atol=1e-6)  # two classes: the ratio's size
    # three classes, one text each: column 0 in every class alike, column 1 in class 2 only
    three = sp.csr_matrix(np.array([[1, 0], [3, 0], [1, 1]]))
    scale = nb_scale(three, np.array([0, 1, 2]))
    rates = np.log(np.array([[2 / 3, 1 / 3], [2 / 3, 1 / 3], [2 / 4, 2 / 4]]))
    np.testing.assert_allclose(scale, 2 * rates.std(axis=0))
    assert nb_scale(three[:2], np.array([0, 1]))[0] == 0  # presence, not counts: 1 and 3 alike


@pytest.fixture(scope="module")
def tiny(hub_layout_dir):
    cfg = tiny_config(hub_layout_dir, wide_buckets=64)
    return cfg, prepare_data(cfg)


def test_fit_wide_branch_chooses_c_when_not_given(tiny):
    cfg, data = tiny
    assert cfg.training.wide_c is None  # the default: chosen by cross-validation
    model = with_wide_branch(build_model(cfg.model, len(data.vocab)), len(data.vocab), 64)
    kind = NaiveBayesLogistic()
    chosen = fit_wide_branch(model, data.splits["train"], kind, None, cfg.preprocessing.max_length)
    assert chosen["c"] in C_GRID and chosen["cross_validation"]["chosen"] == chosen["c"]
    given = fit_wide_branch(model, data.splits["train"], kind, 0.5, cfg.preprocessing.max_length)
    assert given["c"] == 0.5 and "cross_validation" not in given


def test_a_large_multiclass_fit_skips_the_cross_validation(tmp_path, monkeypatch):
    import hfsent.linear_kinds as linear_kinds
    from tests.test_classes import make_classes

    make_classes(90, ["negative", "neutral", "positive"]).to_csv(tmp_path / "a.csv", index=False)
    cfg = tiny_config(str(tmp_path / "a.csv"), wide_buckets=64)
    data = prepare_data(cfg)
    cfg = cfg.replace(label_names=list(data.classes))
    model = with_wide_branch(build_model(cfg.model, len(data.vocab)), len(data.vocab), 64)
    kind = ScaledMultinomial(3)
    monkeypatch.setattr(linear_kinds, "MULTICLASS_CV_BUDGET", 10)
    fitted = fit_wide_branch(model, data.splits["train"], kind, None, cfg.preprocessing.max_length)
    assert fitted["c"] == linear_kinds.DEFAULT_C and fitted["cross_validation"].startswith("skipped")
    monkeypatch.setattr(linear_kinds, "MULTICLASS_CV_BUDGET", 10**9)
    assert isinstance(fit_wide_branch(model, data.splits["train"], kind, None, 32)["cross_validation"], dict)


MARKS = [f"mark{a}{b}" for a in "pqrs" for b in "vwxyz"]  # one word per movie, to follow rows


def _with_movies(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``movie`` column (20 movies) and its movie's word at the end of each text."""
    movie = np.arange(len(df)) % len(MARKS)
    return df.assign(movie=[f"m{m}" for m in movie],
                     text=[f"{t} {MARKS[m]}" for t, m in zip(df["text"], movie)])


@pytest.mark.parametrize("task", ["sentiment", "rating", "multilabel"])
def test_the_wide_stage_folds_keep_each_movie_on_one_side(task, tmp_path, monkeypatch):
    """The group column reaches the linear half's cross-validation (each task's), row for row;
    the wide stage's record says the folds were grouped by it."""
    import hfsent.regularization as regularization
    from hfsent.blend import add_wide_branch
    from hfsent.stages import Run
    from tests.test_multilabel import NAMES, TRAIN

    path = tmp_path / "movies.csv"
    kinds = {"sentiment": (make_reviews(160, seed=3), {}),
             "rating": (make_reviews(160, seed=3).assign(rating=lambda d: np.where(d["label"] == 1, 8, 3)),
                        {"task": "rating", "label_column": "rating"}),
             "multilabel": (pd.read_csv(TRAIN), {"multi_label": True, "label_column": ",".join(NAMES)})}
    df, overrides = kinds[task]
    _with_movies(df).to_csv(path, index=False)
    cfg = tiny_config(path, wide_ngrams=True, wide_buckets=64, group_column="movie", test_size=0.2,
                      **overrides)
    data = prepare_data(cfg)
    # the groups follow the training rows through tokenizing: one movie, one word
    marks = [next(w for w in tokens if w.startswith("mark")) for tokens in data.tokens["train"]["tokens"]]
    assert len(data.groups) == len(marks) and len(set(zip(data.groups, marks))) == len(set(marks)) > 3
    seen = []
    real_folds = regularization.folds
    monkeypatch.setattr(regularization, "folds", lambda *a, **k: seen.append(real_folds(*a, **k)) or seen[-1])
    run = Run(cfg.replace(label_names=list(data.classes)) if data.classes else cfg, score_test=False)
    run.data, run.model = data, build_model(run.config.model, len(data.vocab))
    summary, figures = add_wide_branch(run)
    assert seen and figures["cross_validation"]["grouped"] == regularization.BY_GROUP
    assert "cross-validation on train, folds grouped by the group column" in summary
    for pairs in seen:
        for train, held in pairs:
            assert not set(data.groups[train]) & set(data.groups[held])


def test_without_groups_the_folds_group_duplicates_and_say_so(tiny):
    cfg, data = tiny
    assert data.groups is None
    model = with_wide_branch(build_model(cfg.model, len(data.vocab)), len(data.vocab), 64)
    kind = NaiveBayesLogistic()
    fitted = fit_wide_branch(model, data.splits["train"], kind, None, cfg.preprocessing.max_length)
    assert fitted["cross_validation"]["grouped"] == BY_DUPLICATES
    x, y = _counts(60)
    few = np.array(["a", "b"] * 30)  # two groups cannot make three grouped folds
    assert choose_strength(x, y, NaiveBayesLogistic(), few)["grouped"] == BY_DUPLICATES
    assert choose_strength(x, y, NaiveBayesLogistic(), np.arange(60) % 6)["grouped"] == BY_GROUP


def test_each_task_picks_its_linear_kind():
    """The seam: the task names its linear model, which fit_wide_branch and choose_strength run
    alike; the ratings' folds are stratified by whole star, the classes' by class."""
    from hfsent.config import ModelConfig
    from hfsent.tasks import task_for

    assert isinstance(task_for(ModelConfig()).linear_kind(), NaiveBayesLogistic)
    five = task_for(ModelConfig(label_names=list("abcde"))).linear_kind()
    assert isinstance(five, ScaledMultinomial) and five.classes == 5
    rating = task_for(ModelConfig(task="rating")).linear_kind()
    assert isinstance(rating, RidgeRating) and rating.strength_name == "alpha"
    assert list(rating.strata(np.array([1.2, 9.7, 4.5]))) == [1, 10, 4]
    assert list(five.strata(np.array([3, 0, 4]))) == [3, 0, 4]
    with pytest.raises(NotImplementedError):  # one fit per label instead (hfsent.tasks.ovr)
        task_for(ModelConfig(task="multilabel", label_names=list("abc"))).linear_kind()
