"""--class-weight, --selection-metric, the blend's guard and the card's rare-class warning."""

import numpy as np
import pandas as pd
import pytest

from hfsent.blend import guarded_weight, macro_f1_weight
from hfsent.card import rare_class_warning
from hfsent.config import ModelConfig, preset
from hfsent.errors import InputError
from hfsent.selection import class_weights, early_stopping
from hfsent.tasks import task_for
from hfsent.train import train
from tests.conftest import tiny_config
from tests.test_classes import make_classes


def test_balanced_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    counts = {"a": 30, "b": 10, "c": 5}
    labels = np.repeat([0, 1, 2], list(counts.values()))
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(list(class_weights(counts, "balanced").values()), expected)
    assert class_weights(counts, "none") is None and class_weights(None, "balanced") is None


def test_early_stopping_watches_the_selection_metric():
    task = task_for(ModelConfig())
    watched = {m: early_stopping(m, 2, None, task)[-1] for m in ("log_loss", "accuracy", "macro_f1")}
    assert {m: (c.monitor, c.mode) for m, c in watched.items()} == {
        "log_loss": ("val_loss", "min"), "accuracy": ("val_accuracy", "max"),
        "macro_f1": ("val_macro_f1", "max")}
    callbacks = early_stopping("macro_f1", 2, None, task)
    assert [type(c).__name__ for c in callbacks] == ["MacroF1", "EarlyStopping"]
    rating = task_for(ModelConfig(task="rating"))  # a rating keeps its loss, whatever the flag
    assert early_stopping(rating.selection("accuracy"), 2, None, rating)[-1].monitor == "val_loss"
    with pytest.raises(InputError, match="selection_metric must be one of"):
        preset("default", selection_metric="f2")
    with pytest.raises(InputError, match="class_weight must be one of"):
        preset("default", class_weight="inverse")


def _halves(n: int, seed: int, gru_noise: float, linear_noise: float):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = np.where(y == 1, 0.65, 0.35)
    return (np.clip(signal + rng.normal(0, gru_noise, n), 0.01, 0.99),
            np.clip(signal + rng.normal(0, linear_noise, n), 0.01, 0.99), y)


def _rows(p):  # one probability per text -> rows of class probabilities, as a task passes them
    return np.stack([1 - p, p], axis=1)


def test_the_guard_keeps_a_blend_that_beats_its_better_half():
    gru, linear, y = _halves(4000, 0, 0.3, 0.3)  # two equal, independent halves: the mean is far better
    weight, record = guarded_weight(_rows(gru), _rows(linear), y, 0.5, "accuracy")
    assert weight == 0.5 and record["kept"] and record["p"] < 0.05


def test_the_guard_falls_back_to_the_better_half_on_small_validation():
    gru, linear, y = _halves(60, 1, 0.6, 0.15)  # a weak GRU, 60 examples: no test can back a blend
    for metric in ("accuracy", "macro_f1"):
        weight, record = guarded_weight(_rows(gru), _rows(linear), y, 0.4, metric)
        assert weight == 0.0 and record["better_half"] == "linear" and not record["kept"]
    assert guarded_weight(_rows(gru), _rows(linear), y, 0.0, "accuracy")[0] == 0.0  # the better half: kept
    ratings_weight, _ = guarded_weight(gru * 9 + 1, linear * 9 + 1, y * 9 + 1.0, 0.4, "squared_error")
    assert ratings_weight in (0.0, 0.4)


def test_macro_f1_weight_searches_a_grid():
    gru, linear, y = _halves(500, 2, 0.3, 0.3)
    weight = macro_f1_weight(_rows(gru), _rows(linear), y)
    assert weight in np.round(np.linspace(0, 1, 21), 2)


def test_rare_class_warning():
    assert rare_class_warning({"neg": 400, "pos": 380}) is None
    assert rare_class_warning({"neg": 400, "mixed": 7}) == (
        "Class mixed has only 7 training examples (fewer than 20): its predictions and scores are "
        "unreliable.")
    several = rare_class_warning({"a": 1, "b": 19, "c": 20})
    assert several.startswith("Classes a (1), b (19) have fewer than 20")


def macro_f1_weight_of(wide: dict) -> float:
    """The weight the blend was fitted to before the guard: on the grid of macro_f1_weight."""
    assert wide["guard"]["fitted"] in np.round(np.linspace(0, 1, 21), 2)
    return wide["guard"]["fitted"]


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory):
    """Three classes, one of them rare (12 training examples)."""
    folder = tmp_path_factory.mktemp("imbalanced")
    names = ["negative", "neutral", "positive"]
    common = make_classes(240, names, seed=3)
    rare = common[common["label"] == "neutral"].head(15)
    pd.concat([common[common["label"] != "neutral"], rare]).to_csv(folder / "train.csv", index=False)
    make_classes(60, names, seed=4).to_csv(folder / "test.csv", index=False)
    return f"train={folder / 'train.csv'},test={folder / 'test.csv'}"


def test_balanced_weights_and_macro_f1_selection_train_end_to_end(imbalanced, tmp_path):
    config = tiny_config(imbalanced, class_weight="balanced", selection_metric="macro_f1", wide_ngrams=True,
                         wide_buckets=64, epochs=3, patience=1)
    result = train(config, tmp_path / "model", verbose=0)
    fit = result.stage("fit")
    assert "early stopping on validation macro f1" in fit["summary"]
    assert len(result.history["val_macro_f1"]) == fit["figures"]["epochs_trained"]
    wide = result.stage("wide")["figures"]
    assert "guard" in wide and wide["guard"]["fitted"] == macro_f1_weight_of(wide)
    card = (tmp_path / "model" / "README.md").read_text()
    assert "**Rare classes.** Class neutral has only" in card
