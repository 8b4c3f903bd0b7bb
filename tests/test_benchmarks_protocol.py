"""Known answers for the comparison protocol of scripts/benchmarks.py (McNemar, paired bootstrap,
spread over seeds)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmarks.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("hfsent_benchmarks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mcnemar_exact_known_answer(bench):
    a = np.array([1] * 9 + [0] + [1] * 5, bool)  # 9 right only under A, 1 only under B, 5 under both
    b = np.array([0] * 9 + [1] + [1] * 5, bool)
    result = bench.mcnemar(a, b)
    assert (result["b"], result["c"]) == (9, 1)
    assert result["p"] == pytest.approx(2 * 11 / 1024)  # 2 * P(X <= 1), X ~ Binomial(10, 1/2)
    assert bench.mcnemar(b, a)["p"] == result["p"]
    assert bench.mcnemar(a, a)["p"] == 1.0
    # 5 against 5 discordant: p = 2 * P(X <= 5) for Binomial(10, 1/2), capped at 1
    assert bench.mcnemar(np.array([1] * 5 + [0] * 5), np.array([0] * 5 + [1] * 5))["p"] == 1.0


def test_mcnemar_large_sample_agrees_with_binomial_test(bench):
    from scipy.stats import binomtest

    rng = np.random.default_rng(0)
    a, b = rng.random(3000) < 0.81, rng.random(3000) < 0.79
    result = bench.mcnemar(a, b)
    assert result["p"] == pytest.approx(binomtest(result["b"], result["b"] + result["c"]).pvalue)


def test_paired_bootstrap_known_answers(bench):
    labels = np.array([0, 1] * 50)
    same = bench.paired_bootstrap(bench.accuracy, labels, labels, labels, samples=200)
    assert same["difference"] == 0.0 and same["p"] == 1.0
    wrong = 1 - labels
    best = bench.paired_bootstrap(bench.accuracy, labels, labels, wrong, samples=200)
    assert best["difference"] == 1.0 and best["low"] == best["high"] == 1.0
    assert best["p"] == pytest.approx(2 / 201)  # no resample at or below zero


def test_paired_bootstrap_macro_f1_and_seeds(bench):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 300)
    a = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 3, 300))
    b = np.where(rng.random(300) < 0.5, labels, rng.integers(0, 3, 300))
    result = bench.paired_bootstrap(bench.macro_f1, labels, a, b, samples=300)
    expected = f1_score(labels, a, average="macro") - f1_score(labels, b, average="macro")
    assert result["difference"] == pytest.approx(expected)
    assert result["low"] < expected < result["high"] and result["p"] < 0.01
    # two seeds each: the difference of the means over seeds
    seeds = bench.paired_bootstrap(bench.accuracy, labels, np.stack([a, labels]), np.stack([b, b]),
                                   samples=50)
    assert seeds["difference"] == pytest.approx((np.mean(a == labels) + 1) / 2 - np.mean(b == labels))


def test_spread_and_compare(bench):
    s = bench.spread([0.70, 0.72, 0.74])
    assert s["mean"] == pytest.approx(0.72) and s["std"] == pytest.approx(0.02) and s["n"] == 3
    assert bench.spread([0.5])["std"] == 0.0
    labels = np.array([0, 1, 1, 0] * 25)
    record = bench.compare(labels, labels, 1 - labels, samples=100)
    assert record["accuracy"]["a"]["mean"] == 1.0 and record["accuracy"]["b"]["mean"] == 0.0
    assert record["accuracy"]["mcnemar_p"] == pytest.approx(2 * 0.5 ** 100)
    row = bench.comparison_row("perfect vs wrong", record)
    assert row.startswith("| perfect vs wrong | 1.0000 ± 0.0000 (1) | 0.0000 ± 0.0000 (1) | +1.0000")
