"""Show how a model's prediction moves through a review.

``python scripts/explain.py --model DIR_OR_REPO "text"`` writes ``trace.png`` and
``trace.html`` (``--output-prefix``) with each word colored by the running sentiment.
"""

import argparse

from hfsent.explain import sentiment_trace, trace_html, trace_png
from hfsent.predict import SentimentClassifier


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model folder or Hub repo id")
    parser.add_argument("--output-prefix", default="trace", help="writes PREFIX.png and PREFIX.html")
    parser.add_argument("text", help="the review to explain")
    args = parser.parse_args(argv)

    trace = sentiment_trace(SentimentClassifier.from_pretrained(args.model), args.text)
    trace_png(trace, f"{args.output_prefix}.png")
    trace_html(trace, f"{args.output_prefix}.html")
    print(f"P(positive) = {trace.final:.4f} over {len(trace.tokens)} tokens; "
          f"wrote {args.output_prefix}.png and {args.output_prefix}.html")


if __name__ == "__main__":
    main()
