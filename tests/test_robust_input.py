"""Bad input: each case gets a clear error that names the problem, or documented handling."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hfsent.data import load_splits
from hfsent.train import prepare_data
from tests.conftest import make_reviews, tiny_config

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_empty_whitespace_non_string_and_none_texts(trained):
    clf = trained.classifier
    with pytest.raises(ValueError, match=r"position \[0, 2\] contain no tokens"):
        clf.predict(["", "fine", " \n\t "])
    with pytest.raises(TypeError, match="text 0 is int"):
        clf.predict([42])
    with pytest.raises(TypeError, match="text 1 is NoneType"):
        clf.predict(["fine", None])


def test_a_million_characters_are_truncated_to_max_length(trained):
    clf = trained.classifier
    huge = "a wonderful film " * 60_000  # ~1,000,000 characters
    assert len(huge) >= 1_000_000
    [ids] = clf.encode([huge])
    assert len(ids) == clf.config.max_length
    assert clf.predict([huge])[0]["label"] == "positive"


def test_emoji_control_characters_and_mixed_scripts(trained):
    texts = ["great 😀🎬 film", "awful\x00\x07 movie\x1b[31m", "великолепный film 映画 great", "\u200b great"]
    results = trained.classifier.predict(texts)
    assert [r["label"] for r in results][:1] == ["positive"]
    assert all(0.0 <= r["probability_positive"] <= 1.0 for r in results)


def test_cli_input_file_that_is_not_utf8_names_file_and_offset(trained, tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("a great film\ncaf\xe9 awful\n".encode("latin-1"))
    out = subprocess.run([sys.executable, str(SCRIPTS / "predict.py"), "--model", str(trained.output_dir),
                          "--input-file", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert f"{bad} is not valid UTF-8: byte 0xe9 at offset 16" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_text_or_label_column_lists_the_columns(tmp_path):
    pd.DataFrame({"comment": ["good"], "stars": [1]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match=r"no text column 'text'.*\['comment', 'stars'\]"):
        load_splits(tiny_config(tmp_path / "x.csv"))
    pd.DataFrame({"text": ["good"], "stars": [1]}).to_csv(tmp_path / "y.csv", index=False)
    with pytest.raises(ValueError, match=r"no label column 'label'.*\['text', 'stars'\]"):
        load_splits(tiny_config(tmp_path / "y.csv"))


@pytest.mark.parametrize("labels, shown", [([0, 1, 2], "2"), (["positive", "neutral", "negative"], "neutral"),
                                           ([0.0, 1.0, 0.5], "0.5")])
def test_labels_outside_0_1_or_positive_negative(tmp_path, labels, shown):
    pd.DataFrame({"text": ["a", "b", "c"], "label": labels}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match=f"labels must be 0/1 or negative/positive.*{shown}"):
        load_splits(tiny_config(tmp_path / "x.csv"))


def test_nan_and_empty_rows_are_skipped_and_counted(tmp_path, caplog):
    df = make_reviews(30)
    df.loc[[1, 2], "text"] = [float("nan"), ""]
    df.loc[3, "label"] = float("nan")
    df.to_csv(tmp_path / "x.csv", index=False)
    splits = load_splits(tiny_config(tmp_path / "x.csv", validation_size=3, test_size=3))
    assert sum(len(s) for s in splits.values()) == 27
    assert "dropped 3 of 30 rows" in caplog.text


def test_a_split_that_tokenizes_to_nothing(tmp_path):
    df = make_reviews(20)
    test = pd.DataFrame({"text": ["<br />", "<br /><br />"] * 5, "label": [0, 1] * 5})
    df.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    cfg = tiny_config(f"train={tmp_path / 'train.csv'},test={tmp_path / 'test.csv'}", validation_size=4)
    with pytest.raises(ValueError, match="the test split tokenizes to nothing"):
        prepare_data(cfg)
