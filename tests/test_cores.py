"""The count of cores this process may use: the affinity, capped by a cgroup v2 CPU quota."""

import subprocess
import sys

import pytest

from hfsent import cores


@pytest.mark.parametrize(("cpu_max", "cap"), [("150000 100000\n", 2), ("100000 100000\n", 1),
                                               ("50000 100000\n", 1), ("max 100000\n", None),
                                               ("garbage\n", None), (None, None)])
def test_a_cgroup_quota_caps_the_affinity(tmp_path, monkeypatch, cpu_max, cap):
    path = tmp_path / "cpu.max"
    if cpu_max is not None:  # None: no such file, as on macOS or under cgroup v1
        path.write_text(cpu_max)
    monkeypatch.setattr(cores, "CPU_MAX", path)
    expected = cores.affinity_cores() if cap is None else min(cap, cores.affinity_cores())
    assert cores.usable_cores() == expected


@pytest.mark.skipif(cores.affinity_cores() < 2, reason="a quota of one core caps nothing on one core")
def test_the_streaming_tokenizer_starts_no_more_children_than_the_quota_allows(tmp_path):
    # Each child holds a spaCy pipeline: a container capped at one CPU must start one, not one per
    # host core.  A new interpreter, so that the module-level count is read under the quota.
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    code = ("from pathlib import Path\nimport hfsent.cores as c\n"
            f"c.CPU_MAX = Path({str(tmp_path / 'cpu.max')!r})\n"
            "import hfsent.tokenize_child as t\nprint(t.MAX_CHILDREN)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"


def test_tokenizing_a_cached_split_starts_no_more_processes_than_the_quota_allows(tmp_path, monkeypatch):
    # The cached path's Dataset.map processes each hold a spaCy pipeline too: a 64-core host under
    # a one-CPU quota must tokenize in one process, not in one per host core.
    from datasets import Dataset

    from hfsent import tokenize

    (tmp_path / "cpu.max").write_text("100000 100000\n")
    monkeypatch.setattr(cores, "CPU_MAX", tmp_path / "cpu.max")
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 64)
    seen = {}
    monkeypatch.setattr(Dataset, "map", lambda self, *args, **kwargs: seen.update(kwargs))
    rows = {"text": ["a b"] * 8000, "label": [0] * 8000}
    tokenize.tokenize_dataset(Dataset.from_dict(rows), "blank:en", True)
    assert seen["num_proc"] is None  # one process
