"""--class-weight balanced against none, on IMDB's stars as 8 (and 4) classes: the linear half alone.

``python scripts/bench_imbalance.py --imdb ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --sets stars8,stars4 --c 0.1`` prepares each set as
``bench_tune.py`` does (validation and test carved by movie), fits the package's linear half with
``class_weight=None`` and with ``"balanced"`` at the same C, and compares them on validation (the
choice) and on test (once) by the protocol of ``benchmarks.py``: accuracy by McNemar's exact
test, macro F1 by a paired bootstrap.  The GRU is not trained (one 8-class run takes about 25
minutes on 2 cores), so this measures the linear half's share of the decision only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench_classes import SCHEMES, carved, reviews_with_movies
from bench_tune import predicted
from benchmarks import compare, comparison_row

from hfsent.config import preset
from hfsent.linear import fit_wide_branch
from hfsent.metrics import predict_split
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.prepare import prepare_data
from hfsent.wide import wide_part, with_wide_branch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imdb", required=True)
    parser.add_argument("--movies", required=True)
    parser.add_argument("--ratings", required=True)
    parser.add_argument("--sets", default="stars8")
    parser.add_argument("--c", type=float, default=0.1)
    parser.add_argument("--json", default="bench_imbalance.json")
    args = parser.parse_args()
    df = reviews_with_movies(args.imdb, args.ratings, args.movies)
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
                fit_wide_branch(model, data.splits["train"], args.c, data.max_length, class_weight=weight)
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


if __name__ == "__main__":
    main()
