"""Shared fixtures: an isolated Hugging Face cache, a local Hub, and tiny separable reviews.

Nothing leaves 127.0.0.1: ``HF_ENDPOINT`` points at :class:`tests.hubserver.FakeHub`, set
here before ``huggingface_hub`` is first imported (it reads the endpoint at import time).
``HF_HUB_DISABLE_XET=1`` because the local Hub speaks git-LFS, not Xet.
"""

import os
import random
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

from hfsent.config import Config  # noqa: E402

POSITIVE = ["great", "wonderful", "excellent", "loved", "brilliant", "superb"]
NEGATIVE = ["awful", "terrible", "boring", "hated", "dreadful", "worst"]
FILLER = ["the", "movie", "film", "plot", "actor", "scene", "story", "was", "and", "a", "it"]


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


@pytest.fixture(scope="session")
def hub_layout_dir(tmp_path_factory):
    """A local dataset folder in the Hub layout of ``stanfordnlp/imdb``."""
    root = tmp_path_factory.mktemp("imdb_tiny")
    (root / "plain_text").mkdir()
    make_reviews(80, seed=1).to_parquet(root / "plain_text" / "train-00000-of-00001.parquet")
    make_reviews(40, seed=2).to_parquet(root / "plain_text" / "test-00000-of-00001.parquet")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: plain_text\n  data_files:\n"
        "  - split: train\n    path: plain_text/train-*\n"
        "  - split: test\n    path: plain_text/test-*\n  default: true\n---\n"
    )
    return root


@pytest.fixture(scope="session")
def hub_layout_with_unsup(hub_layout_dir, tmp_path_factory):
    """The Hub-layout fixture plus an ``unsupervised`` split (label -1), as in IMDB."""
    folder = tmp_path_factory.mktemp("imdb_tiny_unsup")
    (folder / "plain_text").mkdir()
    for f in (hub_layout_dir / "plain_text").iterdir():
        (folder / "plain_text" / f.name).write_bytes(f.read_bytes())
    unsup = make_reviews(60, seed=7).assign(label=-1)
    unsup.to_parquet(folder / "plain_text" / "unsupervised-00000-of-00001.parquet")
    (folder / "README.md").write_text((hub_layout_dir / "README.md").read_text().replace(
        "  default: true", "  - split: unsupervised\n    path: plain_text/unsupervised-*\n  default: true"))
    return folder


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


def tiny_config(dataset, **overrides) -> Config:
    values = dict(dataset=str(dataset), embedding_dim=8, gru_units=8, batch_size=8, epochs=12,
                  learning_rate=0.02, dropout=0.0, patience=12, min_freq=1, num_buckets=3,
                  max_length=32, num_proc=1, validation_size=0.2, pretrain_embeddings=False, lr_decay=1.0,
                  self_training=False)
    values.update(overrides)
    return Config(**values)


@pytest.fixture(scope="session")
def trained(hub_layout_dir, tmp_path_factory):
    """A tiny model trained once on the Hub-layout fixture and saved to a folder."""
    from hfsent.train import train

    out = tmp_path_factory.mktemp("model") / "tiny"
    result = train(tiny_config(hub_layout_dir), out, verbose=0)
    return result
