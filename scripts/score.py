"""Score a model on a labelled split with the evaluate library.

``python scripts/score.py --model REPO_ID_OR_DIR --dataset SOURCE --split test``
prints a table and writes the scores as JSON (``--output``, default ``scores.json``).
"""

import argparse
import json
from pathlib import Path

from hfsent.metrics import score_dataset
from hfsent.predict import SentimentClassifier


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="local model folder or Hub repo id")
    parser.add_argument("--revision", default=None, help="branch, tag or commit sha (Hub models)")
    parser.add_argument("--dataset", default="stanfordnlp/imdb", help="same forms as train.py --dataset")
    parser.add_argument("--split", default="test", choices=["train", "validation", "test"])
    parser.add_argument("--text-column", default=None)
    parser.add_argument("--label-column", default=None)
    parser.add_argument("--max-samples", type=int, default=None, help="score only this many reviews")
    parser.add_argument("--metric", action="append", default=[],
                        help="an extra evaluate metric by name (needs the Hub or evaluate's cache)")
    parser.add_argument("--streaming", action="store_true",
                        help="stream the data (for a model trained with --streaming, whose validation "
                             "was carved by hash)")
    parser.add_argument("--output", default="scores.json", help="JSON file to write")
    args = parser.parse_args(argv)

    classifier = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    scores = score_dataset(classifier, args.dataset, args.split, args.text_column, args.label_column,
                           args.max_samples, tuple(args.metric), args.streaming)
    print(f"{args.model} on {args.dataset} [{args.split}], {scores['num_examples']} reviews")
    for name, value in scores.items():
        if name != "num_examples":
            print(f"  {name:<10} {value:.4f}")
    result = {"model": args.model, "revision": args.revision, "dataset": args.dataset,
              "split": args.split, "scores": scores}
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
