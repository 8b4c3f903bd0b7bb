import json
import subprocess
import sys

import numpy as np
import pytest

from hfsent.config import CONFIG_NAME, FORMAT_VERSION, Config
from hfsent.predict import SentimentClassifier
from tests.conftest import NEGATIVE, POSITIVE

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
PROBES = ["a great and wonderful film", "an awful boring movie", "the story was excellent",
          "the plot was dreadful and I hated it"]


def test_tiny_training_learns_separable_sentiment(trained):
    assert trained.metrics["validation"]["accuracy"] >= 0.75
    assert trained.metrics["test"]["accuracy"] >= 0.75
    assert set(trained.metrics["test"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    labels = [r["label"] for r in trained.classifier.predict(PROBES)]
    assert labels == ["positive", "negative", "positive", "negative"]


def test_artifact_layout(trained):
    names = {p.name for p in trained.output_dir.iterdir()}
    assert {"config.json", "metadata.json", "model.weights.h5", "vocab.txt", CONFIG_NAME,
            "metrics.json"} <= names
    config = json.loads((trained.output_dir / CONFIG_NAME).read_text())
    assert config["format_version"] == FORMAT_VERSION
    assert config["vocab_size"] == len((trained.output_dir / "vocab.txt").read_text().splitlines())
    assert not [p for p in trained.output_dir.parent.iterdir() if p.name.startswith(".")]


def test_vocabulary_comes_from_train_only(trained):
    vocab = set(trained.classifier.vocab.tokens)
    assert set(POSITIVE) | set(NEGATIVE) <= vocab
    assert trained.metrics["num_examples"]["train"] == 64


def test_save_load_gives_identical_predictions(trained):
    loaded = SentimentClassifier.load(trained.output_dir)
    np.testing.assert_array_equal(loaded.predict_proba(PROBES), trained.classifier.predict_proba(PROBES))


def test_prediction_does_not_depend_on_batch_company(trained):
    clf = trained.classifier
    alone = clf.predict_proba([PROBES[0]])
    mixed = clf.predict_proba([PROBES[0], "film " * 30], batch_size=2)
    np.testing.assert_allclose(alone[0], mixed[0], rtol=1e-5)


def test_plain_keras_loads_the_folder_without_hfsent(trained):
    code = ("import sys, keras, numpy as np; m = keras.saving.load_model(sys.argv[1]); "
            "assert 'hfsent' not in sys.modules; print(m.predict(np.array([[2, 3, 4]]), verbose=0).shape)")
    out = subprocess.run([sys.executable, "-c", code, str(trained.output_dir)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("(1, 1)")


def test_loading_checks_format_version_and_vocab_size(trained, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(trained.output_dir, folder)
    cfg = json.loads((folder / CONFIG_NAME).read_text())
    (folder / "vocab.txt").write_text("\n".join(trained.classifier.vocab.tokens[:-1]) + "\n")
    with pytest.raises(ValueError, match="vocabulary does not match"):
        SentimentClassifier.load(folder)
    (folder / CONFIG_NAME).write_text(json.dumps({**cfg, "format_version": 999}))
    with pytest.raises(ValueError, match="format_version=999"):
        SentimentClassifier.load(folder)


def test_refuses_non_empty_output_dir(hub_layout_dir, tmp_path):
    from hfsent.train import train

    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="--overwrite"):
        train(Config(dataset=str(hub_layout_dir)), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_predict_rejects_unusable_inputs(trained):
    clf = trained.classifier
    with pytest.raises(ValueError, match="no tokens"):
        clf.predict(["fine", "   "])
    with pytest.raises(TypeError, match="text 1 is NoneType"):
        clf.predict(["fine", None])
    with pytest.raises(TypeError, match="single string"):
        clf.predict("fine")


def test_predict_script_reads_arguments_and_stdin(trained):
    cmd = [sys.executable, str(REPO / "scripts" / "predict.py"), "--model", str(trained.output_dir)]
    out = subprocess.run([*cmd, PROBES[0], PROBES[1]], capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    out = subprocess.run(cmd, input=PROBES[2] + "\n", capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["text"] == PROBES[2]


def test_config_json_round_trip_and_presets():
    from hfsent.config import preset

    cfg = preset("notebook", dataset="x")
    assert (cfg.embedding_dim, cfg.gru_units, cfg.batch_size, cfg.epochs) == (300, 500, 20, 5)
    assert Config.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ValueError, match="unknown hfsent config keys"):
        Config.from_dict({**json.loads(cfg.to_json()), "surprise": 1})


def test_train_script_flags_map_onto_the_config():
    sys.path.insert(0, str(REPO / "scripts"))
    import argparse

    from hfsent.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="default")
    add_config_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--preset", "notebook", "--gru-units", "7", "--bidirectional"]))
    assert (cfg.gru_units, cfg.embedding_dim, cfg.bidirectional) == (7, 300, True)
    assert config_from_args(parser.parse_args(["--no-lowercase"])).lowercase is False


def test_word2vec_initialises_the_embedding_from_train_and_unlabelled_text(hub_layout_with_unsup):
    from hfsent.train import train
    from tests.conftest import tiny_config

    folder = hub_layout_with_unsup
    # Frozen, so the weights after training are exactly what word2vec put there.
    cfg = tiny_config(folder, pretrain_embeddings=True, freeze_embeddings=True, word2vec_epochs=2, epochs=2)
    result = train(cfg, None, verbose=0, score_test=False)
    emb = result.classifier.model.get_layer("embedding").get_weights()[0]
    # Keras' random-uniform initialiser never gives an exact zero row: word2vec's matrix did.
    assert np.all(emb[0] == 0), "[PAD] row is zero"
    vocab = result.classifier.vocab
    great, wonderful = (emb[vocab.index[w]] for w in ("great", "wonderful"))
    assert np.abs(great).sum() > 0 and not np.allclose(great, wonderful)
    assert result.metrics["validation"]["accuracy"] is not None
