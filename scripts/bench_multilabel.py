"""SemEval-2018 E-c: trained hfsent multi-label models against TF-IDF + one-vs-rest logistic
regression on the same splits.

``python scripts/bench_multilabel.py --model runs/s42 runs/s43 --train train.parquet --test dev.parquet``
(``../shared/data/semeval2018-ec``'s TSVs converted to Parquet: tweets hold quotes, so read them
with ``pandas.read_csv(sep="\\t", quoting=3)``).  The splits are training's own
(:func:`hfsent.splits.load_splits` with the first model's config, ``--validation`` naming the
validation file where training was given one; otherwise validation is carved from train as
training carved it), the ``--test`` file as test.  Several ``--model`` folders are runs of one
configuration (seeds): each is scored on test at its saved thresholds, and the rows give the mean
(± standard deviation over the runs where there are several).  The baseline is TF-IDF of word
uni- and bigrams (sublinear, ``min_df=2``) with one L2 logistic regression per label (``C`` chosen
on validation by micro F1 from 0.3 to 30), scored at 0.5, at per-label thresholds picked on
validation by :func:`hfsent.thresholds.fit_thresholds` (the rule hfsent used before), and at the
bagged thresholds hfsent saves now (:func:`hfsent.thresholds.bagged_thresholds`).  Then the paired
bootstrap (``scripts/benchmarks.py``) of hfsent (the mean over its runs) against that last
baseline on the same test tweets, per measure.  Jaccard, micro F1 and macro F1 are the task's
measures; the official SVM baseline's are printed for reference.

This is benchmark code, not part of the installed package.
"""

from __future__ import annotations

import argparse

import numpy as np
from benchmarks import paired_bootstrap

from hfsent.metrics import load_metric
from hfsent.predict import SentimentClassifier
from hfsent.splits import load_splits
from hfsent.thresholds import bagged_thresholds, fit_thresholds

OFFICIAL_SVM = {"jaccard": 0.442, "micro_f1": 0.570, "macro_f1": 0.443}
KEYS = ("jaccard", "micro_f1", "macro_f1")


def scores(predicted: np.ndarray, truth: np.ndarray) -> dict:
    raw = load_metric("multilabel_classification").compute(predictions=np.asarray(predicted).tolist(),
                                                          references=np.asarray(truth).tolist())
    return {k: raw[k] for k in KEYS}


def _jaccard(truth: np.ndarray, predicted: np.ndarray) -> float:
    union = (truth | predicted).sum(axis=1)  # no true and no predicted label counts 1, as in the metric
    return float(np.mean(np.where(union == 0, 1.0, (truth & predicted).sum(axis=1) / np.maximum(union, 1))))


def _f1(average: str):
    from sklearn.metrics import f1_score

    return lambda truth, predicted: float(f1_score(truth, predicted, average=average, zero_division=0))


FAST = {"jaccard": _jaccard, "micro_f1": _f1("micro"), "macro_f1": _f1("macro")}  # the bootstrap's


def baseline(splits) -> dict[str, np.ndarray]:
    """The TF-IDF baseline's 0/1 test predictions, one entry per way of thresholding."""
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
    validation, test = model.predict_proba(x["validation"]), model.predict_proba(x["test"])
    name = f"TF-IDF + one-vs-rest LR (C={c:g} chosen on validation)"
    return {f"{name}, 0.5": (test >= 0.5).astype(int),
            f"{name}, thresholds picked on validation (fit_thresholds)":
                (test >= fit_thresholds(labels["validation"], validation)).astype(int),
            f"{name}, bagged thresholds on validation (bagged_thresholds)":
                (test >= bagged_thresholds(labels["validation"], validation)).astype(int)}


def row(name: str, runs: list[dict]) -> str:
    cells = [f"{np.mean([r[k] for r in runs]):.3f}" + (f" ± {np.std([r[k] for r in runs], ddof=1):.3f}"
                                                       if len(runs) > 1 else "") for k in KEYS]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, nargs="+", help="trained hfsent model folders (seeds)")
    parser.add_argument("--train", required=True)
    parser.add_argument("--validation", help="the validation file training was given, if any")
    parser.add_argument("--test", required=True)
    args = parser.parse_args()
    classifiers = [SentimentClassifier.load(folder) for folder in args.model]
    own = f",validation={args.validation}" if args.validation else ""
    splits = load_splits(classifiers[0].config.replace(dataset=f"train={args.train}{own},test={args.test}"))
    truth = np.asarray(splits["test"]["label"]).astype(int)
    texts = list(splits["test"]["text"])
    ours = np.stack([clf.task.decide(clf.predict_proba(texts)) for clf in classifiers])
    base = baseline(splits)
    print(f"| system ({len(ours)} run(s) where ±) | Jaccard | micro F1 | macro F1 |\n|---|---|---|---|")
    print(row("hfsent", [scores(p, truth) for p in ours]))
    for name, predicted in base.items():
        print(row(name, [scores(predicted, truth)]))
    print(row("official SVM baseline (on the task's test set)", [OFFICIAL_SVM]))
    print("\n| hfsent − TF-IDF, paired bootstrap on test | Jaccard | micro F1 | macro F1 |")
    print("|---|---|---|---|")
    for name, predicted in list(base.items())[1:]:  # the thresholded baselines
        cells = []
        for key in KEYS:
            r = paired_bootstrap(FAST[key], truth, ours, predicted[None], samples=1000)
            cells.append(f"{r['difference']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}], p {r['p']:.3g}")
        print(f"| vs {name.split(', ', 1)[1]} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main()
