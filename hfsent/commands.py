"""What each ``hfsent`` subcommand does, given its parsed arguments (the parser is :mod:`hfsent.cli`).

Each is a thin layer over the library.  It checks what it can before TensorFlow starts: flags,
repo ids, a model folder, the texts given as arguments, that every output goes into an existing
folder and is not an input, the output folder and its lock.  The library, and TensorFlow under it,
is imported inside each command, after those checks (:mod:`hfsent.preflight`), so that
``--help``, ``--version`` and a user's mistake answer at once, in one line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from hfsent.errors import InputError, MissingError
from hfsent.fields import records
from hfsent.flags import config_from_args
from hfsent.folder import locked
from hfsent.locate import check_model_folder, check_output_folder, local_model
from hfsent.multiworker import cluster_role
from hfsent.preflight import check_output_file, check_repo_id, read_lines, start_tensorflow

PREDICT_CHUNK_LINES = 1024


def train(args: argparse.Namespace) -> None:
    if args.push and not args.repo_id:
        raise InputError("--push needs --repo-id")
    if args.repo_id is not None:  # before training, not after it
        check_repo_id(args.repo_id, "--repo-id")
    config = config_from_args(args)  # every value checked before TensorFlow starts
    # Of a multi-worker cluster only the chief locks, writes and pushes the model folder.
    chief = config.runtime.strategy != "multiworker" or cluster_role()[2]
    with locked(args.output_dir) if chief else contextlib.nullcontext():  # a second run fails here, at once
        if chief:
            check_output_folder(args.output_dir, args.overwrite)
        start_tensorflow(args.debug)

        from hfsent import hub, train

        result = train.train(config, args.output_dir, overwrite=args.overwrite,
                             repo_id=args.repo_id, resume=args.resume, report_to=args.report_to)
        print(json.dumps({split: result.metrics[split] for split in ("validation", "test")}, indent=2))
        if not chief:
            print("trained as a multi-worker peer; the chief saves the model")
            return
        print(f"saved to {result.output_dir}")
        if args.push:
            commit = hub.push_to_hub(result.output_dir, args.repo_id, private=args.private or None,
                                     revision=args.revision)
            print(f"pushed: {commit.commit_url}")




def _texts(args: argparse.Namespace) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, texts)`` chunks from the arguments, ``--input-file`` or stdin."""
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


def predict(args: argparse.Namespace) -> None:
    if args.dataset is not None or args.split or args.text_column:
        return _predict_dataset(args)
    local_model(args.model)  # a wrong folder is reported before TensorFlow starts
    if args.output_file is not None:
        check_output_file(args.output_file, "--output-file", (args.input_file,))
    total_lines = None
    if args.input_file is None:  # arguments or stdin: known before the model loads
        chunks = list(_texts(args))
        if not chunks[0][1]:
            raise InputError("no texts given, as arguments, --input-file or on stdin")
        blank = [i for i, text in enumerate(chunks[0][1]) if not text.strip()]
        if blank:  # the classifier says the same, but only once TensorFlow and the model are up
            raise InputError(f"text(s) at position {blank[:10]} contain no tokens (empty or whitespace)")
    else:
        total_lines = sum(len(texts) for _, texts in _texts(args))  # a first pass checks the UTF-8
        chunks = _texts(args)
    start_tensorflow(args.debug)

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
            try:  # a model of several text fields reads each text as a JSON object of them
                texts = records(texts, clf.text_fields) if len(clf.text_fields) > 1 else texts
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


def _predict_dataset(args: argparse.Namespace) -> None:
    if args.dataset is None or args.texts or args.input_file:
        raise InputError("--split and --text-column go with --dataset, which takes no texts or --input-file")
    out = Path(args.output_file or "")
    if out.suffix not in (".parquet", ".jsonl"):
        raise InputError("--dataset writes to --output-file, which must end in .parquet or .jsonl")
    check_output_file(args.output_file, "--output-file", (args.dataset,))
    local_model(args.model)
    start_tensorflow(args.debug)
    from hfsent.predict import SentimentClassifier
    from hfsent.predictions import predict_dataset

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    rows, split = predict_dataset(clf, args.dataset, out, args.split, args.text_column, args.batch_size)
    print(f"wrote {rows} predictions of {args.dataset} [{split}] to {out}", file=sys.stderr)


def serve(args: argparse.Namespace) -> None:
    local_model(args.model)
    try:
        from hfsent import server
    except ImportError as err:
        raise MissingError(f"hfsent serve needs {err.name}: pip install 'hfsent[serve]'") from None
    start_tensorflow(args.debug)
    limits = server.Limits(args.max_batch, args.max_wait_ms, args.max_texts, args.max_body_bytes)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn finished the requests, then re-raised it
        server.serve(args.model, args.host, args.port, args.revision, limits, args.workers, args.debug)


def score(args: argparse.Namespace) -> None:
    local_model(args.model)
    check_output_file(args.output, "--output")
    start_tensorflow(args.debug)
    from hfsent.metrics import load_metric, score_dataset
    from hfsent.predict import SentimentClassifier

    for name in args.metric:  # before the model loads and the data is read
        try:
            load_metric(name)
        except (FileNotFoundError, ConnectionError, ImportError) as err:
            raise MissingError(f"--metric {name!r}: evaluate cannot load it ({err})") from None

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    scores = score_dataset(clf, args.dataset, args.split, args.text_column, args.label_column,
                           args.max_samples, tuple(args.metric), args.streaming)
    split = scores.pop("split")
    print(f"{args.model} on {args.dataset} [{split}], {scores['num_examples']} reviews")
    for name, value in scores.items():
        if isinstance(value, float):
            print(f"  {name:<12} {value:.4f}")
    if "per_class" in scores:  # more than two classes: one row each, and the confusion matrix in the file
        print(f"  {'class':<20} {'precision':>9} {'recall':>9} {'f1':>9} {'reviews':>8}")
        for name, row in scores["per_class"].items():
            print(f"  {name[:20]:<20} {row['precision']:>9.4f} {row['recall']:>9.4f} {row['f1']:>9.4f} "
                  f"{row['support']:>8}")
    result = {"model": args.model, "revision": args.revision, "dataset": args.dataset, "split": split,
              "scores": scores}
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


def explain(args: argparse.Namespace) -> None:
    local_model(args.model)
    for suffix in (".png", ".html"):
        check_output_file(args.output_prefix + suffix, "--output-prefix")
    start_tensorflow(args.debug)
    from hfsent.draw import trace_html, trace_png
    from hfsent.explain import sentiment_trace
    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.from_pretrained(args.model, revision=args.revision)
    trace = sentiment_trace(clf, args.text)
    trace_png(trace, f"{args.output_prefix}.png")
    trace_html(trace, f"{args.output_prefix}.html")
    print(f"{trace.describe()} over {len(trace.tokens)} tokens; "
          f"wrote {args.output_prefix}.png and {args.output_prefix}.html")


def push(args: argparse.Namespace) -> None:
    check_repo_id(args.repo_id, "--repo-id")
    check_model_folder(args.model)
    start_tensorflow(args.debug)
    from hfsent import hub
    from hfsent.artifacts import load_artifacts

    load_artifacts(args.model)  # a folder that would not load is not pushed
    commit = hub.push_to_hub(args.model, args.repo_id, private=args.private or None, revision=args.revision,
                             commit_message=args.commit_message, serving=args.serving)
    print(f"pushed: {commit.commit_url}")


def space(args: argparse.Namespace) -> None:
    if args.push and not args.space_id:
        raise InputError("--push needs --space-id")
    if args.space_id is not None:
        check_repo_id(args.space_id, "--space-id")
    local_model(args.model)
    check_output_folder(args.output_dir, args.overwrite)
    start_tensorflow(args.debug)
    from hfsent import hub
    from hfsent.space import write_space

    folder = write_space(args.model, args.output_dir, overwrite=args.overwrite)
    print(f"wrote the Space to {folder}; try it with: cd {folder} && python app.py")
    if args.push:
        commit = hub.push_space(folder, args.space_id, private=args.private or None)
        print(f"pushed: {commit.commit_url}")


def export(args: argparse.Namespace) -> None:
    folder = local_model(args.model)
    check_output_folder(args.output_dir, args.overwrite)
    start_tensorflow(args.debug)
    from hfsent import hub
    from hfsent.export import export_saved_model, inputs_said

    folder = folder or hub.download(args.model, args.revision)
    out = export_saved_model(folder, args.output_dir, quantize=args.quantize, overwrite=args.overwrite)
    print(f"wrote the SavedModel to {out}; its signature 'serving_default' takes {inputs_said(out)}")
