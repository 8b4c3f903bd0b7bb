"""``hfsent predict --dataset``: every row's id, text and prediction, in Parquet or JSON lines,
written atomically."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hfsent import predictions
from hfsent.predictions import predict_dataset
from tests.test_cli import hfsent, user_error

REVIEWS = Path(__file__).parent / "fixtures" / "reviews_test.csv"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_json(path, lines=True)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_every_row_of_a_split_in_both_formats(trained, tmp_path, suffix):
    clf = trained.classifier
    out = tmp_path / f"preds{suffix}"
    assert predict_dataset(clf, str(REVIEWS), out) == (40, "train")  # a lone CSV is one split
    got, texts = _read(out), pd.read_csv(REVIEWS)["text"].tolist()
    expected = clf.predict(texts)
    assert got["id"].tolist() == list(range(40)) and got["text"].tolist() == texts
    assert got["label"].tolist() == [e["label"] for e in expected]
    np.testing.assert_allclose(got["probability_positive"], [e["probability_positive"] for e in expected],
                               atol=1e-6)
    assert got["scores"][0] == pytest.approx(expected[0]["scores"], abs=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [out.name], "no temporary file is left"


def test_an_id_column_and_blank_texts_keep_their_rows(trained, tmp_path):
    data = tmp_path / "held_out.csv"
    rows = {"id": ["r7", "r8", "r9"], "review": ["the film was great", " ", "the plot was awful"]}
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "preds.parquet"
    predict_dataset(trained.classifier, str(data), out)
    got = pq.read_table(out).to_pylist()
    assert [r["id"] for r in got] == ["r7", "r8", "r9"]
    assert [r["label"] for r in got] == ["positive", None, "negative"] and got[1]["scores"] is None


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_an_interrupted_write_leaves_no_partial_file(trained, tmp_path, monkeypatch, suffix):
    clf, out = trained.classifier, tmp_path / f"preds{suffix}"
    out.write_text("the earlier output\n")
    monkeypatch.setattr(predictions, "CHUNK_ROWS", 8)
    calls = []

    def interrupted(texts, batch_size=None):
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return type(clf).predict(clf, texts, batch_size)

    monkeypatch.setattr(clf, "predict", interrupted)
    with pytest.raises(KeyboardInterrupt):
        predict_dataset(clf, str(REVIEWS), out)
    assert calls == [8, 8, 8], "two chunks were written before the interruption"
    assert out.read_text() == "the earlier output\n", "the earlier output stays whole"
    assert [p.name for p in tmp_path.iterdir()] == [out.name], "no temporary file is left"


def test_the_command_writes_the_file_and_refuses_bad_flags_in_one_line(trained, tmp_path):
    model, out = str(trained.output_dir), tmp_path / "preds.jsonl"
    run = hfsent("predict", "--model", model, "--dataset", str(REVIEWS), "--output-file", str(out))
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"wrote 40 predictions of {REVIEWS} [train] to {out}" in run.stderr
    assert "predicting" not in run.stderr, "no progress bar when stderr is not a terminal"
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 40
    assert "must end in .parquet or .jsonl" in user_error(
        hfsent("predict", "--model", model, "--dataset", str(REVIEWS), "--output-file", "p.csv"))
    assert "--split and --text-column go with --dataset" in user_error(
        hfsent("predict", "--model", model, "--split", "test", "a text"))
