"""Configs by component (hfsent.config), their flags (hfsent.flags), and what a model folder saves of
them, checked on load, the previous format included (hfsent.saved_config)."""

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hfsent.config import COMPONENTS, Config, preset
from hfsent.flags import add_config_arguments, config_from_args
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME, FORMAT_VERSION, from_saved, public_source, to_json, to_saved

FIXTURES = Path(__file__).parent / "fixtures"


def test_presets_set_fields_in_their_components():
    cfg = preset("notebook", dataset="x.csv")
    assert (cfg.model.embedding_dim, cfg.model.gru_units, cfg.training.batch_size, cfg.training.epochs) == \
        (300, 500, 20, 5)
    assert not cfg.model.wide_ngrams and preset("default").model.wide_ngrams
    assert cfg.data.dataset == "x.csv"
    with pytest.raises(ValueError, match="unknown preset"):
        preset("fastest")


def test_replace_routes_flat_names_and_leaves_the_original():
    base = Config()
    changed = base.replace(max_length=200, gru_units=7, num_proc=3)
    got = changed.preprocessing.max_length, changed.model.gru_units, changed.runtime.num_proc
    assert got == (200, 7, 3)
    assert base.preprocessing.max_length is None and base.model.gru_units == 64  # None: read from the data
    with pytest.raises(ValueError, match=r"unknown hfsent settings: \['gru_size'\]"):
        base.replace(gru_size=3)


def test_flags_map_onto_the_components():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="default")
    add_config_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--preset", "notebook", "--gru-units", "7", "--bidirectional",
                                              "--strategy", "mirrored"]))
    assert (cfg.model.gru_units, cfg.model.embedding_dim, cfg.model.bidirectional) == (7, 300, True)
    assert cfg.runtime.strategy == "mirrored"
    assert config_from_args(parser.parse_args(["--no-lowercase"])).preprocessing.lowercase is False
    groups = [g.title for g in parser._action_groups]
    assert [f"{part} settings" in " ".join(groups) for part in COMPONENTS] == [True] * len(COMPONENTS)


@pytest.mark.parametrize("field, value", [("max_length", 0), ("batch_size", 0), ("epochs", -1),
                                          ("validation_size", 0), ("dropout", 1.0), ("wide_weight", 1.5),
                                          ("rating_min", 10.0), ("word2vec_min_count", 0)])
def test_out_of_range_values_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        Config().replace(**{field: value})


def test_saved_config_has_no_runtime_settings_and_no_local_path(tmp_path):
    local = tmp_path / "reviews.csv"
    local.write_text("text,label\n")
    cfg = Config().replace(dataset=f"train={local},test={tmp_path / 'test.csv'}", num_proc=2, streaming=True)
    saved = to_saved(cfg)
    assert set(saved) == {"format_version", "data", "preprocessing", "model", "training"}
    assert saved["data"]["dataset"] == "train=reviews.csv,test=test.csv"
    assert str(tmp_path) not in json.dumps(saved)
    assert "num_proc" not in json.dumps(saved) and "strategy" not in json.dumps(saved)
    assert from_saved(saved).data.dataset == "train=reviews.csv,test=test.csv"
    assert public_source(Config().replace(dataset=str(local), dataset_id="me/reviews").data) == "me/reviews"
    assert public_source(Config().data) == "stanfordnlp/imdb"


def test_round_trip_keeps_every_saved_component():
    cfg = preset("best", dataset="stanfordnlp/imdb").replace(vocab_size=123, label_names=["bad", "good"])
    back = from_saved(json.loads(to_json(cfg)))
    for part in ("data", "preprocessing", "model", "training"):
        assert getattr(back, part) == getattr(cfg, part)
    assert back.runtime == Config().runtime


@pytest.mark.parametrize("part, field, value, message", [
    ("preprocessing", "max_length", "600", r"preprocessing.max_length must be int \| None, got str"),
    ("preprocessing", "lowercase", "false", r"preprocessing.lowercase must be bool, got str"),
    ("model", "label_names", "negative", r"model.label_names must be list\[str\] \| None, got str"),
    ("training", "epochs", 2.5, r"training.epochs must be int \| None, got float"),
])
def test_wrong_types_on_load_name_the_field(part, field, value, message):
    saved = to_saved(Config())
    saved[part][field] = value
    with pytest.raises(ValueError, match=message):
        from_saved(saved)


def test_unknown_keys_and_versions_are_refused():
    saved = to_saved(Config())
    with pytest.raises(ValueError, match=r"unknown hfsent config keys in 'model': \['surprise'\]"):
        from_saved({**saved, "model": {**saved["model"], "surprise": 1}})
    with pytest.raises(ValueError, match=r"unknown hfsent config keys: \['runtime'\]"):
        from_saved({**saved, "runtime": {}})
    with pytest.raises(ValueError, match=f"version=99; this hfsent reads versions 3 to {FORMAT_VERSION}"):
        from_saved({**saved, "format_version": 99})


def test_a_folder_saved_by_format_version_3_still_loads_and_predicts_the_same(tmp_path):
    # tests/fixtures/format_v3 was written by hfsent's format 3 (one flat config), before
    # the config was split by component; its probabilities were recorded then.
    folder = tmp_path / "v3"
    shutil.copytree(FIXTURES / "format_v3", folder)
    assert json.loads((folder / CONFIG_NAME).read_text())["format_version"] == 3
    clf = SentimentClassifier.load(folder)
    expected = json.loads((FIXTURES / "format_v3_expected.json").read_text())
    np.testing.assert_allclose(clf.predict_proba(expected["texts"]), expected["probabilities"], rtol=1e-5)
    assert clf.config.preprocessing.max_length == 32 and clf.config.model.wide_ngrams
    # Saved again, it is written in the current format.
    again = SentimentClassifier.load(clf.save(tmp_path / "v4"))
    assert json.loads((tmp_path / "v4" / CONFIG_NAME).read_text())["format_version"] == FORMAT_VERSION
    assert dataclasses.asdict(again.config.model) == dataclasses.asdict(clf.config.model)


def test_a_version_3_config_with_a_wrong_type_is_refused_too(tmp_path):
    flat = json.loads((FIXTURES / "format_v3" / CONFIG_NAME).read_text())
    with pytest.raises(ValueError, match="preprocessing.max_length must be int"):
        from_saved({**flat, "max_length": "600"})


def test_older_configs_without_the_newer_fields_still_load_with_their_defaults():
    saved = to_saved(Config().replace(group_column="movie_id", word2vec_min_count=1))
    assert saved["format_version"] == FORMAT_VERSION == 9 and saved["data"]["group_column"] == "movie_id"
    for key in ("multi_label", "label_separator"):
        del saved["data"][key]
    del saved["model"]["thresholds"]
    v8 = from_saved({**saved, "format_version": 8})
    assert v8.model.task == "sentiment" and v8.model.thresholds is None and v8.data.label_separator == ","
    del saved["training"]["word_vectors"], saved["training"]["word_vectors_revision"]
    assert from_saved({**saved, "format_version": 8}).training.word_vectors is None
    del saved["training"]["wide_alpha"]
    assert from_saved({**saved, "format_version": 6}).training.wide_alpha is None  # by CV if refitted
    del saved["training"]["word2vec_min_count"]
    v5 = from_saved({**saved, "format_version": 5})
    assert v5.training.word2vec_min_count == 3 and v5.data.group_column == "movie_id"
    del saved["data"]["group_column"]
    assert from_saved({**saved, "format_version": 4}).data.group_column is None


@pytest.mark.parametrize("overrides, kind", [
    ({"shuffle_shards": 2.5}, "float"), ({"epochs": "4"}, "str"), ({"batch_size": True}, "bool"),
    ({"max_train_samples": 1.0}, "float")])
def test_an_int_setting_that_is_not_a_whole_number_is_refused_by_name(overrides, kind):
    # The Python API and a saved config skip argparse: 2.5 shards failed deep inside tf.data
    (name,) = overrides
    with pytest.raises(ValueError, match=f"^{name} must be a whole number, got {kind}$"):
        preset("default", **overrides)


def test_numpy_whole_numbers_are_whole_numbers():
    assert preset("default", epochs=np.int64(3), max_length=np.int32(50)).training.epochs == 3
