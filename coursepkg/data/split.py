"""Splitting data: train / validation / test, and k-fold cross-validation indices.

Splits are bookkeeping on *indices*, so they are done on the host with NumPy, before the
data is moved to a device: load, split, fit a scaler on the training part, then move.

*Stratified* means each part keeps the class proportions of the whole: with 10% of examples
in class 3, each split has (as near as whole numbers allow) 10% class 3. This matters for small
or imbalanced datasets, where a plain random split can leave a class out of the test set.
"""

from __future__ import annotations

from typing import Any

import numpy

from coursepkg.backend import is_array


def _check_lengths(X: Any, y: Any, caller: str) -> int:
    if len(X) != len(y):
        raise ValueError(f"{caller}: X and y must have the same length (one label per example), "
                         f"got len(X)={len(X)} and len(y)={len(y)}.")
    return len(X)


def _check_host(array: Any, name: str, caller: str) -> numpy.ndarray:
    if is_array(array) and not isinstance(array, numpy.ndarray):
        raise TypeError(f"{caller}: {name} is a {type(array).__module__.split('.')[0]} array; split on the host, "
                        "with NumPy arrays, before moving the data to a device (or use coursepkg.to_numpy).")
    return numpy.asarray(array)


def _allocate(total: int, quotas: numpy.ndarray, capacity: numpy.ndarray) -> numpy.ndarray:
    """Whole numbers close to ``quotas`` that sum to ``total`` and stay within ``capacity``.

    Largest-remainder rounding: every class first gets floor(quota); the examples still missing
    go one by one to the classes with the largest fractional remainder that still have room.
    """
    counts = numpy.minimum(numpy.floor(quotas).astype(numpy.int64), capacity)
    largest_remainder_first = numpy.argsort(-(quotas - numpy.floor(quotas)), kind="stable")
    while counts.sum() < total:  # ends: total <= capacity.sum()
        for c in largest_remainder_first:
            if counts.sum() < total and counts[c] < capacity[c]:
                counts[c] += 1
    return counts


def train_val_test_split(X: Any, y: Any, val_fraction: float = 0.15, test_fraction: float = 0.15, *,
                         stratify: bool = True, seed: int | None = 0) -> tuple[numpy.ndarray, ...]:
    """Shuffle and split (X, y) into training, validation and test sets.

    The test set has round(test_fraction * N) examples, the validation set
    round(val_fraction * N), the training set the rest. With ``stratify=True`` every class c
    (n_c examples) puts floor or ceil of test_fraction * n_c examples in the test set, and the
    same for validation, so class proportions are kept as closely as whole numbers allow.

    Inputs:
    - X: NumPy array of shape (N, *features).
    - y: NumPy array of shape (N,), class labels (any values that can be compared).
    - val_fraction, test_fraction: fractions in [0, 1) with val_fraction + test_fraction < 1.
    - stratify: keep class proportions in each split.
    - seed: seed of a private numpy.random.Generator.
    Returns, in the order of scikit-learn's ``train_test_split`` (all X first, then all y):
    - X_train, X_val, X_test: arrays of shapes (N_train, *features), (N_val, ...), (N_test, ...).
    - y_train, y_val, y_test: arrays of shapes (N_train,), (N_val,), (N_test,).
    """
    caller = "train_val_test_split"
    X, y = _check_host(X, "X", caller), _check_host(y, "y", caller)
    n = _check_lengths(X, y, caller)
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{caller}: {name} must be in [0, 1), got {value}.")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"{caller}: val_fraction + test_fraction must be < 1 to leave a training set, "
                         f"got {val_fraction} + {test_fraction}.")
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    if n - n_test - n_val < 1:
        raise ValueError(f"{caller}: with N={n} examples, n_val={n_val} and n_test={n_test} leave no training data.")
    rng = numpy.random.default_rng(seed)

    if not stratify:
        order = rng.permutation(n)
        test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    else:
        classes, class_of = numpy.unique(y, return_inverse=True)
        sizes = numpy.bincount(class_of, minlength=len(classes))
        test_counts = _allocate(n_test, test_fraction * sizes, sizes)
        val_counts = _allocate(n_val, val_fraction * sizes, sizes - test_counts)
        train, val, test = [], [], []
        for c in range(len(classes)):
            members = rng.permutation(numpy.flatnonzero(class_of == c))
            t, v = test_counts[c], val_counts[c]
            test.append(members[:t])
            val.append(members[t:t + v])
            train.append(members[t + v:])
        # shuffle again so that the classes are mixed inside each split
        train, val, test = (rng.permutation(numpy.concatenate(part)) for part in (train, val, test))
    return X[train], X[val], X[test], y[train], y[val], y[test]


def kfold_indices(n: int, k: int = 5, *, shuffle: bool = True, seed: int | None = 0,
                  stratify_labels: Any = None) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """Index pairs for k-fold cross-validation: every example is validated on exactly once.

    The N examples are cut into k folds whose sizes differ by at most one (the first N % k
    folds get one more, as in scikit-learn's ``KFold``). Round i validates on fold i and trains
    on the other k - 1. With ``stratify_labels``, every class is spread over the folds as evenly
    as possible (its count in any two folds differs by at most one).

    Inputs:
    - n: number of examples N.
    - k: number of folds, 2 <= k <= N.
    - shuffle: shuffle before cutting (without it, and without stratification, fold i is a
      contiguous block, exactly like ``KFold(k)``).
    - seed: seed of a private numpy.random.Generator (used when shuffling).
    - stratify_labels: None, or the labels, an array of shape (N,).
    Returns: a list of k pairs (train_idx, val_idx) of int64 NumPy arrays, sorted, of shapes
    (N - N_i,) and (N_i,), where N_i is the size of fold i.
    """
    caller = "kfold_indices"
    if not 2 <= k <= n:
        raise ValueError(f"{caller}: need 2 <= k <= n, got k={k} and n={n}.")
    rng = numpy.random.default_rng(seed)
    order = rng.permutation(n) if shuffle else numpy.arange(n)
    if stratify_labels is None:
        fold_sizes = numpy.full(k, n // k)
        fold_sizes[: n % k] += 1
        fold_of = numpy.empty(n, dtype=numpy.int64)
        fold_of[order] = numpy.repeat(numpy.arange(k), fold_sizes)
    else:
        labels = _check_host(stratify_labels, "stratify_labels", caller)
        if len(labels) != n:
            raise ValueError(f"{caller}: stratify_labels must have length n={n}, got {len(labels)}.")
        # line the examples up class by class (shuffled within a class), then deal them out to the folds
        # like cards: position i goes to fold i % k, so every class is spread evenly
        by_class = order[numpy.argsort(labels[order], kind="stable")]
        fold_of = numpy.empty(n, dtype=numpy.int64)
        fold_of[by_class] = numpy.arange(n) % k
    folds = []
    for i in range(k):
        folds.append((numpy.flatnonzero(fold_of != i), numpy.flatnonzero(fold_of == i)))
    return folds


def fold_sizes(n: int, k: int) -> list[int]:
    """The k fold sizes used by :func:`kfold_indices`: N // k, plus one for the first N % k folds."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]

