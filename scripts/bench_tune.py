"""The linear half tuned to its data: C (alpha for ratings) by grouped cross-validation on train,
against the fixed C = 0.1 and against TF-IDF + LR with C by CV, and whether trigrams would help.

``python scripts/bench_tune.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --sets short,stars4,stars8,imdb`` prints Markdown tables
and writes the figures as JSON (``--json``).  No GRU is trained: each set is prepared as training
prepares it (the default preset, validation carved by movie), and the linear half alone is fitted
(:func:`hfsent.linear.fit_wide_branch`) and scored on validation, and on test once.

* ``short``: 10,000 first sentences of IMDB train reviews (``bench_short.py``), test the first
  sentence of every test review;
* ``stars4`` / ``stars8``: IMDB's star ratings as 4 and 8 classes, test carved by movie
  (``bench_classes.py``);
* ``imdb``: IMDB with its movie ids, test the official test split (other movies);
* ``ratings``: the stars as a rating (ridge, alpha by CV).

The cross-validation runs twice on the same training rows: folds grouped by movie (the rows'
movie ids, recovered by carving as :func:`hfsent.splits.load_splits` does) and folds grouped by
duplicate text only (what the package sees, since its splits drop the group column).  The
comparisons use the protocol of ``benchmarks.py`` (paired on the same test examples).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from bench_classes import SCHEMES, carved, reviews_with_movies, tfidf_cv
from bench_short import short_reviews
from benchmarks import accuracy, compare, macro_f1, with_movie_ids

from hfsent.batching import flat_ids
from hfsent.config import Config, preset
from hfsent.data import load_raw, normalize_split
from hfsent.linear import compact, fit_wide_branch, seen_columns
from hfsent.linear_kinds import DEFAULT_C, ScaledMultinomial
from hfsent.metrics import predict_split
from hfsent.model import build_model
from hfsent.ngrams import count_matrix
from hfsent.predict import SentimentClassifier
from hfsent.prepare import prepare_data
from hfsent.regularization import choose_strength
from hfsent.split import GROUP, carve
from hfsent.tasks import task_for
from hfsent.wide import wide_part, with_wide_branch

TRIGRAM_BINS = 1 << 20


def train_groups(config: Config) -> np.ndarray:
    """The group column of the package's training split, row for row (carved as load_splits carves)."""
    raw = load_raw(config.data.dataset)
    train = normalize_split(raw["train"], config)
    if "test" not in raw:
        train, _ = carve(train, config.data.test_size, config.training.seed)
    train, _ = carve(train, config.data.validation_size, config.training.seed)
    return np.asarray(train[GROUP])


def trigram_matrix(ds, vocab_size: int, max_length: int) -> sp.csr_matrix:
    """Counts of hashed word trigrams (numpy's own hash: a measurement, not the model's layers)."""
    values, splits, _ = flat_ids(ds.with_format("arrow")[:])
    rows, keys = [], []
    for i in range(len(splits) - 1):
        ids = values[splits[i]:splits[i + 1]][:max_length].astype(np.int64)
        if len(ids) >= 3:
            keys.append((ids[:-2] * vocab_size + ids[1:-1]) * vocab_size + ids[2:])
            rows.append(np.full(len(ids) - 2, i))
    keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    m = sp.csr_matrix((np.ones(len(keys), np.float32), (rows, keys % 1048573)),
                      shape=(len(splits) - 1, TRIGRAM_BINS))
    m.sum_duplicates()
    return m

# the fixed strengths that the CV choice is compared with: C 0.1 (chosen on whole IMDB reviews),
# the ridge's alpha 100 (chosen on IMDB's ratings)
FIXED = {"c": DEFAULT_C, "alpha": 100.0}


def linear_half(config: Config, data, strength, groups=None) -> dict:
    """Fit the package's linear half (the task's kind) at ``strength`` (``None``: by CV) and
    predict val and test."""
    model = with_wide_branch(build_model(config.model, len(data.vocab)), len(data.vocab),
                             config.model.wide_buckets)
    start = time.perf_counter()
    fitted = fit_wide_branch(model, data.splits["train"], task_for(config.model).linear_kind(), strength,
                             data.max_length, groups=groups)
    fitted["fit_seconds"] = time.perf_counter() - start
    clf = SentimentClassifier(wide_part(model), data.vocab, config)
    for split in ("validation", "test"):
        out, labels, _ = predict_split(clf, data.splits[split])
        fitted[split] = (out, labels)
    return fitted


def predicted(out: np.ndarray) -> np.ndarray:
    out = np.asarray(out)
    return (out.reshape(-1) >= 0.5).astype(int) if out.ndim == 1 or out.shape[-1] == 1 else out.argmax(axis=1)


def measure(name: str, dataset: str, frames: tuple, task: str = "sentiment", trigrams: bool = True) -> dict:
    extra = {"task": "rating", "label_column": "rating"} if task == "rating" else {}
    config = preset("default", dataset=dataset, group_column="movie_id", **extra,
                    **({"validation_size": 0.2} if name == "short" else {}))
    data = prepare_data(config)
    config = config.replace(vocab_size=len(data.vocab), max_length=data.max_length,
                            **({"label_names": list(data.classes)} if data.classes else {}))
    groups = train_groups(config)
    assert len(groups) == data.train_rows, (len(groups), data.train_rows)
    rating = task == "rating"
    kind = task_for(config.model).linear_kind()
    args = (len(data.vocab), config.model.wide_buckets, data.max_length)
    x, y = count_matrix(data.splits["train"], *args)
    columns = seen_columns(x)
    seen, unseen = compact(x, columns), x.shape[1] - len(columns)
    record = {"set": name, "train": data.train_rows, "validation": len(data.splits["validation"]),
              "test": len(data.splits["test"])}
    # the multi-class fits take minutes: their folds are grouped by movie only, and past the package's
    # budget (hfsent.linear_kinds.MULTICLASS_CV_BUDGET) not cross-validated at all
    large = bool(kind.cv_skipped(len(y)))
    record["cv by movie"] = {"chosen": kind.default_strength, "skipped": True}
    runs = 0 if large else 1 if isinstance(kind, ScaledMultinomial) else 2
    for label, g in (("by movie", groups), ("by duplicate text", None))[:runs]:
        start = time.perf_counter()
        cv = choose_strength(seen, y, kind, g, unseen=unseen)
        record[f"cv {label}"] = {**cv, "seconds": time.perf_counter() - start}
        print(name, label, record[f"cv {label}"], flush=True)
    if trigrams and not rating:
        tri = trigram_matrix(data.splits["train"], len(data.vocab), data.max_length)
        both = sp.hstack([x, tri]).tocsr()
        cols3 = seen_columns(both)
        cv3 = choose_strength(compact(both, cols3), y, kind, groups, unseen=both.shape[1] - len(cols3))
        record["cv by movie, with trigrams"] = cv3
        print(name, "trigrams", cv3, flush=True)
    strength = kind.strength_name
    fixed = linear_half(config, data, FIXED[strength])
    tuned = linear_half(config, data, record["cv by movie"]["chosen"])
    for label, fit in (("fixed", fixed), ("cv", tuned)):
        record[label] = {strength: fit.get(strength), "fit_seconds": fit["fit_seconds"]}
        for split in ("validation", "test"):
            out, labels = fit[split]
            if rating:
                out = np.clip(out.reshape(-1), 1, 10)
                record[label][split] = {"r2": 1 - float(np.mean((out - labels) ** 2) / np.var(labels))}
            else:
                record[label][split] = {"accuracy": accuracy(labels, predicted(out)),
                                        "macro_f1": macro_f1(labels, predicted(out))}
    if not rating:
        labels = tuned["test"][1]
        record["cv vs fixed, test"] = compare(labels, predicted(tuned["test"][0]),
                                              predicted(fixed["test"][0]))
        train_df, test_df = frames
        base = tfidf_cv(train_df, test_df)
        record["tfidf"] = {k: base[k] for k in ("accuracy", "macro_f1", "C", "seconds")}
        print(name, "tfidf", record["tfidf"], flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--sets", default="short,stars4,stars8,imdb,ratings")
    parser.add_argument("--json", default="bench_tune.json")
    args = parser.parse_args()
    results = json.loads(Path(args.json).read_text()) if Path(args.json).is_file() else {}
    for name in args.sets.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if name == "short":
                dataset, frames = short_reviews(args.imdb, args.movies, 10_000, folder)
                frames = (frames["train"], frames["test"])
                record = measure(name, dataset, frames)
            elif name in ("stars4", "stars8"):
                scheme = list(SCHEMES.values())[0 if name == "stars4" else 1]
                dataset, train_df, test_df = carved(reviews_with_movies(args.imdb, args.ratings, args.movies),
                                                    scheme, folder)
                record = measure(name, dataset, (train_df, test_df), trigrams=False)
            elif name == "imdb":
                dataset = with_movie_ids(args.imdb, args.movies, tmp)
                frames = tuple(pd.read_parquet(folder / f"{s}.parquet") for s in ("train", "test"))
                record = measure(name, dataset, frames)
            else:
                df = reviews_with_movies(args.imdb, args.ratings, args.movies)
                df[["text", "rating", "movie_id"]].to_parquet(folder / "ratings.parquet", index=False)
                record = measure(name, str(folder / "ratings.parquet"), (None, None), task="rating")
        results[name] = record
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
        print(json.dumps(record, default=float), flush=True)


if __name__ == "__main__":
    main()
