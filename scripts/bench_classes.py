"""Multi-class measurements on real text: IMDB's star ratings as 4 and as 8 classes.

``python scripts/bench_classes.py --imdb ../shared/data/imdb --ratings ../shared/data/imdb-ratings
--movies ../shared/data/imdb-movies`` (about 30 minutes on 2 cores) writes the "Multi-class"
section of BENCHMARKS.md in place, between its markers; ``scripts/bench.py`` keeps that section
when it rewrites the file.

The ratings file holds IMDB's 25,000 train reviews with their stars (1-4 and 7-10).  Each
review's movie comes from the movies file, joined by text.  Test is carved from it by movie
(``hfsent.split.carve``, 20%), so that no movie is on both sides; hfsent's validation split is
carved from the rest by movie too (``--group-column movie_id``).  The baseline is TF-IDF (1-2-grams)
+ multinomial logistic regression, its C chosen by 3-fold cross-validation on train, grouped by
movie, and fitted in the same run.
"""

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from benchmarks import movie_ids, write_section
from datasets import ClassLabel, Dataset, load_dataset

from hfsent.config import preset
from hfsent.split import carve
from hfsent.train import train

BEGIN, END = "<!-- multi-class: written by scripts/bench_classes.py -->", "<!-- /multi-class -->"
SCHEMES = {"IMDB stars, 4 classes (1-2, 3-4, 7-8, 9-10)":
           {1: "1-2", 2: "1-2", 3: "3-4", 4: "3-4", 7: "7-8", 8: "7-8", 9: "9-10", 10: "9-10"},
           "IMDB stars, 8 classes (1, 2, 3, 4, 7, 8, 9, 10)": {s: s for s in (1, 2, 3, 4, 7, 8, 9, 10)}}
CS = (1.0, 4.0, 16.0)


def reviews_with_movies(imdb: str, ratings: str, movies: str) -> pd.DataFrame:
    """text, rating and movie_id of every train review (the movie joined by text)."""
    train = load_dataset(imdb, split="train")
    movie_of = dict(zip(train["text"], movie_ids(movies, "train", len(train))))
    files = sorted(Path(ratings).glob("*.parquet"))
    df = pd.concat([pd.read_parquet(f, columns=["text", "rating"]) for f in files], ignore_index=True)
    df["movie_id"] = df["text"].map(movie_of)
    missing = int(df["movie_id"].isna().sum())
    if missing:
        raise SystemExit(f"{missing} reviews have no movie id")
    return df


def carved(df: pd.DataFrame, classes: dict, folder: Path) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """train/test parquet files of one class scheme, test carved by movie; the --dataset value."""
    rows = df.assign(label=df["rating"].map(classes).astype(str))
    names = sorted(rows["label"].unique(), key=lambda n: float(n.split("-")[0]))
    ds = Dataset.from_pandas(rows[["text", "label", "movie_id"]].rename(columns={"movie_id": "group"}),
                             preserve_index=False).cast_column("label", ClassLabel(names=names))
    rest, test = carve(ds, 0.2, seed=42)
    frames = {}
    for name, split in (("train", rest), ("test", test)):
        frame = split.to_pandas().rename(columns={"group": "movie_id"})
        frame["label"] = [names[i] for i in frame["label"]]
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        frames[name] = frame
    return f"train={folder / 'train.parquet'},test={folder / 'test.parquet'}", frames["train"], frames["test"]


def tfidf_cv(train_df: pd.DataFrame, test_df: pd.DataFrame) -> dict:
    """TF-IDF 1-2-grams + multinomial logistic regression, C by 3-fold CV on train grouped by movie."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.95, sublinear_tf=True,
                                 preprocessor=lambda t: re.sub(r"<\s*br\s*/?\s*>", " ", t).lower())
    x, y = vectorizer.fit_transform(train_df["text"]), train_df["label"].to_numpy()
    folds = list(GroupKFold(n_splits=3).split(x, y, train_df["movie_id"]))
    def fitted(c: float, rows) -> LogisticRegression:
        return LogisticRegression(C=c, max_iter=2000).fit(x[rows], y[rows])

    cv = {c: np.mean([accuracy_score(y[b], fitted(c, a).predict(x[b])) for a, b in folds]) for c in CS}
    best = max(cv, key=cv.get)
    predicted = fitted(best, np.arange(len(y))).predict(vectorizer.transform(test_df["text"]))
    truth = test_df["label"].to_numpy()
    return {"accuracy": accuracy_score(truth, predicted), "C": best, "seconds": time.perf_counter() - start,
            "macro_f1": f1_score(truth, predicted, average="macro")}


def ratings_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a benchmark on IMDB's star ratings: the three source folders and the file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--output", default="BENCHMARKS.md")
    return parser


def main() -> None:
    parser = ratings_parser(__doc__)
    parser.add_argument("--limit", type=int, default=None, help="use only this many reviews (a smoke test)")
    args = parser.parse_args()
    df = reviews_with_movies(args.imdb, args.ratings, args.movies)
    df = df.sample(n=args.limit, random_state=0) if args.limit else df
    lines = ["| dataset | classes | train / test reviews | hfsent test accuracy | hfsent macro F1 | "
             "hfsent validation accuracy (by movie) | TF-IDF + LR accuracy | TF-IDF + LR macro F1 | "
             "C (CV) | hfsent seconds | TF-IDF seconds |", "|" + "---|" * 11]
    for title, classes in SCHEMES.items():
        with tempfile.TemporaryDirectory() as tmp:
            dataset, train_df, test_df = carved(df, classes, Path(tmp))
            start = time.perf_counter()
            result = train(preset("default", dataset=dataset, group_column="movie_id",
                                  dataset_id="stanfordnlp/imdb"), Path(tmp) / "model", verbose=2)
            seconds = time.perf_counter() - start
            baseline = tfidf_cv(train_df, test_df)
        test, validation = result.metrics["test"], result.metrics["validation"]
        lines.append(f"| {title} | {len(set(classes.values()))} | {len(train_df):,} / {len(test_df):,} | "
                     f"{test['accuracy']:.4f} | {test['macro_f1']:.4f} | {validation['accuracy']:.4f} | "
                     f"{baseline['accuracy']:.4f} | {baseline['macro_f1']:.4f} | {baseline['C']:g} | "
                     f"{seconds:.0f} | {baseline['seconds']:.0f} |")
        print(lines[-1], flush=True)
    intro = ("Written by `python scripts/bench_classes.py`: IMDB's star ratings as 4 and 8 classes, the "
             "default preset, its classes read from the data. Test is carved from the ratings file by movie "
             "and "
             "scored once; the baseline's C was chosen by CV on train, grouped by movie.")
    section = "\n".join([BEGIN, "## Multi-class (IMDB star ratings, test carved by movie)", "", intro, "",
                         *lines, END])
    path = Path(args.output)
    write_section(path, BEGIN, END, section)
    print(f"wrote the multi-class section of {path}")


if __name__ == "__main__":
    main()
