"""Predict sentiment: ``python scripts/predict.py --model DIR "text" ...`` (or texts on stdin,
one per line).  Prints one JSON object per text."""

import argparse
import json
import sys
from pathlib import Path

from hfsent.predict import SentimentClassifier, read_lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model folder or Hub repo id")
    parser.add_argument("--batch-size", type=int, default=None, help="texts per forward pass")
    parser.add_argument("--input-file", default=None, help="UTF-8 file with one text per line")
    parser.add_argument("texts", nargs="*", help="texts to classify; read from stdin when none are given")
    args = parser.parse_args(argv)

    try:
        if args.input_file:
            texts = read_lines(Path(args.input_file).read_bytes(), args.input_file)
        else:
            texts = args.texts or read_lines(sys.stdin.buffer.read(), "standard input")
    except (OSError, ValueError) as err:
        parser.error(str(err))
    if not texts:
        parser.error("no texts given, as arguments, --input-file or on stdin")
    classifier = SentimentClassifier.from_pretrained(args.model)
    for text, result in zip(texts, classifier.predict(texts, args.batch_size)):
        print(json.dumps({"text": text, **result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
