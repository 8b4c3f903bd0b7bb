"""The multi-class linear half's solver against scikit-learn's Newton-CG, alone and blended.

``python scripts/bench_solver.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --runs runs`` carves IMDB's stars as 8 classes as
``bench_imbalance.py`` does (test, then validation, by movie; a seed carves its own validation
split), takes the training split's counts on its seen columns scaled by
:func:`hfsent.regularization.nb_scale`, as the package's multi-class half does, and fits
scikit-learn's multinomial ``LogisticRegression`` at ``--c``: Newton-CG to 1e-3 (the package's
solver until the package had its own) and each of ``--solvers``: SAG at a tolerance (one row order,
``random_state=0``), or ``hfsent``, the package's own (:class:`hfsent.linear_kinds.ScaledMultinomial`,
:mod:`hfsent.multinomial`).

Each fit is scored twice on validation: alone, and blended with the GRU of that seed's default
run from ``bench_imbalance.py --full SEEDS --arms none --out RUNS`` (its saved GRU outputs), the
weight fitted and guarded by the task, as training does (``Task.fit_blend``, at the default
selection metric, log loss).  The Newton-CG fit must give that run's saved linear half again (to 1e-3;
runs trained before the package's own solver), which also checks that the rows are in the run's
order.  Each other fit is
compared with Newton-CG's on the same validation examples (``benchmarks.compare``: accuracy by
McNemar's test, macro F1 by a paired bootstrap).  Test is printed once per solver, as the mean
over the seeds of the blend.  Only the fits are timed.  ``--products`` also times the two sparse
products that Newton-CG repeats, on each seed's training counts stored by row and by column.

This is benchmark code, not part of the installed package.  Run it under
``flock /tmp/hfsent-bench.lock``; on a shared machine, note what else ran.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from bench_classes import SCHEMES, carved, reviews_with_movies
from benchmarks import compare, macro_f1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from hfsent import multinomial
from hfsent.config import Config, preset
from hfsent.linear import seen_counts
from hfsent.linear_kinds import MULTICLASS_TOL, ScaledMultinomial
from hfsent.model import build_model
from hfsent.ngrams import count_matrix
from hfsent.prepare import prepare_data
from hfsent.regularization import nb_scale
from hfsent.tasks import task_for
from hfsent.wide import with_wide_branch

EIGHT_STARS = list(SCHEMES.values())[1]  # bench_imbalance's "stars8"
SPLITS = ("train", "validation", "test")


def scaled_splits(dataset: str, seed: int) -> tuple[dict[str, tuple[sp.csr_matrix, np.ndarray]], Config]:
    """``{split: (counts on train's seen columns, labels)}``, each column scaled by its naive-Bayes
    spread, as the package fits its multi-class half; and the config training would use."""
    config = preset("default", dataset=dataset, group_column="movie_id", seed=seed)
    data = prepare_data(config)
    config = config.replace(vocab_size=len(data.vocab), max_length=data.max_length,
                            label_names=list(data.classes))
    vocab, buckets = len(data.vocab), config.model.wide_buckets
    model = with_wide_branch(build_model(config.model, vocab), vocab, buckets)
    x, y, columns, unseen = seen_counts(model, data.splits["train"], data.max_length)
    scale = sp.diags(nb_scale(x, y, unseen).astype(x.dtype))
    out = {"train": ((x @ scale).tocsr(), np.asarray(y))}
    for split in SPLITS[1:]:
        held, labels = count_matrix(data.splits[split], vocab, buckets, data.max_length)
        out[split] = ((held[:, columns] @ scale).tocsr(), np.asarray(labels))
    return out, config


def fit(x: sp.csr_matrix, y: np.ndarray, c: float, solver: str, tol: float
        ) -> tuple[LogisticRegression, float, bool]:
    """The fitted model, its seconds, and whether it warned that it stopped short of its tolerance.  The
    solver ``hfsent-unpreconditioned`` is the package's with the Hessian's diagonal replaced by
    ones: what the preconditioner saves.  Either, given a ``tol``, runs with that forcing term
    (:data:`hfsent.multinomial.FORCING`) instead of the package's."""
    model = (ScaledMultinomial(len(np.unique(y))).estimator(c) if solver.startswith("hfsent") else
             LogisticRegression(C=c, solver=solver, tol=tol, max_iter=3000, random_state=0))
    start = time.perf_counter()
    plain = solver.endswith("unpreconditioned")
    forcing = tol if solver.startswith("hfsent") and tol else multinomial.FORCING
    with warnings.catch_warnings(record=True) as caught, unpreconditioned(plain), forcing_term(forcing):
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    return model, time.perf_counter() - start, any(w.category is ConvergenceWarning for w in caught)


@contextmanager
def unpreconditioned(active: bool):
    """The package's solver without its preconditioner, while active."""
    at = multinomial._Objective.at
    if active:
        multinomial._Objective.at = lambda self, w, z=None: (*at(self, w, z)[:3], np.ones_like(w))
    try:
        yield
    finally:
        multinomial._Objective.at = at


@contextmanager
def forcing_term(value: float):
    """The package's solver with another forcing term, while in this block."""
    own, multinomial.FORCING = multinomial.FORCING, value
    try:
        yield
    finally:
        multinomial.FORCING = own


def products(x: sp.csr_matrix, classes: int, repeats: int = 5) -> str:
    """Median milliseconds of ``X @ V`` and ``X.T @ M`` (float32, one column per class), with the
    counts stored by row (CSR, as scikit-learn holds them) and by column (CSC, as the package)."""
    rng = np.random.default_rng(0)
    v = rng.random((x.shape[1], classes), dtype=np.float32)
    m = rng.random((x.shape[0], classes), dtype=np.float32)
    cells = []
    for stored in (x.tocsr(), x.tocsc()):
        for product in (lambda s=stored: s @ v, lambda s=stored: s.T @ m):
            product()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                product()
                times.append(1000 * (time.perf_counter() - start))
            cells.append(f"{np.median(times):.0f}")
    return " | ".join(cells)


def name(solver: str, tol: float) -> str:
    """A solver's row label: the package's (with its own tolerance), or scikit-learn's and ``tol``."""
    if solver.startswith("hfsent"):
        return f"{solver} (tol {MULTICLASS_TOL:g}, forcing {tol or multinomial.FORCING:g})"
    return f"{solver}, tol {tol:g}"


def score(labels: np.ndarray, probs: np.ndarray, reference: np.ndarray | None) -> str:
    """Accuracy and macro F1 of ``probs``, and against ``reference``'s predictions where given."""
    predicted = probs.argmax(axis=1)
    own = f"{np.mean(predicted == labels):.4f} | {macro_f1(labels, predicted):.4f}"
    if reference is None:
        return own + " | — | —"
    r = compare(labels, predicted, reference)
    acc, f1 = r["accuracy"], r["macro_f1"]
    return (own + f" | {acc['difference']:+.4f}, {acc['mcnemar_p']:.2f}"
            f" | {f1['difference']:+.4f}, {f1['p']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--runs", required=True, help="bench_imbalance --full's --out (stars8-SEED-none.npz)")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--solvers", default="sag:1e-2,sag:5e-3,sag:2e-3",
                        help="beside Newton-CG: sag:TOL, hfsent (the package's own solver), "
                        "hfsent:FORCING or hfsent-unpreconditioned[:FORCING]")
    parser.add_argument("--products", action="store_true",
                        help="also time the products of the training counts, stored by row and by column")
    parser.add_argument("--c", type=float, default=0.1)
    args = parser.parse_args()
    df = reviews_with_movies(args.imdb, args.ratings, args.movies)
    solvers = [("newton-cg", 1e-3)] + [(s.split(":")[0], float(s.split(":")[1]) if ":" in s else 0.0)
                                       for s in args.solvers.split(",")]
    tests, test_labels, products_rows = {s: [] for s in solvers}, None, []
    print("| seed | solver | iterations | seconds | what | validation accuracy | macro F1 | "
          "accuracy − Newton-CG's, p | macro F1 − Newton-CG's, p |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        dataset, _, _ = carved(df, EIGHT_STARS, Path(tmp))
        for seed in (int(s) for s in args.seeds.split(",")):
            run = np.load(Path(args.runs) / f"stars8-{seed}-none.npz")
            splits, config = scaled_splits(dataset, seed)
            task = task_for(config.model)  # the blend is fitted and guarded as training does
            metric = task.selection(config.training.selection_metric)
            (_, y_val), (_, y_test) = splits["validation"], splits["test"]
            test_labels = y_test if test_labels is None else test_labels  # one test split for all seeds
            pairs = ((run["y_validation"], y_val), (run["y_test"], y_test), (y_test, test_labels))
            if not all(np.array_equal(a, b) for a, b in pairs):
                raise SystemExit(f"{args.runs}: seed {seed}'s run was carved otherwise")
            if args.products:
                products_rows.append(f"| {seed} | {splits['train'][0].nnz:,} | "
                                     f"{products(splits['train'][0], len(np.unique(y_val)))} |")
            reference = {}
            for solver, tol in solvers:
                model, seconds, unconverged = fit(*splits["train"], args.c, solver, tol)
                linear = {s: model.predict_proba(splits[s][0]) for s in SPLITS[1:]}
                if solver == "newton-cg" and not np.allclose(linear["validation"], run["linear_validation"],
                                                              atol=1e-3):  # rows in the run's order
                    raise SystemExit(f"{args.runs}: seed {seed}'s linear half is not this Newton-CG fit")
                gru = run["gru_validation"]
                weight, _ = task.fit_blend(gru, linear["validation"], y_val, metric)
                blend = weight * gru + (1 - weight) * linear["validation"]
                tests[solver, tol].append(weight * run["gru_test"] + (1 - weight) * linear["test"])
                stop = f"{int(np.ravel(model.n_iter_)[0])}{' (unconverged)' if unconverged else ''}"
                halves = (("linear", "linear alone", linear["validation"]),
                          ("blend", f"blend, GRU {weight:.2f}", blend))
                for key, what, probs in halves:
                    row = score(y_val, probs, reference.get(key))
                    reference.setdefault(key, probs.argmax(axis=1))
                    print(f"| {seed} | {name(solver, tol)} | {stop} | {seconds:.1f} | {what} | {row} |",
                          flush=True)
    if products_rows:
        print("\n| seed | counts | CSR: X @ V, ms | X.T @ M | CSC: X @ V | X.T @ M |\n" + "|---" * 6 + "|")
        print("\n".join(products_rows))
    print("\n| solver | blend's test accuracy, mean over seeds | macro F1 |\n|---|---|---|")
    for (solver, tol), probs in tests.items():
        predicted = [p.argmax(axis=1) for p in probs]
        print(f"| {name(solver, tol)} | {np.mean([np.mean(p == test_labels) for p in predicted]):.4f} | "
              f"{np.mean([macro_f1(test_labels, p) for p in predicted]):.4f} |")


if __name__ == "__main__":
    main()
