"""Seconds per 1,000 texts of the linear half's fit: binary IMDB against IMDB's stars as classes.

``python scripts/bench_linear.py --imdb ../shared/data/imdb --ratings ../shared/data/imdb-ratings``
prepares each source as training does (the default preset: validation carved from train,
tokenized, the train-only vocabulary), builds the default model with its wide branch and times
:func:`hfsent.linear.fit_wide_branch` alone: the count matrix and the scikit-learn fit, not the
tokenization.  Each source is fitted at the default strength (C chosen by cross-validation where
the package runs it) and at the fixed ``--c`` (one fit, no cross-validation), so the two sources
can be compared per fit as well as per default run (a source whose default skips the
cross-validation at ``--c`` is fitted once).  The linear half is then scored alone on validation
(accuracy and macro F1), so a faster fit can be checked not to have moved it.  Prints one
Markdown table row per source and strength.

This is benchmark code, not part of the installed package.  Run it under
``flock /tmp/hfsent-bench.lock``; on a shared machine, note what else ran.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from hfsent.config import preset
from hfsent.linear import fit_wide_branch
from hfsent.metrics import predict_split
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.prepare import prepare_data
from hfsent.tasks import task_for
from hfsent.wide import wide_part, with_wide_branch


def macro_f1(predicted: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro"))


def measure(title: str, dataset: str, label_column: str, repeats: int, fixed_c: float) -> list[dict]:
    """Prepare ``dataset``; at the default strength and at ``fixed_c``, fit its linear half
    ``repeats`` times and score the last fit on validation."""
    config = preset("default", dataset=dataset, label_column=label_column)
    data = prepare_data(config)
    config = config.replace(vocab_size=len(data.vocab), max_length=data.max_length,
                            **({"label_names": list(data.classes)} if data.classes else {}))
    default = fit_and_score(title, data, config, config.training.wide_c, repeats)
    if not default["cv"] and default["c"] == fixed_c:
        return [default]
    return [default, fit_and_score(title, data, config, fixed_c, repeats)]


def fit_and_score(title: str, data, config, c: float | None, repeats: int) -> dict:
    """The fastest of ``repeats`` fits of the linear half at ``c`` (``None``: the package's
    choice), and the validation scores of the last."""
    seconds = []
    for _ in range(repeats):
        model = with_wide_branch(build_model(config.model, len(data.vocab)), len(data.vocab),
                                 config.model.wide_buckets)
        start = time.perf_counter()
        fitted = fit_wide_branch(model, data.splits["train"], task_for(config.model).linear_kind(), c,
                                 data.max_length)
        seconds.append(time.perf_counter() - start)
    linear = SentimentClassifier(wide_part(model), data.vocab, config)
    probs, labels, _ = predict_split(linear, data.splits["validation"])
    probs, labels = np.asarray(probs).squeeze(), np.asarray(labels)
    predicted = (probs >= 0.5).astype(int) if probs.ndim == 1 else probs.argmax(axis=1)
    best = min(seconds)
    cv = isinstance(fitted.get("cross_validation"), dict)
    how = "given" if c is not None else "by CV" if cv else "CV skipped"
    return {"title": title, "strength": f"{fitted['c']:g} ({how})", "c": fitted["c"], "cv": cv,
            "classes": len(data.classes), "train": data.train_rows,
            "features": fitted["features"], "seconds": best, "per_1000": 1000 * best / data.train_rows,
            "accuracy": float((predicted == labels).mean()), "macro_f1": macro_f1(predicted, labels),
            "validation": len(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", required=True, help="the IMDB folder (binary labels)")
    parser.add_argument("--ratings", required=True, help="the IMDB ratings folder (stars as classes)")
    parser.add_argument("--repeats", type=int, default=1, help="fits per source; the fastest is reported")
    parser.add_argument("--c", type=float, default=0.1, help="the fixed C of the second fit per source")
    args = parser.parse_args()
    sources = [("IMDB, binary", args.imdb, "label"),
               ("IMDB stars, 8 classes", str(Path(args.ratings) / "train-00000-of-00001.parquet"), "rating")]
    print("| data | C | classes | train texts | features seen | fit seconds | seconds per 1,000 texts | "
          "linear half's validation accuracy | its macro F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for title, dataset, label_column in sources:
        for r in measure(title, dataset, label_column, args.repeats, args.c):
            print(f"| {r['title']} | {r['strength']} | {r['classes']} | {r['train']:,} | {r['features']:,} | "
                  f"{r['seconds']:.1f} | {r['per_1000']:.2f} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} |",
                  flush=True)


if __name__ == "__main__":
    main()
