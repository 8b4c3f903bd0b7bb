"""Untrusted model repos: refused with a clear error, and none of their code runs."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from huggingface_hub import HfApi

from hfsent.artifacts import UnsafeModelError
from hfsent.config import FORMAT_VERSION
from hfsent.hub import from_pretrained, push_to_hub
from hfsent.predict import SentimentClassifier

LAMBDA_MODEL = """
import sys, keras
marker = sys.argv[2]
# A Python lambda, so Keras stores its bytecode: loading it unsafely would run it.
payload = eval("lambda x: (open(%r, 'a').write('ran'), x)[1]" % marker)
inputs = keras.Input((None,), dtype="int32")
x = keras.layers.Embedding(50, 4, name="embedding")(inputs)
x = keras.layers.Lambda(payload, name="payload")(x)
x = keras.layers.GlobalAveragePooling1D()(x)
keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x)).save(sys.argv[1], zipped=False)
"""


def _hfsent_files(folder, source):
    for name in ("hfsent_config.json", "vocab.txt"):
        shutil.copy(source / name, folder / name)
    cfg = json.loads((folder / "hfsent_config.json").read_text())
    embedding_rows = 50
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", *[f"w{i}" for i in range(48)]]) + "\n")
    (folder / "hfsent_config.json").write_text(json.dumps({**cfg, "vocab_size": embedding_rows}))


@pytest.fixture(scope="module")
def lambda_repo(trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("lambda")
    folder, marker = root / "model", root / "marker.txt"
    subprocess.run([sys.executable, "-c", LAMBDA_MODEL, str(folder), str(marker)], check=True,
                   capture_output=True)
    marker.unlink(missing_ok=True)  # building the model called the function once; start clean
    _hfsent_files(folder, trained.output_dir)
    return folder, marker


def test_a_lambda_layer_is_refused_and_never_runs(lambda_repo, tmp_path):
    folder, marker = lambda_repo
    with pytest.raises(UnsafeModelError, match="keras.layers.Lambda"):
        SentimentClassifier.load(folder)
    push_to_hub(folder, "stranger/lambda")
    with pytest.raises(UnsafeModelError, match="refused without running any of its code"):
        from_pretrained("stranger/lambda", cache_dir=tmp_path)
    assert not marker.exists()


def test_the_lambda_fixture_would_run_if_it_were_trusted(lambda_repo):
    # The control, in its own process: with every safety off, the same folder does run
    # its payload, so the test above would fail if hfsent let it through.
    folder, marker = lambda_repo
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


@pytest.mark.parametrize("name", ["weights.pkl", "extra.pickle"])
def test_pickles_in_a_repo_are_never_downloaded(trained, tmp_path, name):
    repo = f"stranger/pickle-{name.split('.')[1]}"
    push_to_hub(trained.output_dir, repo)
    HfApi().upload_file(path_or_fileobj=b"\x80\x04K\x01.", path_in_repo=name, repo_id=repo)
    clf = from_pretrained(repo, cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    assert clf.predict(["great"])[0]["label"] in ("positive", "negative")


def test_unknown_format_version_from_the_hub(trained, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained.output_dir, folder)
    cfg = json.loads((folder / "hfsent_config.json").read_text())
    (folder / "hfsent_config.json").write_text(json.dumps({**cfg, "format_version": FORMAT_VERSION + 1}))
    HfApi().create_repo("stranger/future", exist_ok=True)
    HfApi().upload_folder(folder_path=str(folder), repo_id="stranger/future")
    with pytest.raises(ValueError, match=f"format_version={FORMAT_VERSION + 1}"):
        from_pretrained("stranger/future", cache_dir=tmp_path / "cache")


def test_vocabulary_that_does_not_match_the_embedding_from_the_hub(trained, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained.output_dir, folder)
    tokens = (folder / "vocab.txt").read_text().splitlines()
    (folder / "vocab.txt").write_text("\n".join(tokens + ["extra-word"]) + "\n")
    HfApi().create_repo("stranger/mismatch", exist_ok=True)
    HfApi().upload_folder(folder_path=str(folder), repo_id="stranger/mismatch")
    with pytest.raises(ValueError, match="vocabulary does not match the model"):
        from_pretrained("stranger/mismatch", cache_dir=tmp_path / "cache")
