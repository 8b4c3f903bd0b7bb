"""Short texts: the first sentence of each IMDB review, labelled with the review's label.

``python scripts/bench_short.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies``
(about 20 minutes on 2 cores) writes the "Short texts" section of BENCHMARKS.md in place,
between its markers; ``scripts/bench.py`` keeps that section when it rewrites the file.

The data is noisy but real: a review's first sentence often says little of its verdict.  Train
is a seeded sample of ``--train-size`` first sentences of IMDB's train reviews, each with its
movie id; validation is carved from it by movie (20%, so that one standard error is about one
point); test is the first sentence of every IMDB test review (other movies).

Each row of the sweep changes one setting of the defaults that were tuned on whole IMDB reviews
(``IMDB_DEFAULTS``), and is scored on validation only.  Test is scored once for those defaults,
once for the package's defaults (whose ``max_length`` follows the data: see
``hfsent.prepare.default_max_length``), and once for TF-IDF (1-2-grams) + logistic regression,
its C chosen by 3-fold CV on train grouped by movie.
"""

import argparse
import re
import tempfile
import time
from pathlib import Path

from bench_classes import tfidf_cv
from benchmarks import imdb_with_movies, write_section
from datasets import load_dataset

from hfsent.config import preset
from hfsent.train import train

BEGIN, END = "<!-- short-texts: written by scripts/bench_short.py -->", "<!-- /short-texts -->"
# The settings that the adaptation may change, at the values chosen on whole IMDB reviews.
IMDB_DEFAULTS = {"max_length": 600, "word2vec_epochs": 3, "word2vec_min_count": 3, "min_freq": 2,
                 "learning_rate": 3e-3, "epochs": 8, "patience": 1, "dropout": 0.4}
GRID = [{}, {"max_length": None}, {"word2vec_epochs": 10}, {"word2vec_epochs": 30},
        {"word2vec_min_count": 1}, {"min_freq": 1}, {"pretrain_embeddings": False},
        {"learning_rate": 1e-3}, {"learning_rate": 1e-2}, {"patience": 3, "epochs": 16},
        {"dropout": 0.2}, {"dropout": 0.6}]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str) -> str:
    """The text up to its first sentence end (., ! or ? before a space), line breaks removed."""
    text = re.sub(r"<\s*br\s*/?\s*>", " ", text).strip()
    return _SENTENCE_END.split(text, maxsplit=1)[0].strip()


def _first_sentences(df):
    """``df`` with each text cut to its first sentence, keeping those of 3 words or more."""
    df["text"] = df["text"].map(first_sentence)
    return df[df["text"].str.split().str.len() >= 3]


def short_reviews(imdb: str, movies: str, train_size: int, folder: Path, unlabelled: bool = False
                  ) -> tuple[str, dict]:
    """Writes train.parquet / test.parquet of first sentences under ``folder``; the --dataset
    value, and the two frames (for the baseline).  ``unlabelled``: also unsupervised.parquet, the
    first sentences of IMDB's 50,000 unlabelled reviews, which the default's word2vec then reads."""
    frames = {}
    if unlabelled:
        unlabelled_df = _first_sentences(load_dataset(imdb, split="unsupervised").to_pandas())
        unlabelled_df[["text"]].to_parquet(folder / "unsupervised.parquet", index=False)
    for split in ("train", "test"):
        df = _first_sentences(imdb_with_movies(imdb, movies, split))
        if split == "train":
            df = df.sample(n=train_size, random_state=0)
        df.to_parquet(folder / f"{split}.parquet", index=False)
        frames[split] = df.reset_index(drop=True)
    dataset = f"train={folder / 'train.parquet'},test={folder / 'test.parquet'}"
    return dataset + (f",unsupervised={folder / 'unsupervised.parquet'}" if unlabelled else ""), frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--output", default="BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset, frames = short_reviews(args.imdb, args.movies, args.train_size, Path(tmp))
        common = {"dataset": dataset, "group_column": "movie_id", "validation_size": 0.2,
                  "dataset_id": "stanfordnlp/imdb (first sentences)"}
        sweep = ["| change from the IMDB defaults | validation accuracy | max_length | best epoch | "
                 "seconds |", "|---|---|---|---|---|"]
        for change in GRID:
            start = time.perf_counter()
            result = train(preset("default", **{**common, **IMDB_DEFAULTS, **change}), None, verbose=0,
                           score_test=False)
            accuracy, fit = result.metrics["validation"]["accuracy"], result.stage("fit")["figures"]
            sweep.append(f"| {change or 'none (the IMDB defaults)'} | {accuracy:.4f} | "
                         f"{result.stage('data')['figures']['max_length']} | {fit['best_epoch']} | "
                         f"{time.perf_counter() - start:.0f} |")
            print(sweep[-1], flush=True)
        scored = ["| model | validation accuracy | test accuracy | seconds |", "|---|---|---|---|"]
        for name, settings in (("hfsent, the IMDB defaults", IMDB_DEFAULTS),
                               ("hfsent, the package defaults (adapted to the data)", {})):
            start = time.perf_counter()
            result = train(preset("default", **{**common, **settings}), None, verbose=0)
            m = result.metrics
            scored.append(f"| {name} | {m['validation']['accuracy']:.4f} | {m['test']['accuracy']:.4f} | "
                          f"{time.perf_counter() - start:.0f} |")
            print(scored[-1], flush=True)
        baseline = tfidf_cv(frames["train"], frames["test"])
        scored.append(f"| TF-IDF 1-2-grams + LR (C={baseline['C']:g} by grouped CV) | | "
                      f"{baseline['accuracy']:.4f} | {baseline['seconds']:.0f} |")
    n_train, n_test = len(frames["train"]), len(frames["test"])
    intro = (f"Written by `python scripts/bench_short.py`: the first sentence of each IMDB review, with the "
             f"review's label; {n_train:,} train sentences (validation carved from them by movie, 20%), "
             f"{n_test:,} test sentences (every test review's first sentence of 3 words or more). The sweep "
             "is scored on validation only; test once per row of the second table.")
    section = "\n".join([BEGIN, "## Short texts (first sentences of IMDB reviews)", "", intro, "", *sweep, "",
                         *scored, END])
    path = Path(args.output)
    write_section(path, BEGIN, END, section)
    print(f"wrote the short-text section of {path}")


if __name__ == "__main__":
    main()
