"""Lesson 09, evaluation: the graded questions.

The learner writes, on plain NumPy arrays:

- ``confusion_matrix(y_true, y_pred, num_classes)``: counts, rows = true class, columns = prediction;
- ``precision_recall_f1(y_true, y_pred, average)``: "binary", "macro", "micro" and "weighted",
  with 0/0 counted as 0 (scikit-learn's ``zero_division=0``);
- ``roc_auc(y_true, scores)``: the probability that a positive outranks a negative, ties 1/2;
- ``kfold_indices(n, k, rng)``: shuffled k-fold cross-validation indices.

scikit-learn is the oracle for the metrics: the checks compare with ``sklearn.metrics`` on random
cases (imported on demand; it is a dependency of the course for its datasets).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register

AVERAGES = ("binary", "macro", "micro", "weighted")


# ----------------------------------------------------------------------------- reference solutions
def reference_confusion_matrix(y_true: numpy.ndarray, y_pred: numpy.ndarray, num_classes: int) -> numpy.ndarray:
    """Counts of (true class i, predicted class j). Inputs: labels (N,) in 0..C-1, C. Returns: int array (C, C)."""
    matrix = numpy.zeros((num_classes, num_classes), dtype=numpy.int64)
    numpy.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def _divide(numerator: numpy.ndarray, denominator: numpy.ndarray) -> numpy.ndarray:
    """numerator / denominator, with 0 where the denominator is 0 (zero_division=0)."""
    return numpy.where(denominator > 0, numerator / numpy.maximum(denominator, 1), 0.0)


def reference_precision_recall_f1(y_true: numpy.ndarray, y_pred: numpy.ndarray, average: str = "binary"
                                  ) -> tuple[float, float, float]:
    """Precision, recall and F1 for average in "binary" (class 1), "macro", "micro", "weighted".

    The classes are those present in y_true or y_pred; every 0/0 is 0. Returns three floats.
    """
    classes = numpy.array([1]) if average == "binary" else numpy.union1d(y_true, y_pred)
    tp = numpy.array([numpy.sum((y_pred == c) & (y_true == c)) for c in classes], dtype=float)
    predicted = numpy.array([numpy.sum(y_pred == c) for c in classes], dtype=float)
    support = numpy.array([numpy.sum(y_true == c) for c in classes], dtype=float)
    if average == "micro":
        tp, predicted, support = tp.sum(keepdims=True), predicted.sum(keepdims=True), support.sum(keepdims=True)
    precision = _divide(tp, predicted)
    recall = _divide(tp, support)
    f1 = _divide(2 * tp, predicted + support)  # = 2 P R / (P + R), the harmonic mean
    weights = support if average == "weighted" else numpy.ones_like(support)
    return tuple(float(numpy.sum(weights * v) / numpy.sum(weights)) for v in (precision, recall, f1))


def reference_roc_auc(y_true: numpy.ndarray, scores: numpy.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counted 1/2. Inputs: (N,) and (N,)."""
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    higher = positive[:, None] > negative[None, :]  # (P, Q): every positive-negative pair
    tied = positive[:, None] == negative[None, :]
    return float(numpy.mean(higher + 0.5 * tied))


def reference_kfold_indices(n: int, k: int, rng: numpy.random.Generator) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """k pairs (train_idx, val_idx): a random permutation of 0..n-1 cut into k folds of sizes n // k or n // k + 1."""
    order = rng.permutation(n)
    folds = numpy.array_split(order, k)  # the first n % k folds get one more
    return [(numpy.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


# ----------------------------------------------------------------------------- planted wrong answers
def _cm_transposed(y_true, y_pred, num_classes):
    return reference_confusion_matrix(y_true, y_pred, num_classes).T


def _cm_predicted_classes_only(y_true, y_pred, num_classes):
    classes = numpy.unique(y_pred)  # classes never predicted disappear, and the rest are renumbered
    position = {c: i for i, c in enumerate(classes)}
    matrix = numpy.zeros((num_classes, num_classes), dtype=numpy.int64)
    for t, p in zip(y_true, y_pred):
        matrix[position.get(t, num_classes - 1), position[p]] += 1
    return matrix


def _cm_size_from_predictions(y_true, y_pred, num_classes):
    size = int(y_pred.max()) + 1
    keep = y_true < size
    return reference_confusion_matrix(y_true[keep], y_pred[keep], size)


def _prf_swapped(y_true, y_pred, average="binary"):
    swap = {"macro": "micro", "micro": "macro"}
    return reference_precision_recall_f1(y_true, y_pred, swap.get(average, average))


def _prf_weighted_by_predictions(y_true, y_pred, average="binary"):
    if average != "weighted":
        return reference_precision_recall_f1(y_true, y_pred, average)
    classes = numpy.union1d(y_true, y_pred)
    per_class = [reference_precision_recall_f1((y_true == c).astype(int), (y_pred == c).astype(int), "binary")
                 for c in classes]
    weights = numpy.array([numpy.sum(y_pred == c) for c in classes], dtype=float)
    return tuple(float(numpy.average([v[m] for v in per_class], weights=weights)) for m in range(3))


def _prf_arithmetic_f1(y_true, y_pred, average="binary"):
    classes = numpy.array([1]) if average == "binary" else numpy.union1d(y_true, y_pred)
    if average == "micro":
        precision, recall, _ = reference_precision_recall_f1(y_true, y_pred, "micro")
        return precision, recall, (precision + recall) / 2
    per_class = numpy.array([reference_precision_recall_f1((y_true == c).astype(int), (y_pred == c).astype(int),
                                                           "binary") for c in classes])
    per_class[:, 2] = (per_class[:, 0] + per_class[:, 1]) / 2
    weights = (numpy.array([numpy.sum(y_true == c) for c in classes], dtype=float) if average == "weighted"
               else numpy.ones(len(classes)))
    return tuple(float(numpy.average(per_class[:, m], weights=weights)) for m in range(3))


def _prf_f1_of_averages(y_true, y_pred, average="binary"):
    precision, recall, _ = reference_precision_recall_f1(y_true, y_pred, average)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def _prf_present_in_true_only(y_true, y_pred, average="binary"):
    if average in ("binary", "micro"):
        return reference_precision_recall_f1(y_true, y_pred, average)
    keep = numpy.isin(y_pred, numpy.unique(y_true))  # drops predictions of classes absent from y_true
    return reference_precision_recall_f1(y_true[keep], y_pred[keep], average)


def _auc_ties_as_zero(y_true, scores):
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    return float(numpy.mean(positive[:, None] > negative[None, :]))


def _auc_ties_as_one(y_true, scores):
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    return float(numpy.mean(positive[:, None] >= negative[None, :]))


def _auc_inverted(y_true, scores):
    return reference_roc_auc(1 - y_true, scores)


def _auc_accuracy(y_true, scores):
    return float(numpy.mean((scores >= numpy.median(scores)) == (y_true == 1)))


def _kfold_overlapping(n, k, rng):
    order = rng.permutation(n)
    size = -(-n // k)
    folds = [order[max(0, i * size - 1):(i + 1) * size] for i in range(k)]  # each fold repeats its neighbour's last
    return [(numpy.setdiff1d(order, fold), fold) for fold in folds]


def _kfold_drops_remainder(n, k, rng):
    order = rng.permutation(n)
    size = n // k
    folds = [order[i * size:(i + 1) * size] for i in range(k)]
    return [(numpy.setdiff1d(order, fold), fold) for fold in folds]


def _kfold_train_includes_val(n, k, rng):
    return [(numpy.arange(n), val) for _, val in reference_kfold_indices(n, k, rng)]


def _kfold_not_shuffled(n, k, rng):
    folds = numpy.array_split(numpy.arange(n), k)
    return [(numpy.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape or type error into feedback that names the call."""
    try:
        return function(*args)
    except (ValueError, IndexError, TypeError, KeyError, ZeroDivisionError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _labels(rng: numpy.random.Generator, n: int, num_classes: int, skewed: bool = True) -> numpy.ndarray:
    """n labels in 0..C-1, with unequal class frequencies (one class small) when skewed."""
    p = rng.dirichlet(numpy.ones(num_classes)) if skewed else numpy.full(num_classes, 1 / num_classes)
    return rng.choice(num_classes, size=n, p=p).astype(numpy.int64)


def _noisy_predictions(rng: numpy.random.Generator, y_true: numpy.ndarray, num_classes: int,
                       correct: float = 0.6) -> numpy.ndarray:
    """Predictions that are right with probability ``correct``, otherwise a random class."""
    guess = rng.integers(0, num_classes, size=len(y_true))
    return numpy.where(rng.random(len(y_true)) < correct, y_true, guess).astype(numpy.int64)


def _sklearn_metrics() -> Any:
    from sklearn import metrics

    return metrics


# ----------------------------------------------------------------------------- the confusion-matrix question
@register(
    id="09.confusion_matrix", lesson="09", points=1, names=("confusion_matrix",),
    reference=(reference_confusion_matrix,),
    mutants={
        "transposed (rows = predictions)": (_cm_transposed,),
        "only the classes that appear in the predictions": (_cm_predicted_classes_only,),
        "size taken from the largest prediction instead of num_classes": (_cm_size_from_predictions,),
    },
    hint="matrix = np.zeros((num_classes, num_classes), dtype=int); for each example add 1 at "
         "[y_true[i], y_pred[i]] (np.add.at(matrix, (y_true, y_pred), 1) does it without a loop).",
)
def check_confusion_matrix(confusion_matrix: Callable, rng: numpy.random.Generator) -> None:
    """The confusion matrix."""
    oracle = _sklearn_metrics().confusion_matrix
    cases = []
    for n, num_classes in [(30, 3), (1, 2), (50, 5), (12, 2), (40, 4)]:
        y_true = _labels(rng, n, num_classes)
        cases.append((y_true, _noisy_predictions(rng, y_true, num_classes), num_classes))
    y_true = _labels(rng, 25, 4)
    cases.append((y_true, numpy.where(y_true == 1, 0, y_true), 4))  # class 1 is never predicted
    cases.append((numpy.array([0, 1, 1, 0, 1]), numpy.array([0, 0, 1, 0, 0]), 4))  # classes 2, 3 never occur
    cases.append((numpy.array([2, 2, 0, 1]), numpy.array([0, 0, 0, 0]), 3))  # one class predicted
    for y_true, y_pred, num_classes in cases:
        what = (f"confusion_matrix(y_true, y_pred, num_classes={num_classes}) with y_true = {y_true.tolist()}, "
                f"y_pred = {y_pred.tolist()}" if len(y_true) <= 12 else
                f"confusion_matrix(y_true, y_pred, num_classes={num_classes}) with "
                f"{describe_inputs(y_true=y_true, y_pred=y_pred)}")
        got = _call(confusion_matrix, what, y_true.copy(), y_pred.copy(), num_classes)
        expected = oracle(y_true, y_pred, labels=numpy.arange(num_classes))
        hint = ""
        if got is not None and numpy.shape(got) == expected.shape and numpy.array_equal(as_host(got), expected.T):
            hint = "Your matrix is the transpose of the right one: rows are the TRUE classes, columns the predictions."
        expect_close(got, expected, what=what, rtol=0, atol=0,
                     hint=hint or "Entry [i, j] counts the examples of true class i predicted as class j, for all "
                                  "num_classes classes, including those that never occur.")


# ----------------------------------------------------------------------------- the precision/recall/F1 question
def _check_prf(precision_recall_f1: Callable, y_true: numpy.ndarray, y_pred: numpy.ndarray, average: str) -> None:
    what = (f"precision_recall_f1(y_true, y_pred, average={average!r}) with y_true = {y_true.tolist()}, "
            f"y_pred = {y_pred.tolist()}" if len(y_true) <= 12 else
            f"precision_recall_f1(y_true, y_pred, average={average!r}) with "
            f"{describe_inputs(y_true=y_true, y_pred=y_pred)}, class counts in y_true "
            f"{numpy.bincount(y_true).tolist()}, in y_pred {numpy.bincount(y_pred).tolist()}")
    result = _call(precision_recall_f1, what, y_true.copy(), y_pred.copy(), average)
    expect(isinstance(result, (tuple, list)) and len(result) == 3,
           f"{what} should return a tuple (precision, recall, f1); got {type(result).__name__}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _sklearn_metrics().precision_recall_fscore_support(
            y_true, y_pred, average=average, pos_label=1, zero_division=0)[:3]
    hints = {
        "precision": "precision = TP / (TP + FP) per class (0 when the class is never predicted).",
        "recall": "recall = TP / (TP + FN) per class (0 when the class never occurs in y_true).",
        "f1": "F1 = 2 TP / (2 TP + FP + FN) = 2 P R / (P + R), the harmonic mean of precision and recall, "
              "computed per class and then averaged (for micro: from the pooled counts).",
    }
    averages = {
        "binary": "Only class 1 counts.",
        "macro": "macro: compute the metric for every class present in y_true or y_pred, then take the plain mean.",
        "micro": "micro: add up TP, FP and FN over all classes first, then compute the metric once.",
        "weighted": "weighted: the mean of the per-class values weighted by each class's count in y_true.",
    }
    for name, got, value in zip(("precision", "recall", "f1"), result, expected):
        expect_close(got, value, what=f"{what}: {name}", rtol=1e-6, atol=1e-12,
                     hint=f"{hints[name]} {averages[average]}")


@register(
    id="09.precision_recall_f1", lesson="09", points=3, names=("precision_recall_f1",),
    reference=(reference_precision_recall_f1,),
    mutants={
        "macro and micro swapped": (_prf_swapped,),
        "weighted by the predicted instead of the true class counts": (_prf_weighted_by_predictions,),
        "F1 as the arithmetic mean (P + R) / 2": (_prf_arithmetic_f1,),
        "macro F1 as the harmonic mean of macro precision and macro recall": (_prf_f1_of_averages,),
        "ignores classes that appear only in the predictions": (_prf_present_in_true_only,),
    },
    hint="Count, for every class c: TP = sum((y_pred == c) & (y_true == c)), predicted = sum(y_pred == c), "
         "true = sum(y_true == c). Per class P = TP / predicted, R = TP / true, F1 = 2 TP / (predicted + true), "
         "each 0 when its denominator is 0. Then average as asked.",
)
def check_precision_recall_f1(precision_recall_f1: Callable, rng: numpy.random.Generator) -> None:
    """Precision, recall and F1 with binary, macro, micro and weighted averaging."""
    binary = [(numpy.array([0, 1, 1, 0, 1, 1, 0, 0]), numpy.array([0, 1, 0, 0, 1, 1, 1, 0])),
              (numpy.array([1, 0, 0, 1]), numpy.array([0, 0, 0, 0])),   # nothing predicted positive: P = 0/0
              (numpy.array([0, 0, 0]), numpy.array([0, 1, 0])),         # no true positive: R = 0/0
              (numpy.array([1]), numpy.array([1]))]
    for n in (20, 60):
        y_true = _labels(rng, n, 2)
        binary.append((y_true, _noisy_predictions(rng, y_true, 2, correct=0.5)))
    for y_true, y_pred in binary:
        _check_prf(precision_recall_f1, y_true, y_pred, "binary")
    multiclass = [(numpy.array([0, 0, 0, 0, 0, 0, 1, 1, 2]), numpy.array([0, 0, 0, 0, 0, 1, 1, 0, 0])),
                  (numpy.array([0, 1, 2, 0, 1]), numpy.array([0, 1, 3, 0, 0])),   # class 3 only predicted
                  (numpy.array([2]), numpy.array([0]))]
    for n, num_classes in [(40, 3), (100, 5), (15, 4), (200, 6)]:
        y_true = _labels(rng, n, num_classes)
        multiclass.append((y_true, _noisy_predictions(rng, y_true, num_classes, correct=0.6)))
    for y_true, y_pred in multiclass:
        for average in ("macro", "micro", "weighted"):
            _check_prf(precision_recall_f1, y_true, y_pred, average)


# ----------------------------------------------------------------------------- the ROC AUC question
@register(
    id="09.roc_auc", lesson="09", points=2, names=("roc_auc",),
    reference=(reference_roc_auc,),
    mutants={
        "ties counted as 0 (strict >)": (_auc_ties_as_zero,),
        "ties counted as 1 (>=)": (_auc_ties_as_one,),
        "labels inverted (class 0 taken as positive)": (_auc_inverted,),
        "accuracy at the median score instead of a ranking measure": (_auc_accuracy,),
    },
    hint="positive = scores[y_true == 1], negative = scores[y_true == 0]; compare every pair with broadcasting "
         "(positive[:, None] > negative[None, :]), count ties (==) as 1/2, and take the mean over all pairs.",
)
def check_roc_auc(roc_auc: Callable, rng: numpy.random.Generator) -> None:
    """ROC AUC as a ranking probability, with ties."""
    oracle = _sklearn_metrics().roc_auc_score
    cases = [(numpy.array([0, 1]), numpy.array([0.2, 0.7])),
             (numpy.array([1, 0]), numpy.array([0.2, 0.7])),
             (numpy.array([0, 1, 1, 0]), numpy.array([0.5, 0.5, 0.5, 0.5])),          # all tied: 0.5
             (numpy.array([0, 0, 1, 1, 0, 1]), numpy.array([0.1, 0.4, 0.4, 0.8, 0.8, 0.9]))]
    for n in (10, 50, 300):
        y_true = (rng.random(n) < 0.3).astype(numpy.int64)
        y_true[:2] = [0, 1]  # both classes present
        cases.append((y_true, rng.standard_normal(n) + 1.2 * y_true))                  # no ties
        cases.append((y_true, rng.integers(0, 4, size=n) + (rng.random(n) < 0.4) * y_true))  # many ties
    for y_true, scores in cases:
        what = (f"roc_auc(y_true, scores) with y_true = {y_true.tolist()}, scores = {scores.tolist()}"
                if len(y_true) <= 8 else f"roc_auc(y_true, scores) with {describe_inputs(y_true=y_true, scores=scores)}"
                + (" (with tied scores)" if len(numpy.unique(scores)) < len(scores) else ""))
        got = _call(roc_auc, what, y_true.copy(), scores.copy())
        expect_close(got, oracle(y_true, scores), what=what, rtol=1e-9, atol=1e-12,
                     hint="AUC = the fraction of (positive, negative) pairs in which the positive has the higher "
                          "score, a tie counting 1/2; label 1 is the positive class.")


# ----------------------------------------------------------------------------- the k-fold question
@register(
    id="09.kfold_indices", lesson="09", points=2, names=("kfold_indices",),
    reference=(reference_kfold_indices,),
    mutants={
        "overlapping folds": (_kfold_overlapping,),
        "the remainder n % k is never validated": (_kfold_drops_remainder,),
        "the training indices include the validation fold": (_kfold_train_includes_val,),
        "never shuffles": (_kfold_not_shuffled,),
    },
    hint="order = rng.permutation(n); folds = np.array_split(order, k); round i returns "
         "(np.concatenate(all folds but fold i), fold i).",
)
def check_kfold_indices(kfold_indices: Callable, rng: numpy.random.Generator) -> None:
    """k-fold cross-validation indices."""
    for n, k in [(10, 5), (11, 3), (7, 7), (50, 4), (23, 5), (2, 2), (40, 4)]:
        what = f"kfold_indices(n={n}, k={k}, rng)"
        folds = _call(lambda *args: list(kfold_indices(*args)), what, n, k, rng)
        expect(len(folds) == k, f"{what} returned {len(folds)} pairs; expected k = {k} pairs (train_idx, val_idx).")
        seen = numpy.zeros(n, dtype=numpy.int64)
        contiguous = True
        for i, pair in enumerate(folds):
            expect(isinstance(pair, (tuple, list)) and len(pair) == 2,
                   f"{what}: element {i} should be a pair (train_idx, val_idx); got {type(pair).__name__}.")
            train, val = (as_host(part).reshape(-1) for part in pair)
            for name, part in (("train_idx", train), ("val_idx", val)):
                expect(part.dtype.kind in "iu" and numpy.all((0 <= part) & (part < n)),
                       f"{what}: {name} of fold {i} must hold integer indices in 0..{n - 1}; got {part.tolist()}.")
                expect(len(numpy.unique(part)) == len(part), f"{what}: {name} of fold {i} repeats an index.")
            sizes = f"{n // k}" if n % k == 0 else f"{n // k} or {n // k + 1} (the sizes differ by at most one)"
            expect(len(val) in (n // k, -(-n // k)),
                   f"{what}: fold {i} validates on {len(val)} examples; with n={n} and k={k} every fold must hold "
                   f"{sizes}.")
            inside = numpy.intersect1d(train, val)
            expect(len(inside) == 0, f"{what}: round {i} trains on {len(inside)} of the examples it validates on.")
            expect(len(train) + len(val) == n,
                   f"{what}: round {i} uses {len(train)} training and {len(val)} validation examples; together they "
                   f"must be all n={n} (train on every example outside the validation fold).")
            seen[val] += 1
            contiguous &= numpy.array_equal(numpy.sort(val), numpy.arange(val.min(), val.max() + 1))
        expect(numpy.all(seen == 1), f"{what}: {int(numpy.sum(seen > 1))} example(s) are validated on more than once "
                                     f"and {int(numpy.sum(seen == 0))} never; the folds must not overlap and must "
                                     "cover every example.")
        if n >= 20:
            expect(not contiguous, f"{what}: every fold is a block of consecutive indices; shuffle first with "
                                   "rng.permutation(n) (data files are often sorted).")
