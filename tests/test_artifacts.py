"""The model folder: atomic writes, checks on load, and configs that are refused unread."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import pytest

import hfsent.artifacts
from hfsent.errors import UnsafeModelError
from hfsent.folder import atomic_folder
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME

SECRET = "HF_TOKEN=hf_KnownFakeToken_outside_the_folder_42"


def _copy(trained, tmp_path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(trained.output_dir, folder)
    return folder


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def keras_never_loads(monkeypatch):
    """Loading fails loudly if it gets as far as Keras: the check under test must come first."""
    def reached(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was reached")
    monkeypatch.setattr(hfsent.artifacts.keras.saving, "load_model", reached)


def test_a_lambda_layer_is_refused_and_never_runs(lambda_folder):
    folder, marker = lambda_folder
    with pytest.raises(UnsafeModelError, match="keras.layers.Lambda.*refused without running any of"):
        SentimentClassifier.load(folder)
    assert not marker.exists()


def test_the_lambda_fixture_would_run_if_it_were_trusted(lambda_folder):
    # The control, in its own process: with every safety off, the same folder does run
    # its payload, so the test above would fail if hfsent let it through.
    folder, marker = lambda_folder
    code = ("import sys, keras, numpy as np; keras.config.enable_unsafe_deserialization(); "
            "m = keras.saving.load_model(sys.argv[1], safe_mode=False); "
            "m.predict(np.array([[2, 3]]), verbose=0)")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, capture_output=True)
    assert marker.exists()
    marker.unlink()


def test_an_unknown_custom_class_is_refused_without_importing_it(trained, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained.output_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    layer = next(lay for lay in config["config"]["layers"] if lay["class_name"] == "Dropout")
    layer.update(module="evil_layers", class_name="EvilLayer", registered_name="evil>EvilLayer")
    (folder / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "imported.txt"
    (tmp_path / "evil_layers.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")

    code = ("import sys; from hfsent.predict import SentimentClassifier\n"
            "try:\n    SentimentClassifier.load(sys.argv[1])\n"
            "except ValueError as e:\n    print('REFUSED', e)\n"
            "print('evil_layers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED" in out.stdout and "evil_layers.EvilLayer" in out.stdout
    assert out.stdout.strip().endswith("False")
    assert not marker.exists()


def test_loading_checks_format_version_and_vocab_size(trained, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(trained.output_dir, folder)
    cfg = json.loads((folder / CONFIG_NAME).read_text())
    vocab = len(trained.classifier.vocab)
    (folder / "vocab.txt").write_text("\n".join(trained.classifier.vocab.tokens[:-1]) + "\n")
    with pytest.raises(ValueError, match=f"an Embedding has {vocab} rows, but vocab.txt has {vocab - 1} "):
        SentimentClassifier.load(folder)
    shutil.copy(trained.output_dir / "vocab.txt", folder / "vocab.txt")
    _edit_json(folder / CONFIG_NAME, lambda c: c["preprocessing"].update(vocab_size=vocab + 1))
    with pytest.raises(ValueError, match="vocabulary does not match the model: vocab.txt has"):
        SentimentClassifier.load(folder)
    (folder / CONFIG_NAME).write_text(json.dumps({**cfg, "format_version": 999}))
    with pytest.raises(ValueError, match="format_version=999"):
        SentimentClassifier.load(folder)
    (folder / CONFIG_NAME).unlink()
    with pytest.raises(FileNotFoundError, match="not an hfsent model folder"):
        SentimentClassifier.load(folder)


def test_plain_keras_loads_the_folder_without_hfsent(trained):
    code = ("import sys, keras, numpy as np; m = keras.saving.load_model(sys.argv[1]); "
            "assert 'hfsent' not in sys.modules; print(m.predict(np.array([[2, 3, 4]]), verbose=0).shape)")
    out = subprocess.run([sys.executable, "-c", code, str(trained.output_dir)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("(1, 1)")


def test_a_crash_while_writing_leaves_nothing_that_looks_like_a_model(tmp_path):
    def fill(folder: Path) -> None:
        (folder / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_folder(tmp_path / "model", fill)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_a_folder_only_when_complete(tmp_path):
    target = tmp_path / "model"
    atomic_folder(target, lambda f: (f / "a.txt").write_text("old"))
    with pytest.raises(FileExistsError, match="--overwrite"):
        atomic_folder(target, lambda f: (f / "a.txt").write_text("new"))

    def failing(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_folder(target, failing, overwrite=True)
    assert (target / "a.txt").read_text() == "old"
    atomic_folder(target, lambda f: (f / "b.txt").write_text("new"), overwrite=True)
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize("name", ["vocab.txt", "model.weights.h5", "config.json", CONFIG_NAME])
def test_a_symlink_out_of_the_folder_is_refused_by_name_and_never_read(trained, tmp_path, name):
    folder = _copy(trained, tmp_path)
    outside = tmp_path / "outside"
    outside.write_bytes(SECRET.encode() if name == "vocab.txt" else (folder / name).read_bytes())
    (folder / name).unlink()
    (folder / name).symlink_to(outside)  # valid content for every file but vocab.txt
    with pytest.raises(UnsafeModelError, match=f"{name} in .* is a symbolic link; a model folder") as err:
        SentimentClassifier.load(folder)
    assert "hf_KnownFake" not in str(err.value)


def test_the_symlinked_secret_is_not_printed_by_the_command_line_either(trained, tmp_path):
    folder = _copy(trained, tmp_path)
    (tmp_path / "environ").write_text(f"{SECRET}\nHOME=/root\n")
    (folder / "vocab.txt").unlink()
    (folder / "vocab.txt").symlink_to(tmp_path / "environ")
    out = subprocess.run([sys.executable, "-m", "hfsent", "predict", "--model", str(folder), "good"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "hf_KnownFake" not in out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"hfsent: error: vocab.txt in {folder} is a symbolic link; a model folder holds only regular "
        "files, so it is refused without reading it")


def test_a_pipe_instead_of_a_file_is_refused_without_blocking_on_it(trained, tmp_path):
    folder = _copy(trained, tmp_path)
    (folder / "vocab.txt").unlink()
    os.mkfifo(folder / "vocab.txt")  # reading it would wait forever
    with pytest.raises(UnsafeModelError, match="vocab.txt in .* is not a regular file"):
        SentimentClassifier.load(folder)


def test_errors_about_a_bad_vocabulary_never_quote_it(trained, tmp_path):
    folder = _copy(trained, tmp_path)
    (folder / "vocab.txt").write_text(f"{SECRET}\n" * len(trained.classifier.vocab))
    with pytest.raises(ValueError, match=r"starts with \[PAD\] and \[UNK\] \(lines 1 and 2 of") as err:
        SentimentClassifier.load(folder)
    assert "hf_KnownFake" not in str(err.value)


@pytest.mark.parametrize("spacy_model", ["pip", "../pipeline", "/tmp/pipeline", "blank:../../os", "blank:zz"])
def test_a_spacy_model_that_is_a_path_or_a_module_is_never_loaded(trained, tmp_path, monkeypatch,
                                                                   spacy_model):
    import spacy.util

    loads = []
    for loader in ("load_model_from_package", "load_model_from_path", "get_lang_class"):
        monkeypatch.setattr(spacy.util, loader, lambda *a, **k: loads.append(a))
    folder = _copy(trained, tmp_path)
    _edit_json(folder / CONFIG_NAME, lambda c: c["preprocessing"].update(spacy_model=spacy_model))
    with pytest.raises(ValueError, match="spacy_model"):
        SentimentClassifier.load(folder)
    assert loads == []


def test_a_registered_name_pointing_at_another_class_is_refused(trained, tmp_path):
    # Any class registered in the process would do; Keras looks registered_name up first.
    marker = tmp_path / "built.txt"

    @keras.saving.register_keras_serializable(package="stranger")
    class Payload(keras.layers.Layer):
        def __init__(self, rate=0.0, seed=None, noise_shape=None, **kwargs):
            super().__init__(**kwargs)
            marker.write_text("built")

        def call(self, x):
            return x

    folder = _copy(trained, tmp_path)
    _edit_json(folder / "config.json", lambda c: next(
        lay for lay in c["config"]["layers"] if lay["class_name"] == "Dropout").update(
        registered_name="stranger>Payload"))
    with pytest.raises(UnsafeModelError, match="keras.layers.Dropout registered as 'stranger>Payload'"):
        SentimentClassifier.load(folder)
    assert not marker.exists()
    with warnings.catch_warnings():  # the stranger's layer ignores the mask it is handed; Keras says so
        warnings.simplefilter("ignore", UserWarning)
        keras.saving.load_model(folder)  # the control: Keras alone builds the stranger's class
    assert marker.exists()


@pytest.mark.parametrize("layer, key, value, message", [
    ("embedding", "input_dim", 5_000_000, "an Embedding has 5000000 rows, but vocab.txt has"),
    ("forward_gru", "units", 10**6, r"GRU.units must be a whole number in \[1, 4096\]"),
    ("output", "units", -1, r"Dense.units must be a whole number in \[1, 4096\]")])
def test_sizes_are_screened_before_keras_allocates(trained, tmp_path, keras_never_loads, layer, key, value,
                                                   message):
    folder = _copy(trained, tmp_path)

    def edit(config):
        found = [n for n in _nodes(config) if n.get("config", {}).get("name") == layer]
        found[0]["config"][key] = value

    _edit_json(folder / "config.json", edit)
    with pytest.raises(UnsafeModelError, match=message):
        SentimentClassifier.load(folder)


def _nodes(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def test_one_label_name_or_a_swapped_task_is_refused_on_load(trained, rating_model, tmp_path,
                                                             keras_never_loads):
    folder = _copy(trained, tmp_path)
    _edit_json(folder / CONFIG_NAME, lambda c: c["model"].update(label_names=["positive"]))
    with pytest.raises(ValueError, match=r"model.id2label and model.label2id must match model.label_names"):
        SentimentClassifier.load(folder)
    _edit_json(folder / CONFIG_NAME, lambda c: c["model"].update(id2label={"0": "positive"},
                                                                 label2id={"positive": 0}))
    with pytest.raises(ValueError, match=r"label_names must hold 2 to 100 distinct names, one per class"):
        SentimentClassifier.load(folder)
    shutil.copy(trained.output_dir / CONFIG_NAME, folder / CONFIG_NAME)
    _edit_json(folder / CONFIG_NAME, lambda c: c["model"].update(task="rating"))
    swapped = r"says task 'rating', but the model of config.json predicts classes \(output layer Dense\)"
    with pytest.raises(ValueError, match=swapped):
        SentimentClassifier.load(folder)
    rating = tmp_path / "rating"
    shutil.copytree(rating_model.output_dir, rating)
    _edit_json(rating / CONFIG_NAME, lambda c: c["model"].update(task="sentiment"))
    with pytest.raises(ValueError, match=r"says task 'sentiment', but the model of .* predicts ratings"):
        SentimentClassifier.load(rating)
