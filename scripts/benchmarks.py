"""Measurements behind BENCHMARKS.md: tokenization, padding, throughput, latency, accuracy, and the
protocol that compares two candidates on the same examples (:func:`compare`).

Every figure comes from one process (``scripts/bench.py``) on one machine, so ratios
compare like with like.  This is benchmark code, not part of the installed package.  The
"notebook" pipeline is the classroom notebook's: every
review left-padded to the longest review in the data, fixed batches of 20.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import tensorflow as tf
from datasets import Dataset

from hfsent.batching import lengths_of, make_dataset
from hfsent.config import Config
from hfsent.model import build_model, compile_model
from hfsent.predict import SentimentClassifier
from hfsent.schedule import epoch_steps, schedule_for
from hfsent.tokenize import tokenize_dataset
from hfsent.vocab import PAD_ID


def machine() -> dict:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {"cores": os.cpu_count(), "ram_gib": round(mem, 1), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "gpus": ", ".join(gpus) or "none"}


def _timed_tokenization(parts: list[Dataset], spacy_model: str, num_proc: int, folder: str
                        ) -> tuple[float, list[Dataset]]:
    """Seconds to tokenize ``parts`` afresh into new cache files under ``folder``.  Fresh
    files matter: next to an existing result ``datasets`` keeps that result's shard count,
    so ``num_proc=2`` would silently run one shard."""
    start = time.perf_counter()
    out = [tokenize_dataset(ds, spacy_model, num_proc=num_proc, load_from_cache_file=False,
                            cache_file_name=f"{folder}/tokens-{i}-{num_proc}.arrow")
           for i, ds in enumerate(parts)]
    return time.perf_counter() - start, out


def tokenization(ds: Dataset, spacy_model: str = "blank:en") -> list[dict]:
    """Docs/s and tokens/s of the map step with 1 and 2 processes, then a cached rerun."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for num_proc in (1, 2):
            seconds, (out,) = _timed_tokenization([ds], spacy_model, num_proc, folder)
            tokens = int(pc.sum(pc.list_value_length(out.with_format("arrow")[:]["tokens"])).as_py())
            rows.append({"run": f"num_proc={num_proc}", "seconds": seconds,
                         "docs_per_s": len(ds) / seconds, "tokens_per_s": tokens / seconds})
        start = time.perf_counter()
        tokenize_dataset(ds, spacy_model, num_proc=2, cache_file_name=f"{folder}/tokens-0-2.arrow")
        seconds = time.perf_counter() - start
    rows.append({"run": "cached rerun", "seconds": seconds, "docs_per_s": len(ds) / seconds,
                 "tokens_per_s": float("nan")})
    return rows


def padding_efficiency(encoded: Dataset, config: Config, boundaries: list[int]) -> list[dict]:
    """Real tokens as a share of the tokens the GRU computes, for three ways of batching."""
    max_length = config.preprocessing.max_length
    raw = lengths_of(encoded)
    capped = np.minimum(raw[raw > 0], max_length)
    order = np.random.default_rng(config.training.seed).permutation(len(capped))
    size = config.training.batch_size
    per_batch = sum(capped[order[i:i + size]].max() * len(order[i:i + size])
                    for i in range(0, len(order), size))
    real = computed = 0
    for ids, _ in make_dataset(encoded, size, max_length, boundaries, shuffle=True):
        real += int(np.count_nonzero(ids.numpy()))
        computed += int(np.prod(ids.shape))
    truncated = f"truncated at {max_length}"
    return [
        {"pipeline": "notebook: every review padded to the longest, no truncation",
         "real_share": raw.sum() / (raw.max() * len(raw))},
        {"pipeline": f"random batches of {size} padded to their longest, {truncated}",
         "real_share": capped.sum() / per_batch},
        {"pipeline": f"hfsent: {len(boundaries) + 1} length buckets, batches of {size}, {truncated}",
         "real_share": real / computed},
    ]


def _notebook_batches(encoded: Dataset, batch_size: int) -> tuple[tf.data.Dataset, int]:
    """The notebook's input: left-padded to the longest review, fixed batches, no buckets."""
    seqs = encoded.with_format("arrow")[:]["input_ids"].to_pylist()
    labels = np.asarray(encoded["label"][:], dtype=np.float32)
    padded = keras.utils.pad_sequences(seqs, padding="pre", value=PAD_ID)
    data = tf.data.Dataset.from_tensor_slices((padded, labels)).batch(batch_size).prefetch(2)
    return data, -(-len(seqs) // batch_size)


def throughput(encoded: Dataset, config: Config, boundaries: list[int], max_steps: int = 30) -> list[dict]:
    """Training tokens/s and seconds per epoch of the same model: notebook vs hfsent batches.

    The notebook pipeline is timed over ``max_steps`` steps and its epoch time
    extrapolated: a whole epoch of it takes too long to wait for.  Only real
    (non-padding) tokens count as throughput.
    """
    vocab_rows = int(pc.max(pc.list_flatten(encoded.with_format("arrow")[:]["input_ids"])).as_py()) + 1
    notebook, notebook_batches = _notebook_batches(encoded, 20)
    batch_size = config.training.batch_size
    bucketed = make_dataset(encoded, batch_size, config.preprocessing.max_length, boundaries, shuffle=True)
    runs = [("notebook: left-padded to the longest review, batch 20", notebook, max_steps),
            (f"hfsent: bucketed, right-padded, batch {batch_size}", bucketed, None)]
    # The schedule training would use on these rows (its unset fields follow the epoch's length)
    steps_per_epoch = epoch_steps(len(encoded), batch_size)
    training = schedule_for(config.training, steps_per_epoch)
    rows = []
    for name, data, steps in runs:
        keras.utils.set_random_seed(config.training.seed)
        model = compile_model(build_model(config.model, vocab_rows), training, config.model, steps_per_epoch)
        # Warm-up outside the timed loop: one step for the fixed-shape notebook batches, a
        # whole epoch for the buckets, whose varying widths trigger a few re-traces at first.
        for ids, y in data.take(1) if steps else data:
            model.train_on_batch(ids, y)
        tokens = batches = 0
        start = time.perf_counter()
        for ids, y in data.take(steps) if steps else data:
            model.train_on_batch(ids, y)
            tokens += int(np.count_nonzero(ids.numpy()))
            batches += 1
        seconds = time.perf_counter() - start
        epoch = seconds * notebook_batches / batches if steps else seconds
        rows.append({"pipeline": name, "batches_timed": batches, "real_tokens_per_s": tokens / seconds,
                     "seconds_per_epoch": epoch, "extrapolated": steps is not None})
    return rows


def inference(classifier: SentimentClassifier, texts: list[str], n_single: int = 200) -> dict:
    """p50/p95 latency of one review through ``predict``, and reviews/s over all ``texts``."""
    classifier.predict(texts[:1])
    latencies = []
    for text in texts[:n_single]:
        start = time.perf_counter()
        classifier.predict([text])
        latencies.append(time.perf_counter() - start)
    start = time.perf_counter()
    classifier.predict_proba(texts)
    seconds = time.perf_counter() - start
    return {"p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p95_ms": 1000 * float(np.percentile(latencies, 95)),
            "reviews": len(texts), "seconds": seconds, "reviews_per_s": len(texts) / seconds}


def load_said(before: float) -> str:
    """How busy the machine was: the 1-minute load average at the start (``before``) and now,
    for the timings' prose; on 2 cores, above about 1 other work shared them."""
    return f"load average {before:.2f} at the start and {os.getloadavg()[0]:.2f} at the end"


def write_section(path: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) into the file at
    ``path`` in place of the one between those markers, else before its GPU section."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if begin in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = (text.replace("\n## GPU", "\n" + section + "\n\n## GPU", 1) if "\n## GPU" in text
                else text + section)
    path.write_text(text, encoding="utf-8")


def movie_ids(movies: str, split: str, rows: int) -> list[str]:
    """The movie id of each row of IMDB's ``split`` (``train`` or ``test``), in row order, from the
    folder ``movies`` (the layout of ``imdb-movies``); ``rows`` is the split's length, checked."""
    import pyarrow.parquet as pq

    ids = pq.read_table(f"{movies}/{split}.parquet")["movie_id"].to_pylist()
    if len(ids) != rows:
        raise SystemExit(f"{movies}/{split}.parquet has {len(ids)} rows, {split} has {rows}")
    return ids


def imdb_with_movies(imdb: str, movies: str, split: str) -> pd.DataFrame:
    """IMDB's ``split`` (``train`` or ``test``) as a frame, each row with its ``movie_id``
    (:func:`movie_ids`)."""
    from datasets import load_dataset

    ds = load_dataset(imdb, split=split)
    return ds.add_column("movie_id", movie_ids(movies, split, len(ds))).to_pandas()


def with_movie_ids(imdb: str, movies: str, folder: str) -> str:
    """A copy of the IMDB folder ``imdb`` under ``folder`` whose train and test splits carry a
    ``movie_id`` column, joined by row from ``movies`` (the layout of ``imdb-movies``: a
    ``train.parquet`` and a ``test.parquet`` with one ``movie_id`` per row of each split).
    Returns the ``--dataset`` value of ``train=…,test=…,unsupervised=…`` parquet files."""
    from hfsent.data import load_raw

    raw, parts = load_raw(imdb), []
    for split in raw:
        ds = raw[split]
        if split in ("train", "test"):
            ds = ds.add_column("movie_id", movie_ids(movies, split, len(ds)))
        ds.to_parquet(f"{folder}/{split}.parquet")
        parts.append(f"{split}={folder}/{split}.parquet")
    return ",".join(parts)


def tfidf_baseline(train: Dataset, test: Dataset) -> dict:
    """TF-IDF (1-2-grams) + logistic regression: the reference a GRU has to beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from hfsent.metrics import score_classification
    from hfsent.tokenize import clean

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.95, sublinear_tf=True,
                                 preprocessor=lambda t: clean(t).lower())
    x_train = vectorizer.fit_transform(train["text"][:])
    model = LogisticRegression(C=4.0, max_iter=1000).fit(x_train, train["label"][:])
    probs = model.predict_proba(vectorizer.transform(test["text"][:]))[:, 1]
    seconds = time.perf_counter() - start
    return {**score_classification(probs, test["label"][:]), "seconds": seconds}


def blend_means(result, data) -> list[dict]:
    """The package's blend (a weighted mean of the two halves' probabilities) beside a logit
    (geometric) mean of the same two halves, ``sigmoid(w * logit(gru) + (1 - w) * logit(linear))``:
    each weight fitted on validation by log loss, test scored once each.  Two classes only."""
    from scipy.optimize import minimize_scalar

    from hfsent.blend import blend_weight
    from hfsent.metrics import predict_split
    from hfsent.wide import deep_part, wide_part

    clf = result.classifier
    assert clf.vocab.tokens == data.vocab.tokens, "the splits must be encoded with the model's vocabulary"
    probs, labels = {}, {}
    for half, part in (("gru", deep_part(clf.model)), ("linear", wide_part(clf.model))):
        alone = SentimentClassifier(part, clf.vocab, clf.config)
        for split in ("validation", "test"):
            out, labels[split], _ = predict_split(alone, data.splits[split])
            probs[half, split] = np.clip(out.reshape(-1).astype(np.float64), 1e-7, 1 - 1e-7)

    def mix(w: float, split: str, kind: str) -> np.ndarray:
        gru, linear = probs["gru", split], probs["linear", split]
        if kind == "probability":
            return w * gru + (1 - w) * linear
        logit = w * np.log(gru / (1 - gru)) + (1 - w) * np.log(linear / (1 - linear))
        return 1 / (1 + np.exp(-logit))

    def log_loss(w: float, split: str, kind: str) -> float:
        p = np.clip(mix(w, split, kind), 1e-7, 1 - 1e-7)
        return -float(np.mean(np.where(labels[split] == 1, np.log(p), np.log(1 - p))))

    rows = []
    for kind in ("probability", "logit"):
        # the probability mean's weight is the package's own fit (hfsent.blend), not a copy of it
        two = [np.stack([1 - probs[h, "validation"], probs[h, "validation"]], axis=1)
               for h in ("gru", "linear")]
        w = (blend_weight(*two, labels["validation"])
             if kind == "probability" else
             round(float(minimize_scalar(lambda v: log_loss(v, "validation", "logit"), bounds=(0, 1),
                                         method="bounded").x), 2))
        rows.append({"blend": f"{kind} mean", "GRU weight (fitted on validation)": f"{w:.2f}",
                     "validation log loss": log_loss(w, "validation", kind),
                     **{f"{split} accuracy": float(((mix(w, split, kind) >= 0.5) == labels[split]).mean())
                        for split in ("validation", "test")}})
    return rows


def sweep(base: Config, grid: list[dict]) -> list[tuple[dict, object, float]]:
    """Train each variant of ``base``: ``(overrides, result, seconds)`` per variant.  The
    choice between them is made on validation; test is scored once each and reported beside
    it, never used to choose."""
    from hfsent.train import train

    runs = []
    for overrides in grid:
        start = time.perf_counter()
        result = train(base.replace(**overrides), None, verbose=0)
        runs.append((overrides, result, time.perf_counter() - start))
        print(f"sweep {overrides}: validation {result.metrics['validation']['accuracy']:.4f}", flush=True)
    return runs


_RSS_PROBE = """
import json, resource, sys
from datasets import concatenate_datasets
from hfsent.batching import bucket_boundaries, lengths_of, make_dataset
from hfsent.data import load_raw
from hfsent.tokenize import tokenize_dataset
from hfsent.vocab import Vocabulary
raw = load_raw(sys.argv[1])
splits, size, mode = [s for s in ("train", "test", "unsupervised") if s in raw], int(sys.argv[2]), sys.argv[3]
parts = [tokenize_dataset(raw[s]) for s in splits]
vocab = Vocabulary.build(parts[0], 2, 30000)
ds = concatenate_datasets([vocab.encode_dataset(p) for p in parts]).select(range(size))
ds = ds.flatten_indices()  # contiguous and memory-mapped, as a prepared corpus would be
lengths = lengths_of(ds, 400)
tokens, boundaries = int(lengths.sum()), bucket_boundaries(lengths, 10)
del lengths
if mode == "--streaming":  # the same rows, read and tokenized as the epoch goes
    streams = load_raw(sys.argv[1], streaming=True)
    stream = concatenate_datasets([streams[s].select_columns(["text", "label"]) for s in splits])
    ds = vocab.encode_dataset(tokenize_dataset(stream.take(size)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
batches = 0
for _ in make_dataset(ds, 64, 400, boundaries, shuffle=True, in_memory=mode == "memory"):
    batches += 1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"reviews": size, "tokens": tokens, "input": mode, "batches": batches,
                  "peak_rss_mib": peak / 1024, "rss_growth_in_epoch_mib": (peak - before) / 1024}))
"""


def pipeline_memory(dataset: str, sizes: tuple[int, ...] = (25_000, 100_000)) -> list[dict]:
    """Peak RSS of a process that iterates one epoch of batches: ids in memory, streamed
    from the Arrow cache, or read with ``--streaming`` (tokenized on the fly)."""
    import json
    import subprocess
    import sys

    rows = []
    for size in sizes:
        for mode in ("memory", "stream", "--streaming"):
            out = subprocess.run([sys.executable, "-c", _RSS_PROBE, dataset, str(size), mode],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def tokenization_scaling(parts: list[Dataset], spacy_model: str = "blank:en") -> list[dict]:
    """Tokenization speed-up from 1 to 2 processes over several splits (e.g. 100k reviews)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for num_proc in (1, 2):
            seconds, _ = _timed_tokenization(parts, spacy_model, num_proc, folder)
            rows.append({"num_proc": num_proc, "reviews": sum(len(p) for p in parts), "seconds": seconds})
    rows[1]["speed_up"] = rows[0]["seconds"] / rows[1]["seconds"]
    return rows


# The comparison protocol: two candidates scored on the same examples.  A single run on one
# validation split cannot separate candidates whose accuracies differ by less than its standard
# error (about one point on 2,000 examples); a paired test on the same examples, and means over
# seeds for anything that trains the GRU, see much smaller differences, because most examples
# are right (or wrong) under both candidates and carry no information about the difference.

def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """McNemar's exact test of two classifiers' accuracies on the same examples: the examples
    that exactly one of them gets right are, under the null hypothesis of equal accuracy, a fair
    coin's tosses.  ``b``: only A right; ``c``: only B right; ``p``: two-sided exact p-value.

    Example:
        >>> mcnemar(np.array([1] * 9 + [0]), np.array([0] * 9 + [1]))["p"]
        0.021484375
    """
    from scipy.stats import binom

    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    p = 1.0 if n == 0 else min(1.0, 2 * float(binom.cdf(min(only_a, only_b), n, 0.5)))
    return {"b": only_a, "c": only_b, "difference": (only_a - only_b) / len(a), "p": p}


def paired_bootstrap(metric, labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                     samples: int = 2000, seed: int = 0) -> dict:
    """The difference ``metric(A) - metric(B)`` on the same examples, with a paired bootstrap:
    the examples are resampled with replacement (the same rows for both candidates), and the
    difference recomputed on each resample.  Works for any metric of ``(labels, predictions)``,
    macro F1 included, which McNemar's test does not cover.

    ``pred_a`` and ``pred_b`` may be 2-D (one row per seed, the same examples in each row): the
    metric is then the mean over seeds, and the resampling keeps each example's seeds together.

    Returns ``difference`` (on all examples), the 95% interval ``low``/``high``, and ``p``: the
    two-sided bootstrap p-value, twice the share of resamples on the far side of zero (with one
    added to each count, so it never reads 0).

    Example:
        >>> paired_bootstrap(accuracy, np.ones(50), np.ones(50), np.zeros(50))["difference"]
        1.0
    """
    labels = np.asarray(labels)
    pred_a, pred_b = np.atleast_2d(pred_a), np.atleast_2d(pred_b)

    def diff(rows: np.ndarray) -> float:
        return float(np.mean([metric(labels[rows], a[rows]) for a in pred_a])
                     - np.mean([metric(labels[rows], b[rows]) for b in pred_b]))

    rng = np.random.default_rng(seed)
    n = len(labels)
    draws = np.array([diff(rng.integers(0, n, n)) for _ in range(samples)])
    below, above = int(np.sum(draws <= 0)), int(np.sum(draws >= 0))
    p = min(1.0, 2 * (min(below, above) + 1) / (samples + 1))
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": diff(np.arange(n)), "low": float(low), "high": float(high), "p": p}


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) == np.asarray(predicted)))


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro", zero_division=0))


def spread(values) -> dict:
    """Mean, sample standard deviation (0 for one value), min and max of one figure over seeds.

    Example:
        >>> spread([0.70, 0.72, 0.74])["std"]
        0.02
    """
    values = np.asarray(values, np.float64)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": round(std, 12), "min": float(values.min()),
            "max": float(values.max()), "n": len(values)}


def compare(labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, samples: int = 2000) -> dict:
    """The protocol's record of candidate A against B on the same examples: per metric (accuracy,
    macro F1) each one's mean and spread over seeds (rows of the 2-D predictions; one row is one
    run), the paired bootstrap of the difference, and, with one seed each, McNemar's p.

    Example:
        >>> compare(y, blend_predictions, linear_predictions)["macro_f1"]["difference"]  # A - B
    """
    pred_a, pred_b = np.atleast_2d(pred_a), np.atleast_2d(pred_b)
    out = {}
    for name, metric in (("accuracy", accuracy), ("macro_f1", macro_f1)):
        boot = paired_bootstrap(metric, labels, pred_a, pred_b, samples)
        out[name] = {"a": spread([metric(labels, p) for p in pred_a]),
                     "b": spread([metric(labels, p) for p in pred_b]), **boot}
    if len(pred_a) == 1 and len(pred_b) == 1:
        out["accuracy"]["mcnemar_p"] = mcnemar(pred_a[0] == labels, pred_b[0] == labels)["p"]
    return out


def comparison_row(name: str, record: dict, metric: str = "accuracy") -> str:
    """One Markdown row of a :func:`compare` record: A and B as mean ± std (n), the difference
    with its 95% interval, and the paired p-value (McNemar's where there is one, else bootstrap)."""
    r = record[metric]
    a, b = r["a"], r["b"]
    p = r.get("mcnemar_p", r["p"])
    return (f"| {name} | {a['mean']:.4f} ± {a['std']:.4f} ({a['n']}) | {b['mean']:.4f} ± {b['std']:.4f} "
            f"({b['n']}) | {r['difference']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}] | {p:.3g} |")
