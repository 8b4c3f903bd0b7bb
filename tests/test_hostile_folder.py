"""A stranger's model folder, second round: every path Keras opens, every class Keras resolves,
the weights a config implies, file sizes, label names, damaged files, and the host name in the
TensorBoard logs.  Each refusal is one line, from the library and from the command line."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from huggingface_hub import HfApi

import hfsent.artifacts
import hfsent.screen
from hfsent.artifacts import public_log_names, save_artifacts
from hfsent.cli import main
from hfsent.config import ModelConfig, preset
from hfsent.errors import InputError, MissingError, UnsafeModelError, UserError
from hfsent.hub import push_to_hub
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME
from hfsent.screen import MAX_PARAMETERS, check_keras_config
from hfsent.space import write_space
from hfsent.tasks import task_for
from hfsent.train import train
from hfsent.vocab import Vocabulary
from hfsent.wide import with_wide_branch
from tests.conftest import tiny_config
from tests.test_artifacts import _edit_json, _nodes

SECRET = "HF_TOKEN=hf_KnownFakeToken_outside_the_folder_42"
load = SentimentClassifier.load


def _copy(source: Path, tmp_path: Path, name: str = "model") -> Path:
    folder = tmp_path / name
    shutil.copytree(source, folder)
    return folder


def _layer(config: dict, name: str) -> dict:
    return next(n for n in _nodes(config)
                if isinstance(n.get("config"), dict) and n["config"].get("name") == name)


def _secret_outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "vocabulary.txt").write_text(f"{SECRET}\n")
    return outside


@pytest.fixture
def keras_never_loads(monkeypatch):
    """Loading fails loudly if it gets as far as Keras: the check under test must come first."""
    def reached(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was reached")
    monkeypatch.setattr(hfsent.artifacts.keras.saving, "load_model", reached)


@pytest.fixture(scope="module")
def wide_folder(trained, tmp_path_factory):
    """An untrained GRU + wide-branch model over the trained fixture's vocabulary, 64 hash buckets."""
    clf = trained.classifier
    config = clf.config.replace(wide_ngrams=True, wide_buckets=64)
    model = with_wide_branch(build_model(config.model, len(clf.vocab)), len(clf.vocab), 64)
    return save_artifacts(tmp_path_factory.mktemp("wide") / "m", model, clf.vocab, config)


@pytest.fixture(scope="module")
def three_classes(trained, tmp_path_factory):
    """An untrained three-class model (a softmax of width 3) over the trained fixture's vocabulary."""
    clf = trained.classifier
    config = clf.config.replace(label_names=["negative", "neutral", "positive"])
    model = build_model(config.model, len(clf.vocab))
    return save_artifacts(tmp_path_factory.mktemp("three") / "m", model, clf.vocab, config)


def one_line(argv: list[str], capsys) -> str:
    """The one error line of ``hfsent ARGV`` run in this process, which must exit with status 2."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("hfsent")]
    assert "Traceback" not in err, err[-3000:]
    assert len(lines) == 1 and lines[0] == err.strip().splitlines()[-1], err[-3000:]
    return lines[0].removeprefix("hfsent: error: ")


# 1. assets/ and everything Keras opens ------------------------------------------------------------

@pytest.mark.parametrize("make, name, what", [
    (lambda f, out: (f / "assets").rmdir() or (f / "assets").symlink_to(out), "assets", "a symbolic link"),
    (lambda f, out: (f / "assets" / "vocabulary.txt").symlink_to(out / "vocabulary.txt"),
     "assets/vocabulary.txt", "a symbolic link"),
    (lambda f, out: (f / "assets" / "lookup").symlink_to(out), "assets/lookup", "a symbolic link"),
    (lambda f, out: os.mkfifo(f / "assets" / "vocabulary.txt"), "assets/vocabulary.txt",
     "not a regular file"),
    (lambda f, out: (f / "assets").rmdir() or os.mkfifo(f / "assets"), "assets", "not a folder"),
])
def test_assets_hold_only_regular_files_or_the_load_is_refused_by_name(trained, tmp_path, make, name, what,
                                                                        keras_never_loads):
    folder = _copy(trained.output_dir, tmp_path)
    make(folder, _secret_outside(tmp_path))
    def blocked(*args):
        raise TimeoutError("the load blocked: something opened a pipe")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(60)
    try:
        with pytest.raises(UnsafeModelError, match=f"{name} in .* is ({what}); a model folder") as err:
            load(folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "hf_KnownFake" not in str(err.value)


def test_a_keras_layer_that_reads_assets_is_refused_by_class(trained, tmp_path, keras_never_loads):
    # StringLookup is a built-in Keras layer that reads its vocabulary from assets/ on load.
    folder = _copy(trained.output_dir, tmp_path)
    (folder / "assets" / "layers").mkdir()
    (folder / "assets" / "layers" / "vocabulary.txt").write_text(f"{SECRET}\n")

    def add(config):
        config["config"]["layers"].append({"module": "keras.layers", "class_name": "StringLookup",
                                           "config": {"name": "lookup"}, "registered_name": None,
                                           "name": "lookup", "inbound_nodes": []})
    _edit_json(folder / "config.json", add)
    with pytest.raises(UnsafeModelError, match=r"refers to keras.layers.StringLookup: hfsent models contain "
                                               r"only the built-in Keras classes that hfsent builds") as err:
        load(folder)
    assert "hf_KnownFake" not in str(err.value)


def test_a_folder_named_like_a_keras_zip_still_loads(trained, tmp_path):
    folder = _copy(trained.output_dir, tmp_path, "m.keras")
    assert load(folder).predict_proba(["the film was great"]).shape == (1,)


# 2. hard links ----------------------------------------------------------------------------------

def test_a_hard_link_is_refused_at_push_and_uploads_nothing(trained, hub, tmp_path):
    folder = _copy(trained.output_dir, tmp_path)
    secret = tmp_path / "secret.png"
    secret.write_text(SECRET)
    os.link(secret, folder / "extra.png")  # e.g. a hard link made before the folder was shared
    with pytest.raises(UnsafeModelError, match="extra.png in .* has 2 hard links, and another may lie"):
        push_to_hub(folder, "tester/hard-link")
    assert "tester/hard-link" not in hub.state.repos
    assert not any(SECRET.encode() in blob for blob in hub.state.lfs.values())
    (folder / "extra.png").unlink()
    os.link(folder / "vocab.txt", tmp_path / "vocab-elsewhere.txt")
    with pytest.raises(UnsafeModelError, match="vocab.txt in .* has 2 hard links"):
        push_to_hub(folder, "tester/hard-link")
    load(folder)  # loading never quotes a file, so a hard-linked copy of a folder still loads
    with pytest.raises(UnsafeModelError, match="vocab.txt in .* has 2 hard links"):
        write_space(str(folder), tmp_path / "space")  # the Space is pushed with a copy of the files


# 3. screened by the class Keras resolves ------------------------------------------------------------

@pytest.mark.parametrize("spelling, message", [
    ({"module": "keras.src.layers"}, "an Embedding has 50000000 rows, but vocab.txt has"),
    ({"module": "keras.src.layers.core.embedding"}, "an Embedding has 50000000 rows"),
    ({"module": "keras.src.layers", "registered_name": "Embedding"}, "an Embedding has 50000000 rows"),
    ({"module": "keras"}, "refers to keras.Embedding: hfsent models contain only"),  # Keras finds no class
    ({"module": "keras.src.layers", "class_name": "__all__"}, "refers to keras.src.layers.__all__"),
])
def test_every_spelling_of_a_class_is_size_checked(trained, tmp_path, keras_never_loads, spelling, message):
    folder = _copy(trained.output_dir, tmp_path)

    def edit(config):
        embedding = _layer(config, "embedding")
        embedding.update(spelling)
        embedding["config"]["input_dim"] = 50_000_000
    _edit_json(folder / "config.json", edit)
    with pytest.raises(UnsafeModelError, match=message):
        load(folder)


def test_layers_inside_layers_are_screened_by_class(trained, tmp_path, keras_never_loads):
    folder = _copy(trained.output_dir, tmp_path)

    def edit(config):  # the GRU that Bidirectional wraps, its module spelled another way
        gru = _layer(config, "forward_gru")
        gru["module"] = "keras.src.layers.rnn.gru"
        gru["config"]["units"] = 10**6
    _edit_json(folder / "config.json", edit)
    with pytest.raises(UnsafeModelError, match=r"GRU.units must be a whole number in \[1, 4096\]"):
        load(folder)


def test_a_build_config_cannot_size_a_kernel(trained, tmp_path, keras_never_loads):
    # Keras builds a layer from its build_config: Dense(1) over 10**9 inputs is 4 GB of kernel.
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / "config.json", lambda c: _layer(c, "output")["build_config"].update(
        input_shape=[None, 10**9]))
    with pytest.raises(UnsafeModelError, match=r"build_config of Dense output has a size outside"):
        load(folder)


# 4. the budget ----------------------------------------------------------------------------------

def test_the_weights_a_config_implies_are_budgeted_before_keras(wide_folder, tmp_path, keras_never_loads):
    # Each field in range, the product 64 GiB: 2**24 hash buckets of an Embedding 1024 wide.
    folder = _copy(wide_folder, tmp_path)

    def edit(config):
        _layer(config, "wide_hash")["config"]["num_bins"] = 1 << 24
        _layer(config, "wide_bigrams")["config"].update(input_dim=1 << 24, output_dim=1024)
    _edit_json(folder / "config.json", edit)
    with pytest.raises(UnsafeModelError, match=r"config.json implies 17,\d{3},\d{3},\d{3} weights "
                                               r"\(65,\d{3} MiB\); an hfsent model has at most 268,435,456"):
        load(folder)


@pytest.mark.parametrize("overrides, classes", [({}, 2), ({"gru_units": 128, "max_length": 800}, 2),
                                                ({"embedding_dim": 300}, 10)])
def test_the_budget_admits_the_presets_on_imdb_and_counts_what_keras_builds(overrides, classes, monkeypatch):
    # --preset best on IMDB: 30,000 words, the wide branch's 2**20 buckets; and a 10-class model.
    config = preset("best", **overrides).model
    if classes > 2:
        config.label_names = [f"c{i}" for i in range(classes)]
    model = with_wide_branch(build_model(config, 30000), 30000, config.wide_buckets)
    saved = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    check_keras_config(saved, 30000, task_for(config))
    assert model.count_params() < MAX_PARAMETERS / 10
    monkeypatch.setattr(hfsent.screen, "MAX_PARAMETERS", model.count_params() - 1)
    with pytest.raises(UnsafeModelError, match=f"implies {model.count_params():,} weights"):
        check_keras_config(saved, 30000, task_for(config))


# 5. sizes of files and settings -------------------------------------------------------------------

@pytest.mark.parametrize("name, size", [("config.json", 3 << 20), ("hfsent_config.json", 2 << 20),
                                        ("metadata.json", 1 << 20), ("vocab.txt", 40 << 20)])
def test_a_file_over_its_cap_is_refused_before_it_is_read(trained, tmp_path, monkeypatch, name, size):
    folder = _copy(trained.output_dir, tmp_path)
    with open(folder / name, "ab") as file:
        file.truncate(size)  # sparse: no disk used
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open",
                        lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    with pytest.raises(UnsafeModelError, match=f"{name} in .* is {size:,} bytes; an hfsent model's is at"):
        load(folder)
    assert not [p for p in opened if p.endswith(name)]


def test_a_vocabulary_of_more_lines_than_the_config_says_is_never_read_whole(trained, tmp_path, monkeypatch):
    folder = _copy(trained.output_dir, tmp_path)
    with open(folder / "vocab.txt", "a") as file:
        file.write("w\n" * 100_000)
    monkeypatch.setattr(Vocabulary, "load", lambda *a: pytest.fail("vocab.txt was read whole"))
    with pytest.raises(InputError, match=f"vocab.txt has more than {len(trained.classifier.vocab)} lines"):
        load(folder)


@pytest.mark.parametrize("values, message", [
    ({"max_length": 10**12}, r"preprocessing.max_length is 1,000,000,000,000; a loaded model's is at most"),
    ({"batch_size": 10**6}, r"training.batch_size is 1,000,000; a loaded model's is at most"),
    ({"vocab_size": 10**9}, r"preprocessing.vocab_size is 1,000,000,000"),
    ({"max_vocab_size": 10**9}, r"preprocessing.max_vocab_size is 1,000,000,000"),
    ({"batch_size": 4096, "max_length": 16384},  # each in range, their product not
     r"training.batch_size \* preprocessing.max_length is 67,108,864 tokens"),
])
def test_sizes_in_the_hfsent_config_are_range_checked(trained, tmp_path, keras_never_loads, values, message):
    folder = _copy(trained.output_dir, tmp_path)
    parts = {"batch_size": "training"}
    _edit_json(folder / CONFIG_NAME, lambda c: [c[parts.get(k, "preprocessing")].update({k: v})
                                                for k, v in values.items()])
    with pytest.raises(InputError, match=message):
        load(folder)


# 6. label names match the output ------------------------------------------------------------------

def test_label_names_must_match_the_output_width(trained, three_classes, tmp_path):
    binary = _copy(trained.output_dir, tmp_path, "binary")
    names = ["negative", "neutral", "positive"]
    _edit_json(binary / CONFIG_NAME, lambda c: c["model"].update(
        label_names=names, id2label={str(i): n for i, n in enumerate(names)},
        label2id={n: i for i, n in enumerate(names)}))
    with pytest.raises(InputError, match=r"has 3 label names, so the model should have 3 output\(s\), but it "
                                         r"has 1"):
        load(binary)
    load(three_classes)  # the control
    three = _copy(three_classes, tmp_path, "three")
    _edit_json(three / CONFIG_NAME, lambda c: c["model"].update(
        label_names=["negative", "positive"], id2label={"0": "negative", "1": "positive"},
        label2id={"negative": 0, "positive": 1}))
    with pytest.raises(InputError, match=r"has 2 label names, so the model should have 1 output\(s\), but it "
                                         r"has 3"):
        load(three)


# 7. damaged files are one line ----------------------------------------------------------------------

def _deep(folder: Path) -> None:
    (folder / "config.json").write_text("[" * 200_000 + "]" * 200_000)


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "config.json").write_text("[1, 2]"), "config.json must hold a JSON object, not list"),
    (lambda f: (f / "config.json").write_text("42"), "config.json must hold a JSON object, not int"),
    (lambda f: (f / "config.json").write_text('{"a": []}'), "config.json must describe a Keras functional"),
    (_deep, "config.json nests its JSON too deep to read"),
    (lambda f: (f / "config.json").write_bytes(b'{"a": "\xff"}'), r"config.json is not valid UTF-8 \(byte"),
    (lambda f: (f / "config.json").write_text("1" * 5000), "config.json is not valid JSON"),
    (lambda f: (f / CONFIG_NAME).write_text("[]"), "hfsent_config.json must hold a JSON object, not list"),
    (lambda f: (f / CONFIG_NAME).write_text('{"a": ' * 100_000), "hfsent_config.json nests its JSON too"),
    (lambda f: (f / "model.weights.h5").write_bytes((f / "model.weights.h5").read_bytes()[:5000]),
     "model.weights.h5 in .* is not a readable HDF5 file"),
    (lambda f: (f / "model.weights.h5").write_bytes(SECRET.encode() * 100),
     "model.weights.h5 in .* is not a readable HDF5 file"),
])
def test_a_damaged_file_is_one_line_from_the_library_and_the_command_line(trained, tmp_path, capsys, damage,
                                                                           message):
    folder = _copy(trained.output_dir, tmp_path)
    damage(folder)
    with pytest.raises(UserError, match=message) as err:
        load(folder)
    assert len(str(err.value).splitlines()) == 1 and "hf_KnownFake" not in str(err.value)
    assert message.split(" ")[0] in one_line(["predict", "--model", str(folder), "good"], capsys)


def test_weights_that_do_not_match_the_config_are_one_line(trained, three_classes, tmp_path):
    folder = _copy(trained.output_dir, tmp_path)
    shutil.copy(three_classes / "model.weights.h5", folder / "model.weights.h5")
    with pytest.raises(InputError, match=r"Keras could not load the model in .* \(ValueError\): its "
                                         r"config.json and model.weights.h5 are damaged or do not match"):
        load(folder)


@pytest.mark.parametrize("lang, package", [("ja", "sudachipy"), ("th", "pythainlp"), ("vi", "pyvi"),
                                           ("ko", "natto-py")])
def test_a_tokenizer_whose_packages_are_missing_names_them(trained, tmp_path, capsys, lang, package):
    try:
        __import__(package.replace("-", "_").replace("natto_py", "natto"))
        pytest.skip(f"{package} is installed here")
    except ImportError:
        pass
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / CONFIG_NAME, lambda c: c["preprocessing"].update(spacy_model=f"blank:{lang}"))
    with pytest.raises(MissingError, match=f"spaCy's {lang} tokenizer .* not installed: pip install "
                                           f"{package}"):
        load(folder)
    assert f"pip install {package}" in one_line(["predict", "--model", str(folder), "good"], capsys)


@pytest.mark.parametrize("metrics, message", [
    ("[]", "metrics.json must hold a JSON object, not list"),
    ('"accuracy"', "metrics.json must hold a JSON object, not str"),
    ('{"test": 5}', "test must be an object of numbers"),
    ('{"test": {"accuracy": "high"}}', "test must be an object of numbers"),
    ('{"widget": [1]}', "widget must be a list of texts"),
    ('{"stages": {"a": 1}}', "stages must be a list of objects"),
    (" " * (17 << 20) + "{}", "metrics.json is 17,825,794 bytes; hfsent reads at most"),
])
def test_an_odd_metrics_file_at_push_is_one_line(trained, hub, tmp_path, capsys, metrics, message):
    folder = _copy(trained.output_dir, tmp_path)
    (folder / "metrics.json").write_text(metrics)
    with pytest.raises(InputError, match=message):
        push_to_hub(folder, "tester/odd-metrics")
    assert "tester/odd-metrics" not in hub.state.repos
    pushed = ["push", "--model", str(folder), "--repo-id", "tester/odd-metrics"]
    assert message[:20] in one_line(pushed, capsys)


# 8. no host name in the logs ---------------------------------------------------------------------

def test_event_files_lose_the_host_name_and_keep_their_order():
    names = ["runs/train/events.out.tfevents.1796515428.box.example.org.10306.0.v2",
             "runs/train/events.out.tfevents.1796515999.box.example.org.10306.1.v2",
             "runs/validation/events.out.tfevents.1796515428.box.example.org.10306.2.v2",
             "runs/validation/notes.txt"]
    assert list(public_log_names(names).values()) == [
        "runs/train/events.out.tfevents.1796515428.hfsent.0.v2",
        "runs/train/events.out.tfevents.1796515999.hfsent.1.v2",
        "runs/validation/events.out.tfevents.1796515428.hfsent.0.v2", "runs/validation/notes.txt"]


def test_pushed_and_saved_logs_carry_no_host_name(trained, negation_dir, hub, tmp_path):
    host = socket.gethostname()
    folder = _copy(trained.output_dir, tmp_path)  # logs written by an older hfsent, under their own names
    (folder / "runs" / "train").mkdir(parents=True)
    (folder / "runs" / "train" / f"events.out.tfevents.1796515428.{host}.10306.0.v2").write_bytes(b"x")
    push_to_hub(folder, "tester/no-host")
    files = HfApi().list_repo_files("tester/no-host")
    assert "runs/train/events.out.tfevents.1796515428.hfsent.0.v2" in files
    assert not [f for f in files if host in f]

    out = tmp_path / "trained"
    train(tiny_config(negation_dir, epochs=1), out, verbose=0, report_to="tensorboard")
    logs = [p.relative_to(out).as_posix() for p in (out / "runs").rglob("*") if p.is_file()]
    assert any(".hfsent." in name for name in logs) and not [name for name in logs if host in name], logs


def test_the_command_line_refuses_a_hostile_folder_in_one_line(trained, tmp_path):
    folder = _copy(trained.output_dir, tmp_path)
    (folder / "assets").rmdir()
    (folder / "assets").symlink_to(_secret_outside(tmp_path))
    run = subprocess.run([sys.executable, "-m", "hfsent", "predict", "--model", str(folder), "good"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "hf_KnownFake" not in run.stdout + run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"hfsent: error: assets in {folder} is a symbolic link; a model folder holds only regular files, "
        "so it is refused without reading it")


# 9. the shapes that flow through the graph --------------------------------------------------------

def _input_layer(config: dict) -> dict:
    return _layer(config, "input_ids")["config"]


@pytest.mark.parametrize("edit, message", [
    # The review's repro: a 2**20-wide input into a Dense whose build_config was deleted.
    (lambda c: (_input_layer(c).update(batch_shape=[None, 1 << 20]), _layer(c, "output").pop("build_config")),
     r"InputLayer input_ids has a batch_shape with a size outside \[-1, 16384\]"),
    (lambda c: _input_layer(c).update(batch_input_shape=[None, 1 << 20]),
     r"InputLayer input_ids has a batch_input_shape with a size outside"),
    (lambda c: _input_layer(c).update(shape=[10**9]), r"InputLayer input_ids has a shape with a size"),
    (lambda c: _layer(c, "ids_as_column")["config"].update(target_shape=[-1, 10**9]),
     r"Reshape ids_as_column has a target_shape with a size outside"),
    (lambda c: _layer(c, "output").pop("build_config"),
     r"Dense output has no build_config with the width of its input"),
    (lambda c: _layer(c, "output").update(build_config={}), r"Dense output has no build_config with the"),
    (lambda c: _layer(c, "output")["build_config"].update(input_shape=[None, None]),
     r"Dense output has no build_config with the width"),
    (lambda c: _layer(c, "bidirectional_gru").pop("build_config"),
     r"Bidirectional bidirectional_gru has no build_config with the width of its input"),
    # Keras' other spelling of a build: build(**shapes_dict).
    (lambda c: _layer(c, "output").update(build_config={"shapes_dict": {"input_shape": [None, 10**9]}}),
     r"the build_config of Dense output holds more than the input_shape that Keras writes"),
])
def test_no_layer_is_sized_by_a_shape_the_screen_did_not_bound(trained, tmp_path, keras_never_loads, edit,
                                                                 message):
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / "config.json", edit)
    with pytest.raises(UnsafeModelError, match=message):
        load(folder)


def test_the_review_repro_is_refused_before_keras_builds_it():
    # Input 2**20 wide -> Dense(512) without build_config -> Dense(1): Keras would make 537M weights.
    inputs = keras.Input(shape=(16,), name="input_ids")
    hidden = keras.layers.Dense(512, name="wide")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(hidden)
    saved = json.loads(json.dumps(keras.saving.serialize_keras_object(keras.Model(inputs, outputs))))
    check_keras_config(saved, 2, task_for(ModelConfig()))  # the control
    _input_layer(saved)["batch_shape"] = [None, 1 << 20]
    with pytest.raises(UnsafeModelError, match=r"InputLayer input_ids has a batch_shape with a size out"):
        check_keras_config(saved, 2, task_for(ModelConfig()))
    _input_layer(saved)["batch_shape"] = [None, 16384]  # within the bound, and the build_config gone:
    del _layer(saved, "wide")["build_config"]
    with pytest.raises(UnsafeModelError, match=r"Dense wide has no build_config with the width of its input"):
        check_keras_config(saved, 2, task_for(ModelConfig()))


def test_a_layer_built_narrow_and_called_wide_fails_in_one_line_without_allocating(trained, tmp_path):
    # Why a bounded build_config suffices: Keras builds the layer from it, then calls it on the
    # graph's tensors symbolically, and a wider input fails there (the budget counts 3 inputs).
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / "config.json", lambda c: _layer(c, "output")["build_config"].update(
        input_shape=[None, 3]))
    with pytest.raises(InputError, match=r"Keras could not load the model in .* \(ValueError\): its "
                                         r"config.json and model.weights.h5 are damaged or do not match"):
        load(folder)


# 10. whatever Keras or TensorFlow raises on a bad config is one line -----------------------------------

def _embedding_initializer(value):
    return lambda c: _layer(c, "embedding")["config"].update(embeddings_initializer={
        "module": "keras.initializers", "class_name": "Constant", "config": {"value": value},
        "registered_name": None})


@pytest.mark.parametrize("edit, error", [
    (_embedding_initializer("abc"), "UnimplementedError"),  # TensorFlow: Cast string to float
    (_embedding_initializer([1, 2, 3]), "InvalidArgumentError"),
    # Loads, and fails only once it predicts.
    (lambda c: _layer(c, "is_word")["config"].update(bin_boundaries=[3, 1, "a"]), r"\w+Error"),
])
def test_a_config_that_keras_or_tensorflow_chokes_on_is_one_line(trained, tmp_path, capsys, edit, error):
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / "config.json", edit)
    with pytest.raises(InputError, match=rf"Keras could not load the model in .* \({error}\): its "
                                         r"config.json and model.weights.h5 are damaged") as err:
        load(folder)
    assert len(str(err.value).splitlines()) == 1 and len(str(err.value)) < 200 + len(str(folder))
    assert "could not load" in one_line(["predict", "--model", str(folder), "good"], capsys)


# 11. label names print as what they are ------------------------------------------------------------

HOSTILE_NAMES = [
    ("pos\x1b]0;PWNED\x07\x1b[2J\nFAKE: all good\r", r"label name 0 holds the character U\+001B \(category "
                                                    r"Cc\)"),
    ("pos\u202etxt.exe", r"label name 0 holds the character U\+202E \(category Cf\)"),
    ("pos\u2028", r"U\+2028 \(category Zl\)"),
    ("pos\ue000", r"U\+E000 \(category Co\)"),
    ("p" * 101, r"label name 0 must be a string of 1 to 100 characters"),
]


@pytest.mark.parametrize("name, message", HOSTILE_NAMES)
def test_a_label_name_that_could_rewrite_a_terminal_is_refused_at_training(name, message):
    # --label-names and the class names read from data both reach the config through replace().
    with pytest.raises(InputError, match=message):
        preset("default").replace(label_names=[name, "negative"])
    with pytest.raises(InputError, match=message):
        preset("default", task="rating").replace(label_names=[name, "negative"])


@pytest.mark.parametrize("name, message", HOSTILE_NAMES)
def test_a_label_name_that_could_rewrite_a_terminal_is_refused_at_load(trained, tmp_path, capsys,
                                                                        keras_never_loads, name, message):
    folder = _copy(trained.output_dir, tmp_path)
    names = [name, "negative"]
    _edit_json(folder / CONFIG_NAME, lambda c: c["model"].update(
        label_names=names, id2label={str(i): n for i, n in enumerate(names)},
        label2id={n: i for i, n in enumerate(names)}))
    with pytest.raises(InputError, match=message) as err:
        load(folder)
    assert "\x1b" not in str(err.value) and "PWNED" not in str(err.value)
    assert one_line(["predict", "--model", str(folder), "good"], capsys).startswith("label name 0")


def test_more_label_names_than_any_model_has_are_refused():
    with pytest.raises(InputError, match=r"label_names must hold at most 1,000 names, got 1,001"):
        preset("default", task="rating").replace(label_names=[f"c{i}" for i in range(1001)])


@pytest.mark.parametrize("edit, shown", [
    (lambda c: c.update(format_version="9" * 200_000), "format_version='99999"),
    (lambda c: c.update({"k" * 200_000: 1}), "unknown hfsent config keys: ['kkkk"),
    (lambda c: c["model"].update({"k" * 200_000: 1}), "unknown hfsent config keys in 'model': ['kkkk"),
])
def test_an_error_quotes_at_most_a_short_piece_of_a_config_value(trained, tmp_path, capsys,
                                                                 keras_never_loads, edit, shown):
    folder = _copy(trained.output_dir, tmp_path)
    _edit_json(folder / CONFIG_NAME, edit)
    with pytest.raises(InputError) as err:
        load(folder)
    assert shown in str(err.value) and len(str(err.value)) < 300, str(err.value)[:300]
    assert len(one_line(["predict", "--model", str(folder), "good"], capsys)) < 300
