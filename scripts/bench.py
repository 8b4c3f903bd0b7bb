"""Run every hfsent measurement in one process and write BENCHMARKS.md whole.

``python scripts/bench.py --dataset ../shared/data/imdb --movies ../shared/data/imdb-movies
--ratings ../shared/data/imdb-ratings --tune`` (about 90 minutes on 2 cores; without ``--tune``
and ``--ratings`` about 45).  With ``--movies``, each train and test review gets its movie id and
validation is carved from train by movie (``--group-column movie_id``), as test holds other
movies; the default is also trained once on a validation split carved at random, to show what
that split promised.  ``--tune`` measures the candidate stages of ``scripts/candidates.py``
against the default on the same grouped split; ``--ratings`` writes the star-ratings section
(``scripts/bench_ratings.py``) in the same run.  Every table in the file comes from this run,
except the multi-class and short-text sections that ``scripts/bench_classes.py`` and
``scripts/bench_short.py`` write, and the serving load test (``--serve MODEL``, alone:
``scripts/bench_serve.py``; one review at a time: ``scripts/bench_one_review.py``) and the
export's section (``scripts/bench_export.py``), which are kept as they are.  The hand-written reasoning and
the history of earlier runs live in ``docs/benchmark-notes.md``, which is copied in at the end,
so a rerun never deletes them.  The GPU section says what this machine has, as TensorFlow sees it."""

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import bench_ratings
import benchmarks
import candidates

from hfsent.config import preset
from hfsent.data import load_raw, normalize
from hfsent.saved_config import to_saved
from hfsent.splits import load_splits
from hfsent.train import prepare_data, train

NOTES = Path(__file__).resolve().parents[1] / "docs" / "benchmark-notes.md"
# Candidate stages for the default (scripts/candidates.py), each measured once on the grouped
# validation split; test is reported once each.  None is in the package: one enters it only if
# validation prefers it.  Earlier candidates (concat against mean pooling, a wider GRU, word
# dropout, the GRU's input dropout, AdamW, trigrams, a vocabulary by document frequency, head +
# tail truncation, a one-cycle schedule, EMA of the weights) and their rows are in
# docs/benchmark-notes.md.
CANDIDATES = ("distillation", "self-training", "LM pretraining")


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
    # the halves as they ended up: a candidate stage after the wide one records them again
    wide = next((r["figures"] for r in reversed(m["stages"]) if "gru" in r.get("figures", {})), None)
    if wide:
        halves = {f"{half} half, validation / test": f"{wide[k]['validation']:.4f} / {wide[k]['test']:.4f}"
                  for half, k in (("GRU", "gru"), ("linear", "linear"))}
        row.update({**halves,
                    "GRU weight (fitted on validation)": f"{wide['gru_weight']:.2f}"})
    if any(r["name"] == "fit" for r in m["stages"]):
        fit = result.stage("fit")["figures"]
        row.update({"epochs (best)": f"{fit['epochs_trained']} ({fit['best_epoch']})",
                    "fit seconds": result.stage("fit")["seconds"]})
    row["total seconds"] = seconds
    return row


def kept_sections(path: Path, scripts: tuple) -> str:
    """The sections that ``scripts`` (``bench_classes``, ``bench_short``, ``bench_ratings``)
    wrote into ``path``, between their markers, kept as they are."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    kept = [text[text.index(m.BEGIN):text.index(m.END) + len(m.END)] + "\n"
            for m in scripts if m.BEGIN in text and m.END in text]
    return "\n".join(kept)


def sweep(config, default_folder: str) -> list[dict]:
    """One row per candidate stage: the two after the wide stage continue the default's own
    trained blend; LM pretraining comes before the fit, so that row trains the default anew."""
    distil, self_train, after = candidates.distil(True), candidates.distil(False), candidates.after_default
    runs = {"distillation": (distil, lambda: after(config, default_folder, distil)),
            "self-training": (self_train, lambda: after(config, default_folder, self_train)),
            "LM pretraining": (candidates.PRETRAIN_LM, lambda: candidates.with_lm_pretraining(config))}
    rows = []
    for name in CANDIDATES:
        stage, run = runs[name]
        start = time.perf_counter()
        result = run()
        row = accuracy_row(f"the default + {name}", result, time.perf_counter() - start)
        rows.append({**row, "what the stage did": result.stage(stage.name)["summary"]})
        print(f"sweep {name}: validation {result.metrics['validation']['accuracy']:.4f}", flush=True)
    return rows


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
    parser.add_argument("--ratings", help="folder of IMDB's star-rated train reviews: also write the "
                        "star-ratings section (needs --movies)")
    parser.add_argument("--ratings-limit", type=int, help="use only this many rated reviews (a smoke test)")
    parser.add_argument("--tune", action="store_true", help="also run the candidate stages (slow)")
    parser.add_argument("--only-tune", metavar="JSON", help="train only these variants of the default (a "
                        "JSON list of overrides, e.g. '[{\"gru_units\": 128}]') on the same "
                        "split, and print their rows instead of writing the file")
    parser.add_argument("--serve", metavar="MODEL", help="only the load test of `hfsent serve` on this model "
                        "folder, --dataset's test reviews (scripts/bench_serve.py): its section, in place")
    args = parser.parse_args(argv)
    if args.serve:
        import bench_serve

        bench_serve.main(["--model", args.serve, "--data", args.dataset, "--output", args.output])
        return
    if args.ratings and not args.movies:
        parser.error("--ratings needs --movies: the rating test split is carved by movie")
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
    default_folder = tempfile.TemporaryDirectory()  # the candidate stages continue this model
    for name, preset_name, carve in runs:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(default_folder.name if name == "default" else tmp) / "model"
            config_of_run = preset(preset_name, **{"dataset": args.dataset, **carve})
            results[name] = train(config_of_run, folder, verbose=2)
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
        rows += sweep(config, str(Path(default_folder.name) / "model"))
        sections.append((f"Candidate stages (validation carved {carving}; chosen on validation, test "
                         "scored once each and never used to choose; seconds: the candidate's own, the "
                         "rows after the default continue its trained model)", table(rows)))
    ratings = (bench_ratings.section(args.dataset, args.ratings, args.movies, args.ratings_limit)
               if args.ratings else None)

    command = " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        "# Benchmarks", "",
        f"Every table below was written by `python scripts/bench.py {command}`"
        " in one process "
        f"({(time.perf_counter() - started) / 60:.0f} minutes), except the sections that name another "
        "script, which are kept from that script's run. The notes at the end are hand-written "
        "(`docs/benchmark-notes.md`).", "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()), "",
        "Default config (as saved with a model): `" + json.dumps(to_saved(config)) + "`", "",
    ]
    body = [f"## {title}\n\n{content}\n" for title, content in sections]
    import bench_classes
    import bench_export
    import bench_one_review
    import bench_scale
    import bench_serve
    import bench_short

    kept = (bench_classes, bench_short, bench_serve, bench_one_review, bench_export, bench_scale)
    kept += () if ratings else (bench_ratings,)
    body.append(kept_sections(Path(args.output), kept) + (f"\n{ratings}\n" if ratings else ""))
    body.append(f"## GPU\n\n{gpu_section(machine)}\n")
    notes = NOTES.read_text(encoding="utf-8") if NOTES.is_file() else ""
    Path(args.output).write_text("\n".join(header + body) + "\n" + notes, encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
