"""Run every hfsent measurement in one process and write BENCHMARKS.md whole.

``python scripts/bench.py --dataset ../shared/data/imdb --movies ../shared/data/imdb-movies``
(about 35 minutes on 2 cores; ``--tune`` adds the sweep of candidate defaults, about 8 minutes
each).  With ``--movies``, each train and test review gets its movie id and validation is carved
from train by movie (``--group-column movie_id``), as test holds other movies; the default is
also trained once on a validation split carved at random, to show what that split promised.
Every table in the file comes from this run; the
hand-written reasoning and the history of earlier runs live in ``docs/benchmark-notes.md``,
which is copied in at the end, so a rerun never deletes them; so are the multi-class,
short-text and star-rating sections that ``scripts/bench_classes.py``, ``scripts/bench_short.py``
and ``scripts/bench_ratings.py`` write.
The GPU section says what this machine has, as TensorFlow sees it.
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import benchmarks

from hfsent.config import preset
from hfsent.data import load_raw, load_splits, normalize
from hfsent.saved_config import to_saved
from hfsent.train import prepare_data, train

NOTES = Path(__file__).resolve().parents[1] / "docs" / "benchmark-notes.md"
# Alternatives to the default, each changing it in one respect.  Chosen on validation; test is
# reported once each.  The default itself is the accuracy run's model, which is not trained
# twice.  Candidates that lost left the package (word dropout, the GRU's input dropout and
# AdamW in one run; trigrams in the linear half, a vocabulary by document frequency, head +
# tail truncation, a one-cycle schedule and EMA of the weights in the next); their rows, and
# the evidence behind each, are in docs/benchmark-notes.md.  What stays here are settings that
# a user may still pick.
TUNE_GRID = [{"pooling": "mean"}, {"gru_units": 128}]


def fmt(value) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:,.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def table(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_row(name: str, result, seconds: float) -> dict:
    """One row of the accuracy table, read from the run's metrics and stage records."""
    m = result.metrics
    row = {"model": name, "test accuracy": m["test"]["accuracy"], "test F1": m["test"]["f1"],
           "validation accuracy": m["validation"]["accuracy"],
           "validation − test": m["validation"]["accuracy"] - m["test"]["accuracy"]}
    wide = result.stage("wide").get("figures")
    if wide:
        halves = {f"{half} half, validation / test": f"{wide[k]['validation']:.4f} / {wide[k]['test']:.4f}"
                  for half, k in (("GRU", "gru"), ("linear", "linear"))}
        row.update({**halves,
                    "GRU weight (fitted on validation)": f"{wide['gru_weight']:.2f}"})
    fit = result.stage("fit")["figures"]
    row.update({"epochs (best)": f"{fit['epochs_trained']} ({fit['best_epoch']})",
                "fit seconds": result.stage("fit")["seconds"], "total seconds": seconds})
    return row


def kept_sections(path: Path) -> str:
    """The sections that ``scripts/bench_classes.py``, ``scripts/bench_short.py`` and
    ``scripts/bench_ratings.py`` wrote into ``path``, between their markers, kept as they are."""
    import bench_classes
    import bench_ratings
    import bench_short

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    kept = [text[text.index(m.BEGIN):text.index(m.END) + len(m.END)] + "\n"
            for m in (bench_classes, bench_short, bench_ratings) if m.BEGIN in text and m.END in text]
    return "\n".join(kept)


def gpu_section(machine: dict) -> str:
    if machine["gpus"] == "none":
        return ("GPU: not measured. TensorFlow sees no GPU on this machine "
                "(`tf.config.list_physical_devices('GPU')` is empty), so every figure above is CPU-only.")
    return (f"This run had {machine['gpus']}: TensorFlow placed the throughput, accuracy and inference "
            "runs above on it. No separate CPU/GPU comparison was made in this run.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="stanfordnlp/imdb")
    parser.add_argument("--movies", help="folder of movie ids per review (train.parquet, test.parquet): "
                        "validation is then carved by movie")
    parser.add_argument("--output", default="BENCHMARKS.md")
    parser.add_argument("--throughput-samples", type=int, default=4000)
    parser.add_argument("--tune", action="store_true", help="also run the validation sweep (slow)")
    parser.add_argument("--only-tune", metavar="JSON", help="train only these variants of the default (a "
                        "JSON list of overrides, e.g. '[{\"gru_units\": 128}]') on the same "
                        "split, and print their rows instead of writing the file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sections, started, machine = [], time.perf_counter(), benchmarks.machine()
    joined = tempfile.TemporaryDirectory()
    grouped = {}
    if args.movies:
        grouped = {"dataset": benchmarks.with_movie_ids(args.dataset, args.movies, joined.name),
                   "group_column": "movie_id", "dataset_id": "stanfordnlp/imdb"}
    config = preset("default", **{"dataset": args.dataset, **grouped})
    carving = "by movie" if grouped else "at random"
    if args.only_tune:
        print(table([accuracy_row(json.dumps(overrides), tuned, seconds)
                     for overrides, tuned, seconds in benchmarks.sweep(config, json.loads(args.only_tune))]))
        return

    raw = load_raw(args.dataset)
    raw_train = normalize(raw["train"])
    sections.append((f"Tokenization (spaCy in Dataset.map, {len(raw_train)} train reviews)",
                     table(benchmarks.tokenization(raw_train, config.preprocessing.spacy_model))))
    if "unsupervised" in raw:
        parts = [raw["train"], raw["test"], raw["unsupervised"]]
        sections.append((f"Tokenization scaling ({sum(len(p) for p in parts)} reviews, all splits)",
                         table(benchmarks.tokenization_scaling(parts, config.preprocessing.spacy_model))))
        sections.append(("Input pipeline memory (one epoch of batches: ids in memory, streamed from "
                         "the Arrow cache, or read with --streaming)",
                         table(benchmarks.pipeline_memory(args.dataset))))

    data = prepare_data(config)
    texts = load_splits(config)  # the same splits prepare_data encoded, as raw text
    train_split = data.splits["train"]
    measured = config.replace(max_length=data.max_length)  # the length training chose from the data
    sections.append((f"Padding efficiency (real tokens / tokens computed, {len(train_split)} train reviews)",
                     table(benchmarks.padding_efficiency(train_split, measured, data.boundaries))))
    subset = train_split.select(range(min(args.throughput_samples, len(train_split))))
    rows = benchmarks.throughput(subset, measured, data.boundaries)
    ratio = rows[1]["real_tokens_per_s"] / rows[0]["real_tokens_per_s"]
    sections.append((f"Training throughput (same model, {len(subset)} reviews)",
                     table(rows) + f"\n\nhfsent / notebook real-token throughput: **{ratio:.1f}×**"))

    accuracy_rows, results = [], {}
    runs = [("default", "default", grouped), ("best", "best", grouped)]
    if grouped:  # what the old protocol promised, for the same default
        runs.append(("default, validation carved at random", "default", {"dataset": grouped["dataset"]}))
    for name, preset_name, carve in runs:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = train(preset(preset_name, **{"dataset": args.dataset, **carve}),
                                  Path(tmp) / "model", verbose=2)
        seconds = time.perf_counter() - start
        accuracy_rows.append(accuracy_row(f"hfsent --preset {name}", results[name], seconds))
    baseline = benchmarks.tfidf_baseline(texts["train"], texts["test"])
    accuracy_rows.append({"model": "TF-IDF 1-2-grams + logistic regression",
                          "test accuracy": baseline["accuracy"], "test F1": baseline["f1"],
                          "total seconds": baseline["seconds"]})
    sections.append((f"Accuracy (full IMDB test set, scored once per configuration; validation carved "
                     f"{carving} from train unless the row says otherwise)", table(accuracy_rows)))
    result = results["default"]
    sections.append(("Stages of the default run (from its `metrics.json` records)",
                     table([{"stage": r["name"], "seconds": r["seconds"], "what it did": r["summary"]}
                            for r in result.metrics["stages"]])))
    if result.metrics["stages"] and "gru" in result.stage("wide")["figures"]:
        sections.append(("The default's two halves blended by a probability or a logit mean (weights "
                         "fitted on validation by log loss; test scored once each)",
                         table(benchmarks.blend_means(result, data))))
    sections.append(("Inference through SentimentClassifier.predict",
                     table([benchmarks.inference(result.classifier, texts["test"]["text"][:])])))

    if args.tune:
        default_seconds = accuracy_rows[0]["total seconds"]
        rows = [accuracy_row("the default (from the accuracy run)", result, default_seconds)]
        rows += [accuracy_row(json.dumps(overrides), tuned, seconds)
                 for overrides, tuned, seconds in benchmarks.sweep(config, TUNE_GRID)]
        sections.append((f"Candidate defaults (validation carved {carving}; chosen on validation, test "
                         "scored once each and never used to choose)", table(rows)))

    command = " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        "# Benchmarks", "",
        f"Every table below was written by `python scripts/bench.py {command}`"
        " in one process "
        f"({(time.perf_counter() - started) / 60:.0f} minutes). The notes at the end are hand-written "
        "(`docs/benchmark-notes.md`).", "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), "",
        "Default config (as saved with a model): `" + json.dumps(to_saved(config)) + "`", "",
    ]
    body = [f"## {title}\n\n{content}\n" for title, content in sections]
    body.append(kept_sections(Path(args.output)))
    body.append(f"## GPU\n\n{gpu_section(machine)}\n")
    notes = NOTES.read_text(encoding="utf-8") if NOTES.is_file() else ""
    Path(args.output).write_text("\n".join(header + body) + "\n" + notes, encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
