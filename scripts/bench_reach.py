"""How far a model from scratch can go on 10,000 first sentences (issue 27's +2-point target).

``python scripts/bench_reach.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--out reach_runs [--model runs/imdb]`` measures two things on ``bench_short.py``'s data (first
sentences of IMDB reviews; the 24,399 test sentences of other movies):

* **Bags of GRUs.**  For each ``--splits`` seed, validation is carved from the 10,000 train
  sentences by movie (20%), and the default is trained ``--members`` times on that one split, each
  time with another seed (another initialisation and shuffle).  The mean of the first k GRU halves
  is then blended with the linear half (the same in every member: its fit has no seed) by the
  package's own rule, the log-loss weight and its guard.  The blend of k members is compared with
  that of one, paired over the (split, sentence) units of test.  Each member's outputs are saved
  (``SPLIT/mSEED.npz``), so an interrupted run resumes.
* **References.**  TF-IDF 1-2-grams + LR (C by 3-fold CV grouped by movie) trained on 10,000 and
  20,000 first sentences, and on IMDB's 25,000 whole train reviews; ``--model``, a model trained
  on the whole train reviews (``hfsent train --dataset imdb``), scored on the same test.

Validation chooses the weights; test is read once per row, and chooses nothing.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
import pandas as pd
from bench_blend import class_rows, halves
from bench_classes import tfidf_cv
from bench_short import short_reviews
from benchmarks import accuracy, imdb_with_movies, paired_bootstrap, spread
from sklearn.model_selection import GroupShuffleSplit

from hfsent.blend import blend_weight, guarded_weight
from hfsent.config import preset
from hfsent.prepare import prepare_data
from hfsent.train import train


def train_members(source: Path, out: Path, split: int, members: int) -> None:
    """Trains the default ``members`` times on one split carved by movie with seed ``split``."""
    out.mkdir(parents=True, exist_ok=True)
    df = pd.read_parquet(source / "train.parquet")
    carve = GroupShuffleSplit(1, test_size=0.2, random_state=split)
    rows, held = next(carve.split(df, groups=df["movie_id"]))
    df.iloc[rows].to_parquet(out / "train.parquet", index=False)
    df.iloc[held].to_parquet(out / "validation.parquet", index=False)
    dataset = ",".join(f"{name}={path}" for name, path in (
        ("train", out / "train.parquet"), ("validation", out / "validation.parquet"),
        ("test", source / "test.parquet")))
    for seed in range(1, members + 1):
        if not (out / f"m{seed}.npz").exists():
            config = preset("default", dataset=dataset, seed=seed)
            result = train(config, None, verbose=0, score_test=False)
            np.savez(out / f"m{seed}.npz", **halves(result.classifier, prepare_data(config)))


def bagged_blend(runs: list, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Test probabilities of the blend of the first ``k`` GRU halves' mean with the linear half,
    weighted as the package weighs them; also the GRU mean's, and the weight."""
    splits = ("validation", "test")
    gru = {s: class_rows(np.mean([r[f"gru_{s}"].reshape(-1) for r in runs[:k]], axis=0)) for s in splits}
    linear = {s: class_rows(runs[0][f"linear_{s}"]) for s in splits}
    labels = runs[0]["y_validation"].reshape(-1)
    fitted = blend_weight(gru["validation"], linear["validation"], labels)
    weight, _ = guarded_weight(gru["validation"], linear["validation"], labels, fitted, metric="log_loss")
    return weight * gru["test"] + (1 - weight) * linear["test"], gru["test"], weight


def bag_table(out: Path, splits: list[int], members: int) -> list[str]:
    runs = {s: [np.load(f) for f in sorted(glob.glob(str(out / f"split{s}" / "m*.npz")))] for s in splits}
    y = np.concatenate([runs[s][0]["y_test"].reshape(-1) for s in splits])
    lines = ["| GRUs in the bag | GRU mean, test | GRU weight per split | blend, test "
             "| blend − one GRU [95%], p |",
             "|---|---|---|---|---|"]
    one = None
    for k in range(1, members + 1):
        parts = [bagged_blend(runs[s], k) for s in splits]
        blend = np.concatenate([p[0].argmax(1) for p in parts])
        gru = [accuracy(runs[s][0]["y_test"].reshape(-1), p[1].argmax(1)) for s, p in zip(splits, parts)]
        blends = [accuracy(runs[s][0]["y_test"].reshape(-1), p[0].argmax(1)) for s, p in zip(splits, parts)]
        one = blend if one is None else one
        d = paired_bootstrap(accuracy, y, blend, one)
        lines.append(f"| {k} | {spread(gru)['mean']:.4f} | {', '.join(f'{p[2]:.2f}' for p in parts)} | "
                     f"{spread(blends)['mean']:.4f} ± {spread(blends)['std']:.4f} | "
                     f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}], {d['p']:.3g} |")
    return lines


def references(imdb: str, movies: str, source: Path, short: dict, model: str | None) -> list[str]:
    """The reference rows; ``short``, the 10,000 sentences' frames (``short_reviews``)."""
    test = short["test"]
    lines = ["| trained on | model | test accuracy |", "|---|---|---|"]
    for size in (10_000, 20_000):
        if size != 10_000:
            folder = source.parent / f"short{size}"
            folder.mkdir(exist_ok=True)
            short = short_reviews(imdb, movies, size, folder)[1]
        score = tfidf_cv(short["train"], test)["accuracy"]
        lines.append(f"| {size:,} first sentences | TF-IDF + LR (CV) | {score:.4f} |")
    whole = imdb_with_movies(imdb, movies, "train")
    lines.append(f"| 25,000 whole reviews | TF-IDF + LR (CV) | {tfidf_cv(whole, test)['accuracy']:.4f} |")
    if model:
        from hfsent.predict import SentimentClassifier

        out = SentimentClassifier.load(model).predict(list(test["text"]))
        p = np.array([o["probability_positive"] for o in out])
        score = accuracy(test["label"].to_numpy(), p > 0.5)
        lines.append(f"| 25,000 whole reviews | hfsent, `--model` | {score:.4f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--splits", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--model", default=None, help="a model trained on IMDB's whole train reviews")
    args = parser.parse_args()
    out = Path(args.out)
    source = out / "short10000"
    source.mkdir(parents=True, exist_ok=True)
    _, short = short_reviews(args.imdb, args.movies, 10_000, source)
    for split in args.splits:
        train_members(source, out / f"split{split}", split, args.members)
    print("\n".join(bag_table(out, args.splits, args.members) + [""]
                    + references(args.imdb, args.movies, source, short, args.model)))


if __name__ == "__main__":
    main()
