"""Multi-label classification end to end: train on one 0/1 column per label, save the fitted
thresholds, push, pull, predict, score, answer as the Endpoint handler, and show in the Space;
a separated string column and a list column read the same labels."""

import json
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest

from hfsent.config import ModelConfig
from hfsent.errors import InputError
from hfsent.hub import push_to_hub
from hfsent.metrics import score_dataset
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME
from hfsent.serving import EndpointHandler
from hfsent.tasks import task_for
from tests.conftest import tiny_config

FIXTURES = Path(__file__).parent / "fixtures"
TRAIN, TEST = FIXTURES / "emotions_train.csv", FIXTURES / "emotions_test.csv"
NAMES = ["anger", "joy", "fear"]
PROBES = {"the film was furious": {"anger"}, "a cheerful story": {"joy"},
          "terrified and furious": {"anger", "fear"}, "the plot was a story": set()}


@pytest.fixture(scope="module")
def ml_model(tmp_path_factory):
    """A multi-label model on the generated emotions: the GRU blended, per label, with its
    one-vs-rest linear half."""
    from hfsent.train import train

    cfg = tiny_config(f"train={TRAIN},test={TEST}", label_column=",".join(NAMES), multi_label=True,
                      epochs=25, patience=25, wide_ngrams=True, wide_buckets=256)
    return train(cfg, tmp_path_factory.mktemp("multilabel") / "model", verbose=0)


def test_the_model_learns_each_label_and_saves_its_thresholds(ml_model):
    clf = ml_model.classifier
    assert clf.config.model.task == "multilabel" and clf.config.model.classes == NAMES
    saved = json.loads((ml_model.output_dir / CONFIG_NAME).read_text())["model"]
    assert len(saved["thresholds"]) == 3 and all(0 <= t <= 1 for t in saved["thresholds"])
    assert clf.model.output_shape == (None, 3)
    predicted = clf.predict(list(PROBES))
    assert [set(p["labels"]) for p in predicted] == list(PROBES.values())
    assert set(predicted[0]["scores"]) == set(NAMES)
    test = ml_model.metrics["test"]
    assert test["micro_f1"] > 0.9 and test["jaccard"] > 0.85 and set(test["per_class"]) == set(NAMES)
    wide = ml_model.stage("wide")["figures"]
    assert len(wide["gru_weight"]) == 3  # one blend weight per label
    from hfsent.regularization import C_GRID

    # no --wide-c: each label's C chosen by cross-validation on train, from the grid
    assert len(wide["c"]) == 3 and set(wide["c"]) <= set(C_GRID) and wide["cross_validation"]["folds"] == 3
    # each half alone is judged as the blend is: at thresholds fitted on validation for that half
    for half in ("gru", "linear"):
        assert set(wide[half]) == {"validation", "test", "thresholds"} and len(wide[half]["thresholds"]) == 3
    assert "each at thresholds fitted on validation for it" in ml_model.stage("wide")["summary"]


def test_a_half_alone_is_scored_at_thresholds_fitted_for_it_not_at_one_half():
    """Scores far below 0.5 that still rank every label right: micro F1 0 at 0.5, 1 at fitted
    thresholds, on validation and on test alike (the test is scored at validation's thresholds)."""
    task = task_for(ModelConfig(task="multilabel", label_names=NAMES))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (60, 3))
    labels[:12] = np.eye(3, dtype=int)[np.arange(12) % 3]  # every label has positives
    outputs = np.where(labels == 1, 0.3, 0.1) + rng.uniform(0, 0.05, labels.shape)
    assert task.quick_score(outputs, labels) == 0.0
    figures = task.score_alone(outputs, labels, lambda: (outputs[::-1], labels[::-1]))
    assert figures["validation"] == figures["test"] == 1.0
    assert all(0.15 < t < 0.3 for t in figures["thresholds"])


def test_the_saved_thresholds_are_the_bagged_ones_not_a_single_pick():
    """The model keeps each label's F1-best cut averaged over bootstrap resamples of validation
    (hfsent.thresholds.bagged_thresholds), steadier for rare labels than one pick on all of it."""
    from hfsent.thresholds import bagged_thresholds, fit_thresholds

    task = task_for(ModelConfig(task="multilabel", label_names=NAMES))
    rng = np.random.default_rng(5)
    labels = (rng.random((120, 3)) < [0.4, 0.2, 0.1]).astype(int)
    outputs = np.clip(rng.normal(0.3 + 0.2 * labels, 0.15), 0, 1)
    fitted = task.fit_decision(lambda: (outputs, labels))["thresholds"]
    assert fitted == [round(float(t), 4) for t in bagged_thresholds(labels, outputs)]
    assert fitted != [round(float(t), 4) for t in fit_thresholds(labels, outputs)]


def test_ranked_output_is_a_sigmoid_pipeline_with_the_chosen_labels_marked(ml_model):
    [ranked] = ml_model.classifier.ranked(["terrified and furious"])
    assert [set(r) for r in ranked] == [{"label", "score", "selected"}] * 3
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert {r["label"] for r in ranked if r["selected"]} == {"anger", "fear"}
    assert sum(r["score"] for r in ranked) > 1.2  # independent sigmoids, not a softmax


def test_push_pull_predict_score_handler_and_space(ml_model, hub, tmp_path):
    push_to_hub(ml_model.output_dir, "tester/emotions")
    pulled = SentimentClassifier.from_pretrained("tester/emotions", cache_dir=tmp_path / "cache")
    texts = list(PROBES)
    assert pulled.predict(texts) == ml_model.classifier.predict(texts)
    scores = score_dataset(pulled, str(TEST))
    assert scores["jaccard"] == pytest.approx(ml_model.metrics["test"]["jaccard"], abs=1e-6)
    handler = EndpointHandler(str(ml_model.output_dir))
    assert handler({"inputs": texts}) == ml_model.classifier.ranked(texts)
    pytest.importorskip("gradio")
    from hfsent.space import analyse, write_space

    scores, html = analyse(pulled, "a cheerful story")
    assert set(scores) == set(NAMES) and scores["joy"] > 0.5 and "hfsent-trace" in html
    assert (write_space(str(ml_model.output_dir), tmp_path / "space") / "app.py").is_file()


def _demo_run(folder):
    import gradio as gr

    from hfsent.space import build_demo

    demo = build_demo(str(folder))
    [run] = [f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "run"][:1]
    return run, [b.elem_id for b in demo.blocks.values() if isinstance(b, gr.HTML)]


def test_the_space_lists_the_labels_above_their_thresholds(ml_model, tmp_path):
    """Beside the scores, the Space names the labels given (each label at or above its own
    threshold), every name escaped; a hostile label name stays text."""
    pytest.importorskip("gradio")
    import html
    import shutil

    from hfsent.space import analyse

    run, shown = _demo_run(ml_model.output_dir)
    assert shown == ["selected", "trace"]
    scores, selected, trace = run("terrified and furious")
    assert (scores, trace) == analyse(ml_model.classifier, "terrified and furious")
    assert "<b>anger</b>, <b>fear</b>" in selected and "joy" not in selected
    assert "none of the labels" in run("the plot was a story")[1]

    from tests.nasty import NASTY

    hostile = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a & b"]
    assert set(hostile) <= set(NASTY) | {"a & b"}
    folder = tmp_path / "hostile"
    shutil.copytree(ml_model.output_dir, folder)
    cfg = json.loads((folder / CONFIG_NAME).read_text())
    cfg["model"]["label_names"], cfg["model"]["thresholds"] = hostile, [0.0, 0.0, 1.0]  # the first two
    cfg["model"]["id2label"] = {str(i): n for i, n in enumerate(hostile)}
    cfg["model"]["label2id"] = {n: i for i, n in enumerate(hostile)}
    (folder / CONFIG_NAME).write_text(json.dumps(cfg))
    run, _ = _demo_run(folder)
    scores, selected, _ = run("terrified and furious")
    assert set(scores) == set(hostile)
    assert "<script>" not in selected and "<img" not in selected
    assert selected.count("<b>") == 2 and html.escape(hostile[0]) in selected and "a &amp; b" not in selected


def test_the_command_line_scores_and_predicts_a_multilabel_model(ml_model, tmp_path):
    out = subprocess.run([sys.executable, "-m", "hfsent", "predict", "--model", str(ml_model.output_dir),
                          "a cheerful story"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "joy" in out.stdout
    out = subprocess.run([sys.executable, "-m", "hfsent", "score", "--model", str(ml_model.output_dir),
                          "--dataset", str(TEST), "--output", str(tmp_path / "s.json")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "jaccard" in out.stdout


def _layouts(tmp_path) -> dict[str, Path]:
    df = pd.read_csv(TRAIN)
    tags = [",".join(n for n in NAMES if row[n]) for _, row in df.iterrows()]
    separated = tmp_path / "separated.csv"
    pd.DataFrame({"text": df["text"], "emotions": [t.replace(",", ";") for t in tags]}).to_csv(separated,
                                                                                              index=False)
    listed = tmp_path / "listed"
    feature = datasets.Sequence(datasets.ClassLabel(names=NAMES))
    ds = datasets.Dataset.from_dict({"text": list(df["text"]), "labels": [
        [NAMES.index(n) for n in t.split(",") if n] for t in tags]},
        features=datasets.Features({"text": datasets.Value("string"), "labels": feature}))
    ds.to_parquet(listed / "train-00000-of-00001.parquet")
    return {"separated": separated, "listed": listed}


def test_a_separated_column_and_an_auto_detected_list_column_read_the_same_labels(tmp_path):
    from hfsent.prepare import prepare_data

    want = dict(zip(NAMES, pd.read_csv(TRAIN)[NAMES].to_numpy().sum(axis=0).tolist()))
    paths = _layouts(tmp_path)
    runs = {"separated": tiny_config(paths["separated"], multi_label=True, label_column="emotions",
                                     label_separator=";", validation_size=0.2, test_size=0.2),
            "listed": tiny_config(paths["listed"], validation_size=0.2, test_size=0.2)}
    for name, cfg in runs.items():
        data = prepare_data(cfg)
        assert data.task == "multilabel", name
        # a separated column's names are sorted; a ClassLabel's keep its order
        assert list(data.classes) == (sorted(NAMES) if name == "separated" else NAMES), name
        labels = np.concatenate([np.asarray(data.splits[s]["label"]) for s in data.splits])
        assert dict(zip(data.classes, labels.sum(axis=0).astype(int).tolist())) == want, name


@pytest.mark.parametrize("source", ["parquet", "jsonl"])
def test_a_streamed_list_column_is_multilabel_as_it_is_eagerly(tmp_path, source):
    """A Parquet ``Sequence(ClassLabel)`` column, or JSON lines of string lists (whose features a
    stream knows only once read), make the run multi-label streamed or not, with the same names."""
    from hfsent.prepare import prepare_data

    if source == "parquet":
        folder = _layouts(tmp_path)["listed"]
    else:
        folder = tmp_path / "jsonl"
        folder.mkdir()
        df = pd.read_csv(TRAIN)
        lines = [json.dumps({"text": t, "labels": [n for n in NAMES if row[n]]})
                 for t, (_, row) in zip(df["text"], df.iterrows())]
        (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    found = {}
    for streaming in (False, True):
        data = prepare_data(tiny_config(folder, validation_size=0.2, test_size=0.2, streaming=streaming))
        assert data.task == "multilabel", (source, streaming)
        found[streaming] = list(data.classes)
        rows = next(iter(data.splits["train"].with_format("arrow").iter(batch_size=50)))["label"].to_pylist()
        assert all(len(r) == 3 for r in rows) and any(sum(r) > 1 for r in rows)  # read, not null
    assert found[True] == found[False] == (NAMES if source == "parquet" else sorted(NAMES))


def test_a_csv_label_cell_that_looks_like_a_list_is_named_in_the_data_summary(tmp_path):
    """A CSV cannot type a list: without --multi-label its cells are classes, and the data
    stage says how to read them as labels."""
    from hfsent.stages import Run, prepare

    df = pd.read_csv(TRAIN)
    tags = [",".join(n for n in NAMES if row[n]) or "none" for _, row in df.iterrows()]
    path = tmp_path / "tags.csv"
    pd.DataFrame({"text": df["text"], "label": tags}).to_csv(path, index=False)
    summary, _ = prepare(Run(tiny_config(path, validation_size=0.2, test_size=0.2)))
    assert "class names look like several labels in one cell" in summary and "--multi-label" in summary
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"text": df["text"], "label": [t.split(",")[0] for t in tags]}).to_csv(plain, index=False)
    assert "--multi-label" not in prepare(Run(tiny_config(plain, validation_size=0.2, test_size=0.2)))[0]


def test_thresholds_are_checked_on_load():
    with pytest.raises(InputError, match="must hold 3 numbers"):
        ModelConfig(task="multilabel", label_names=NAMES, thresholds=[0.5, 0.5])
    with pytest.raises(InputError, match=r"thresholds\[1\] must be a number in \[0, 1\]"):
        ModelConfig(task="multilabel", label_names=NAMES, thresholds=[0.5, 1.5, 0.5])
    task = task_for(ModelConfig(task="multilabel", label_names=NAMES, thresholds=[0.2, 0.9, 0.5]))
    assert task.present(np.array([[0.3, 0.8, 0.5]]))[0]["labels"] == ["anger", "fear"]


def test_a_folder_whose_thresholds_do_not_fit_its_labels_is_refused(ml_model, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(ml_model.output_dir, folder)
    cfg = json.loads((folder / CONFIG_NAME).read_text())
    cfg["model"]["thresholds"] = [0.5]
    (folder / CONFIG_NAME).write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="must hold 3 numbers"):
        SentimentClassifier.load(folder)


def test_a_streamed_multilabel_source_trains_and_scores(tmp_path):
    from hfsent.train import train

    cfg = tiny_config(f"train={TRAIN},test={TEST}", label_column=",".join(NAMES), multi_label=True,
                      streaming=True, validation_size=0.2, epochs=3, patience=3)
    result = train(cfg, tmp_path / "m", verbose=0)
    assert result.classifier.config.model.classes == NAMES
    assert result.stage("data")["figures"]["classes"] == dict(zip(NAMES, [
        int(v) for v in result.stage("data")["figures"]["classes"].values()]))
    assert 0 <= result.metrics["test"]["jaccard"] <= 1 and result.metrics["test"]["num_examples"] == 60
    assert len(result.classifier.config.model.thresholds) == 3


def test_the_export_answers_every_score_and_the_labels_above_their_thresholds(ml_model, tmp_path):
    import tensorflow as tf

    from hfsent.export import export_saved_model

    folder = export_saved_model(ml_model.output_dir, tmp_path / "1")
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    texts = list(PROBES)
    out = serve(text=tf.constant(texts))
    clf = ml_model.classifier
    np.testing.assert_allclose(out["scores"].numpy(), clf.predict_proba(texts), atol=1e-5)
    chosen = [{n for n, c in zip(NAMES, row) if c} for row in out["selected"].numpy()]
    assert chosen == [set(p["labels"]) for p in clf.predict(texts)]
    assert json.loads((folder / "hfsent_export.json").read_text())["labels"] == NAMES



def test_explain_traces_a_two_label_model_by_its_top_label_not_as_one_binary_probability():
    from types import SimpleNamespace

    from hfsent.explain import Trace, sentiment_trace

    class TwoLabels:  # a two-label multi-label classifier: its task, and sigmoid rows per prefix
        task = task_for(ModelConfig(task="multilabel", label_names=["anger", "joy"], thresholds=[0.5, 0.5]))
        preprocessor = SimpleNamespace(to_ids=lambda tokens: [[2, 3, 4] for _ in tokens])

        def tokens(self, texts):
            return [["so", "much", "joy"]]

        def predict_ids(self, prefixes):
            return np.array([[0.9, 0.2], [0.8, 0.7], [0.1, 0.95]])[: len(prefixes)]

    trace = sentiment_trace(TwoLabels(), "so much joy")
    assert not trace.binary and trace.describe() == "joy (P = 0.950)"
    binary = Trace(["good"], np.array([[0.2, 0.8]]), ["negative", "positive"], binary=True)
    assert binary.describe() == "P(positive) = 0.800 (positive)"
