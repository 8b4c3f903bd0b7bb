"""The multi-class linear half's solver: SAG at loose tolerances against Newton-CG, on IMDB's stars.

``python scripts/bench_solver.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings`` carves each set as ``bench_imbalance.py`` does (test,
then validation, by movie; a seed carves its own validation split), takes the training split's
counts on its seen columns scaled by :func:`hfsent.regularization.nb_scale`, as the package's
multi-class half does, and fits scikit-learn's multinomial ``LogisticRegression`` at ``--c``:
Newton-CG to 1e-3 (the package's solver until this comparison) and SAG at each of ``--tols``.
Each SAG fit is compared with Newton-CG's on the same validation examples (``benchmarks.compare``:
accuracy by McNemar's test, macro F1 by a paired bootstrap); log loss is reported beside.  The
fits alone are timed, not the count matrix.  Test is not read: this chooses a default.

This is benchmark code, not part of the installed package.  Run it under
``flock /tmp/hfsent-bench.lock``; on a shared machine, note what else ran.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from bench_classes import SCHEMES, carved, reviews_with_movies
from benchmarks import compare
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from hfsent.config import preset
from hfsent.linear import seen_counts
from hfsent.model import build_model
from hfsent.ngrams import count_matrix
from hfsent.prepare import prepare_data
from hfsent.regularization import SAG_SEED, nb_scale
from hfsent.wide import with_wide_branch


def scaled_splits(dataset: str, seed: int) -> tuple[sp.csr_matrix, np.ndarray, sp.csr_matrix, np.ndarray]:
    """``(train counts, labels, validation counts, labels)`` on train's seen columns, each column
    scaled by its naive-Bayes spread, as the package fits its multi-class half."""
    config = preset("default", dataset=dataset, group_column="movie_id", seed=seed)
    data = prepare_data(config)
    config = config.replace(vocab_size=len(data.vocab), max_length=data.max_length,
                            label_names=list(data.classes))
    vocab, buckets = len(data.vocab), config.model.wide_buckets
    model = with_wide_branch(build_model(config.model, vocab), vocab, buckets)
    x, y, columns, unseen = seen_counts(model, data.splits["train"], data.max_length)
    held, y_held = count_matrix(data.splits["validation"], vocab, buckets, data.max_length)
    scale = sp.diags(nb_scale(x, y, unseen).astype(x.dtype))
    return (x @ scale).tocsr(), np.asarray(y), (held[:, columns] @ scale).tocsr(), np.asarray(y_held)


def fit(x: sp.csr_matrix, y: np.ndarray, c: float, solver: str, tol: float
        ) -> tuple[LogisticRegression, float]:
    """The fitted model and its seconds."""
    model = LogisticRegression(C=c, solver=solver, tol=tol, max_iter=3000, random_state=SAG_SEED)
    start = time.perf_counter()
    with warnings.catch_warnings():  # a loose tolerance is the point, not a failure to converge
        warnings.simplefilter("ignore")
        model.fit(x, y)
    return model, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--runs", default="stars8:1,stars8:2,stars8:3,stars4:1", help="set:seed, ...")
    parser.add_argument("--tols", default="1e-2,7e-3,5e-3", help="SAG's stopping tolerances")
    parser.add_argument("--c", type=float, default=0.1)
    args = parser.parse_args()
    df = reviews_with_movies(args.imdb, args.ratings, args.movies)
    print("| set, seed | solver | passes | seconds | validation accuracy | macro F1 | log loss | "
          "accuracy − Newton-CG, p | macro F1 − Newton-CG, p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in args.runs.split(","):
        name, seed = run.split(":")
        scheme = list(SCHEMES.values())[0 if name == "stars4" else 1]
        with tempfile.TemporaryDirectory() as tmp:
            dataset, _, _ = carved(df, scheme, Path(tmp))
            x, y, held, y_held = scaled_splits(dataset, int(seed))
        reference = None
        for solver, tol in [("newton-cg", 1e-3)] + [("sag", float(t)) for t in args.tols.split(",")]:
            model, seconds = fit(x, y, args.c, solver, tol)
            probs = model.predict_proba(held)
            predicted = model.classes_[probs.argmax(axis=1)]
            reference = predicted if reference is None else reference
            record = compare(y_held, predicted, reference)
            acc, f1 = record["accuracy"], record["macro_f1"]
            loss = log_loss(y_held, probs, labels=model.classes_)
            versus = "— | —" if solver == "newton-cg" else (
                f"{acc['difference']:+.4f}, {acc['mcnemar_p']:.2f} | {f1['difference']:+.4f}, {f1['p']:.2f}")
            print(f"| {name}, {seed} | {solver}, tol {tol:g} | {int(model.n_iter_[0])} | {seconds:.1f} | "
                  f"{acc['a']['mean']:.4f} | {f1['a']['mean']:.4f} | {loss:.4f} | {versus} |", flush=True)


if __name__ == "__main__":
    main()
