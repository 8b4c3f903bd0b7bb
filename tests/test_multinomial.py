"""The multi-class linear half's solver fits scikit-learn's multinomial logistic regression."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from hfsent import multinomial
from hfsent.multinomial import MultinomialLogistic


def counts(rows=400, columns=300, classes=5, seed=0, private=0):
    """Sparse integer counts, and labels that the first columns partly decide; ``private`` more
    columns have one count each (several in some rows), as rare words and bigrams do."""
    rng = np.random.default_rng(seed)
    x = sp.random(rows, columns, density=0.05, random_state=seed, format="csr") * 3
    x.data = np.ceil(x.data)
    y = rng.integers(0, classes, rows)
    for k in range(classes):  # a column per class that votes for it
        y[x[:, k].toarray().ravel() > 0] = k
    if private:
        owners = rng.integers(0, rows // 4, private)
        x = sp.hstack([x, sp.csr_matrix((rng.integers(1, 4, private).astype(float),
                                         (owners, np.arange(private))), shape=(rows, private))], format="csr")
    return x, y


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("private", [0, 150])
def test_it_fits_scikit_learns_model(class_weight, private):
    """Both solvers converged: the same weights, intercepts and probabilities, also where one-count
    columns are folded (scikit-learn fits them one by one).

    Ours computes its products in float32, so its gradient has a noise floor: measured 2e-7 to
    4e-6 (max |gradient|) on this data, depending on the CPU's summation order, where a tol of
    1e-7 made its line search fail on one machine and not on another.  So it stops at 1e-5, and
    the weights are compared at what that allows (its loss is a mean over the 400 rows, so a
    gradient of 1e-5 leaves weights, and the unpenalized intercepts most, up to a few 1e-3 off);
    a wrong penalty or class weight moves them by far more (the test below)."""
    x, y = counts(private=private)
    y[y == 4] = 3  # unequal classes, so that "balanced" weighs them unequally
    ours = MultinomialLogistic(C=0.5, tol=1e-5, class_weight=class_weight).fit(x, y)
    theirs = LogisticRegression(C=0.5, solver="newton-cg", tol=1e-9, max_iter=1000,
                                class_weight=class_weight).fit(x, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=5e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=5e-3)
    proba = theirs.predict_proba(x)
    np.testing.assert_allclose(ours.predict_proba(x), proba, atol=1e-3)
    assert np.abs(theirs.coef_).max() > 0.5  # a model that learned something, not zeros
    if private:
        assert np.abs(theirs.coef_[:, 300:]).max() > 0.05  # and the one-count columns too
    top_two = np.sort(proba, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-3  # a near tie may go either way within the tolerance
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(ours.predict(x)[clear], theirs.predict(x)[clear])


def test_the_penalty_and_the_class_weights_change_the_fit():
    """Controls for the test above: C and class weights are used, not ignored."""
    x, y = counts()
    y[y == 4] = 3
    base = MultinomialLogistic(C=0.5, tol=1e-6).fit(x, y).predict_proba(x)
    assert np.abs(MultinomialLogistic(C=0.05, tol=1e-6).fit(x, y).predict_proba(x) - base).max() > 0.05
    balanced = MultinomialLogistic(C=0.5, tol=1e-6, class_weight="balanced").fit(x, y).predict_proba(x)
    assert np.abs(balanced - base).max() > 0.01


def test_the_tolerance_bounds_the_gradient_and_max_iter_warns():
    x, y = counts(seed=1)
    loose = MultinomialLogistic(C=1.0, tol=1e-2).fit(x, y)
    tight = MultinomialLogistic(C=1.0, tol=1e-6).fit(x, y)
    assert 0 < loose.n_iter_ < tight.n_iter_ and tight.cg_iter_ > tight.n_iter_
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        MultinomialLogistic(C=1.0, tol=1e-6, max_iter=1).fit(x, y)


def test_warm_start_starts_from_the_last_fit():
    """As the cross-validation's grid uses it: the next C starts from the previous weights."""
    x, y = counts(seed=2, private=100)
    cold = MultinomialLogistic(C=1.0, tol=1e-6).fit(x, y)
    warm = MultinomialLogistic(C=0.9, tol=1e-6, warm_start=True).fit(x, y)
    again = warm.set_params(C=1.0).fit(x, y)
    assert again.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(again.predict_proba(x), cold.predict_proba(x), atol=1e-4)
    fresh = clone(warm)  # scikit-learn's estimator interface: parameters, no fitted state
    assert fresh.get_params()["C"] == 1.0 and not hasattr(fresh, "coef_")


def test_only_the_classes_present_are_fitted_and_intercepts_are_centred():
    x, y = counts(classes=4, seed=3)
    y = np.array(["a", "b", "d", "e"])[y]  # labels need not be 0..K-1
    fitted = MultinomialLogistic(C=1.0).fit(x, y)
    assert list(fitted.classes_) == ["a", "b", "d", "e"] and fitted.coef_.shape == (4, x.shape[1])
    assert abs(fitted.intercept_.sum()) < 1e-9
    assert set(fitted.predict(x)) <= set(fitted.classes_)


def test_a_preconditioned_step_needs_fewer_conjugate_gradient_steps(monkeypatch):
    """The Hessian's diagonal is what the solve is scaled by: with ones instead, on columns of
    very different sizes, the same fit takes more conjugate-gradient steps."""
    x, y = counts(seed=4)
    x = x @ sp.diags(np.geomspace(0.05, 20, x.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scaled = MultinomialLogistic(C=1.0, tol=1e-5).fit(x, y)
        at = multinomial._Objective.at
        monkeypatch.setattr(multinomial._Objective, "at",
                            lambda self, w, z=None: (*at(self, w, z)[:3], np.ones_like(w)))
        plain = MultinomialLogistic(C=1.0, tol=1e-5).fit(x, y)
    assert scaled.cg_iter_ < plain.cg_iter_
    np.testing.assert_allclose(scaled.predict_proba(x), plain.predict_proba(x), atol=1e-3)


def objective_at_random_weights(seed=5):
    """The objective of a small weighted problem, a random point and a random direction."""
    x, y = counts(rows=120, columns=40, classes=4, seed=seed)
    rng = np.random.default_rng(seed)
    weight = rng.uniform(0.5, 2.0, len(y))
    objective = multinomial._Objective(sp.csc_matrix(x, dtype=np.float32), y, 4, weight, 0.01)
    w = rng.normal(0, 0.3, (41, 4))
    return objective, w, rng.normal(0, 1, (41, 4))


def test_the_gradient_and_hessian_products_are_the_losss_derivatives():
    """Known answers by central differences (float64 steps over float32 products)."""
    objective, w, v = objective_at_random_weights()
    _, grad, hessp, _ = objective.at(w)
    h = 1e-3
    slope = (objective.loss(w + h * v)[0] - objective.loss(w - h * v)[0]) / (2 * h)
    assert np.sum(grad * v) == pytest.approx(slope, rel=1e-4)
    curvature = (objective.at(w + h * v)[1] - objective.at(w - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(hessp(v, np.empty_like(w)), curvature, atol=2e-4 * np.abs(curvature).max())


def test_the_preconditioner_is_the_inverse_of_the_hessians_diagonal():
    objective, w, _ = objective_at_random_weights(seed=6)
    _, _, hessp, inverse = objective.at(w)
    for index in [(0, 0), (7, 2), (40, 3)]:  # two columns' weights and an intercept
        unit = np.zeros_like(w)
        unit[index] = 1.0
        assert hessp(unit, np.empty_like(w))[index] == pytest.approx(1 / inverse[index], rel=1e-5)


def test_a_tolerance_the_float32_products_cannot_resolve_stops_with_a_warning():
    """As scikit-learn's line search does, instead of running to max_iter."""
    x, y = counts(seed=7)
    with pytest.warns(ConvergenceWarning, match="line search failed"):
        fitted = MultinomialLogistic(C=1.0, tol=1e-14, max_iter=100).fit(x, y)
    assert fitted.n_iter_ < 30 and np.isfinite(fitted.coef_).all()


def test_bad_parameters_and_counts_are_refused_and_empty_columns_stay_finite():
    x, y = counts(seed=8)
    for bad in ({"C": 0.0}, {"C": np.inf}, {"C": -1.0}, {"class_weight": {0: 1.0, 1: 2.0}}):
        with pytest.raises(ValueError, match="C must be positive"):
            MultinomialLogistic(**bad).fit(x, y)
    broken = x.copy()
    broken.data[0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        MultinomialLogistic().fit(broken, y)
    wide = sp.hstack([x, sp.csr_matrix((x.shape[0], 3))])  # three columns without a count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # C times the weights overflows, on purpose
        fitted = MultinomialLogistic(C=1e308, max_iter=20).fit(wide, y)  # C n overflows: no penalty
    assert np.isfinite(fitted.coef_).all() and not fitted.coef_[:, -3:].any()
    assert np.abs(fitted.coef_).max() > 1  # fitted (an unguarded zero diagonal stops it at zeros)


def test_counts_that_overflow_once_folded_are_refused():
    """Each finite in float32, their row's folded norm is not: refused, not fitted to zeros."""
    x = sp.csr_matrix(np.array([[3e38, 3e38, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="too large"):
        MultinomialLogistic().fit(x, [0, 1, 2])
