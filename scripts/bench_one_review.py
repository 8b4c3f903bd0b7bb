"""One review at a time: ``predict``, the server's compiled model call and the exported SavedModel.

``python scripts/bench_one_review.py --model runs/imdb --data ../shared/data/imdb`` (about 5
minutes on 2 cores) writes the "One review" section of BENCHMARKS.md in place, between its
markers.  Fair by construction: the three paths answer the same reviews (a seeded sample of
IMDB test), each warmed up first (the SavedModel's graph traced, every XLA shape of one row
compiled), and they take turns review by review, so that other work on the cores slows all
three alike.  Each ``--rounds`` round times ``--calls`` reviews per path; the table gives the
median and the 10th and 90th percentiles over all rounds, and the spread of the rounds' medians.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from bench_serve import reviews
from benchmarks import load_said, mcnemar, write_section

from hfsent.export import SIGNATURE, export_saved_model
from hfsent.fast_predict import FastClassifier
from hfsent.predict import SentimentClassifier

BEGIN, END = "<!-- one review: written by scripts/bench_one_review.py -->", "<!-- /one review -->"
WARM_CALLS = 20


def measure(model: str, texts: list[str], rounds: int, calls: int, export_dir: Path) -> dict[str, np.ndarray]:
    """Seconds per call, ``(rounds, calls)`` per path, the paths taking turns on each review."""
    plain = SentimentClassifier.load(model)
    fast = FastClassifier.of(plain)
    fast.compile_shapes(1)
    serve = tf.saved_model.load(str(export_saved_model(model, export_dir))).signatures[SIGNATURE]
    paths = {"`predict` (Keras predict_on_batch)": lambda t: plain.predict([t]),
             "`FastClassifier.predict` (the server's model call, XLA)": lambda t: fast.predict([t]),
             "exported SavedModel, `serving_default` (tokenizes in the graph)":
                 lambda t: serve(text=tf.constant([t]))["scores"].numpy()}
    for call in paths.values():
        for text in texts[:WARM_CALLS]:
            call(text)
    times = {name: np.zeros((rounds, calls)) for name in paths}
    for r in range(rounds):
        for i in range(calls):
            text = texts[WARM_CALLS + (r * calls + i) % (len(texts) - WARM_CALLS)]
            for name, call in paths.items():
                start = time.perf_counter()
                call(text)
                times[name][r, i] = time.perf_counter() - start
        print(f"round {r + 1}: " + ", ".join(f"{np.median(t[r]) * 1000:.1f} ms" for t in times.values()),
              flush=True)
    return times


def section(times: dict[str, np.ndarray], command: str, load: str) -> str:
    """The table, with each path paired with ``predict`` review by review: the share of reviews
    on which it was faster, the median of the per-review differences, and a sign test."""
    rounds, calls = next(iter(times.values())).shape
    lines = [BEGIN, "## One review: `predict`, the server's model call, the exported SavedModel", "",
             f"Written by `{command}`: {rounds} rounds of {calls} IMDB test reviews, one per call, the "
             f"three paths taking turns on each review after a warm-up, in one process; {load}. The "
             "last columns pair each path with `predict` on the same reviews (sign test: McNemar's "
             "exact test on which of the two was faster).", "",
             "| path | median ms | p10 ms | p90 ms | rounds' medians, ms | faster than `predict` on "
             "| median paired difference, ms | sign test p |", "|---|---|---|---|---|---|---|---|"]
    first = next(iter(times))
    baseline = times[first].ravel() * 1000
    for name, t in times.items():
        ms = t * 1000
        medians = ", ".join(f"{m:.1f}" for m in np.median(ms, axis=1))
        paired = ""
        if name != first:
            faster = ms.ravel() < baseline
            paired = (f" {faster.mean():.1%} | {np.median(ms.ravel() - baseline):+.1f} | "
                      f"{mcnemar(faster, ~faster)['p']:.2g} |")
        lines.append(f"| {name} | {np.median(ms):.1f} | {np.percentile(ms, 10):.1f} | "
                     f"{np.percentile(ms, 90):.1f} | {medians} |{paired or ' | | |'}")
    return "\n".join([*lines, END])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="an hfsent model folder")
    parser.add_argument("--data", default="../shared/data/imdb", help="IMDB in the Hub layout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200, help="reviews per round")
    parser.add_argument("--output", default="BENCHMARKS.md")
    args = parser.parse_args(argv)
    command = "python scripts/bench_one_review.py " + " ".join(sys.argv[1:] if argv is None else argv)
    texts = reviews(args.data, WARM_CALLS + args.rounds * args.calls)
    random.Random(1).shuffle(texts)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        times = measure(args.model, texts, args.rounds, args.calls, Path(tmp) / "export")
    text = section(times, command, load_said(before))
    write_section(Path(args.output), BEGIN, END, text)
    print(text)


if __name__ == "__main__":
    main()
