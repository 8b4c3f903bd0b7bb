"""Shared fixtures: an isolated Hugging Face cache, a local Hub, and two kinds of tiny reviews.

Nothing leaves 127.0.0.1: ``HF_ENDPOINT`` points at :class:`tests.hubserver.FakeHub`, set
here before ``huggingface_hub`` is first imported (it reads the endpoint at import time).
``HF_HUB_DISABLE_XET=1`` because the local Hub speaks git-LFS, not Xet.

* :func:`make_reviews`: each review holds 1-3 words of its polarity, so single words
  separate the classes.  For plumbing (loading, pushing, scoring) and the linear branch.
* :func:`make_negated_reviews`: each review holds one polarity word, negated by a "not"
  just before it in half the reviews, and a stray "not" elsewhere in others.  No single
  word tells the label (a bag-of-words model scores about chance), so a model that gets
  them right has read word order.  For every test that claims the GRU learned.
"""

import json
import os
import random
import subprocess
import sys
import tempfile

from tests.hubserver import FakeHub

HUB = FakeHub()
os.environ["HF_ENDPOINT"] = HUB.url
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="hfsent-tests-hf-")
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_TOKEN"] = "hf_testtoken_not_secret"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hfsent.config import Config, preset  # noqa: E402
from hfsent.saved_config import CONFIG_NAME  # noqa: E402

POSITIVE = ["great", "wonderful", "excellent", "loved", "brilliant", "superb"]
NEGATIVE = ["awful", "terrible", "boring", "hated", "dreadful", "worst"]
FILLER = ["the", "movie", "film", "plot", "actor", "scene", "story", "was", "and", "a", "it"]
# What the GRU fixture must get right: the same polarity words, with and without "not".
NEGATION_PROBES = {"the film was great": "positive", "the film was not great": "negative",
                   "the plot was awful": "negative", "the plot was not awful": "positive"}


def make_reviews(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` reviews of 4-30 tokens, half positive; each holds 1-3 words of its polarity."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 27))]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label else NEGATIVE))
        text = " ".join(words).capitalize() + "." + (" <br /><br />The end." if i % 5 == 0 else "")
        rows.append({"text": text, "label": label})
    return pd.DataFrame(rows)


def make_negated_reviews(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` reviews, half positive, whose label depends on whether "not" precedes the one
    polarity word (see the module docstring)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label, negated = i % 2, rng.random() < 0.5
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 20))]
        if not negated and rng.random() < 0.5:  # a "not" that negates nothing, so "not" alone tells nothing
            words.insert(rng.randrange(len(words) + 1), "not")
        at = rng.randrange(len(words) + 1)
        polar = rng.choice(POSITIVE if label != negated else NEGATIVE)
        words[at:at] = ["not", polar] if negated else [polar]
        rows.append({"text": " ".join(words).capitalize() + ".", "label": label})
    return pd.DataFrame(rows)


def write_hub_layout(root, splits: dict[str, pd.DataFrame]):
    """``splits`` as a local dataset folder in the Hub layout of ``stanfordnlp/imdb``."""
    (root / "plain_text").mkdir(parents=True)
    lines = ["---", "configs:", "- config_name: plain_text", "  data_files:"]
    for name, df in splits.items():
        df.to_parquet(root / "plain_text" / f"{name}-00000-of-00001.parquet")
        lines += [f"  - split: {name}", f"    path: plain_text/{name}-*"]
    (root / "README.md").write_text("\n".join([*lines, "  default: true", "---", ""]))
    return root


@pytest.fixture(scope="session")
def hub_layout_dir(tmp_path_factory):
    """80 train / 40 test reviews separable by single words, in the Hub layout."""
    return write_hub_layout(tmp_path_factory.mktemp("imdb_tiny"),
                            {"train": make_reviews(80, seed=1), "test": make_reviews(40, seed=2)})


@pytest.fixture(scope="session")
def hub_layout_with_unsup(tmp_path_factory):
    """The same, plus an ``unsupervised`` split (label -1), as in IMDB."""
    return write_hub_layout(tmp_path_factory.mktemp("imdb_tiny_unsup"), {
        "train": make_reviews(80, seed=1), "test": make_reviews(40, seed=2),
        "unsupervised": make_reviews(60, seed=7).assign(label=-1)})


@pytest.fixture(scope="session")
def negation_dir(tmp_path_factory):
    """400 train / 80 test reviews that only word order separates, in the Hub layout."""
    return write_hub_layout(tmp_path_factory.mktemp("negation"),
                            {"train": make_negated_reviews(400, seed=1),
                             "test": make_negated_reviews(80, seed=2)})


@pytest.fixture(scope="session")
def kaggle_csv(tmp_path_factory):
    """A CSV in the layout of Kaggle's "IMDB Dataset.csv" (review, sentiment)."""
    df = make_reviews(60, seed=3)
    df = pd.DataFrame({"review": df["text"],
                       "sentiment": df["label"].map({0: "negative", 1: "positive"})})
    path = tmp_path_factory.mktemp("kaggle") / "IMDB Dataset.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def hub():
    return HUB


TINY = dict(embedding_dim=8, gru_units=8, batch_size=8, epochs=12, learning_rate=0.02, dropout=0.0,
            patience=12, min_freq=1, num_buckets=3, max_length=32, num_proc=1, validation_size=0.2,
            pretrain_embeddings=False, lr_decay=1.0, wide_ngrams=False)
# The GRU fixture's sizes: learns the negation data in about 20 s on 2 cores.
GRU = dict(embedding_dim=16, gru_units=16, epochs=20, patience=20)
TINY_FLAGS = [f"--{k.replace('_', '-')}" if v is True else f"--no-{k.replace('_', '-')}" if v is False
              else f"--{k.replace('_', '-')}={v}" for k, v in {**TINY, **GRU}.items()]


def tiny_config(dataset, **overrides) -> Config:
    """A small, fast config: GRU only (``wide_ngrams=False``) unless overridden."""
    return preset("default", dataset=str(dataset), **{**TINY, **overrides})


@pytest.fixture(scope="session")
def trained(negation_dir, tmp_path_factory):
    """A GRU (no wide branch) trained once on the negation reviews and saved to a folder."""
    from hfsent.train import train

    out = tmp_path_factory.mktemp("model") / "tiny"
    return train(tiny_config(negation_dir, **GRU), out, verbose=0)


@pytest.fixture(scope="session")
def rating_data(tmp_path_factory):
    """Like the ratings copy of IMDB: text, label and a 1-4 / 7-10 star rating, no test split."""
    import numpy as np

    df = make_reviews(120, seed=5)
    rng = np.random.default_rng(0)
    df["rating"] = np.where(df["label"] == 1, rng.integers(7, 11, len(df)), rng.integers(1, 5, len(df)))
    path = tmp_path_factory.mktemp("ratings") / "train-00000-of-00001.parquet"
    df.to_parquet(path)
    return path


@pytest.fixture(scope="session")
def rating_model(rating_data, tmp_path_factory):
    """A rating regressor on ``rating_data``: the GRU blended with its ridge linear half."""
    from hfsent.train import train

    cfg = tiny_config(rating_data, task="rating", label_column="rating", test_size=0.2, epochs=25,
                      patience=25, wide_ngrams=True, wide_buckets=256, wide_alpha=10.0)
    return train(cfg, tmp_path_factory.mktemp("rating") / "model", verbose=0)


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


@pytest.fixture(scope="session")
def lambda_folder(trained, tmp_path_factory):
    """A Keras folder with a Lambda layer whose code writes a marker file, plus valid hfsent files."""
    root = tmp_path_factory.mktemp("lambda")
    folder, marker = root / "model", root / "marker.txt"
    subprocess.run([sys.executable, "-c", LAMBDA_MODEL, str(folder), str(marker)], check=True,
                   capture_output=True)
    marker.unlink(missing_ok=True)  # building the model called the function once; start clean
    cfg = json.loads((trained.output_dir / CONFIG_NAME).read_text())
    cfg["preprocessing"]["vocab_size"] = 50
    (folder / CONFIG_NAME).write_text(json.dumps(cfg))
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", *[f"w{i}" for i in range(48)]]) + "\n")
    return folder, marker
