"""``hfsent export``: the string-in SavedModel, its in-graph tokenizer, int8, and the command line."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from hfsent.cli import main
from tests.conftest import tiny_config

# Tricky for a regex tokenizer: contractions, special cases, emoticons glued to words, URLs,
# IMDB's <br />, numbers and units, hyphens and slashes between words, unicode and whitespace.
TRICKY = [
    "It's GREAT!<br /><br />I don't think so... (really?) \"Yes!\"",
    "Can't won't shouldn't I'm you're they've y'all 'cause o'clock rock'n'roll lovin' 'em",
    "Visit http://www.imdb.com/title/tt0111161/. Now! www.example.org, user@mail.com",
    "10/10 - 5km $100 US$5 2-3 1,000 3.5 +1 +0.5 9p.m. 100% 1990's e.g. Mr. Smith U.S.A. Dr.Who",
    "end.The start,end well-known a--b dyn-o-mite-dave 3*4 and/or x:y",
    "café naïve 😀 Ünïcödé — “quotes” ‘single’ «guillemets» İstanbul ß",
    "!!!!!!!!!! ??? ...hmm... (((x))) ''horror'' (Brazil): :) ;-) :-)) 8) <3 :(",
    "  multiple   spaces\tand\nnewlines\xa0nbsp\u2003em-space <BR> <br/>end",
    "", "   ", "<br />",
]
TEXTS = ["the film was great", "the film was not great", "The plot was awful!",
         "not awful at all, it's a GREAT film", "The end.<br /><br />Loved it"]
ISOLATED = r"""
import json, sys

class Block:  # neither hfsent nor spaCy may be imported by loading or running the export
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("hfsent", "spacy"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
import tensorflow as tf

serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = serve(text=tf.constant(json.loads(sys.argv[2])))
assert "hfsent" not in sys.modules and "spacy" not in sys.modules
print(json.dumps({k: v.numpy().tolist() if v.dtype != tf.string else [s.decode() for s in v.numpy()]
                  for k, v in out.items()}))
"""


def run_isolated(folder, texts) -> dict:
    """The export's answers from a fresh ``python -I`` that cannot import hfsent or spaCy."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TF_CPP_MIN_LOG_LEVEL")}
    done = subprocess.run([sys.executable, "-I", "-c", ISOLATED, str(folder), json.dumps(texts)],
                          capture_output=True, text=True, env=env, cwd=folder.parent, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def wide_model(hub_layout_dir, tmp_path_factory):
    """A GRU blended with its linear half (word and hashed-bigram counts), trained once."""
    from hfsent.train import train

    cfg = tiny_config(hub_layout_dir, wide_ngrams=True, wide_buckets=256, epochs=4, patience=4)
    return train(cfg, tmp_path_factory.mktemp("wide") / "model", verbose=0).output_dir


@pytest.fixture(scope="module")
def exported(wide_model, tmp_path_factory):
    from hfsent.export import export_saved_model

    return export_saved_model(wide_model, tmp_path_factory.mktemp("export") / "1")


def test_graph_tokenizer_matches_spacy_on_tricky_strings():
    import spacy
    import tensorflow as tf

    from hfsent.graph_tokenizer import english_rules, graph_tokenize, specials_table
    from hfsent.tokenize import tokenize

    rules = english_rules(spacy.blank("en").tokenizer)
    for lowercase in (True, False):
        got = graph_tokenize(tf.constant(TRICKY), rules, specials_table(rules), lowercase).to_list()
        assert [[t.decode() for t in row] for row in got] == tokenize(TRICKY, lowercase=lowercase)


def test_export_answers_as_predict_without_hfsent_or_spacy(wide_model, exported):
    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.load(wide_model)
    assert any(layer.name == "wide_output" for layer in clf.model.layers)  # both halves are exported
    out = run_isolated(exported, TEXTS)
    want = clf.class_probabilities(TEXTS)
    np.testing.assert_allclose(np.array(out["scores"]), want, atol=1e-5)
    assert out["label"] == np.argmax(want, axis=1).tolist()
    assert out["label_name"] == [r["label"] for r in clf.predict(TEXTS)]
    assert (exported / "assets" / "vocab.txt").read_text(encoding="utf-8") == \
        (wide_model / "vocab.txt").read_text(encoding="utf-8")
    # no local path: neither the model folder's nor that of the scratch copy of vocab.txt
    assert tempfile.gettempdir() not in (exported / "saved_model.pb").read_bytes().decode("latin-1")


def test_export_truncates_as_predict(trained, tmp_path):
    """A text far over max_length: only its first max_length tokens count, in both."""
    from hfsent.export import export_saved_model
    from hfsent.predict import SentimentClassifier

    clf = SentimentClassifier.load(trained.output_dir)
    long_texts = ["the film was great " * 40 + "awful " * 40, "the plot was awful " * 30]
    out = run_isolated(export_saved_model(trained.output_dir, tmp_path / "1"), long_texts)
    np.testing.assert_allclose(np.array(out["scores"]), clf.class_probabilities(long_texts), atol=1e-5)


def test_encode_signature_gives_hfsent_ids(wide_model, exported):
    import tensorflow as tf

    from hfsent.predict import SentimentClassifier

    out = tf.saved_model.load(str(exported)).signatures["encode"](text=tf.constant(TEXTS))
    got = [row[:n].tolist() for row, n in zip(out["input_ids"].numpy(), out["length"].numpy())]
    assert got == SentimentClassifier.load(wide_model).encode(TEXTS)


def test_text_without_tokens_gets_nan_and_label_minus_one(exported):
    import tensorflow as tf

    out = tf.saved_model.load(str(exported)).signatures["serving_default"](text=tf.constant(["  ", "great"]))
    assert np.isnan(out["scores"].numpy()[0]).all() and out["label"].numpy()[0] == -1
    assert not np.isnan(out["scores"].numpy()[1]).any()


def test_int8_export_runs_and_loads(wide_model, tmp_path):
    import tensorflow as tf

    from hfsent.export import EXPORT_INFO, export_saved_model
    from hfsent.predict import SentimentClassifier

    folder = export_saved_model(wide_model, tmp_path / "1", quantize="int8")
    assert json.loads((folder / EXPORT_INFO).read_text())["quantized_layers"] == ["embedding"]
    dtypes = tf.train.load_checkpoint(str(folder / "variables" / "variables")).get_variable_to_dtype_map()
    assert tf.int8 in dtypes.values()
    out = run_isolated(folder, TEXTS)
    want = SentimentClassifier.load(wide_model).class_probabilities(TEXTS)
    np.testing.assert_allclose(np.array(out["scores"]), want, atol=0.05)  # int8 rounding, not a new model


def test_cli_export(wide_model, tmp_path, capsys):
    assert main(["export", "--model", str(wide_model), "--output-dir", str(tmp_path / "1")]) == 0
    assert (tmp_path / "1" / "saved_model.pb").is_file()
    assert "its signature 'serving_default' takes a string tensor 'text'" in capsys.readouterr().out


def test_cli_refuses_non_empty_output_dir_and_unknown_format(wide_model, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for extra in ([], ["--format", "onnx"]):
        done = subprocess.run([sys.executable, "-m", "hfsent", "export", "--model", str(wide_model),
                               "--output-dir", str(tmp_path / "taken"), *extra],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 2
        assert done.stderr.startswith("hfsent: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
