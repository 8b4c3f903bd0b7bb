"""The source's own validation split (``validation``, ``dev`` or ``valid``, any case) serves as
validation, in training, streaming and scoring; ``--validation-split carve`` carves it from train
instead, as a source without one always does; the data stage says which."""

import pandas as pd
import pytest

from hfsent.metrics import score_dataset
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import from_saved, to_saved
from hfsent.split import own_validation
from hfsent.splits import load_splits
from hfsent.stages import Run, prepare
from hfsent.streaming import load_stream_splits
from tests.conftest import make_reviews, tiny_config, write_hub_layout
from tests.test_cli import hfsent, user_error


def _files(tmp_path, own: str | None = "dev") -> tuple[str, dict[str, pd.DataFrame]]:
    """``train=...,<own>=...,test=...`` CSV files: 60, 20 and 16 reviews."""
    frames = {"train": make_reviews(60, seed=1), **({own: make_reviews(20, seed=2)} if own else {}),
              "test": make_reviews(16, seed=3)}
    for name, df in frames.items():
        df.assign(text=[f"{name} {t}" for t in df["text"]]).to_csv(tmp_path / f"{name}.csv", index=False)
        frames[name] = pd.read_csv(tmp_path / f"{name}.csv")
    return ",".join(f"{name}={tmp_path / name}.csv" for name in frames), frames


def test_the_first_of_validation_dev_valid_in_any_case_unless_carving():
    assert own_validation(["train", "VALID", "Dev", "test"]) == "Dev"
    assert own_validation(["train", "valid", "validation"]) == "validation"
    assert own_validation(["train", "test", "val"]) is None
    assert own_validation(["train", "dev"], "carve") is None


@pytest.mark.parametrize("own", ["dev", "Validation", "VALID"])
def test_a_dev_split_is_used_as_validation_and_train_keeps_every_row(tmp_path, own):
    source, frames = _files(tmp_path, own)
    splits = load_splits(tiny_config(source))
    assert sorted(splits["validation"]["text"]) == sorted(frames[own]["text"])
    assert len(splits["train"]) == 60 and len(splits["test"]) == 16


def test_carve_ignores_the_dev_split_and_a_source_without_one_carves(tmp_path):
    source, frames = _files(tmp_path)
    for config in (tiny_config(source, validation_split="carve"), tiny_config(_files(tmp_path, None)[0])):
        splits = load_splits(config)
        assert len(splits["validation"]) == 12 and len(splits["train"]) == 48  # validation_size 0.2
        assert set(splits["validation"]["text"]) <= set(frames["train"]["text"])


def test_a_hub_layout_folder_with_a_validation_split(tmp_path):
    folder = write_hub_layout(tmp_path / "hub", {"train": make_reviews(60, seed=1),
                                                 "validation": make_reviews(20, seed=2),
                                                 "test": make_reviews(16, seed=3)})
    splits = load_splits(tiny_config(folder))
    assert len(splits["validation"]) == 20 and len(splits["train"]) == 60


def test_the_data_stage_says_which_validation_it_used(tmp_path, caplog):
    caplog.set_level("INFO", logger="hfsent.splits")
    source, _ = _files(tmp_path)
    summary, figures = prepare(Run(tiny_config(source)))
    assert summary.endswith("; validation: the source's 'dev' split (20 rows)")
    assert "validation: the source's 'dev' split (20 rows)" in caplog.text
    summary, figures = prepare(Run(tiny_config(source, validation_split="carve")))
    assert summary.endswith("; validation: carved from train at random (12 rows)")
    grouped = tmp_path / "grouped.csv"
    make_reviews(60).assign(movie_id=[i // 3 for i in range(60)]).to_csv(grouped, index=False)
    summary, figures = prepare(Run(tiny_config(grouped, group_column="movie_id", test_size=0.25)))
    assert figures["validation"] == "carved from train by 'movie_id'" and summary.endswith("(9 rows)")


def test_a_stream_reads_the_dev_split_too(tmp_path):
    source, frames = _files(tmp_path)
    splits = load_stream_splits(tiny_config(source, streaming=True))
    texts = [row["text"] for row in splits["validation"].with_format(None)]
    assert sorted(texts) == sorted(frames["dev"]["text"])
    carved = load_stream_splits(tiny_config(source, streaming=True, validation_split="carve"))
    assert {row["text"] for row in carved["validation"].with_format(None)} <= set(frames["train"]["text"])


def test_score_validation_is_the_split_training_chose(trained, tmp_path):
    source, frames = _files(tmp_path, "validation")
    auto = trained.classifier
    assert auto.config.data.validation_split == "auto"
    assert score_dataset(auto, source, split="validation")["num_examples"] == 20
    carving = SentimentClassifier(auto.model, auto.vocab, auto.config.replace(validation_split="carve"))
    assert score_dataset(carving, source, split="validation")["num_examples"] == 12


def test_folders_saved_before_the_choice_carved(tmp_path):
    saved = to_saved(tiny_config("reviews.csv"))
    assert saved["data"]["validation_split"] == "auto" and from_saved(saved).data.validation_split == "auto"
    del saved["data"]["validation_split"]
    assert from_saved({**saved, "format_version": 7}).data.validation_split == "carve"


def test_a_bad_choice_is_one_line():
    assert "argument --validation-split: invalid choice: 'dev'" in user_error(
        hfsent("train", "--dataset", "nowhere.csv", "--validation-split", "dev"))
