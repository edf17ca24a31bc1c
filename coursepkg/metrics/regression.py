"""Regression metrics: mean squared error, root mean squared error, mean absolute error, R^2.

Inputs may be NumPy or backend arrays; they are copied to the host first. Targets are either
one value per example, shape (N,), or K values per example, shape (N, K); with K outputs each
metric is computed per column and then averaged (scikit-learn's ``multioutput="uniform_average"``).
"""

from __future__ import annotations

from typing import Any

import numpy

from coursepkg.metrics import _inputs
from coursepkg.metrics._inputs import warn_undefined


def _targets(y_true: Any, y_pred: Any, caller: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    y_true = _inputs.host(y_true, "y_true", caller).astype(numpy.float64)
    y_pred = _inputs.host(y_pred, "y_pred", caller).astype(numpy.float64)
    if y_true.shape != y_pred.shape or y_true.ndim > 2:
        raise ValueError(f"{caller}: y_true and y_pred must have the same shape, (N,) or (N, K), "
                         f"got {y_true.shape} and {y_pred.shape}.")
    _inputs.same_length(caller, y_true=y_true, y_pred=y_pred)
    return y_true, y_pred


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """Mean of (y_pred - y_true)^2. Inputs: arrays of shape (N,) or (N, K). Returns: a float >= 0."""
    y_true, y_pred = _targets(y_true, y_pred, "mean_squared_error")
    return float(numpy.mean(numpy.mean((y_pred - y_true) ** 2, axis=0)))


def root_mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """Square root of the mean squared error (per output, then averaged), in the units of y."""
    y_true, y_pred = _targets(y_true, y_pred, "root_mean_squared_error")
    return float(numpy.mean(numpy.sqrt(numpy.mean((y_pred - y_true) ** 2, axis=0))))


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """Mean of |y_pred - y_true|. Inputs: arrays of shape (N,) or (N, K). Returns: a float >= 0."""
    y_true, y_pred = _targets(y_true, y_pred, "mean_absolute_error")
    return float(numpy.mean(numpy.mean(numpy.abs(y_pred - y_true), axis=0)))


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination R^2 = 1 - sum (y - y_pred)^2 / sum (y - mean(y))^2.

    1 is a perfect fit, 0 is no better than always predicting the mean, and it can be negative.
    As in scikit-learn: if y_true is constant, R^2 is 1.0 for a perfect prediction and 0.0
    otherwise (instead of a division by zero); with fewer than two examples it is NaN, with a warning.

    Inputs: arrays of shape (N,) or (N, K). Returns: a float.
    """
    y_true, y_pred = _targets(y_true, y_pred, "r2_score")
    if len(y_true) < 2:
        warn_undefined("R^2 score is not well-defined with less than two samples.")
        return float("nan")
    residual = numpy.atleast_1d(numpy.sum((y_true - y_pred) ** 2, axis=0))  # (K,)
    total = numpy.atleast_1d(numpy.sum((y_true - numpy.mean(y_true, axis=0)) ** 2, axis=0))
    score = numpy.where(residual == 0, 1.0, 0.0)  # the two cases where total == 0
    defined = (total != 0) & (residual != 0)
    score[defined] = 1 - residual[defined] / total[defined]
    return float(numpy.mean(score))
