"""Memory and speed of ``--streaming`` over a corpus larger than IMDB, for BENCHMARKS.md and
docs/scaling.md.

The corpus: IMDB's 25,000 training reviews repeated, each copy of a review prefixed with an id
of its own (``#r123456``), so that every review brings a token no earlier one had, as names,
typos and numbers do in a real corpus of millions.  It is streamed (``IterableDataset``), never
held: what grows is the pipeline's.

* ``pipeline ROWS``: one pass of the streamed training pipeline (tokenize, encode with a
  vocabulary counted from the first 25,000 rows, shuffle buffer, length buckets, batches of
  64), sampling the process's RSS every 25,000 reviews; prints JSON lines.
* ``workers ROWS``: the fit stage's seconds for ROWS reviews (cached, 2 epochs, a tiny model,
  global batch 64) with one worker, then two ``--strategy multiworker`` workers on 127.0.0.1.
  Both workers share this machine's cores, so this shows the cost of the collectives, not
  the speed-up of two machines.
* ``write BENCHMARKS.md AFTER.jsonl [BEFORE.jsonl]``: the streaming-memory section, between its
  markers, from the JSON lines of ``pipeline`` runs (BEFORE: the same with spaCy never renewed,
  ``hfsent.tokenize.RENEW_AFTER_TEXTS`` set beyond the corpus).
* ``train ROWS``: one epoch of ``hfsent`` training on ROWS streamed reviews with a tiny model
  (embedding 8, GRU 8), no word2vec, no wide branch; prints the stage times.

Usage (time it alone: ``flock /tmp/hfsent-bench.lock``)::

    python scripts/bench_scale.py pipeline 1000000 ../shared/data/imdb
    python scripts/bench_scale.py train 100000 ../shared/data/imdb
"""

from __future__ import annotations

import glob
import json
import os
import resource
import sys
import time

SAMPLE_EVERY = 25_000
BEGIN, END = "<!-- streaming memory: written by scripts/bench_scale.py -->", "<!-- /streaming memory -->"


def rss_mib() -> float:
    """The process's resident set now, from /proc (ru_maxrss is the peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reviews(folder: str, rows: int):
    """``rows`` IMDB training reviews, repeated, each with an id token of its own."""
    import pyarrow.parquet as pq

    table = pq.read_table(glob.glob(os.path.join(folder, "plain_text", "train-*.parquet")),
                          columns=["text", "label"])
    texts, labels = table["text"].to_pylist(), table["label"].to_pylist()

    def generate():  # a stride through the file, which is sorted by label
        for i in range(rows):
            j = i * 7919 % len(texts)
            yield {"text": f"#r{i} {texts[j]}", "label": labels[j]}
    return generate


def write_shards(folder: str, rows: int, out: str) -> list[str]:
    """The corpus of :func:`reviews` as Parquet shards of 25,000 rows in ``out``: a stream must
    be Arrow from its source (see hfsent.streaming), not Python rows from a generator."""
    import pandas as pd

    generate, paths = reviews(folder, rows), []
    rows_iter = iter(generate())
    for shard in range(-(-rows // SAMPLE_EVERY)):
        path = os.path.join(out, f"train-{shard:05d}.parquet")
        pd.DataFrame([row for _, row in zip(range(SAMPLE_EVERY), rows_iter)]).to_parquet(path)
        paths.append(path)
    return paths


def pipeline(rows: int, folder: str) -> None:
    import tempfile

    from datasets import load_dataset

    from hfsent.tokenize import tokenize_dataset
    from hfsent.vocab import Vocabulary

    with tempfile.TemporaryDirectory() as out:
        shards = write_shards(folder, rows, out)
        stream = load_dataset("parquet", data_files={"train": shards}, streaming=True)["train"]
        vocab = Vocabulary.build(tokenize_dataset(stream.take(SAMPLE_EVERY)), 2, 30_000)
        _one_pass(vocab.encode_dataset(tokenize_dataset(stream)))


def _one_pass(encoded) -> None:
    from hfsent.batching import make_dataset

    seen, batches, tokens, start = 0, 0, 0, time.perf_counter()
    base = rss_mib()
    print(json.dumps({"reviews": 0, "rss_mib": round(base, 1)}), flush=True)
    for ids, _ in make_dataset(encoded, 64, 400, [50, 100, 150, 200, 300], shuffle=True):
        seen, batches, tokens = seen + int(ids.shape[0]), batches + 1, tokens + int((ids != 0).numpy().sum())
        if seen // SAMPLE_EVERY != (seen - int(ids.shape[0])) // SAMPLE_EVERY:
            print(json.dumps({"reviews": seen, "rss_mib": round(rss_mib(), 1),
                              "seconds": round(time.perf_counter() - start, 1)}), flush=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"reviews": seen, "batches": batches, "tokens": tokens, "seconds": round(seconds, 1),
                      "reviews_per_s": round(seen / seconds), "tokens_per_s": round(tokens / seconds),
                      "rss_mib": round(rss_mib(), 1),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def train(rows: int, folder: str) -> None:
    import pandas as pd

    from hfsent.config import preset
    from hfsent.train import train as run

    data = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"hfsent-scale-{rows}.parquet")
    if not os.path.exists(data):
        pd.DataFrame(list(reviews(folder, rows)())).to_parquet(data)
    config = preset("default", dataset=data, streaming=True, embedding_dim=8, gru_units=8, epochs=1,
                    pretrain_embeddings=False, wide_ngrams=False, validation_size=0.02, test_size=0.02)
    start = time.perf_counter()
    result = run(config, None, verbose=0)
    print(json.dumps({"reviews": rows, "seconds": round(time.perf_counter() - start, 1),
                      "stages": {r["name"]: r["seconds"] for r in result.metrics["stages"]},
                      "validation_accuracy": round(result.metrics["validation"]["accuracy"], 4),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def workers(rows: int, folder: str) -> None:
    import socket
    import subprocess
    import tempfile

    import pandas as pd

    tmp = tempfile.mkdtemp(prefix="hfsent-scale-")
    data = os.path.join(tmp, "reviews.parquet")
    pd.DataFrame(list(reviews(folder, rows)())).to_parquet(data)
    flags = ["--dataset", data, "--embedding-dim=8", "--gru-units=8", "--epochs=2", "--patience=2",
             "--batch-size=64", "--no-pretrain-embeddings", "--no-wide-ngrams", "--num-proc=1"]

    def fit_seconds(out: str) -> float:
        with open(os.path.join(out, "metrics.json")) as file:
            records = json.load(file)["stages"]
        return next(r["seconds"] for r in records if r["name"] == "fit")

    hfsent = [sys.executable, "-m", "hfsent", "train", *flags]
    subprocess.run([*hfsent, "--output-dir", f"{tmp}/one", "--strategy=default"], check=True,
                   capture_output=True)
    probes = [socket.socket() for _ in range(2)]
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{probe.getsockname()[1]}" for probe in probes]}
    for probe in probes:
        probe.close()
    procs = [subprocess.Popen([*hfsent, "--output-dir", f"{tmp}/two", "--strategy=multiworker"],
                              env={**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {
                                  "type": "worker", "index": i}})}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(2)]
    if any(p.wait() for p in procs):
        raise SystemExit("a worker failed")
    print(json.dumps({"reviews": rows, "fit_seconds_1_worker": fit_seconds(f"{tmp}/one"),
                      "fit_seconds_2_workers": fit_seconds(f"{tmp}/two")}))


def write(path: str, after: str, before: str | None = None) -> None:
    from pathlib import Path

    from benchmarks import write_section

    def samples(name: str) -> tuple[dict[int, float], dict]:
        lines = [json.loads(line) for line in Path(name).read_text().splitlines() if line.startswith("{")]
        rss = {row["reviews"] // 1000 * 1000: row["rss_mib"] for row in lines if "batches" not in row}
        return rss, lines[-1]

    runs = [("spaCy renewed every 50,000 reviews (now)", *samples(after))]
    if before:
        runs.append(("spaCy never renewed (before)", *samples(before)))

    def mean(rss: dict[int, float], low: int, high: int) -> float:
        window = [v for k, v in rss.items() if low <= k <= high]
        return sum(window) / len(window)

    # RSS moves by tens of MiB between samples as the shuffle buffer's reviews change length:
    # compare means over 100,000 reviews, around the 100,000th and near the end, before the
    # buffers drain (RSS falls over the last 50,000 reviews).
    lines = ["| pipeline | reviews | RSS before the pass (MiB) | mean RSS, reviews 50k-150k (MiB) | "
             "mean RSS, 100k reviews ending 75k before the end (MiB) | growth (MiB) | "
             "highest sample (MiB) | reviews/s |",
             "|---|---|---|---|---|---|---|---|"]
    for name, rss, last in runs:
        end = max(rss)
        early, late = mean(rss, 50_000, 150_000), mean(rss, end - 175_000, end - 75_000)
        lines.append(f"| {name} | {end:,} | {rss[0]:,.0f} | {early:,.0f} | {late:,.0f} | "
                     f"{late - early:+,.0f} | {max(rss.values()):,.0f} | {last.get('reviews_per_s', '–')} |")
    intro = ("One streamed pass of the training pipeline (read Parquet shards, tokenize, encode, shuffle "
             "buffer of 20,000, length buckets, batches of 64) over IMDB's 25,000 training reviews "
             "repeated, each prefixed with an id token of its own, so every review brings a new string "
             "(`python scripts/bench_scale.py pipeline 1000000 ../shared/data/imdb`). RSS sampled every "
             "25,000 reviews. Other work shared the 2 cores: reviews/s is a lower bound.")
    title = "## Streaming memory (--streaming, 1M reviews)"
    write_section(Path(path), BEGIN, END, "\n".join([BEGIN, title, "", intro, "", *lines, END]))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        write(*sys.argv[2:])
        raise SystemExit
    {"pipeline": pipeline, "train": train, "workers": workers}[sys.argv[1]](int(sys.argv[2]), sys.argv[3])
