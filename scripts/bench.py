"""Run every hfsent measurement in one process and write BENCHMARKS.md.

``python scripts/bench.py --dataset ../shared/data/imdb`` (about 20-40 minutes on 2 cores;
``--tune`` adds the validation sweep behind the defaults).
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from hfsent import benchmark
from hfsent.config import preset
from hfsent.data import load_raw, load_splits, normalize
from hfsent.train import prepare_data, train

# Each entry changes the default in one respect; validation scores only.  The default
# itself is the accuracy run's model, which is not trained twice.
# The GRU without the wide branch needs no run of its own: the accuracy run scores each half.
TUNE_GRID = [
    {"self_training": True},
]


def fmt(value) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def table(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="stanfordnlp/imdb")
    parser.add_argument("--output", default="BENCHMARKS.md")
    parser.add_argument("--throughput-samples", type=int, default=4000)
    parser.add_argument("--tune", action="store_true", help="also run the validation sweep (slow)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    config = preset("default", dataset=args.dataset)
    sections, started = [], time.perf_counter()

    raw_train = normalize(load_raw(args.dataset)["train"])
    sections.append((f"Tokenization (spaCy in Dataset.map, {len(raw_train)} train reviews)",
                     table(benchmark.tokenization(raw_train, config.spacy_model))))

    raw = load_raw(args.dataset)
    if "unsupervised" in raw:
        parts = [raw["train"], raw["test"], raw["unsupervised"]]
        sections.append((f"Tokenization scaling ({sum(len(p) for p in parts)} reviews, all splits)",
                         table(benchmark.tokenization_scaling(parts, config.spacy_model))))
        sections.append(("Input pipeline memory (one epoch of batches: ids in memory, streamed from "
                         "the Arrow cache, or read with --streaming)",
                         table(benchmark.pipeline_memory(args.dataset))))

    data = prepare_data(config)
    texts = load_splits(config)  # the same splits prepare_data encoded, as raw text
    train_split = data.splits["train"]
    title = f"Padding efficiency (real tokens / tokens computed, {len(train_split)} train reviews)"
    sections.append((title,
                     table(benchmark.padding_efficiency(train_split, config, data.boundaries))))

    subset = train_split.select(range(min(args.throughput_samples, len(train_split))))
    rows = benchmark.throughput(subset, config, data.boundaries)
    ratio = rows[1]["real_tokens_per_s"] / rows[0]["real_tokens_per_s"]
    sections.append((f"Training throughput (same model, {len(subset)} reviews)",
                     table(rows) + f"\n\nhfsent / notebook real-token throughput: **{ratio:.1f}×**"))

    accuracy_rows, results = [], {}
    for name in ("default", "best"):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = train(preset(name, dataset=args.dataset), Path(tmp) / "model", verbose=2)
        m = results[name].metrics
        accuracy_rows.append({
            "model": f"hfsent --preset {name}", "test accuracy": m["test"]["accuracy"],
            "test F1": m["test"]["f1"],
            "validation accuracy": m["validation"]["accuracy"],
            **({"GRU half alone, test": m["wide"]["gru"]["test"],
                "wide half alone, test": m["wide"]["linear"]["test"],
                "GRU weight, fitted on validation": f"{m['wide']['gru_weight']:.2f}"}
               if "wide" in m else {}),
            "epochs": m["epochs_trained"],
            "fit seconds": m["seconds"]["training"], "total seconds": time.perf_counter() - start})
    result = results["default"]
    baseline = benchmark.tfidf_baseline(texts["train"], texts["test"])
    accuracy_rows.append({"model": "TF-IDF 1-2-grams + logistic regression",
                          "test accuracy": baseline["accuracy"], "test F1": baseline["f1"],
                          "total seconds": baseline["seconds"]})
    sections.append(("Accuracy (full IMDB test set, trained on the same train split)", table(accuracy_rows)))

    sections.append(("Inference through SentimentClassifier.predict",
                     table([benchmark.inference(result.classifier, texts["test"]["text"][:])])))

    if args.tune:
        m = result.metrics
        sweep = [{"overrides": "{} (the default, from the accuracy run)", **m["validation"],
                  "best_epoch": m["best_epoch"], "seconds": sum(m["seconds"].values())}]
        sweep += benchmark.validation_sweep(config, TUNE_GRID)
        sections.append(("Validation sweep behind the defaults (test never scored)", table(sweep)))

    header = [
        "# Benchmarks", "",
        f"Written by `python scripts/bench.py {' '.join(sys.argv[1:])}` in one process "
        f"({(time.perf_counter() - started) / 60:.0f} minutes).", "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in benchmark.machine().items()), "",
        "Default config: `" + json.dumps({k: v for k, v in vars(config).items()
                                           if k not in ("label_names", "vocab_size")}) + "`", "",
    ]
    body = [f"## {title}\n\n{content}\n" for title, content in sections]
    body.append("## GPU\n\nGPU: not measured (no GPU was available to this run).\n")
    Path(args.output).write_text("\n".join(header + body), encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
