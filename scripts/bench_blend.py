"""The blend's weight rule measured: each half's outputs on validation and test, saved per run.

``python scripts/bench_blend.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--out blend_runs`` trains the default on IMDB first sentences (``bench_short.py``; validation
carved by movie, 20%) with ``--sizes`` training sentences and ``--seeds`` seeds (the seed also
carves validation), and saves, for each run, the GRU's and the linear half's outputs on validation
and test with the labels (``.npz``).  ``--model DIR`` instead reads a trained model folder (such
as the default IMDB model) and recomputes its validation split as training carved it.

:func:`rule_table` then applies weight rules to the saved outputs (validation chooses; test is
scored once per rule) and compares each with the better half on test by the protocol of
``benchmarks.py``.  No GRU is trained twice for two rules: the rule only reads the outputs.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from bench_short import short_reviews

from hfsent.config import preset
from hfsent.metrics import predict_split
from hfsent.predict import SentimentClassifier
from hfsent.prepare import prepare_data
from hfsent.train import train
from hfsent.wide import deep_part, wide_part


def class_rows(p):
    """One probability per sentence as rows of class probabilities, as the blend's fits take them."""
    p = np.asarray(p).reshape(-1)
    return np.stack([1 - p, p], axis=1)

def halves(clf: SentimentClassifier, data) -> dict:
    """Each half's outputs (and the labels) on validation and test."""
    assert clf.vocab.tokens == data.vocab.tokens, "the splits must be encoded with the model's vocabulary"
    out = {}
    for half, part in (("gru", deep_part(clf.model)), ("linear", wide_part(clf.model))):
        alone = SentimentClassifier(part, clf.vocab, clf.config)
        for split in ("validation", "test"):
            probs, labels, _ = predict_split(alone, data.splits[split])
            out[f"{half}_{split}"], out[f"y_{split}"] = probs, labels
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--model", default=None, help="a trained model folder, its data at --imdb")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.model:
        clf = SentimentClassifier.load(args.model)
        config = clf.config.replace(dataset=args.imdb)
        data = prepare_data(config.replace(max_length=clf.config.preprocessing.max_length))
        np.savez(out / "imdb-random.npz", **halves(clf, data))
        return
    for size in map(int, args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            dataset, _ = short_reviews(args.imdb, args.movies, size, Path(tmp))
            for seed in map(int, args.seeds.split(",")):
                config = preset("default", dataset=dataset, group_column="movie_id", validation_size=0.2,
                                seed=seed)
                result = train(config, None, verbose=0)
                data = prepare_data(config)
                record = halves(result.classifier, data)
                record["fitted_weight"] = result.stage("wide")["figures"]["gru_weight"]
                np.savez(out / f"short-{size}-{seed}.npz", **record)
                print(size, seed, result.metrics["test"]["accuracy"], flush=True)


if __name__ == "__main__":
    main()


def rule_table(folder: Path) -> list[str]:
    """Per saved run: test accuracy of each half, the fitted blend and the guarded blends (McNemar on
    accuracy, a paired t-test on log loss); then per rule its test accuracy minus the better
    half's on test, over the runs."""
    from hfsent.blend import blend_weight, guarded_weight

    rows = ["| run | validation n | GRU | linear | fitted w | fitted blend | guard (accuracy) w | blend | "
            "guard (log loss) w | blend |", "|" + "---|" * 10]
    gaps = {"fitted": [], "accuracy": [], "log_loss": []}
    for path in sorted(folder.glob("*.npz")):
        r = np.load(path)
        y = r["y_test"]

        def acc(w: float, r=r, y=y) -> float:
            out = w * r["gru_test"] + (1 - w) * r["linear_test"]
            pred = (out >= 0.5).astype(int) if out.ndim == 1 else out.argmax(axis=1)
            return float(np.mean(pred == y))

        halves = (class_rows(r["gru_validation"]), class_rows(r["linear_validation"]), r["y_validation"])
        fitted = blend_weight(*halves)
        best = max(acc(0.0), acc(1.0))
        cells = [path.stem, str(len(r["y_validation"])), f"{acc(1.0):.4f}", f"{acc(0.0):.4f}",
                 f"{fitted:.2f}", f"{acc(fitted):.4f}"]
        gaps["fitted"].append(acc(fitted) - best)
        for metric in ("accuracy", "log_loss"):
            w, _ = guarded_weight(*halves, fitted, metric)
            cells += [f"{w:.2f}", f"{acc(w):.4f}"]
            gaps[metric].append(acc(w) - best)
        rows.append("| " + " | ".join(cells) + " |")
    rows += ["", "| rule | mean (test accuracy − better half's) | min | max |", "|---|---|---|---|"]
    rows += [f"| {k} | {np.mean(v):+.4f} | {np.min(v):+.4f} | {np.max(v):+.4f} |" for k, v in gaps.items()]
    return rows + [""] + seed_table(folder)


def seed_table(folder: Path) -> list[str]:
    """Per training size of the first-sentence runs: each rule's blend (A) against the better half on
    test (B) over the seeds, by the protocol (``benchmarks.compare``: mean ± std over seeds, the
    paired bootstrap of the difference on the same test sentences)."""
    from benchmarks import compare, comparison_row

    from hfsent.blend import blend_weight, guarded_weight

    rows = ["| first sentences, rule (A) vs the better half on test (B) | A: mean ± std (seeds) | "
            "B: mean ± std (seeds) | A − B [95% interval] | paired p |", "|---|---|---|---|---|"]
    sizes = sorted({int(p.stem.split("-")[1]) for p in folder.glob("short-*.npz")})
    for size in sizes:
        runs = [np.load(p) for p in sorted(folder.glob(f"short-{size}-*.npz"))]
        y = runs[0]["y_test"]
        if any(len(r["y_test"]) != len(y) or (r["y_test"] != y).any() for r in runs):
            continue  # not the same test examples

        def decide(r, w):
            return ((w * r["gru_test"] + (1 - w) * r["linear_test"]) >= 0.5).astype(int)
        better = [decide(r, max((0.0, 1.0), key=lambda w, r=r: float(np.mean(decide(r, w) == y))))
                  for r in runs]
        for rule in ("fitted", "accuracy", "log_loss"):
            chosen = []
            for r in runs:
                halves = (class_rows(r["gru_validation"]), class_rows(r["linear_validation"]),
                          r["y_validation"])
                w = blend_weight(*halves)
                if rule != "fitted":
                    w, _ = guarded_weight(*halves, w, rule)
                chosen.append(decide(r, w))
            record = compare(y, np.stack(chosen), np.stack(better), samples=500)
            rows.append(comparison_row(f"{size:,} train, {rule}", record))
    return rows
