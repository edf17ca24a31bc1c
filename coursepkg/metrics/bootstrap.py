"""Bootstrap confidence intervals: how much would a metric move with a different test set?

A test-set score is an estimate from a finite sample. The bootstrap estimates its spread by
resampling the test set with replacement (N draws from N examples), recomputing the metric on
each resample, and reading off percentiles: the 2.5th and 97.5th percentiles of the resampled
scores give a 95% *percentile interval*. More test examples give a narrower interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy

from coursepkg.metrics import _inputs


class BootstrapInterval(NamedTuple):
    """A confidence interval (low, high) and the metric on the full data (estimate)."""

    low: float
    high: float
    estimate: float


def bootstrap_confidence_interval(metric: Callable[[Any, Any], float], y_true: Any, y_pred: Any,
                                  n_resamples: int = 1000, confidence: float = 0.95,
                                  seed: int | None = 0) -> BootstrapInterval:
    """Percentile bootstrap confidence interval of ``metric(y_true, y_pred)``.

    Inputs:
    - metric: a function metric(y_true, y_pred) -> float, such as :func:`accuracy`.
    - y_true: array of shape (N, ...), the targets.
    - y_pred: array of shape (N, ...), the predictions or scores (rows are resampled together with y_true).
    - n_resamples: number of bootstrap resamples B.
    - confidence: the interval's level, in (0, 1).
    - seed: seed of a private numpy.random.Generator.
    Returns: BootstrapInterval(low, high, estimate), a named tuple of floats: the (1 - confidence)/2
    and (1 + confidence)/2 percentiles of the B resampled metrics, and the metric on all the data.
    Resamples where the metric is undefined (NaN, such as a ROC AUC drawn with a single class)
    are left out; their warnings are silenced.
    """
    caller = "bootstrap_confidence_interval"
    y_true, y_pred = _inputs.host(y_true, "y_true", caller), _inputs.host(y_pred, "y_pred", caller)
    n = _inputs.same_length(caller, y_true=y_true, y_pred=y_pred)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"{caller}: confidence must be in (0, 1), got {confidence}.")
    if n_resamples < 1:
        raise ValueError(f"{caller}: n_resamples must be >= 1, got {n_resamples}.")
    estimate = float(metric(y_true, y_pred))
    rng = numpy.random.default_rng(seed)
    resampled = numpy.empty(n_resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _inputs.UndefinedMetricWarning)
        for b in range(n_resamples):
            rows = rng.integers(0, n, n)
            resampled[b] = metric(y_true[rows], y_pred[rows])
    alpha = 1.0 - confidence
    low, high = numpy.nanpercentile(resampled, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return BootstrapInterval(float(low), float(high), estimate)
