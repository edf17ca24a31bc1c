"""Bootstrap confidence intervals: coverage of the estimate, width versus data size, SciPy as a reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from coursepkg.metrics.bootstrap import bootstrap_confidence_interval
from coursepkg.metrics.classification import accuracy
from coursepkg.metrics.curves import roc_auc_score


def _predictions(n: int, accuracy_rate: float, seed: int):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    wrong = rng.random(n) > accuracy_rate
    y_pred = np.where(wrong, (y_true + 1) % 3, y_true)
    return y_true, y_pred


def test_interval_contains_the_estimate_and_narrows_with_more_data():
    small = bootstrap_confidence_interval(accuracy, *_predictions(100, 0.8, 0), n_resamples=500)
    large = bootstrap_confidence_interval(accuracy, *_predictions(2500, 0.8, 0), n_resamples=500)
    for interval in (small, large):
        assert interval.low <= interval.estimate <= interval.high
        assert interval.low < interval.high
    assert (large.high - large.low) < 0.5 * (small.high - small.low)  # width ~ 1/sqrt(n): 5x narrower
    low, high, estimate = large  # a plain tuple too
    assert estimate == pytest.approx(accuracy(*_predictions(2500, 0.8, 0)))


def test_matches_scipy_percentile_bootstrap():
    y_true, y_pred = _predictions(400, 0.7, 1)
    ours = bootstrap_confidence_interval(accuracy, y_true, y_pred, n_resamples=2000, seed=2)
    reference = stats.bootstrap((y_true, y_pred), accuracy, paired=True, vectorized=False, n_resamples=2000,
                                method="percentile", random_state=3).confidence_interval
    # two independent Monte Carlo estimates of the same percentiles
    assert ours.low == pytest.approx(reference.low, abs=0.015)
    assert ours.high == pytest.approx(reference.high, abs=0.015)


def test_seeded_and_nested_levels():
    y_true, y_pred = _predictions(200, 0.6, 4)
    a = bootstrap_confidence_interval(accuracy, y_true, y_pred, n_resamples=300, seed=5)
    b = bootstrap_confidence_interval(accuracy, y_true, y_pred, n_resamples=300, seed=5)
    assert a == b
    narrow = bootstrap_confidence_interval(accuracy, y_true, y_pred, n_resamples=300, confidence=0.5, seed=5)
    assert a.low <= narrow.low <= narrow.high <= a.high


def test_undefined_resamples_are_skipped():
    y_true = np.array([0] * 19 + [1])  # many resamples have no positive example: AUC undefined there
    scores = np.linspace(0, 1, 20)
    interval = bootstrap_confidence_interval(roc_auc_score, y_true, scores, n_resamples=200)
    assert interval.estimate == 1.0 and interval.high == 1.0 and np.isfinite(interval.low)


def test_errors():
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_confidence_interval(accuracy, [0, 1], [0, 1], confidence=1.5)
    with pytest.raises(ValueError, match=r"len\(y_true\)=2 and len\(y_pred\)=3"):
        bootstrap_confidence_interval(accuracy, [0, 1], [0, 1, 1])
