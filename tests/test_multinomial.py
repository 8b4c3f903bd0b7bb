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


def counts(rows=400, columns=300, classes=5, seed=0):
    """Sparse integer counts, and labels that the first columns partly decide."""
    rng = np.random.default_rng(seed)
    x = sp.random(rows, columns, density=0.05, random_state=seed, format="csr") * 3
    x.data = np.ceil(x.data)
    y = rng.integers(0, classes, rows)
    for k in range(classes):  # a column per class that votes for it
        y[x[:, k].toarray().ravel() > 0] = k
    return x, y


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_it_fits_scikit_learns_model(class_weight):
    """Both solvers converged: the same weights, intercepts and probabilities (float32 products)."""
    x, y = counts()
    y[y == 4] = 3  # unequal classes, so that "balanced" weighs them unequally
    ours = MultinomialLogistic(C=0.5, tol=1e-6, class_weight=class_weight).fit(x, y)
    theirs = LogisticRegression(C=0.5, solver="newton-cg", tol=1e-9, max_iter=1000,
                                class_weight=class_weight).fit(x, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-4)
    assert np.abs(theirs.coef_).max() > 0.5  # a model that learned something, not zeros
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))


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
    x, y = counts(seed=2)
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
                            lambda self, w: (*at(self, w)[:3], np.ones_like(w)))
        plain = MultinomialLogistic(C=1.0, tol=1e-5).fit(x, y)
    assert scaled.cg_iter_ < plain.cg_iter_
    np.testing.assert_allclose(scaled.predict_proba(x), plain.predict_proba(x), atol=1e-3)
