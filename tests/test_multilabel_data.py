"""Multi-hot labels from each multi-label layout, on tiny in-memory splits."""

import datasets
import pytest
from datasets import ClassLabel, Dataset, Features, Sequence, Value

from hfsent.errors import InputError, MissingError
from hfsent.multilabel import COLUMNS, LABELS, LIST, MAX_MULTI_LABELS, SEPARATED, layout, multi_hot


def _emotions(rows, names=("joy", "fear", "anger")):
    return Dataset.from_dict({"text": [f"t{i}" for i in range(len(rows))], "emotions": rows},
                             features=Features({"text": Value("string"),
                                                "emotions": Sequence(ClassLabel(names=list(names)))}))


def test_classlabel_list_keeps_its_names_and_order():
    out, names = multi_hot({"train": _emotions([[0, 2], [], [1]])}, "emotions")
    assert names == ["joy", "fear", "anger"]
    assert out["train"][LABELS] == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert out["train"].column_names == ["text", LABELS]
    assert out["train"].features[LABELS].feature.dtype == "float32"


def test_another_split_is_translated_by_name():
    # the test split's ClassLabel orders the same names otherwise: 0 there is "anger"
    test = _emotions([[0], [2, 1]], names=("anger", "joy", "fear"))
    splits = {"train": _emotions([[0], [1, 2]]), "test": test}
    out, names = multi_hot(splits, "emotions")
    assert out["test"][LABELS] == [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]


def test_list_of_strings_is_sorted_and_unseen_labels_are_refused():
    train = Dataset.from_dict({"tags": [["pos", "ambiguous"], [], ["neg"]]})
    validation = Dataset.from_dict({"tags": [["neg", "pos"]]})
    out, names = multi_hot({"train": train, "validation": validation}, "tags")
    assert names == ["ambiguous", "neg", "pos"]
    assert out["validation"][LABELS] == [[0.0, 1.0, 1.0]]
    with pytest.raises(InputError, match="the test split's column 'tags' holds a label") as err:
        multi_hot({"train": train, "test": Dataset.from_dict({"tags": [["pos", "sarcastic"]]})}, "tags")
    assert "\n" not in str(err.value)


def test_list_of_numbers_is_in_numeric_order():
    _, names = multi_hot({"train": Dataset.from_dict({"l": [[10, 2], [1]]})}, "l")
    assert names == ["1", "2", "10"]


def test_separated_strings_are_split_stripped_and_may_be_empty():
    cells = ["negative, ambiguous", "", None, "positive", " positive ,negative,"]
    train = Dataset.from_dict({"label": cells})
    out, names = multi_hot({"train": train}, "label")
    assert names == ["ambiguous", "negative", "positive"]
    assert out["train"][LABELS] == [[1, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 1]]
    out, names = multi_hot({"train": Dataset.from_dict({"label": ["a|b", "b"]})}, "label", separator="|")
    assert names == ["a", "b"] and out["train"][LABELS] == [[1, 1], [0, 1]]


def test_one_column_per_label():
    train = Dataset.from_dict({"text": ["x", "y", "z"], "anger": [1, 0, 0], "joy": [True, True, False]})
    out, names = multi_hot({"train": train}, ["anger", "joy"])
    assert names == ["anger", "joy"]
    assert out["train"][LABELS] == [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert out["train"].column_names == ["text", LABELS]
    with pytest.raises(InputError, match="must hold 0/1"):
        multi_hot({"train": Dataset.from_dict({"anger": [1, 2], "joy": [0, 1]})}, ["anger", "joy"])
    with pytest.raises(MissingError, match="'joy'"):
        multi_hot({"train": train, "test": Dataset.from_dict({"anger": [1]})}, ["anger", "joy"])


def test_layout_is_told_by_the_feature():
    features = _emotions([[0]]).features
    assert layout(features, "emotions") == LIST
    assert layout(features, "text") == SEPARATED
    assert layout(features, ["a", "b"]) == COLUMNS
    with pytest.raises(InputError, match="lists or separated strings"):
        layout(Features({"stars": Value("int64")}), "stars")


def test_streamed_splits_are_mapped_lazily():
    train = _emotions([[0, 2], [1]]).to_iterable_dataset()
    test = Dataset.from_dict({"emotions": [["fear"]]}).to_iterable_dataset()
    out, names = multi_hot({"train": train, "test": test}, "emotions")
    assert names == ["joy", "fear", "anger"]
    assert [row[LABELS] for row in out["train"]] == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    assert [row[LABELS] for row in out["test"]] == [[0.0, 1.0, 0.0]]
    strings = Dataset.from_dict({"label": ["b,a", "c"]}).to_iterable_dataset()
    assert multi_hot({"train": strings}, "label")[1] == ["a", "b", "c"]


def test_names_are_checked_and_capped():
    with pytest.raises(InputError, match="at least two labels"):
        multi_hot({"train": Dataset.from_dict({"label": ["a", "a,"]})}, "label")
    with pytest.raises(InputError, match="label name 1 holds the character U\\+001B"):
        multi_hot({"train": Dataset.from_dict({"label": ["a", "b\x1b[2J"]})}, "label")
    many = ",".join(f"l{i}" for i in range(MAX_MULTI_LABELS + 1))
    with pytest.raises(InputError, match="more than 1,000 distinct labels"):
        multi_hot({"train": Dataset.from_dict({"label": [many]})}, "label")


def test_csv_streams_whose_features_are_unknown(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("text,anger,joy,tags\nx,1,0,\"b, a\"\ny,0,1,\n")
    stream = datasets.load_dataset("csv", data_files={"train": str(path)}, streaming=True)["train"]
    assert stream.features is None
    out, names = multi_hot({"train": stream}, ["anger", "joy"])
    assert names == ["anger", "joy"]
    assert [(row["text"], row[LABELS]) for row in out["train"]] == [("x", [1.0, 0.0]), ("y", [0.0, 1.0])]
    out, names = multi_hot({"train": stream}, "tags")
    assert names == ["a", "b"] and [row[LABELS] for row in out["train"]] == [[1.0, 1.0], [0.0, 0.0]]


def test_missing_items_and_bad_settings():
    out, _ = multi_hot({"train": Dataset.from_dict({"l": [["a", None], ["b"]]})}, "l")
    assert out["train"][LABELS] == [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(InputError, match="separator"):
        multi_hot({"train": Dataset.from_dict({"label": ["a,b"]})}, "label", separator="")
    with pytest.raises(InputError, match="distinct"):
        multi_hot({"train": Dataset.from_dict({"a": [1], "b": [0]})}, ["a", "a"])
