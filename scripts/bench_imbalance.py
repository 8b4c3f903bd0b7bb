"""--class-weight balanced against none, on IMDB's stars as 8 (and 4) classes.

``python scripts/bench_imbalance.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --sets stars8,stars4 --c 0.1`` prepares each set as
``bench_tune.py`` does (validation and test carved by movie), fits the package's linear half with
``class_weight=None`` and with ``"balanced"`` at the same C, and compares them on validation (the
choice) and on test (once) by the protocol of ``benchmarks.py``: accuracy by McNemar's exact
test, macro F1 by a paired bootstrap.  This measures the linear half's share of the decision only.

``--full 1,2`` trains the whole default model (both halves, the blend) once per seed and arm
instead: ``--class-weight none`` and ``balanced``, everything else the package default
(``--arms none,vectors --vectors FILE`` compares outside word vectors with the default instead;
``--arms none,macro_f1``, the package's ``--selection-metric macro_f1``, which early-stops and
fits the blend on the validation split it is compared on: only its test comparison is fair).  A seed
carves its own validation split, shared by its two arms, so validation is compared seed by seed
(and the differences averaged); test is the same examples for every run, so it is compared over
the seeds at once.  Each run's predictions are kept in ``--out`` (one ``.npz`` per seed and
arm, with each half's outputs alone as ``bench_blend.py`` keeps them), and a run already there is
not trained again.  About 10 minutes per run on 2 idle cores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_blend import halves
from bench_classes import SCHEMES, carved, reviews_with_movies
from bench_tune import predicted
from benchmarks import compare, comparison_row

from hfsent.config import preset
from hfsent.linear import fit_wide_branch
from hfsent.metrics import predict_split
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.prepare import prepare_data
from hfsent.tasks import task_for
from hfsent.train import train
from hfsent.wide import wide_part, with_wide_branch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--sets", default="stars8")
    parser.add_argument("--c", type=float, default=0.1)
    parser.add_argument("--json", default="bench_imbalance.json")
    parser.add_argument("--full", default=None, help="seeds: train the whole model per seed and arm")
    parser.add_argument("--out", default="bench_imbalance", help="with --full: where predictions go")
    parser.add_argument("--arms", default="none,balanced", help=f"with --full, of {', '.join(ARMS)}")
    parser.add_argument("--vectors", default=None, help="the vectors arm's --word-vectors (a word2vec file)")
    args = parser.parse_args()
    df = reviews_with_movies(args.imdb, args.ratings, args.movies)
    if args.full:
        full(df, args)
        return
    rows, results = [], {}
    for name in args.sets.split(","):
        scheme = list(SCHEMES.values())[0 if name == "stars4" else 1]
        with tempfile.TemporaryDirectory() as tmp:
            dataset, _, _ = carved(df, scheme, Path(tmp))
            config = preset("default", dataset=dataset, group_column="movie_id")
            data = prepare_data(config)
            config = config.replace(vocab_size=len(data.vocab), max_length=data.max_length,
                                    label_names=list(data.classes))
            out = {}
            for weight in (None, "balanced"):
                model = with_wide_branch(build_model(config.model, len(data.vocab)), len(data.vocab),
                                         config.model.wide_buckets)
                fit_wide_branch(model, data.splits["train"], task_for(config.model).linear_kind(), args.c,
                                data.max_length, class_weight=weight)
                clf = SentimentClassifier(wide_part(model), data.vocab, config)
                out[weight] = {s: predict_split(clf, data.splits[s])[:2] for s in ("validation", "test")}
        for split in ("validation", "test"):
            labels = out[None][split][1]
            record = compare(labels, predicted(out["balanced"][split][0]), predicted(out[None][split][0]))
            results[f"{name} {split}"] = record
            for metric in ("accuracy", "macro_f1"):
                title = f"{name}, {split}, {metric}: balanced (A) vs none (B)"
                rows.append(comparison_row(title, record, metric))
                print(rows[-1], flush=True)
        print("classes:", data.classes, flush=True)
    Path(args.json).write_text(json.dumps(results, indent=1, default=float))


# Each arm's settings on top of the defaults; "vectors" is the default plus --vectors (issue 27:
# the outside word2vec of scripts/make_vectors.py on the 8-star ratings); "macro_f1" early-stops
# the GRU and fits the blend for macro F1 (--selection-metric macro_f1).
ARMS = {"none": {"class_weight": "none"}, "balanced": {"class_weight": "balanced"},
        "vectors": {"class_weight": "none"},
        "macro_f1": {"class_weight": "none", "selection_metric": "macro_f1"}}


def full(df, args) -> None:
    """The whole default model per seed and arm (see the module's docstring); prints the rows."""
    out, rows, results = Path(args.out), [], {}
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.full.split(",")]
    arms = args.arms.split(",")
    if "none" not in arms or set(arms) - set(ARMS) or ("vectors" in arms) != bool(args.vectors):
        raise SystemExit(f"--arms: 'none' and any of {', '.join(ARMS)}; 'vectors' goes with --vectors")
    for name in args.sets.split(","):
        scheme = list(SCHEMES.values())[0 if name == "stars4" else 1]
        with tempfile.TemporaryDirectory() as tmp:
            dataset, _, _ = carved(df, scheme, Path(tmp))
            for seed, arm in ((seed, arm) for seed in seeds for arm in arms):
                path = out / f"{name}-{seed}-{arm}.npz"
                if path.exists():
                    continue
                settings = {**ARMS[arm], **({"word_vectors": args.vectors} if arm == "vectors" else {})}
                config = preset("default", dataset=dataset, group_column="movie_id", seed=seed, **settings)
                start = time.perf_counter()
                result = train(config, None, verbose=0)
                fitted = result.classifier.config.preprocessing.max_length
                data = prepare_data(config.replace(max_length=fitted))
                record = {"seconds": time.perf_counter() - start,
                          "fitted_weight": result.stage("wide")["figures"]["gru_weight"],
                          **halves(result.classifier, data)}  # for the blend's rule, as bench_blend keeps
                for split in ("validation", "test"):
                    probs, labels, _ = predict_split(result.classifier, data.splits[split])
                    record[f"p_{split}"], record[f"y_{split}"] = probs, labels
                np.savez(path, **record)
                print(name, seed, arm, result.metrics["test"]["accuracy"], result.metrics["test"]["macro_f1"],
                      round(record["seconds"]), flush=True)
        runs = {(seed, arm): np.load(out / f"{name}-{seed}-{arm}.npz") for seed in seeds for arm in arms}
        for arm in (a for a in arms if a != "none"):
            per_seed = [compare(runs[seed, "none"]["y_validation"],
                                predicted(runs[seed, arm]["p_validation"]),
                                predicted(runs[seed, "none"]["p_validation"]))
                        for seed in seeds]
            results[f"{name} validation, {arm}"] = per_seed
            for metric in ("accuracy", "macro_f1"):
                for seed, record in zip(seeds, per_seed):
                    title = f"{name}, validation, seed {seed}, {metric}: {arm} (A) vs none (B)"
                    rows.append(comparison_row(title, record, metric))
                    print(rows[-1], flush=True)
                mean = np.mean([r[metric]["difference"] for r in per_seed])
                print(f"{name}, validation, {metric}: mean difference over seeds {mean:+.4f}", flush=True)
            labels = runs[seeds[0], "none"]["y_test"]
            record = compare(labels, np.stack([predicted(runs[s, arm]["p_test"]) for s in seeds]),
                             np.stack([predicted(runs[s, "none"]["p_test"]) for s in seeds]))
            results[f"{name} test, {arm}"] = record
            for metric in ("accuracy", "macro_f1"):
                rows.append(comparison_row(f"{name}, test, {metric}: {arm} (A) vs none (B)", record, metric))
                print(rows[-1], flush=True)
    Path(args.json).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
