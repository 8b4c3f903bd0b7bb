"""The string-in SavedModel of ``hfsent export`` against ``predict``, float32 and int8, and TFLite.

``flock /tmp/hfsent-bench.lock python scripts/bench_export.py --model runs/imdb --imdb ../shared/data/imdb``
writes the "Export" section of BENCHMARKS.md in place, between its markers.  On all IMDB test
reviews it measures: how many token-id sequences (after truncation) of the SavedModel's ``encode``
signature equal hfsent's spaCy path; how many predicted labels agree; the largest score
difference; the accuracy of each; the latency of one review through each (p50 of
``--calls`` calls, both warm, the same reviews); the size on disk and accuracy of the int8 export;
and whether TFLite converts it, with builtins only and with TF Select ops.
"""

import argparse
import contextlib
import io
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf
from benchmarks import write_section

from hfsent.export import ENCODE, SIGNATURE, export_saved_model, quantize_int8
from hfsent.locate import KERAS_FILES
from hfsent.predict import SentimentClassifier

BEGIN, END = "<!-- export: written by scripts/bench_export.py -->", "<!-- /export -->"
BATCH = 256


def folder_mib(folder: Path, names=None) -> float:
    """Size of the files of ``folder`` (recursively), or of its files ``names`` only."""
    files = [folder / n for n in names] if names else [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def by_length(texts: list[str]):
    """Batches of texts of similar length, as predict batches them; yields (positions, texts)."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    for start in range(0, len(order), BATCH):
        positions = order[start:start + BATCH]
        yield positions, [texts[i] for i in positions]


def saved_model_scores(folder: Path, texts: list[str]) -> tuple[np.ndarray, list[list[int]]]:
    loaded = tf.saved_model.load(str(folder))
    serve, encode = loaded.signatures[SIGNATURE], loaded.signatures[ENCODE]
    scores, ids = np.zeros((len(texts), 2), np.float32), [None] * len(texts)
    for positions, batch in by_length(texts):
        scores[positions] = serve(text=tf.constant(batch))["scores"].numpy()
        out = encode(text=tf.constant(batch))
        for i, row, n in zip(positions, out["input_ids"].numpy(), out["length"].numpy()):
            ids[i] = row[:n].tolist()
    return scores, ids


def p50_ms(call, texts: list[str], calls: int) -> float:
    for text in texts[:10]:  # warm
        call(text)
    times = []
    for i in range(calls):
        start = time.perf_counter()
        call(texts[i % len(texts)])
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def tflite(folder: Path) -> list[str]:
    """One line per attempt: builtins only, then with TF Select ops (and the Flex ops it needs)."""
    lines = []
    for name, ops in (("builtins only", [tf.lite.OpsSet.TFLITE_BUILTINS]),
                      ("builtins + SELECT_TF_OPS",
                       [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS])):
        converter = tf.lite.TFLiteConverter.from_saved_model(str(folder), signature_keys=[SIGNATURE])
        converter.target_spec.supported_ops = ops
        try:
            model = converter.convert()
        except Exception as err:  # the converter raises its own error types; the message says which op
            first = re.search(r"'(tf\.\w+)' op[^\n]*", str(err))
            lines.append(f"| {name} | fails | {first.group(0)[:160] if first else type(err).__name__} |")
            continue
        report = io.StringIO()
        with contextlib.redirect_stdout(report):
            tf.lite.experimental.Analyzer.analyze(model_content=model)
        flex = Counter(re.findall(r"Op#\d+ Flex(\w+)", report.getvalue()))
        try:
            runner = tf.lite.Interpreter(model_content=model).get_signature_runner(SIGNATURE)
            runner(text=np.array([b"A fine film."]))
            ran = "runs in tf.lite.Interpreter"
        except RuntimeError as err:
            ran = f"does not run here: {str(err).split('.')[0][:120]}"
        lines.append(f"| {name} | converts ({len(model) / 2**20:.2f} MiB flatbuffer); {ran} | "
                     f"TF Select ops: {', '.join(sorted(flex))} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="an hfsent model folder trained on IMDB")
    parser.add_argument("--imdb", default="../shared/data/imdb")
    parser.add_argument("--calls", type=int, default=200, help="single-review calls per latency figure")
    parser.add_argument("--output", default="BENCHMARKS.md")
    parser.add_argument("--limit", type=int, default=None, help="only the first N test reviews (a smoke run)")
    args = parser.parse_args()
    test = pd.read_parquet(next(Path(args.imdb).glob("plain_text/test-*.parquet")))
    test = test.iloc[:args.limit] if args.limit else test
    texts, labels = test["text"].tolist(), test["label"].to_numpy()
    clf = SentimentClassifier.load(args.model)
    keras_mib = folder_mib(Path(args.model), KERAS_FILES)

    start = time.time()
    want_ids = clf.encode(texts)
    want = clf.class_probabilities(texts)
    hfsent_s = time.time() - start
    rows, sizes = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for quantize in (None, "int8"):
            folder = export_saved_model(args.model, Path(tmp) / (quantize or "float32"), quantize=quantize)
            sizes[quantize] = folder_mib(folder)
            start = time.time()
            rows[quantize] = (*saved_model_scores(folder, texts), time.time() - start)
        serve = tf.saved_model.load(str(Path(tmp) / "float32")).signatures[SIGNATURE]
        sample = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))[:args.calls]]
        latency = {"hfsent predict": p50_ms(lambda t: clf.predict([t]), sample, args.calls),
                   "SavedModel": p50_ms(lambda t: serve(text=tf.constant([t])), sample, args.calls)}
        tflite_lines = tflite(Path(tmp) / "float32")
        quantize_int8(clf.model)
        clf.model.save(Path(tmp) / "keras-int8", zipped=False)
        keras_int8_mib = folder_mib(Path(tmp) / "keras-int8", KERAS_FILES)

    scores, ids, seconds = rows[None]
    agree = np.array([a == b for a, b in zip(ids, want_ids)])
    same_ids = agree.mean()
    hf_label, sm_label = want.argmax(1), scores.argmax(1)
    q_scores = rows["int8"][0]
    lines = [
        BEGIN, "## Export (`hfsent export`: a string-in SavedModel, tokenization inside the graph)", "",
        "Written by `python scripts/bench_export.py --model M --imdb ../shared/data/imdb` on all "
        f"{len(texts):,} IMDB test reviews, M the default model (`hfsent train`'s defaults). The "
        "SavedModel tokenizes with `tf.strings` ops (`hfsent.graph_tokenizer`), `hfsent` with spaCy. "
        "Timings ran under a lock, but other work shared the 2 cores.", "",
        "| measure | value |", "|---|---|",
        f"| token-id sequences equal to hfsent's (after truncation) | {same_ids:.4%} "
        f"({sum(a != b for a, b in zip(ids, want_ids))} differ) |",
        f"| predicted labels equal to hfsent's | {np.mean(hf_label == sm_label):.4%} "
        f"({int(np.sum(hf_label != sm_label))} differ) |",
        f"| largest absolute score difference | {np.abs(scores - want).max():.2e} |",
        f"| the same, on the reviews whose ids are equal | {np.abs(scores - want)[agree].max():.2e} |",
        f"| accuracy, hfsent predict | {np.mean(hf_label == labels):.4f} |",
        f"| accuracy, SavedModel | {np.mean(sm_label == labels):.4f} |",
        f"| one review, p50 of {args.calls} calls, hfsent predict | {latency['hfsent predict']:.1f} ms |",
        f"| one review, p50 of {args.calls} calls, SavedModel | {latency['SavedModel']:.1f} ms |",
        f"| all reviews in batches of {BATCH}, hfsent (encode + predict) | {hfsent_s:.0f} s |",
        f"| all reviews in batches of {BATCH}, SavedModel (serve + encode signatures) | {seconds:.0f} s |",
        "", "int8 (`--quantize int8`: Keras' int8 quantization of the word embeddings; the rest stays "
        "float32):", "",
        "| | float32 | int8 | ratio |", "|---|---|---|---|",
        f"| SavedModel folder | {sizes[None]:.1f} MiB | {sizes['int8']:.1f} MiB | "
        f"{sizes[None] / sizes['int8']:.2f}x |",
        f"| Keras files ({', '.join(KERAS_FILES)}) | {keras_mib:.1f} MiB | {keras_int8_mib:.1f} MiB | "
        f"{keras_mib / keras_int8_mib:.2f}x |",
        f"| test accuracy (SavedModel) | {np.mean(sm_label == labels):.4f} | "
        f"{np.mean(q_scores.argmax(1) == labels):.4f} | |",
        f"| labels equal to float32's | | {np.mean(q_scores.argmax(1) == sm_label):.4%} | |",
        f"| largest absolute score difference from float32 | | {np.abs(q_scores - scores).max():.3f} | |", "",
        "TFLite (`tf.lite.TFLiteConverter.from_saved_model`, TensorFlow "
        f"{tf.__version__}):", "",
        "| ops allowed | result | notes |", "|---|---|---|", *tflite_lines, END]
    write_section(Path(args.output), BEGIN, END, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
