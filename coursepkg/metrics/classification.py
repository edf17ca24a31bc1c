"""Classification metrics from predicted labels: accuracy, confusion matrix, precision, recall, F1.

Labels are whole numbers 0..C-1. Inputs may be NumPy arrays, backend arrays, Tensors or lists;
they are copied to the host first (see :mod:`coursepkg.metrics`).

For class c, counting over the examples:

- TP (true positives): predicted c and truly c; FP: predicted c, truly not; FN: truly c, predicted not;
- precision = TP / (TP + FP): of the examples predicted c, the fraction that are c;
- recall = TP / (TP + FN): of the examples that are c, the fraction found;
- F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.

Averages over classes: ``"macro"`` (plain mean over classes), ``"weighted"`` (mean weighted by
each class's number of true examples, its *support*), ``"micro"`` (pool the counts of all
classes first; for single-label problems micro precision = micro recall = accuracy),
``"binary"`` (only the class ``pos_label``), or ``None`` (one value per class).

Zero division: a class never predicted has an undefined precision (0/0), a class absent from
y_true an undefined recall. As in scikit-learn, the value is then ``zero_division``: ``"warn"``
(0.0 and an :class:`UndefinedMetricWarning`), 0, 1 or ``numpy.nan`` (NaN classes are left out of
averages). The results match scikit-learn's, which the tests use as an oracle.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy

from coursepkg.metrics import _inputs
from coursepkg.metrics._inputs import warn_undefined

AVERAGES = ("binary", "macro", "micro", "weighted", None)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of examples whose predicted class is the true class.

    Inputs:
    - y_true: labels of shape (N,).
    - y_pred: predicted labels of shape (N,), or scores of shape (N, C) (the argmax is the prediction).
    Returns: a float in [0, 1].
    """
    y_pred = _inputs.host(y_pred, "y_pred", "accuracy")
    if y_pred.ndim == 2:
        y_pred = numpy.argmax(y_pred, axis=1)
    y_true, y_pred = _inputs.labels(y_true, "y_true", "accuracy"), _inputs.labels(y_pred, "y_pred", "accuracy")
    _inputs.same_length("accuracy", y_true=y_true, y_pred=y_pred)
    return float(numpy.mean(y_true == y_pred))


def top_k_accuracy(y_true: Any, scores: Any, k: int = 2) -> float:
    """Fraction of examples whose true class is among the k highest-scored classes.

    Ties are broken like scikit-learn's ``top_k_accuracy_score``: among equal scores, the class
    with the larger index ranks first. With k >= C every example is a hit (and a warning says so).

    Inputs:
    - y_true: labels of shape (N,), values in 0..C-1.
    - scores: array of shape (N, C), higher means more likely.
    - k: how many top classes count as a hit, >= 1.
    Returns: a float in [0, 1].
    """
    caller = "top_k_accuracy"
    y_true, scores = _inputs.labels(y_true, "y_true", caller), _inputs.host(scores, "scores", caller)
    if scores.ndim != 2:
        raise ValueError(f"{caller}: scores must have shape (N, C), got shape {scores.shape}.")
    _inputs.same_length(caller, y_true=y_true, scores=scores)
    n_classes = scores.shape[1]
    if y_true.max() >= n_classes:
        raise ValueError(f"{caller}: y_true has label {y_true.max()} but scores has only C={n_classes} columns.")
    if k < 1:
        raise ValueError(f"{caller}: k must be >= 1, got {k}.")
    if k >= n_classes:
        warn_undefined(f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a "
                       "perfect score and is therefore meaningless.")
    ranked = numpy.argsort(scores, axis=1, kind="stable")[:, ::-1]  # best first; ties: larger index first
    hits = numpy.any(ranked[:, :k] == y_true[:, None], axis=1)
    return float(numpy.mean(hits))


def log_loss(y_true: Any, probabilities: Any) -> float:
    """Mean cross-entropy -log p(true class) of predicted probabilities (lower is better).

    Probabilities are clipped to [eps, 1 - eps] (eps: machine epsilon of their dtype) so that a
    confident mistake costs a large but finite -log(eps), as in scikit-learn.

    Inputs:
    - y_true: labels of shape (N,), values in 0..C-1.
    - probabilities: shape (N, C), rows summing to 1; or shape (N,) for two classes, the
      probability of class 1.
    Returns: a float >= 0. A warning is raised if rows do not sum to 1 (give probabilities,
    not logits); values outside [0, 1] are an error.
    """
    caller = "log_loss"
    y_true = _inputs.labels(y_true, "y_true", caller)
    probabilities = _inputs.host(probabilities, "probabilities", caller)
    _inputs.same_length(caller, y_true=y_true, probabilities=probabilities)
    if not numpy.issubdtype(probabilities.dtype, numpy.floating):
        probabilities = probabilities.astype(numpy.float64)
    if probabilities.ndim == 1:
        probabilities = numpy.stack([1 - probabilities, probabilities], axis=1)
    if probabilities.ndim != 2:
        raise ValueError(f"{caller}: probabilities must have shape (N, C) or (N,), got {probabilities.shape}.")
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError(f"{caller}: probabilities must lie in [0, 1], got values in "
                         f"[{probabilities.min()}, {probabilities.max()}]; apply softmax to logits first.")
    n_classes = probabilities.shape[1]
    if y_true.max() >= n_classes:
        raise ValueError(f"{caller}: y_true has label {y_true.max()} but probabilities has only C={n_classes} columns.")
    eps = numpy.finfo(probabilities.dtype).eps
    if not numpy.allclose(probabilities.sum(axis=1), 1.0, rtol=numpy.sqrt(eps), atol=1e-8):
        warnings.warn("log_loss: the rows of probabilities do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=2)
    clipped = numpy.clip(probabilities, eps, 1 - eps)
    return float(-numpy.mean(numpy.log(clipped[numpy.arange(len(y_true)), y_true])))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> numpy.ndarray:
    """Count the examples of true class i predicted as class j.

    Inputs:
    - y_true, y_pred: labels of shape (N,), values in 0..C-1.
    - num_classes: C; default: 1 + the largest label seen in either input.
    Returns: int64 NumPy array of shape (C, C); row i = true class, column j = predicted class
    (scikit-learn's convention). Rows sum to the class supports; the diagonal counts the hits.
    """
    caller = "confusion_matrix"
    y_true, y_pred = _inputs.labels(y_true, "y_true", caller), _inputs.labels(y_pred, "y_pred", caller)
    _inputs.same_length(caller, y_true=y_true, y_pred=y_pred)
    largest = int(max(y_true.max(), y_pred.max()))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f"{caller}: found label {largest}, but num_classes={num_classes} (labels must be "
                         f"0..{num_classes - 1}).")
    flat = numpy.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(numpy.int64)


def _divide(numerator: numpy.ndarray, denominator: numpy.ndarray, zero_division: Any, warn: str | None,
            ) -> numpy.ndarray:
    """numerator / denominator, with ``zero_division`` where the denominator is 0 (and a warning if asked)."""
    undefined = denominator == 0
    result = numerator / numpy.where(undefined, 1, denominator)
    if undefined.any():
        result[undefined] = 0.0 if zero_division == "warn" else float(zero_division)
        if zero_division == "warn" and warn is not None:
            warn_undefined(f"{warn} Use `zero_division` parameter to control this behavior.")
    return result


def _check_zero_division(zero_division: Any, caller: str) -> None:
    valid = zero_division == "warn" or (isinstance(zero_division, (int, float)) and
                                        (zero_division in (0, 1) or numpy.isnan(zero_division)))
    if not valid:
        raise ValueError(f"{caller}: zero_division must be 'warn', 0, 1 or numpy.nan, got {zero_division!r}.")


def _nan_average(values: numpy.ndarray, weights: numpy.ndarray | None) -> float:
    """Average that leaves out NaN entries (from zero_division=nan); all weights 0 -> plain mean."""
    keep = ~numpy.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(numpy.mean(values[keep]))
    return float(numpy.average(values[keep], weights=weights[keep]))


def _class_counts(y_true: numpy.ndarray, y_pred: numpy.ndarray, average: str | None, pos_label: int,
                  num_classes: int | None, caller: str) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(TP, predicted, true) counts per class, for the classes this average looks at."""
    present = numpy.union1d(y_true, y_pred)
    if average == "binary":
        if pos_label < 0:
            raise ValueError(f"{caller}: pos_label must be a class label >= 0, got {pos_label}.")
        if len(present) > 2:
            raise ValueError(f"{caller}: average='binary' needs two classes, but the labels are {present.tolist()}; "
                             "choose average='macro', 'micro', 'weighted' or None.")
        if pos_label not in present and len(present) == 2:
            raise ValueError(f"{caller}: pos_label={pos_label} is not a valid label; it should be one of "
                             f"{present.tolist()}.")
        classes = numpy.array([pos_label])
    elif num_classes is None:
        classes = present
    else:
        classes = numpy.arange(num_classes)
    if num_classes is not None and present.max() >= num_classes:
        raise ValueError(f"{caller}: found label {present.max()}, but num_classes={num_classes}.")
    full = confusion_matrix(y_true, y_pred, int(max(present.max(), classes.max())) + 1)
    return full[classes, classes], full[:, classes].sum(axis=0), full[classes, :].sum(axis=1)


def _scores(y_true: Any, y_pred: Any, average: str | None, pos_label: int, num_classes: int | None,
            zero_division: Any, warn_for: tuple[str, ...], caller: str) -> tuple[Any, Any, Any, numpy.ndarray]:
    """Precision, recall, F1 (averaged or per class) and the per-class support."""
    if average not in AVERAGES:
        raise ValueError(f"{caller}: average must be one of {AVERAGES}, got {average!r}.")
    _check_zero_division(zero_division, caller)
    y_true, y_pred = _inputs.labels(y_true, "y_true", caller), _inputs.labels(y_pred, "y_pred", caller)
    _inputs.same_length(caller, y_true=y_true, y_pred=y_pred)
    tp, predicted, true = _class_counts(y_true, y_pred, average, pos_label, num_classes, caller)
    support = true
    if average == "micro":
        tp, predicted, true = tp.sum(keepdims=True), predicted.sum(keepdims=True), true.sum(keepdims=True)
    where = "due to" if len(tp) == 1 else "in labels with"

    def message(metric: str, what: str) -> str | None:
        if metric not in warn_for:
            return None
        return f"{metric} is ill-defined and being set to 0.0 {where} no {what} samples."

    precision = _divide(tp, predicted, zero_division, message("Precision", "predicted"))
    recall = _divide(tp, true, zero_division, message("Recall", "true"))
    f1 = _divide(2 * tp, predicted + true, zero_division, message("F-score", "true nor predicted"))
    if average is None:
        return precision, recall, f1, support
    weights = support if average == "weighted" else None
    return _nan_average(precision, weights), _nan_average(recall, weights), _nan_average(f1, weights), support


def precision_recall_f1(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: int = 1,
                        num_classes: int | None = None, zero_division: Any = "warn") -> tuple[Any, Any, Any]:
    """Precision, recall and F1 score (see the module docstring for the definitions and averages).

    Inputs:
    - y_true, y_pred: labels of shape (N,).
    - average: "binary" (class pos_label only; needs at most two classes), "macro", "micro",
      "weighted", or None for per-class values.
    - pos_label: the positive class for average="binary".
    - num_classes: C, to score classes 0..C-1 even when some never occur; default: the
      classes that occur in y_true or y_pred.
    - zero_division: value of an undefined (0/0) score: "warn" (0.0 with a warning), 0, 1 or numpy.nan.
    Returns: (precision, recall, f1): three floats, or three float64 arrays of shape (C,) with average=None.
    """
    p, r, f, _ = _scores(y_true, y_pred, average, pos_label, num_classes, zero_division,
                         ("Precision", "Recall", "F-score"), "precision_recall_f1")
    return p, r, f


def precision_score(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: int = 1,
                    num_classes: int | None = None, zero_division: Any = "warn") -> Any:
    """Precision TP / (TP + FP); arguments and return as in :func:`precision_recall_f1`."""
    return _scores(y_true, y_pred, average, pos_label, num_classes, zero_division, ("Precision",),
                   "precision_score")[0]


def recall_score(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: int = 1,
                 num_classes: int | None = None, zero_division: Any = "warn") -> Any:
    """Recall TP / (TP + FN); arguments and return as in :func:`precision_recall_f1`."""
    return _scores(y_true, y_pred, average, pos_label, num_classes, zero_division, ("Recall",),
                   "recall_score")[1]


def f1_score(y_true: Any, y_pred: Any, average: str | None = "binary", pos_label: int = 1,
             num_classes: int | None = None, zero_division: Any = "warn") -> Any:
    """F1 score 2 TP / (2 TP + FP + FN); arguments and return as in :func:`precision_recall_f1`.

    As in scikit-learn, the warning is raised only when F1 itself is undefined (a class neither
    true nor predicted), not when precision or recall alone is.
    """
    return _scores(y_true, y_pred, average, pos_label, num_classes, zero_division, ("F-score",),
                   "f1_score")[2]


def classification_report(y_true: Any, y_pred: Any, num_classes: int | None = None,
                          target_names: list[str] | None = None, zero_division: Any = "warn") -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, plus accuracy and the macro and weighted averages.

    Returns a dict shaped like scikit-learn's ``classification_report(..., output_dict=True)``:
    ``{name: {"precision", "recall", "f1-score", "support"}, ..., "accuracy": float,
    "macro avg": {...}, "weighted avg": {...}}``, where name is the class label as a string
    (or its entry in target_names).
    """
    caller = "classification_report"
    p, r, f, support = _scores(y_true, y_pred, None, 1, num_classes, zero_division,
                               ("Precision", "Recall", "F-score"), caller)
    y_true_host = _inputs.labels(y_true, "y_true", caller)
    classes = numpy.arange(num_classes) if num_classes is not None else numpy.union1d(
        y_true_host, _inputs.labels(y_pred, "y_pred", caller))
    names = [str(c) for c in classes] if target_names is None else list(target_names)
    if len(names) != len(classes):
        raise ValueError(f"{caller}: target_names has {len(names)} names for {len(classes)} classes.")
    report: dict[str, Any] = {}
    for i, name in enumerate(names):
        report[name] = {"precision": float(p[i]), "recall": float(r[i]), "f1-score": float(f[i]),
                        "support": float(support[i])}
    report["accuracy"] = accuracy(y_true, y_pred)
    total = float(support.sum())
    for label, weights in (("macro avg", None), ("weighted avg", support)):
        report[label] = {"precision": _nan_average(p, weights), "recall": _nan_average(r, weights),
                         "f1-score": _nan_average(f, weights), "support": total}
    return report
