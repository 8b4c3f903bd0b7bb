"""Checks on the real IMDB copy (``../shared/data/imdb``): minutes, so marked slow.

Run with ``python -m pytest -m slow``; skipped where the data is absent.
"""

from pathlib import Path

import pytest

from hfsent.config import preset

IMDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imdb"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not IMDB.is_dir(), reason="the IMDB copy in ../shared is not here")]


def test_a_short_run_on_real_reviews_beats_chance_clearly(tmp_path):
    from hfsent.train import train

    cfg = preset("default", dataset=str(IMDB), max_train_samples=3000, max_eval_samples=1000, epochs=2)
    result = train(cfg, tmp_path / "model", verbose=0)
    assert result.metrics["validation"]["accuracy"] > 0.75
    assert result.metrics["test"]["accuracy"] > 0.75


def test_a_rerun_reads_the_tokenization_cache():
    from hfsent.data import load_raw, normalize
    from hfsent.tokenize import tokenize_dataset

    train = normalize(load_raw(str(IMDB))["train"]).select(range(5000))
    first = tokenize_dataset(train, num_proc=2)
    again = tokenize_dataset(train, num_proc=2)
    assert again._fingerprint == first._fingerprint
    assert again.cache_files == first.cache_files
