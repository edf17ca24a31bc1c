"""benchmarks/run.py's target check: which targets a run meets, by the median over rounds, and how far
the rounds spread. Rows are made up here; nothing is timed."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def run(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("run")


def _rows(cnn_rounds, tiny_rounds_vs_numpy):
    """The rows run_case() would give for these paired ratios (only the fields the targets read)."""
    def row(case, batch, vs_torch, vs_numpy=None, **extra):
        r = {"case": case, "batch": batch, "ratio_vs_torch": sorted(vs_torch)[len(vs_torch) // 2],
             "ratios_vs_torch_by_round": vs_torch, **extra}
        if vs_numpy is not None:
            r["ratio_vs_numpy"] = sorted(vs_numpy)[len(vs_numpy) // 2]
            r["ratios_vs_numpy_by_round"] = vs_numpy
        return r

    mlp = {"coursepkg_epoch_extra_mb": 9.0, "torch_epoch_extra_mb": 18.0}
    return [
        row("tiny", 8, [4.3, 4.2, 4.1], tiny_rounds_vs_numpy),
        row("digits", 32, [3.7, 3.6, 3.8]),
        row("cnn", 128, cnn_rounds),
        row("transformer", 64, [1.7, 1.8, 1.6]),
        row("mlp", 32, [1.7, 1.5, 1.8], **mlp),
        row("mlp", 128, [1.2, 1.1, 1.3], **mlp),
        row("mlp", 512, [0.95, 0.9, 1.0], coursepkg_roofline=0.6, **mlp),
    ]


def test_targets_are_judged_by_the_median_of_the_rounds(run):
    targets = {name: (value, ok, rounds) for name, value, ok, rounds in
               run.check_targets(_rows([1.95, 2.10, 1.98], [0.80, 0.76, 0.765]))}
    value, ok, rounds = targets["cnn b128: coursepkg/torch throughput >= 2.0"]
    assert (value, ok, rounds) == (1.98, False, [1.95, 2.10, 1.98])  # one round above 2 does not count
    value, ok, rounds = targets["tiny: coursepkg time <= 1.3x hand-written NumPy"]
    assert value == pytest.approx(1 / 0.765) and ok is False  # a time ratio: the inverse of throughput
    assert rounds == pytest.approx([1 / 0.80, 1 / 0.76, 1 / 0.765])
    assert targets["transformer b64: coursepkg/torch throughput >= 2.0"][1] is False
    assert targets["digits b32: coursepkg/torch throughput >= 2.0"][1] is True
    assert targets["mlp b512: training memory <= 1.2x torch"] == (0.5, True, [])
    assert targets["mlp b512: >= 50% of the matmul roofline"] == (0.6, True, [])
    met = {name: ok for name, _, ok, _ in run.check_targets(_rows([2.05, 2.10, 1.98], [0.80, 0.78, 0.79]))}
    assert met["cnn b128: coursepkg/torch throughput >= 2.0"] and met["tiny: coursepkg time <= 1.3x hand-written NumPy"]


def test_the_printed_line_shows_the_spread_of_the_rounds(run):
    line = run.describe_target("cnn b128: coursepkg/torch throughput >= 2.0", 1.98, False, [1.95, 2.10, 1.98])
    assert line == "  MISSED  cnn b128: coursepkg/torch throughput >= 2.0: 1.98 (rounds 1.95 to 2.10)"
    assert run.describe_target("mlp b512: training memory <= 1.2x torch", 0.5, True, []).endswith(": 0.50")
    assert run.describe_target("a target without torch", None, None, []) == "     n/a  a target without torch: -"
