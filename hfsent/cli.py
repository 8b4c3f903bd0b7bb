"""The ``hfsent`` command: ``train``, ``predict``, ``score``, ``explain`` and ``push``.

Each subcommand is a thin argparse layer over the library.  A user error (any
:class:`~hfsent.errors.UserError`, a bad flag or value, an unreadable input file) prints one
line, ``hfsent: error: ...``, on stderr and exits with status 2; ``--debug`` (or
``HFSENT_DEBUG=1``) shows its traceback.  Any other exception is a bug and keeps its
traceback.  ``train`` has one flag per config field (:mod:`hfsent.flags`), checked before
any work starts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

from hfsent import __version__
from hfsent.config import DEFAULT_OUTPUT_DIR, PRESETS
from hfsent.errors import InputError, MissingError, UserError
from hfsent.flags import add_config_arguments, config_from_args
from hfsent.folder import locked
from hfsent.locate import check_model_folder, check_output_folder, local_model

# The library (and TensorFlow under it) is imported inside each command, so that --help,
# --version and a bad flag answer at once, with no TensorFlow start-up lines on stderr.

PREDICT_CHUNK_LINES = 1024


class _Parser(argparse.ArgumentParser):
    """argparse, with an error as one line and status 2 (argparse's own status for bad usage)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"hfsent: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text}")
    return value


def _train(args: argparse.Namespace) -> None:
    if args.push and not args.repo_id:
        raise InputError("--push needs --repo-id")
    config = config_from_args(args)  # every value checked before TensorFlow starts
    with locked(args.output_dir):  # a second run on the folder fails here, at once
        check_output_folder(args.output_dir, args.overwrite)

        from hfsent import hub, train

        result = train.train(config, args.output_dir, overwrite=args.overwrite,
                             repo_id=args.repo_id, resume=args.resume, report_to=args.report_to)
        print(json.dumps({split: result.metrics[split] for split in ("validation", "test")}, indent=2))
        print(f"saved to {result.output_dir}")
        if args.push:
            commit = hub.push_to_hub(result.output_dir, args.repo_id, private=args.private or None,
                                     revision=args.revision)
            print(f"pushed: {commit.commit_url}")


def _texts(args: argparse.Namespace) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, texts)`` chunks from the arguments, ``--input-file`` or stdin."""
    from hfsent.predict import read_lines

    if args.input_file is None:
        texts = args.texts or read_lines(sys.stdin.buffer.read(), "standard input")
        yield 1, texts
        return
    path = Path(args.input_file)
    if not path.is_file():
        raise MissingError(f"cannot read --input-file {path}: no such file")
    with path.open("rb") as handle:
        chunk, first, offset = [], 1, 0
        for number, raw in enumerate(handle, start=1):
            # One text per "\n"-ended line, whatever other line separators (form feed, U+2028)
            # it holds; read_lines checks the UTF-8 and names the byte's offset in the file.
            if read_lines(raw, args.input_file, offset):
                chunk.append(raw.decode("utf-8").rstrip("\r\n"))
            offset += len(raw)
            if len(chunk) == PREDICT_CHUNK_LINES:
                yield first, chunk
                chunk, first = [], number + 1
        if chunk:
            yield first, chunk


def _predict(args: argparse.Namespace) -> None:
    local_model(args.model)  # a wrong folder is reported before TensorFlow starts
    total_lines = None
    if args.input_file is None:  # arguments or stdin: known before the model loads
        chunks = list(_texts(args))
        if not chunks[0][1]:
            raise InputError("no texts given, as arguments, --input-file or on stdin")
    else:
        total_lines = sum(len(texts) for _, texts in _texts(args))  # a first pass checks the UTF-8
        chunks = _texts(args)

    from tqdm.auto import tqdm

    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    total, to_file = 0, args.output_file is not None
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.output_file, "w", encoding="utf-8")) if to_file else sys.stdout
        progress = tqdm(desc="predicting", unit=" texts", total=total_lines, disable=not to_file,
                        file=sys.stderr)
        bar = stack.enter_context(progress)
        for first, texts in chunks:
            try:
                results = clf.predict(texts, args.batch_size)
            except InputError as err:
                where = f"{args.input_file}, the chunk from line {first}: " if args.input_file else ""
                raise InputError(where + str(err)) from None
            for text, result in zip(texts, results):
                out.write(json.dumps({"text": text, **result}, ensure_ascii=False) + "\n")
            total += len(texts)
            bar.update(len(texts))
    if not total:
        raise InputError(f"no texts in {args.input_file}")
    if to_file:
        print(f"wrote {total} predictions to {args.output_file}", file=sys.stderr)


def _score(args: argparse.Namespace) -> None:
    local_model(args.model)
    from hfsent.metrics import score_dataset
    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    scores = score_dataset(clf, args.dataset, args.split, args.text_column, args.label_column,
                           args.max_samples, tuple(args.metric), args.streaming)
    split = scores.pop("split")
    print(f"{args.model} on {args.dataset} [{split}], {scores['num_examples']} reviews")
    for name, value in scores.items():
        if name != "num_examples":
            print(f"  {name:<12} {value:.4f}")
    result = {"model": args.model, "revision": args.revision, "dataset": args.dataset, "split": split,
              "scores": scores}
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


def _explain(args: argparse.Namespace) -> None:
    local_model(args.model)
    from hfsent.explain import sentiment_trace, trace_html, trace_png
    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    trace = sentiment_trace(clf, args.text)
    trace_png(trace, f"{args.output_prefix}.png")
    trace_html(trace, f"{args.output_prefix}.html")
    print(f"P(positive) = {trace.final:.4f} over {len(trace.tokens)} tokens; "
          f"wrote {args.output_prefix}.png and {args.output_prefix}.html")


def _push(args: argparse.Namespace) -> None:
    check_model_folder(args.model)
    from hfsent import hub
    from hfsent.artifacts import load_artifacts

    load_artifacts(args.model)  # a folder that would not load is not pushed
    commit = hub.push_to_hub(args.model, args.repo_id, private=args.private or None, revision=args.revision,
                             commit_message=args.commit_message)
    print(f"pushed: {commit.commit_url}")


EXAMPLES = {
    "train": "hfsent train --dataset stanfordnlp/imdb --output-dir runs/imdb-gru\n"
             "  hfsent train --dataset train=a.csv,test=b.csv --preset notebook --push --repo-id USER/m",
    "predict": 'hfsent predict --model USER/imdb-gru "A moving film." "Two hours I will never get back."\n'
               "  hfsent predict --model runs/imdb-gru --input-file reviews.txt --output-file out.jsonl",
    "score": "hfsent score --model USER/imdb-gru --dataset stanfordnlp/imdb --split test\n"
             "  hfsent score --model runs/imdb-gru --dataset held_out.csv",
    "explain": 'hfsent explain --model runs/imdb-gru "Not bad at all." --output-prefix trace',
    "push": "hfsent push --model runs/imdb-gru --repo-id USER/imdb-gru --private",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``hfsent`` parser with its five subcommands."""
    parser = _Parser(prog="hfsent", description="Sentiment classification with a Keras GRU on the Hugging "
                     "Face stack.", epilog="Run 'hfsent COMMAND --help' for a command's flags and examples.")
    parser.add_argument("--version", action="version", version=f"hfsent {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (or set HFSENT_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, func) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[common],
                                  epilog="examples:\n  " + EXAMPLES[name],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(func=func)
        return sub

    def model_flags(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--model", required=True, help="a model folder, or a Hub repo id (USER/NAME)")
        sub.add_argument("--revision", default=None, help="branch, tag or commit of a Hub model")

    train = command("train", "Train a model and write its folder (and push it with --push).", _train)
    train.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="starting values; flags given below override them")
    train.add_argument("--output-dir", default=DEFAULT_OUTPUT_DIR,
                       help=f"model folder (default: {DEFAULT_OUTPUT_DIR})")
    train.add_argument("--overwrite", action="store_true", help="replace a non-empty --output-dir")
    train.add_argument("--resume", action="store_true",
                       help="continue an interrupted fit from its last completed epoch")
    train.add_argument("--report-to", choices=["none", "tensorboard"], default="none",
                       help="tensorboard: write Keras' TensorBoard logs to the folder's runs/ (pushed too)")
    hub = train.add_argument_group("sharing on the Hugging Face Hub")
    hub.add_argument("--push", action="store_true", help="push the model folder to --repo-id after training")
    hub.add_argument("--repo-id", default=None, help="Hub repo to push to, e.g. USER/imdb-gru")
    hub.add_argument("--private", action="store_true", help="create the repo as private")
    hub.add_argument("--revision", default=None, help="branch to push to (created if missing)")
    add_config_arguments(train)

    predict = command("predict", "Predict texts given as arguments, in --input-file (one per line) or "
                      "on stdin; one JSON object per text.", _predict)
    model_flags(predict)
    predict.add_argument("--batch-size", type=_positive_int, default=None, help="texts per forward pass")
    predict.add_argument("--input-file", default=None,
                         help="UTF-8 file with one text per line, read in chunks")
    predict.add_argument("--output-file", default=None, help="write JSON lines here (with a progress bar)")
    predict.add_argument("texts", nargs="*", help="texts to classify")

    score = command("score", "Score a model on a labelled dataset with the evaluate library.", _score)
    model_flags(score)
    score.add_argument("--dataset", required=True, help="same forms as train --dataset")
    score.add_argument("--split", default=None, help="the split to score (default: the only one, or test); "
                       "validation/test missing from the source are carved from train as training did")
    score.add_argument("--text-column", default=None)
    score.add_argument("--label-column", default=None)
    score.add_argument("--max-samples", type=_positive_int, default=None, help="score only this many reviews")
    score.add_argument("--metric", action="append", default=[],
                       help="an extra evaluate metric by name (needs the Hub or evaluate's cache)")
    score.add_argument("--streaming", action="store_true", help="stream the data (for a --streaming model)")
    score.add_argument("--output", default="scores.json", help="JSON file to write (default: scores.json)")

    explain = command("explain", "Draw the running sentiment of one text as a PNG and an HTML page.",
                      _explain)
    model_flags(explain)
    explain.add_argument("--output-prefix", default="trace", help="writes PREFIX.png and PREFIX.html")
    explain.add_argument("text", help="the review to explain")

    push = command("push", "Push a trained model folder to the Hub in one commit.", _push)
    push.add_argument("--model", required=True, help="the model folder")
    push.add_argument("--repo-id", required=True, help="USER/NAME")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.add_argument("--revision", default=None, help="branch to push to (created if missing)")
    push.add_argument("--commit-message", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``hfsent`` with ``argv`` (default: the process's arguments); returns the exit status.

    Example:
        >>> main(["predict", "--model", "runs/imdb-gru", "A moving film."])
        {"text": "A moving film.", "label": "positive", "score": 0.97, "probability_positive": 0.97}
        0
    """
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    debug = args.debug or os.environ.get("HFSENT_DEBUG", "") not in ("", "0")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("gensim", "httpx", "httpx2", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        args.func(args)
    except UserError as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"hfsent: error: {message}", file=sys.stderr)
        return 2
    return 0
