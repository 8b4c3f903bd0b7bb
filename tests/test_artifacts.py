"""The model folder: atomic writes, checks on load, and configs that are refused unread."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hfsent.artifacts import UnsafeModelError, atomic_folder
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME


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
    (folder / "vocab.txt").write_text("\n".join(trained.classifier.vocab.tokens[:-1]) + "\n")
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
