"""SemEval-2018 E-c: a trained hfsent multi-label model against TF-IDF + one-vs-rest logistic
regression on the same splits.

``python scripts/bench_multilabel.py --model runs/semeval --train train.parquet --test dev.parquet``
(``../shared/data/semeval2018-ec``'s TSVs converted to Parquet: tweets hold quotes, so read them
with ``pandas.read_csv(sep="\\t", quoting=3)``).  The splits are training's own
(:func:`hfsent.splits.load_splits` with the model's config: validation carved from train, the dev
file as test).  The baseline is TF-IDF of word uni- and bigrams (sublinear, ``min_df=2``) with
one L2 logistic regression per label (``C`` chosen on validation by micro F1 from 0.3 to 30),
scored at 0.5 and with per-label thresholds fitted on validation as hfsent fits its own
(:func:`hfsent.thresholds.fit_thresholds`).  Prints one Markdown row per system: Jaccard, micro F1
and macro F1 on test (the task's measures), and the official SVM baseline's for reference.

This is benchmark code, not part of the installed package.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hfsent.metrics import load_metric
from hfsent.predict import SentimentClassifier
from hfsent.splits import load_splits
from hfsent.thresholds import fit_thresholds

OFFICIAL_SVM = {"jaccard": 0.442, "micro_f1": 0.570, "macro_f1": 0.443}
KEYS = ("jaccard", "micro_f1", "macro_f1")


def scores(predicted: np.ndarray, truth: np.ndarray) -> dict:
    raw = load_metric("multilabel_classification").compute(predictions=predicted.tolist(),
                                                          references=truth.tolist())
    return {k: raw[k] for k in KEYS}


def baseline(splits) -> dict[str, dict]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    texts = {name: list(ds["text"]) for name, ds in splits.items()}
    labels = {name: np.asarray(ds["label"]).astype(int) for name, ds in splits.items()}
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    x = {"train": vectorizer.fit_transform(texts["train"])}
    x.update({name: vectorizer.transform(texts[name]) for name in ("validation", "test")})
    best = None
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        model = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000)).fit(x["train"], labels["train"])
        probs = model.predict_proba(x["validation"])
        f1 = scores((probs >= 0.5).astype(int), labels["validation"])["micro_f1"]
        if best is None or f1 > best[0]:
            best = (f1, c, model)
    _, c, model = best
    thresholds = fit_thresholds(labels["validation"], model.predict_proba(x["validation"]))
    test = model.predict_proba(x["test"])
    return {f"TF-IDF + one-vs-rest LR (C={c:g}), 0.5": scores((test >= 0.5).astype(int), labels["test"]),
            f"TF-IDF + one-vs-rest LR (C={c:g}), thresholds fitted on validation":
                scores((test >= thresholds).astype(int), labels["test"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the trained hfsent model folder")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    args = parser.parse_args()
    clf = SentimentClassifier.load(args.model)
    config = clf.config.replace(dataset=f"train={args.train},test={args.test}")
    splits = load_splits(config)
    test = json.loads((Path(args.model) / "metrics.json").read_text())["test"]
    rows = {"hfsent (default preset, --multi-label)": {k: test[k] for k in KEYS}, **baseline(splits),
            "official SVM baseline (on the task's test set)": OFFICIAL_SVM}
    print("| system | Jaccard | micro F1 | macro F1 |\n|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3f}" for k in KEYS) + " |")


if __name__ == "__main__":
    main()
