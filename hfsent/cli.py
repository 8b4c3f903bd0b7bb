"""The ``hfsent`` command: ``train``, ``predict``, ``score``, ``explain``, ``push``, ``space``, ``serve``
and ``export``.

This is the parser and the error handling; what each subcommand does is :mod:`hfsent.commands`,
a thin layer over the library.  A user error (any
:class:`~hfsent.errors.UserError`, a bad flag or value, an unreadable input file) prints one
line, ``hfsent: error: ...``, on stderr and exits with status 2; ``--debug`` (or
``HFSENT_DEBUG=1``) shows its traceback.  Any other exception is a bug and keeps its
traceback.  ``train`` has one flag per config field (:mod:`hfsent.flags`), checked before
any work starts.

Nothing but hfsent's own lines reaches stderr on such an error: only hfsent's logger is given a
handler (:mod:`hfsent.stderr_log`: the root logger is left alone, so other libraries' INFO lines
stay silent), TensorFlow's C++ start-up lines are kept off it
(:func:`hfsent.preflight.start_tensorflow`), and ``datasets`` draws its progress bars only on a
terminal (``HF_DATASETS_DISABLE_PROGRESS_BARS`` otherwise, unless set).
"""

from __future__ import annotations

import argparse
import os
import sys
import typing

import hfsent
from hfsent import __version__, commands
from hfsent.config import DEFAULT_OUTPUT_DIR, PRESETS
from hfsent.errors import UserError
from hfsent.export import FORMATS, QUANTIZE_MODES
from hfsent.flags import add_config_arguments
from hfsent.stderr_log import log_to_stderr

# The library (and TensorFlow under it) is imported inside each command (hfsent.commands), so
# that --help, --version and a bad flag answer at once, with no TensorFlow start-up lines.


MAX_MESSAGE = 1000  # characters of an error line: it stays one readable line


class _Parser(argparse.ArgumentParser):
    """argparse, with an error as one line and status 2 (argparse's own status for bad usage)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"hfsent: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text}")
    return value


def _milliseconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1000 ms, got {text}")
    return value


EXAMPLES = {
    "train": "hfsent train --dataset stanfordnlp/imdb --output-dir runs/imdb-gru\n"
             "  hfsent train --dataset train=a.csv,test=b.csv --preset notebook --push --repo-id USER/m",
    "predict": 'hfsent predict --model USER/imdb-gru "A moving film." "Two hours I will never get back."\n'
               "  hfsent predict --model runs/imdb-gru --input-file reviews.txt --output-file out.jsonl\n"
               "  hfsent predict --model runs/imdb-gru --dataset stanfordnlp/imdb --output-file p.parquet",
    "score": "hfsent score --model USER/imdb-gru --dataset stanfordnlp/imdb --split test\n"
             "  hfsent score --model runs/imdb-gru --dataset held_out.csv",
    "explain": 'hfsent explain --model runs/imdb-gru "Not bad at all." --output-prefix trace',
    "push": "hfsent push --model runs/imdb-gru --repo-id USER/imdb-gru --private",
    "serve": "hfsent serve --model runs/imdb-gru --port 8080\n"
             "  curl -d '{\"inputs\": [\"A moving film.\"]}' http://127.0.0.1:8080/",
    "space": "hfsent space --model USER/imdb-gru --output-dir runs/imdb-gru-space\n"
             "  hfsent space --model runs/imdb-gru --output-dir runs/space --push --space-id USER/demo",
    "export": "hfsent export --model runs/imdb-gru --format saved_model --output-dir exports/imdb-gru/1\n"
              "  hfsent export --model USER/imdb-gru --output-dir exports/imdb-gru-int8/1 --quantize int8",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``hfsent`` parser with its eight subcommands."""
    parser = _Parser(prog="hfsent", description="Sentiment classification with a Keras GRU on the Hugging "
                     "Face stack.", epilog="Run 'hfsent COMMAND --help' for a command's flags and examples.")
    parser.add_argument("--version", action="version", version=f"hfsent {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (or set HFSENT_DEBUG=1)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, func) -> argparse.ArgumentParser:
        sub = subcommands.add_parser(name, help=help_text, description=help_text, parents=[common],
                                  epilog="examples:\n  " + EXAMPLES[name],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(func=func)
        return sub

    def model_flags(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--model", required=True, help="a model folder, or a Hub repo id (USER/NAME)")
        sub.add_argument("--revision", default=None, help="branch, tag or commit of a Hub model")

    train = command("train", "Train a model and write its folder (and push it with --push).", commands.train)
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
                      "on stdin; one JSON object per text.", commands.predict)
    model_flags(predict)
    predict.add_argument("--batch-size", type=_positive_int, default=None, help="texts per forward pass")
    predict.add_argument("--input-file", default=None,
                         help="UTF-8 file with one text per line, read in chunks")
    predict.add_argument("--output-file", default=None, help="write JSON lines here (with a progress bar)")
    predict.add_argument("--dataset", default=None, help="predict every row of this dataset (same forms as "
                         "train --dataset) into --output-file, .parquet or .jsonl")
    predict.add_argument("--split", default=None, help="with --dataset (default: the only one, or test)")
    predict.add_argument("--text-column", default=None, help="with --dataset (default: the model's)")
    predict.add_argument("texts", nargs="*", help="texts to classify; for a model of several text fields "
                         """each a JSON object of them, e.g. '{"title": "...", "body": "..."}'""")

    score = command("score", "Score a model on a labelled dataset with the evaluate library.", commands.score)
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
                      commands.explain)
    model_flags(explain)
    explain.add_argument("--output-prefix", default="trace", help="writes PREFIX.png and PREFIX.html")
    explain.add_argument("text", help="the review to explain")

    push = command("push", "Push a trained model folder to the Hub in one commit.", commands.push)
    push.add_argument("--model", required=True, help="the model folder")
    push.add_argument("--repo-id", required=True, help="USER/NAME")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.add_argument("--revision", default=None, help="branch to push to (created if missing)")
    push.add_argument("--commit-message", default=None)
    push.add_argument("--serving", action=argparse.BooleanOptionalAction, default=True,
                      help="also upload handler.py and requirements.txt for Inference Endpoints")

    space = command("space", "Write a Gradio demo of a model as a Hugging Face Space (and push it with "
                    "--push); needs pip install 'hfsent[demo]'.", commands.space)
    space.add_argument("--model", required=True, help="a model folder (copied into the Space), or a Hub "
                       "repo id (downloaded by the Space)")
    space.add_argument("--output-dir", required=True, help="the Space folder to write")
    space.add_argument("--overwrite", action="store_true", help="replace a non-empty --output-dir")
    space.add_argument("--push", action="store_true", help="create the Space --space-id and upload it")
    space.add_argument("--space-id", default=None, help="USER/NAME of the Space")
    space.add_argument("--private", action="store_true", help="create the Space as private")

    serve = command("serve", "Serve a model over HTTP with the Inference API's payload, batching concurrent "
                    "requests; needs pip install 'hfsent[serve]'.", commands.serve)
    model_flags(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080,
                       help="port to listen on, 0 for any free one (default: 8080)")
    serve.add_argument("--max-batch", type=_positive_int, default=32, help="texts per model call (1: off)")
    serve.add_argument("--max-wait-ms", type=_milliseconds, default=0.0, help="a lone request's wait (ms)")
    serve.add_argument("--max-texts", type=_positive_int, default=256, help="texts per request")
    serve.add_argument("--max-body-bytes", type=_positive_int, default=1 << 20, help="request body size")
    serve.add_argument("--workers", type=_positive_int, default=1,
                       help="server processes on one port, each with its own model (default: 1)")

    export = command("export", "Write a model as a TensorFlow SavedModel that takes raw strings: "
                     "tokenization, vocabulary and truncation run inside the graph.", commands.export)
    model_flags(export)
    export.add_argument("--format", choices=FORMATS, default=FORMATS[0],
                        help="what to write (default: %(default)s)")
    export.add_argument("--output-dir", required=True, help="the SavedModel folder to write")
    export.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                        help="int8: Keras' int8 quantization of the embeddings first")
    export.add_argument("--overwrite", action="store_true", help="replace a non-empty --output-dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``hfsent`` with ``argv`` (default: the process's arguments); returns the exit status.

    Example:
        >>> main(["predict", "--model", "runs/imdb-gru", "A moving film."])
        {"text": "A moving film.", "label": "positive", "score": 0.97, "probability_positive": 0.97}
        0
    """
    if not sys.stderr.isatty():  # read before datasets' first import
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    args = build_parser().parse_args(argv)
    debug = args.debug = args.debug or os.environ.get("HFSENT_DEBUG", "") not in ("", "0")
    if debug and hfsent.TF_LOG_LEVEL_DEFAULTED:  # before TensorFlow's first import
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    log_to_stderr()
    try:
        args.func(args)
    except UserError as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        if len(message) > MAX_MESSAGE:  # a message may quote a value from a stranger's file
            message = message[:MAX_MESSAGE] + " […]"
        print(f"hfsent: error: {message}", file=sys.stderr)
        return 2
    return 0
