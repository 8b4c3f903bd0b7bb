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
* ``write BENCHMARKS.md COUNTS.jsonl RUN.jsonl...``: the streaming-memory section, between its
  markers, from the JSON lines of ``counts`` runs (both ways) and of ``pipeline`` runs with
  ``HFSENT_BENCH_TRIM=1`` (one file each; a run cut short counts to its last sample).
* ``counts ROWS [arrow|counter]``: the RSS of the vocabulary pass's token counts alone, at
  100,000 and at ROWS reviews of the same corpus, and once they are freed; ``counter`` counts
  as the pass did before :class:`hfsent.vocab.TokenCounts`.
* ``train ROWS``: one epoch of ``hfsent`` training on ROWS streamed reviews with a tiny model
  (embedding 8, GRU 8), no word2vec, no wide branch; prints the stage times.

Usage (time it alone: ``flock /tmp/hfsent-bench.lock``)::

    python scripts/bench_scale.py pipeline 1000000 ../shared/data/imdb
    python scripts/bench_scale.py train 100000 ../shared/data/imdb
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import resource
import sys
import time

SAMPLE_EVERY = 25_000
BEGIN, END = "<!-- streaming memory: written by scripts/bench_scale.py -->", "<!-- /streaming memory -->"


def rss_mib(pid: int | str = "self") -> float:
    """A process's resident set now (this one's by default), from /proc (ru_maxrss is the peak)."""
    with open(f"/proc/{pid}/statm") as statm:
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


def children_rss_mib() -> list[float]:
    """The RSS of each tokenizing child process (:mod:`hfsent.tokenize_child`) now."""
    from hfsent.tokenize_child import child_pids

    out = []
    for pid in child_pids():
        with contextlib.suppress(OSError):  # it ended meanwhile
            out.append(round(rss_mib(pid), 1))
    return out


def sample(reviews: int, start: float) -> dict:
    """What the process holds now: its RSS and peak RSS, the blocks Python's allocator holds
    (live Python objects), the bytes Arrow's pool holds, and with ``HFSENT_BENCH_TRIM=1`` the
    RSS after ``malloc_trim`` and Arrow's ``release_unused`` (the difference is what the
    allocators kept as free pages, i.e. fragmentation); cheap enough every 25,000 reviews."""
    import pyarrow as pa

    row = {"reviews": reviews, "rss_mib": round(rss_mib(), 1),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "python_blocks": sys.getallocatedblocks(),
           "arrow_mib": round(pa.total_allocated_bytes() / 2**20, 1),
           "tokenizing_children_rss_mib": children_rss_mib(),
           "seconds": round(time.perf_counter() - start, 1)}
    if os.environ.get("HFSENT_BENCH_TRIM") == "1":
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        pa.default_memory_pool().release_unused()  # Arrow's own allocator (mimalloc) keeps pages too
        row["trimmed_rss_mib"] = round(rss_mib(), 1)
    return row


def _one_pass(encoded) -> None:
    from hfsent.batching import make_dataset

    seen, batches, tokens, start = 0, 0, 0, time.perf_counter()
    print(json.dumps(sample(0, start)), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for ids, _ in make_dataset(encoded, 64, 400, [50, 100, 150, 200, 300], shuffle=True):
        seen, batches, tokens = seen + int(ids.shape[0]), batches + 1, tokens + int((ids != 0).numpy().sum())
        if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > peak + 10 * 1024:  # a new high: when?
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(json.dumps({"new_peak_mib": round(peak / 1024, 1), "at_reviews": seen,
                              "batch_width": int(ids.shape[1]),
                              "tokenizing_children_rss_mib": children_rss_mib()}), flush=True)
        if seen // SAMPLE_EVERY != (seen - int(ids.shape[0])) // SAMPLE_EVERY:
            print(json.dumps(sample(seen, start)), flush=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"reviews": seen, "batches": batches, "tokens": tokens, "seconds": round(seconds, 1),
                      "reviews_per_s": round(seen / seconds), "tokens_per_s": round(tokens / seconds),
                      "rss_mib": round(rss_mib(), 1),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


def counts(rows: int, folder: str, how: str = "arrow") -> None:
    """RSS of the vocabulary pass's counts alone at 100,000 and at ``rows`` reviews, and once
    they are freed, in one process: IMDB's training reviews tokenized once, then counted over
    and over in chunks of 10,000 reviews, each review with its id token (``#r123456``) as in
    :func:`reviews`.  Both allocators are trimmed before each sample.  ``how``: ``arrow``
    (:class:`hfsent.vocab.TokenCounts`, as :func:`hfsent.streaming.scan_vocabulary` counts)
    or ``counter`` (a ``Counter`` of :func:`hfsent.vocab.count_tokens`, as it counted before)."""
    import ctypes
    from collections import Counter

    import pyarrow as pa
    import pyarrow.parquet as pq

    from hfsent.tokenize import tokenize
    from hfsent.vocab import COUNT_CHUNK_ROWS, TokenCounts, Vocabulary, count_tokens

    cache = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hfsent-scale-imdb-tokens.parquet")
    if not os.path.exists(cache):  # tokenized once: the repeats time the counting only
        files = glob.glob(os.path.join(folder, "plain_text", "train-*.parquet"))
        table = pq.read_table(files, columns=["text"])
        tokens = pa.array(tokenize(table["text"].to_pylist()), pa.list_(pa.string()))
        pq.write_table(pa.table({"tokens": tokens}), cache)
    lists = pq.read_table(cache)["tokens"].combine_chunks()
    order = [i * 7919 % len(lists) for i in range(len(lists))]  # the stride of reviews()
    tally = TokenCounts() if how == "arrow" else Counter()
    out = {"how": how, "reviews": rows}

    def measure(name: str) -> None:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        pa.default_memory_pool().release_unused()
        out[name] = round(rss_mib(), 1)

    measure("rss_mib_before")
    for start in range(0, rows, COUNT_CHUNK_ROWS):
        picked = lists.take(pa.array([order[i % len(order)] for i in range(start, start + COUNT_CHUNK_ROWS)]))
        ids = pa.array([f"#r{i}" for i in range(start, start + COUNT_CHUNK_ROWS)])
        values = pa.concat_arrays([ids, picked.flatten()])
        chunk = pa.ListArray.from_arrays(pa.array([0, len(values)], pa.int32()), values)  # counts ignore rows
        tally.update(chunk) if how == "arrow" else tally.update(count_tokens(chunk))
        if start + COUNT_CHUNK_ROWS == 100_000:
            measure("rss_mib_100k")
    measure("rss_mib_end")
    vocab = tally.vocabulary(2, 30_000) if how == "arrow" else Vocabulary.from_counts(tally, 2, 30_000)
    out["vocabulary"] = len(vocab)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["growth_100k_to_end_mib"] = round(out["rss_mib_end"] - out["rss_mib_100k"], 1)
    del tally, vocab
    measure("rss_mib_after_the_pass")
    print(json.dumps(out), flush=True)


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


def _spread(values: list[float], sign: str = "+") -> str:
    """``median (min to max)`` of ``values``, in MiB (signed unless ``sign=""``)."""
    import statistics

    form = f"{{:{sign},.0f}}"
    median, low, high = (form.format(v) for v in (statistics.median(values), min(values), max(values)))
    return f"{median} ({low} to {high})" if len(values) > 1 else median


def _slope(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares growth of ``(reviews, value)`` per 900,000 reviews, and its 95% half-width."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in points) / (n - 2)
    return slope * 900_000, 1.96 * (residual / sxx) ** 0.5 * 900_000


def _run_growth(lines: list[dict]) -> dict:
    """One ``pipeline`` run's growth within the process: the least-squares slope of its samples
    from the 100,000th review to 100,000 before the end of a finished pass (the buffers drain
    after that; a pass cut short: to its last sample), per 900,000 reviews (100k to 1M), for RSS
    as sampled, after the trims, Python's blocks and Arrow's pool; and the peak RSS (the
    kernel's high-water mark) at 100,000 reviews and at the end.  The samples move by about
    ±20 MiB as the buffers' reviews change length, so one pair of samples says little."""
    rows = [row for row in lines if "batches" not in row]
    last = rows[-1]["reviews"] - (100_000 if len(rows) < len(lines) else 0)
    window = [r for r in rows if 100_000 <= r["reviews"] <= last + 100]
    at_100k = next(r for r in rows if r["reviews"] >= 100_000)
    return {"to": window[-1]["reviews"], "done": len(rows) < len(lines),
            **{key: _slope([(r["reviews"], r[key]) for r in window])
               for key in ("rss_mib", "trimmed_rss_mib", "python_blocks", "arrow_mib")},
            "peak_100k": at_100k["peak_rss_mib"], "peak_end": lines[-1]["peak_rss_mib"]}


def write(path: str, counts_file: str, *runs: str) -> None:
    """The streaming-memory section of ``path`` from a ``counts`` JSON-lines file (both ways)
    and the JSON lines of ``pipeline`` runs (``HFSENT_BENCH_TRIM=1``), one file each."""
    from pathlib import Path

    from benchmarks import write_section

    def read(name: str) -> list[dict]:
        lines = (json.loads(line) for line in Path(name).read_text().splitlines() if line.startswith("{"))
        return [line for line in lines if "new_peak_mib" not in line]

    growths = [_run_growth(read(name)) for name in runs]
    lines = ["| run | samples used (reviews) | RSS growth (MiB) | growth after the trims (MiB) | "
             "Python blocks growth | Arrow pool growth (MiB) | peak RSS at 100k (MiB) | "
             "peak RSS at the end (MiB) | peak growth (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
    for i, g in enumerate(growths, 1):
        rss, trimmed = g["rss_mib"], g["trimmed_rss_mib"]
        blocks, arrow = g["python_blocks"], g["arrow_mib"]
        lines.append(f"| {i}{'' if g['done'] else ' (cut short)'} | 100,000 to {g['to']:,} | "
                     f"{rss[0]:+,.0f} ± {rss[1]:,.0f} | {trimmed[0]:+,.0f} ± {trimmed[1]:,.0f} | "
                     f"{blocks[0]:+,.0f} ± {blocks[1]:,.0f} | {arrow[0]:+,.0f} ± {arrow[1]:,.0f} | "
                     f"{g['peak_100k']:,.0f} | {g['peak_end']:,.0f} | "
                     f"{g['peak_end'] - g['peak_100k']:+,.0f} |")
    if len(growths) > 1:
        lines.append(f"| median (min to max) | | {_spread([g['rss_mib'][0] for g in growths])} | "
                     f"{_spread([g['trimmed_rss_mib'][0] for g in growths])} | | | | | "
                     f"{_spread([g['peak_end'] - g['peak_100k'] for g in growths])} |")
    tallies = read(counts_file)
    table = ["| counted with | runs | growth, 100k to 1M reviews (MiB) | "
             "left after the pass, over 100k (MiB) | peak RSS of the pass (MiB) |", "|---|---|---|---|---|"]
    for how, name in (("counter", "a Python Counter (before)"), ("arrow", "vocab.TokenCounts, Arrow (now)")):
        mine = [t for t in tallies if t["how"] == how]
        table.append(f"| {name} | {len(mine)} | {_spread([t['growth_100k_to_end_mib'] for t in mine])} | "
                     f"{_spread([t['rss_mib_after_the_pass'] - t['rss_mib_100k'] for t in mine])} | "
                     f"{_spread([t['peak_rss_mib'] for t in mine], sign='')} |")
    intro = ("One streamed pass of the training pipeline (read Parquet shards, tokenize, encode, shuffle "
             "buffer of 20,000, length buckets, batches of 64) over IMDB's 25,000 training reviews "
             "repeated, each prefixed with an id token of its own, so every review brings a new string "
             "(`HFSENT_BENCH_TRIM=1 python scripts/bench_scale.py pipeline 1000000 ../shared/data/imdb`). "
             "Growth is measured within each process, as the least-squares slope of its samples "
             "(every 25,000 reviews) from the 100,000th review to 100,000 before the end (the buffers "
             "drain after that), per 900,000 reviews, ± its 95% interval. Each sample is taken as RSS, "
             "then again after `malloc_trim` and Arrow's `release_unused` (the difference is free "
             "memory the allocators kept). Other work shared the 2 cores throughout, so no speed is "
             "given here.")
    counts_intro = ("The vocabulary pass (before the first epoch: one streamed pass that counts every "
                    "token) over the same corpus, its counts alone (`python scripts/bench_scale.py counts "
                    "1000000 ../shared/data/imdb arrow|counter`: about 1.08 million distinct tokens at "
                    "1M reviews). Other work shared the 2 cores.")
    title = "## Streaming memory (--streaming, 1M reviews)"
    section = [BEGIN, title, "", intro, "", *lines, "", counts_intro, "", *table, END]
    write_section(Path(path), BEGIN, END, "\n".join(section))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        write(*sys.argv[2:])
        raise SystemExit
    {"pipeline": pipeline, "train": train, "workers": workers, "counts": counts}[sys.argv[1]](
        int(sys.argv[2]), *sys.argv[3:])
