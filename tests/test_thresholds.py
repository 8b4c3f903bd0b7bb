"""Per-label F1 thresholds and their check on load, on examples worked out by hand."""

import json

import numpy as np
import pytest

from hfsent.errors import InputError
from hfsent.thresholds import DEFAULT_THRESHOLD, bagged_thresholds, check_thresholds, fit_thresholds


def _fit(labels, scores, min_positives=1):
    return float(fit_thresholds(np.array([labels]).T, np.array([scores]).T, min_positives)[0])


def test_midpoint_of_the_best_cut():
    # cuts after 0.9 | 0.6 | 0.4 | 0.2 give F1 2/3, 1, 4/5, 2/3: the best lies between 0.6 and 0.4
    assert _fit([1, 1, 0, 0], [0.9, 0.6, 0.4, 0.2]) == pytest.approx(0.5)


def test_equal_scores_are_never_split():
    # 0.8 holds a positive and a negative; cuts: {0.8, 0.8} F1 1/2, {.., 0.6} 4/5, all 2/3
    assert _fit([1, 0, 1, 0], [0.8, 0.8, 0.6, 0.2]) == pytest.approx(0.4)


def test_everything_positive_is_a_candidate():
    # F1 of the top 1, 2, 3: 2/3, 1/2, 4/5: predicting all is best, at the lowest score
    assert _fit([1, 0, 1], [0.9, 0.5, 0.1]) == pytest.approx(0.1)


def test_a_tie_goes_to_the_highest_threshold():
    # top 1 and all 4 both give F1 2/3; the highest threshold, between 0.9 and 0.8, wins
    assert _fit([1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6]) == pytest.approx(0.85)


def test_labels_are_fitted_each_on_its_own_and_rare_ones_keep_the_default():
    y = np.array([[1, 1], [1, 0], [0, 0], [0, 0]])
    s = np.array([[0.9, 0.3], [0.6, 0.9], [0.4, 0.2], [0.2, 0.1]])
    assert fit_thresholds(y, s, min_positives=2).tolist() == [pytest.approx(0.5), DEFAULT_THRESHOLD]
    assert fit_thresholds(y, s, min_positives=1)[1] == pytest.approx(0.25)


def test_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(0)
    y = (rng.random((60, 4)) < 0.3).astype(int)
    s = np.round(rng.random((60, 4)), 1)  # many ties
    fitted = fit_thresholds(y, s, min_positives=1)
    def f1(j, t):
        pred = s[:, j] >= t
        return 2 * (pred & (y[:, j] == 1)).sum() / (pred.sum() + y[:, j].sum())

    for j in range(4):
        assert f1(j, fitted[j]) == pytest.approx(max(f1(j, t) for t in np.unique(s[:, j])))


@pytest.mark.parametrize("y, s", [([[2]], [[0.5]]), ([[1]], [[1.5]]), ([[1]], [[np.nan]]),
                                  ([1, 0], [0.1, 0.2])])
def test_fit_refuses_bad_inputs(y, s):
    with pytest.raises(InputError):
        fit_thresholds(np.array(y), np.array(s))


def test_check_accepts_k_numbers_in_range():
    assert check_thresholds([0.5, 1, 0, 0.25], 4) == [0.5, 1.0, 0.0, 0.25]


@pytest.mark.parametrize("values", [
    [0.5, True], [0.5], [0.5, 0.5, 0.5], (0.5, 0.5), {"a": 0.5}, "0.5,0.5", None,
    [0.5, float("nan")], [0.5, float("inf")], [0.5, 1.5], [-0.1, 0.5], [0.5, "0.5"], [0.5, 10 ** 400],
    [0.5, None], [0.5, [0.5]],
])
def test_check_refuses_anything_else_in_one_line(values):
    with pytest.raises(InputError) as err:
        check_thresholds(values, 2)
    assert "\n" not in str(err.value) and "thresholds" in str(err.value)


def test_fitted_thresholds_pass_the_check_after_a_json_round_trip():
    rng = np.random.default_rng(1)
    y, s = (rng.random((40, 3)) < 0.4).astype(int), rng.random((40, 3)).astype(np.float32)
    fitted = fit_thresholds(y, s, min_positives=1)
    assert check_thresholds(json.loads(json.dumps(fitted.tolist())), 3) == fitted.tolist()


def _draw(rng, n=300, rate=0.06):
    """A rare label's scores: positives score higher on average, with much overlap."""
    y = (rng.random(n) < rate).astype(int)
    return y[:, None], np.clip(rng.normal(0.3 + 0.25 * y, 0.15), 0, 1)[:, None]


def test_bagged_thresholds_vary_less_between_validation_samples_than_one_pick():
    """Validation splits drawn from one distribution: the single F1-best cut follows each split's
    few positives; the mean over bootstrap resamples moves less from split to split."""
    rng = np.random.default_rng(3)
    draws = [_draw(rng) for _ in range(25)]
    single = [fit_thresholds(y, s)[0] for y, s in draws]
    bagged = [bagged_thresholds(y, s)[0] for y, s in draws]
    assert np.std(bagged) < 0.8 * np.std(single)


def test_bagged_thresholds_are_seeded_and_keep_the_default_for_rare_labels():
    rng = np.random.default_rng(4)
    y, s = (rng.random((80, 2)) < [0.3, 0.03]).astype(int), rng.random((80, 2))
    assert y[:, 1].sum() < 5
    first = bagged_thresholds(y, s)
    assert first.tolist() == bagged_thresholds(y, s).tolist()
    assert first[1] == DEFAULT_THRESHOLD and 0 <= first[0] <= 1
    # one resample's pick is the plain one, and a separable label's mean stays in its gap
    sep = np.array([[0.9], [0.8], [0.7], [0.2], [0.1], [0.05]])
    assert 0.2 < bagged_thresholds(np.array([[1], [1], [1], [0], [0], [0]]), sep, 1)[0] < 0.7


@pytest.mark.parametrize("bags", [0, -1, 2.5, True])
def test_bagged_thresholds_refuse_a_bad_number_of_bags(bags):
    with pytest.raises(InputError, match="bags must be a positive integer"):
        bagged_thresholds(np.array([[1], [0]]), np.array([[0.9], [0.1]]), 1, bags)
