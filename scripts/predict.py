"""Predict sentiment: ``python scripts/predict.py --model DIR "text" ...`` (or texts on stdin,
one per line).  Prints one JSON object per text."""

import argparse
import json
import sys

from hfsent.predict import SentimentClassifier


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model folder written by scripts/train.py")
    parser.add_argument("--batch-size", type=int, default=None, help="texts per forward pass")
    parser.add_argument("texts", nargs="*", help="texts to classify; read from stdin when none are given")
    args = parser.parse_args(argv)

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        parser.error("no texts given, as arguments or on stdin")
    classifier = SentimentClassifier.load(args.model)
    for text, result in zip(texts, classifier.predict(texts, args.batch_size)):
        print(json.dumps({"text": text, **result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
