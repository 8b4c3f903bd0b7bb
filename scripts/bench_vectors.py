"""Learning curve of outside word vectors on short texts: the defaults against the defaults plus
``--word-vectors``, on the first sentence of IMDB reviews with train cut to a few sizes.

``python scripts/bench_vectors.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--vectors imdb-w2v.txt --runs runs.jsonl`` (the vectors from ``scripts/make_vectors.py``; about
an hour on 2 cores) writes the "Outside word vectors" section of BENCHMARKS.md between its markers.

The data is ``scripts/bench_short.py``'s: a seeded sample of first sentences of IMDB's train
reviews (validation carved from it by movie, 20%), tested on the first sentence of every test
review.  For each train size and seed both arms train with that seed, so they share the
validation split and the test examples: the comparison is paired.  Each run appends one JSON
line to ``--runs`` (with its per-example test correctness), and runs already there are not
repeated, so an interrupted measurement resumes.  Per size the table gives the mean and spread
(min to max) over seeds of test accuracy, for the blend and for its GRU half alone (the half
the vectors initialise), the mean paired difference, and the p-value of a paired bootstrap
over test examples (the per-example difference averaged over seeds, resampled 2,000 times).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_classes import tfidf_cv
from bench_short import short_reviews
from benchmarks import write_section

from hfsent.blend import deep_part
from hfsent.config import preset
from hfsent.predict import SentimentClassifier
from hfsent.train import train

BEGIN, END = "<!-- outside-vectors: written by scripts/bench_vectors.py -->", "<!-- /outside-vectors -->"
ARMS = ("default", "vectors")


def paired_p(diffs: np.ndarray, rounds: int = 2000, seed: int = 0) -> float:
    """Two-sided p-value of a paired bootstrap of the mean per-example difference."""
    rng, n, means = np.random.default_rng(seed), len(diffs), []
    for _ in range(rounds // 100):
        means.append(diffs[rng.integers(0, n, size=(100, n))].mean(axis=1))
    means = np.concatenate(means)
    return float(min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean())))


def one_run(common: dict, arm: str, seed: int, vectors: str, test_texts: list[str],
            truth: np.ndarray) -> dict:
    start = time.perf_counter()
    extra = {"word_vectors": vectors} if arm == "vectors" else {}
    result = train(preset("default", **common, seed=seed, **extra), None, verbose=0)
    clf = result.classifier
    gru = SentimentClassifier(deep_part(clf.model), clf.vocab, clf.config)
    correct = {name: (np.argmax(c.class_probabilities(test_texts), axis=1) == truth) for name, c in
               (("blend", clf), ("gru", gru))}
    wide = result.stage("wide")["figures"]
    coverage = result.stage("data")["figures"].get("word_vectors", {})
    return {"arm": arm, "seed": seed, "validation": result.metrics["validation"]["accuracy"],
            "blend": float(correct["blend"].mean()), "gru": float(correct["gru"].mean()),
            "linear": wide["linear"]["test"], "gru_weight": wide["gru_weight"],
            "types_covered": coverage.get("types_covered"), "tokens_covered": coverage.get("tokens_covered"),
            "seconds": round(time.perf_counter() - start),
            "correct": {k: np.packbits(v).tobytes().hex() for k, v in correct.items()}, "n": len(truth)}


def _bits(run: dict, half: str) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex(run["correct"][half]), np.uint8)
    return np.unpackbits(packed)[:run["n"]].astype(float)


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"  # 2,000 rounds resolve no less


def _spread(values: list[float]) -> str:
    return f"{np.mean(values):.4f} ({min(values):.4f}–{max(values):.4f})"


def table(runs: list[dict], baselines: dict) -> list[str]:
    lines = ["| train sentences | seeds | half | default | + outside vectors | paired difference | p | "
             "vocabulary / tokens covered | TF-IDF + LR (CV) |", "|---|---|---|---|---|---|---|---|---|"]
    for size in sorted({r["size"] for r in runs}):
        by = {(r["arm"], r["seed"]): r for r in runs if r["size"] == size}
        seeds = sorted(s for a, s in by if a == "vectors" and ("default", s) in by)
        if not seeds:
            continue
        v = by["vectors", seeds[0]]
        for half in ("blend", "gru"):
            bits = {a: np.stack([_bits(by[a, s], half) for s in seeds]) for a in ARMS}
            diffs = (bits["vectors"] - bits["default"]).mean(axis=0)
            cover = f"{v['types_covered']:.1%} / {v['tokens_covered']:.1%}" if half == "blend" else ""
            base = f"{baselines[str(size)]:.4f}" if half == "blend" and str(size) in baselines else ""
            lines.append(f"| {size:,} | {len(seeds)} | {'blend' if half == 'blend' else 'GRU alone'} | "
                         f"{_spread([by['default', s][half] for s in seeds])} | "
                         f"{_spread([by['vectors', s][half] for s in seeds])} | {diffs.mean():+.4f} | "
                         f"{_p(paired_p(diffs))} | {cover} | {base} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--vectors", required=True, help="a word2vec text file (scripts/make_vectors.py)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 3_000, 10_000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--runs", required=True, help="JSON lines of finished runs, appended and reused")
    parser.add_argument("--output", default="BENCHMARKS.md")
    parser.add_argument("--report-only", action="store_true", help="write the section from --runs")
    args = parser.parse_args()
    runs_path = Path(args.runs)
    runs = [json.loads(line) for line in runs_path.read_text().splitlines()] if runs_path.exists() else []
    baselines = {k: v for r in runs for k, v in r.get("baselines", {}).items()}
    # Seed by seed, every size: an interrupted measurement still has the whole curve.
    for seed, size in [] if args.report_only else [(s, n) for s in range(args.seeds) for n in args.sizes]:
        with tempfile.TemporaryDirectory() as tmp:
            dataset, frames = short_reviews(args.imdb, args.movies, size, Path(tmp))
            common = {"dataset": dataset, "group_column": "movie_id", "validation_size": 0.2,
                      "dataset_id": "stanfordnlp/imdb (first sentences)"}
            test_texts, truth = frames["test"]["text"].tolist(), frames["test"]["label"].to_numpy()
            if str(size) not in baselines:
                baselines[str(size)] = tfidf_cv(frames["train"], frames["test"])["accuracy"]
                runs.append({"baselines": dict(baselines)})
                with runs_path.open("a") as f:
                    f.write(json.dumps(runs[-1]) + "\n")
            for arm in ARMS:
                if any((r.get("size"), r.get("arm"), r.get("seed")) == (size, arm, seed) for r in runs):
                    continue
                run = {"size": size, **one_run(common, arm, seed, args.vectors, test_texts, truth)}
                runs.append(run)
                with runs_path.open("a") as f:
                    f.write(json.dumps(run) + "\n")
                print({k: v for k, v in run.items() if k != "correct"}, flush=True)
    done = [r for r in runs if "size" in r]
    n_test = done[0]["n"] if done else 0
    intro = (f"Written by `python scripts/bench_vectors.py`: the data of \"Short texts\" (first sentences; "
             f"train cut to each size, validation carved from it by movie, {n_test:,} test sentences), "
             "trained with the package defaults, and with the defaults plus `--word-vectors` pointing at "
             "word2vec trained on IMDB's 50,000 unlabelled reviews (`scripts/make_vectors.py`: spaCy "
             "`blank:en` tokens, skip-gram, 128 dimensions, 5 epochs, min_count 5), the \"outside\" vectors "
             "that stand in for a Hub download offline. Both arms of a seed share validation split and "
             "test examples; accuracy on test, mean over seeds (min–max); the paired difference is "
             "outside minus default, its p-value a paired bootstrap over test examples. The default's "
             "own word2vec sees only the train sentences (the parquet files have no unlabelled split). "
             "\"GRU alone\" is the blend's GRU half scored by itself: the half the vectors start.")
    section = "\n".join([BEGIN, "## Outside word vectors on short texts (learning curve)", "", intro, "",
                         *table(done, baselines), END])
    write_section(Path(args.output), BEGIN, END, section)
    print(f"wrote the outside-vectors section of {args.output}")


if __name__ == "__main__":
    main()
