"""Threshold curves for binary classifiers: ROC and precision-recall, and the areas under them.

A classifier that outputs a score s (a probability or any real number) predicts "positive"
when s >= t. Sweeping the threshold t from high to low traces a curve:

- ROC: the false positive rate FP / (all negatives) against the true positive rate
  TP / (all positives). Its area (ROC AUC) is the probability that a random positive example
  scores higher than a random negative one (ties count one half): 0.5 is chance, 1 is perfect.
- Precision-recall: precision TP / (TP + FP) against recall TP / (all positives). Its summary,
  average precision, is sum_k (R_k - R_{k-1}) P_k over the thresholds, a step-function area.

Tied scores cannot be separated by any threshold, so the curves only have one point per
*distinct* score (exactly as scikit-learn does, whose results the tests use as an oracle).
Inputs may be NumPy or backend arrays; they are copied to the host first.
"""

from __future__ import annotations

from typing import Any

import numpy

from coursepkg.metrics import _inputs
from coursepkg.metrics._inputs import warn_undefined


def _binary_inputs(y_true: Any, scores: Any, pos_label: int, caller: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    y_true = _inputs.labels(y_true, "y_true", caller)
    scores = _inputs.host(scores, "scores", caller).astype(numpy.float64)
    if scores.ndim != 1:
        raise ValueError(f"{caller}: scores must have shape (N,) (the positive class's score), got {scores.shape}.")
    _inputs.same_length(caller, y_true=y_true, scores=scores)
    if not numpy.all(numpy.isfinite(scores)):
        raise ValueError(f"{caller}: scores contain NaN or infinity.")
    classes = numpy.unique(y_true)
    if len(classes) > 2:
        raise ValueError(f"{caller}: y_true must be binary, but has the classes {classes.tolist()}.")
    if len(classes) == 2 and pos_label not in classes:
        raise ValueError(f"{caller}: pos_label={pos_label} is not one of the labels {classes.tolist()}.")
    return (y_true == pos_label).astype(numpy.float64), scores


def counts_at_thresholds(is_positive: numpy.ndarray, scores: numpy.ndarray,
                         ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """False and true positive counts when predicting positive for score >= t, for every distinct score t.

    Inputs:
    - is_positive: float array of shape (N,), 1.0 for positive examples and 0.0 for negative ones.
    - scores: float array of shape (N,).
    Returns (each of shape (T,), T = number of distinct scores, thresholds decreasing):
    - fps: false positives at each threshold (increasing; fps[-1] = number of negatives).
    - tps: true positives at each threshold (increasing; tps[-1] = number of positives).
    - thresholds: the distinct scores, from the highest down.
    """
    order = numpy.argsort(scores, kind="stable")[::-1]  # highest score first (ties: later index first)
    scores, is_positive = scores[order], is_positive[order]
    last_of_each_score = numpy.r_[numpy.flatnonzero(numpy.diff(scores)), len(scores) - 1]
    tps = numpy.cumsum(is_positive)[last_of_each_score]
    fps = 1 + last_of_each_score - tps  # examples above the threshold that are not positive
    return fps, tps, scores[last_of_each_score]


def roc_curve(y_true: Any, scores: Any, pos_label: int = 1,
              drop_intermediate: bool = True) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Receiver operating characteristic: false and true positive rates at every threshold.

    Inputs:
    - y_true: binary labels of shape (N,).
    - scores: scores of shape (N,), higher means "more positive".
    - pos_label: the label of the positive class.
    - drop_intermediate: leave out points on a straight segment between their neighbours
      (they do not change the curve or its area).
    Returns float64 arrays of shape (T + 1,), starting at the point (0, 0):
    - fpr: false positive rates, increasing from 0 to 1.
    - tpr: true positive rates, increasing from 0 to 1.
    - thresholds: decreasing; thresholds[0] = inf (predict nothing positive).
    With no negative (positive) example, fpr (tpr) is all NaN and a warning is raised.
    """
    is_positive, scores = _binary_inputs(y_true, scores, pos_label, "roc_curve")
    fps, tps, thresholds = counts_at_thresholds(is_positive, scores)
    if drop_intermediate and len(fps) > 2:
        corner = numpy.logical_or(numpy.diff(fps, 2), numpy.diff(tps, 2))
        keep = numpy.flatnonzero(numpy.r_[True, corner, True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = numpy.r_[0.0, fps], numpy.r_[0.0, tps], numpy.r_[numpy.inf, thresholds]
    if fps[-1] <= 0:
        warn_undefined("No negative samples in y_true, false positive value should be meaningless")
        fpr = numpy.full(fps.shape, numpy.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warn_undefined("No positive samples in y_true, true positive value should be meaningless")
        tpr = numpy.full(tps.shape, numpy.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x: Any, y: Any) -> float:
    """Area under the curve through the points (x[i], y[i]), by the trapezoidal rule.

    Inputs:
    - x: array of shape (K,), K >= 2, increasing or decreasing (either way the area is positive for y >= 0).
    - y: array of shape (K,).
    Returns: a float.
    """
    x, y = _inputs.host(x, "x", "auc").astype(numpy.float64), _inputs.host(y, "y", "auc").astype(numpy.float64)
    _inputs.same_length("auc", x=x, y=y)
    if len(x) < 2:
        raise ValueError(f"auc: need at least 2 points, got x of shape {x.shape}.")
    steps = numpy.diff(x)
    direction = 1.0
    if numpy.any(steps < 0):
        if not numpy.all(steps <= 0):
            raise ValueError("auc: x must be increasing or decreasing, but it goes both ways.")
        direction = -1.0
    return float(direction * numpy.sum(steps * (y[1:] + y[:-1]) / 2))


def roc_auc_score(y_true: Any, scores: Any, pos_label: int = 1) -> float:
    """Area under the ROC curve.

    Inputs:
    - y_true: labels of shape (N,).
    - scores: shape (N,) for a binary problem (the score of class pos_label), or (N, C) for C
      classes: then the result is the mean over classes of the one-vs-rest AUC of column c
      (scikit-learn's ``multi_class="ovr", average="macro"``; labels must be 0..C-1).
    - pos_label: the positive class of a binary problem.
    Returns: a float in [0, 1]; NaN with a warning if y_true has a single class.
    """
    scores_host = _inputs.host(scores, "scores", "roc_auc_score")
    if scores_host.ndim == 2:
        labels = _inputs.labels(y_true, "y_true", "roc_auc_score")
        return float(numpy.mean([roc_auc_score(labels == c, scores_host[:, c]) for c in range(scores_host.shape[1])]))
    is_positive, _ = _binary_inputs(y_true, scores_host, pos_label, "roc_auc_score")
    if is_positive.min() == is_positive.max():
        warn_undefined("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, scores_host, pos_label)
    return auc(fpr, tpr)


def precision_recall_curve(y_true: Any, scores: Any, pos_label: int = 1, drop_intermediate: bool = False,
                           ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Precision and recall at every threshold.

    Inputs:
    - y_true: binary labels of shape (N,).
    - scores: scores of shape (N,), higher means "more positive".
    - pos_label: the label of the positive class.
    - drop_intermediate: keep only the first and last threshold of each vertical run (same recall).
    Returns, as scikit-learn does:
    - precision: float64 array of shape (T + 1,); the last entry is 1 by convention.
    - recall: float64 array of shape (T + 1,), decreasing; the last entry is 0.
    - thresholds: array of shape (T,), increasing; precision[i], recall[i] belong to thresholds[i].
    A threshold where nothing is predicted positive gets precision 0. With no positive example,
    recall is 1 everywhere and a warning is raised.
    """
    is_positive, scores = _binary_inputs(y_true, scores, pos_label, "precision_recall_curve")
    fps, tps, thresholds = counts_at_thresholds(is_positive, scores)
    if drop_intermediate and len(fps) > 2:
        keep = numpy.flatnonzero(numpy.r_[True, numpy.logical_or(numpy.diff(tps[:-1]), numpy.diff(tps[1:])), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted_positive = tps + fps
    precision = numpy.where(predicted_positive != 0, tps / numpy.where(predicted_positive == 0, 1, predicted_positive),
                            0.0)
    if tps[-1] == 0:
        warn_undefined("No positive class found in y_true, recall is set to one for all thresholds.")
        recall = numpy.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return numpy.r_[precision[::-1], 1.0], numpy.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision_score(y_true: Any, scores: Any, pos_label: int = 1) -> float:
    """Average precision: sum over thresholds of (R_k - R_{k-1}) * P_k, the area under the PR step function.

    Inputs:
    - y_true: binary labels of shape (N,).
    - scores: scores of shape (N,), higher means "more positive".
    - pos_label: the label of the positive class.
    Returns: a float in [0, 1] (no interpolation, like scikit-learn's average_precision_score).
    """
    precision, recall, _ = precision_recall_curve(y_true, scores, pos_label)
    return float(max(0.0, -numpy.sum(numpy.diff(recall) * precision[:-1])))
