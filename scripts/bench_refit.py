"""A candidate stage, measured and not adopted: the linear half fitted again on train + validation.

After the wide stage has fitted the blend's weight on validation, :func:`refit_linear` fits the
linear half once more on train and validation together, at the strength the wide stage chose,
and keeps the weight (scikit-learn's ``refit=True``).  It did not win on the development splits
below (BENCHMARKS.md, "The linear half fitted again on train + validation"), so it is not in the
package.

``python scripts/bench_refit.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --out refit_runs --sets short:1,2,3 imdb:1 stars4:1``

A refit gives validation's labels to the linear half, so validation can no longer judge it: each
set's training data is first cut by movie into a development split (20%; 10% for IMDB), which
judges, and the rest, on which the default trains as a user's run would (validation carved from
it by movie).  One training per set and seed gives both arms: the model's outputs are recorded
on the development split and on test just before the refit stage and just after it, so the two
arms share their GRU, their weight and every example (a paired comparison with no training
noise between them).  Test is read once per arm and chooses nothing.  Sets: ``short``, 10,000
first sentences of IMDB reviews (``bench_short.py``); ``imdb``, IMDB's train and test with
movie ids; ``stars4``, the 4-class star ratings of ``bench_classes.py`` (test carved by movie).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from bench_classes import SCHEMES, carved, reviews_with_movies
from bench_short import short_reviews
from bench_tune import predicted
from benchmarks import accuracy, imdb_with_movies, paired_bootstrap, spread
from datasets import concatenate_datasets
from sklearn.model_selection import GroupShuffleSplit

from hfsent.config import preset
from hfsent.linear import fit_wide_branch
from hfsent.metrics import predict_split
from hfsent.prepare import prepare_data
from hfsent.selection import sklearn_class_weight
from hfsent.tasks import task_for
from hfsent.train import STAGES, Stage, train

DEV_SHARE = {"short": 0.2, "imdb": 0.1, "stars4": 0.2}


def refit_linear(run) -> tuple[str, dict]:
    """The candidate stage: the blend's linear half fitted again on train + validation at the wide
    stage's strength; the weight is kept.  Single-label and rating tasks."""
    cfg, splits = run.config, run.data.splits
    wide = next(r for r in run.records if r["name"] == "wide")["figures"]
    kind = task_for(cfg.model).linear_kind()
    both = concatenate_datasets([splits["train"], splits["validation"]])
    fit_wide_branch(run.model, both, kind, wide[kind.strength_name], cfg.preprocessing.max_length,
                    class_weight=sklearn_class_weight(cfg.training.class_weight))
    return f"the linear half fitted again on {len(both):,} texts", {}


def frames(name: str, args: argparse.Namespace, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The set's train and test frames (``text``, ``label``, ``movie_id``)."""
    if name == "short":
        return tuple(short_reviews(args.imdb, args.movies, 10_000, folder)[1].values())
    if name == "stars4":
        df = reviews_with_movies(args.imdb, args.ratings, args.movies)
        return carved(df, list(SCHEMES.values())[0], folder)[1:]
    return tuple(imdb_with_movies(args.imdb, args.movies, split) for split in ("train", "test"))


def one_run(name: str, seed: int, train_df: pd.DataFrame, test_df: pd.DataFrame, folder: Path) -> dict:
    """Trains the default on the set's training data less its development split, recording the
    outputs on both splits before and after the refit stage."""
    cut = GroupShuffleSplit(1, test_size=DEV_SHARE[name], random_state=seed)
    rest, dev = next(cut.split(train_df, groups=train_df["movie_id"]))
    for part, rows in (("train", train_df.iloc[rest]), ("dev", train_df.iloc[dev]), ("test", test_df)):
        rows.to_parquet(folder / f"{part}.parquet", index=False)
    config = preset("default", dataset=f"train={folder / 'train.parquet'},test={folder / 'dev.parquet'}",
                    group_column="movie_id", seed=seed)
    on_test = config.replace(dataset=f"train={folder / 'train.parquet'},test={folder / 'test.parquet'}")
    out: dict = {}
    prepared: dict = {}

    def record(when: str):
        def stage(run) -> tuple[str, dict]:
            if "test" not in prepared:  # tokenized once, for both records
                prepared["test"] = prepare_data(on_test)
            test = prepared["test"]
            assert test.vocab.tokens == run.data.vocab.tokens, "one training split, one vocabulary"
            for split, data in (("dev", run.data), ("test", test)):
                outputs, labels, _ = predict_split(run.classifier, data.splits["test"])
                out[f"{when}_{split}"], out[f"y_{split}"] = outputs, labels
            wide = next(r for r in run.records if r["name"] == "wide")
            out["gru_weight"] = np.asarray(wide["figures"]["gru_weight"])
            return f"recorded {when} the refit", {}
        return Stage(f"record_{when}", stage)

    at = [s.name for s in STAGES].index("wide") + 1
    stages = (*STAGES[:at], record("before"), Stage("refit", refit_linear), record("after"))
    train(config, None, verbose=0, score_test=False, stages=stages)
    return out


def report(runs: dict) -> list[str]:
    lines = ["| set (seeds) | split | before the refit | after | after − before [95%], p | GRU weight |",
             "|---|---|---|---|---|---|"]
    for name, by_seed in runs.items():
        for split in ("dev", "test"):
            y = np.concatenate([r[f"y_{split}"].reshape(-1) for r in by_seed])
            before, after = (np.concatenate([predicted(r[f"{w}_{split}"]) for r in by_seed])
                             for w in ("before", "after"))
            a, b = ([accuracy(r[f"y_{split}"].reshape(-1), predicted(r[f"{w}_{split}"])) for r in by_seed]
                    for w in ("after", "before"))
            d = paired_bootstrap(accuracy, y, after, before)
            weights = ", ".join(f"{float(np.mean(r['gru_weight'])):.2f}" for r in by_seed)
            lines.append(f"| {name} ({len(by_seed)}) | {split} | {spread(b)['mean']:.4f} | "
                         f"{spread(a)['mean']:.4f} | {d['difference']:+.4f} [{d['low']:+.4f}, "
                         f"{d['high']:+.4f}], {d['p']:.3g} | {weights} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for flag in ("--imdb", "--movies", "--ratings", "--out"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--sets", nargs="+", default=["short:1,2,3"],
                        help="NAME:SEEDS, of " + ", ".join(DEV_SHARE))
    args = parser.parse_args()
    runs = {}
    for item in args.sets:
        name, seeds = item.split(":")
        folder = Path(args.out) / name
        folder.mkdir(parents=True, exist_ok=True)
        train_df, test_df = None, None
        for seed in map(int, seeds.split(",")):
            path = folder / f"seed{seed}.npz"
            if not path.exists():
                if train_df is None:
                    train_df, test_df = frames(name, args, folder)
                run_folder = folder / f"seed{seed}"
                run_folder.mkdir(exist_ok=True)
                np.savez(path, **one_run(name, seed, train_df, test_df, run_folder))
            runs.setdefault(name, []).append(dict(np.load(path)))
        print("\n".join(report({name: runs[name]})), flush=True)
    print("\n".join(report(runs)))


if __name__ == "__main__":
    main()
