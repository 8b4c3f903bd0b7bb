"""scripts/benchmarks.py's training-throughput rows run on the package defaults (what bench.py passes)."""

import importlib.util
from pathlib import Path

import numpy as np
from datasets import Dataset

from hfsent.config import preset

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmarks.py"


def test_throughput_trains_the_defaults_whose_schedule_is_left_to_the_epoch():
    spec = importlib.util.spec_from_file_location("hfsent_benchmarks", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(0)
    ids = [rng.integers(1, 30, rng.integers(2, 12)).tolist() for _ in range(48)]
    encoded = Dataset.from_dict({"input_ids": ids, "label": [i % 2 for i in range(48)]})
    # lr_decay, patience and epochs stay unset, as in preset("default"): hfsent.schedule fills them
    config = preset("default", embedding_dim=4, gru_units=4, batch_size=8, max_length=12)
    rows = bench.throughput(encoded, config, [4, 8], max_steps=2)
    assert [r["batches_timed"] for r in rows][0] == 2 and all(r["real_tokens_per_s"] > 0 for r in rows)
