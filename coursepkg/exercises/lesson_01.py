"""Lesson 01, data: the graded questions.

The learner writes the pieces of a data pipeline on plain NumPy arrays:

- ``train_val_test_split(X, y, val_fraction, test_fraction, rng)``: a stratified random split;
- ``Standardizer`` with ``fit``/``transform``: statistics from the training set only;
- ``iterate_minibatches(X, y, batch_size, shuffle, rng)``: one epoch of mini-batches;
- ``random_shift(x, max_shift, rng)``: a circular-shift augmentation for 1-D signals;
- ``iterations_per_epoch`` / ``total_iterations``: the arithmetic of epochs, batches and iterations.

The checks give every example an identity: column 0 of X holds the example's index, so the
check can tell which rows landed where and whether each row kept its label.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register


# ----------------------------------------------------------------------------- reference solutions
def reference_train_val_test_split(X: numpy.ndarray, y: numpy.ndarray, val_fraction: float, test_fraction: float,
                                   rng: numpy.random.Generator) -> tuple[numpy.ndarray, ...]:
    """Stratified random split into training, validation and test sets.

    Inputs: X of shape (N, ...), y of shape (N,) (integer class labels), the two fractions, a Generator.
    Every class c (n_c examples) puts round(test_fraction * n_c) of its examples, chosen at random,
    in the test set, round(val_fraction * n_c) in the validation set, and the rest in training.
    Returns: X_train, X_val, X_test, y_train, y_val, y_test (the order of scikit-learn's train_test_split).
    """
    train, val, test = [], [], []
    for c in numpy.unique(y):
        members = rng.permutation(numpy.flatnonzero(y == c))
        n_test = round(test_fraction * len(members))
        n_val = round(val_fraction * len(members))
        test.append(members[:n_test])
        val.append(members[n_test:n_test + n_val])
        train.append(members[n_test + n_val:])
    train, val, test = (rng.permutation(numpy.concatenate(part)) for part in (train, val, test))
    return X[train], X[val], X[test], y[train], y[val], y[test]


class reference_Standardizer:  # noqa: N801  (the learner's class is called Standardizer)
    """Scale every column to mean 0 and standard deviation 1, with statistics from fit's data only."""

    def fit(self, X: numpy.ndarray) -> reference_Standardizer:
        """Per-column mean and (population) standard deviation of X (N, D); a std of 0 becomes 1. Returns self."""
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = numpy.where(std == 0, 1.0, std)
        return self

    def transform(self, X: numpy.ndarray) -> numpy.ndarray:
        """(X - mean) / std with the statistics of fit. X: (M, D) -> (M, D)."""
        return (X - self.mean) / self.std


reference_Standardizer.__name__ = reference_Standardizer.__qualname__ = "Standardizer"


def reference_iterate_minibatches(X: numpy.ndarray, y: numpy.ndarray, batch_size: int, shuffle: bool = True,
                                  rng: numpy.random.Generator | None = None):
    """Yield (X_batch, y_batch) pairs covering every example once; the last batch may be smaller."""
    n = X.shape[0]
    order = rng.permutation(n) if shuffle else numpy.arange(n)
    for start in range(0, n, batch_size):
        indices = order[start:start + batch_size]
        yield X[indices], y[indices]


def reference_random_shift(x: numpy.ndarray, max_shift: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Roll every row of x (N, L) circularly by its own random whole number in [-max_shift, max_shift]."""
    n, length = x.shape
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)  # (N,), both ends included
    source = (numpy.arange(length)[None, :] - shifts[:, None]) % length  # out[i, j] = x[i, j - shift_i]
    return numpy.take_along_axis(x, source, axis=1)


def reference_iterations_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """Batches in one epoch over n examples: ceil(n / B), or floor(n / B) when the partial batch is dropped."""
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def reference_total_iterations(n: int, batch_size: int, epochs: int, drop_last: bool = False) -> int:
    """Parameter updates in ``epochs`` epochs: one per batch."""
    return epochs * reference_iterations_per_epoch(n, batch_size, drop_last)


# ----------------------------------------------------------------------------- planted wrong answers
def _split_not_stratified(X, y, val_fraction, test_fraction, rng):
    n = len(y)
    order = rng.permutation(n)
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return X[train], X[val], X[test], y[train], y[val], y[test]


def _split_overlap(X, y, val_fraction, test_fraction, rng):
    train, val, test = [], [], []
    for c in numpy.unique(y):
        members = rng.permutation(numpy.flatnonzero(y == c))
        n_test, n_val = round(test_fraction * len(members)), round(val_fraction * len(members))
        test.append(members[:n_test])
        val.append(members[:n_val])  # starts at 0 again: the validation set reuses test examples
        train.append(members[n_test + n_val:])
    train, val, test = (numpy.concatenate(part) for part in (train, val, test))
    return X[train], X[val], X[test], y[train], y[val], y[test]


def _split_labels_shuffled(X, y, val_fraction, test_fraction, rng):
    X_train, X_val, X_test, y_train, y_val, y_test = reference_train_val_test_split(X, y, val_fraction,
                                                                                    test_fraction, rng)
    return X_train, X_val, X_test, rng.permutation(y_train), rng.permutation(y_val), rng.permutation(y_test)


def _split_not_shuffled(X, y, val_fraction, test_fraction, rng):
    class FirstInOrder:  # "shuffles" with the identity: always the first examples of each class
        def permutation(self, a):
            return numpy.asarray(a)

    return reference_train_val_test_split(X, y, val_fraction, test_fraction, FirstInOrder())


class _StandardizerLeaky(reference_Standardizer):
    def transform(self, X):
        return (X - X.mean(axis=0)) / numpy.where(X.std(axis=0) == 0, 1.0, X.std(axis=0))


class _StandardizerVariance(reference_Standardizer):
    def fit(self, X):
        self.mean = X.mean(axis=0)
        variance = X.var(axis=0)
        self.std = numpy.where(variance == 0, 1.0, variance)
        return self


class _StandardizerRows(reference_Standardizer):
    def fit(self, X):
        self.mean = X.mean(axis=1, keepdims=True).mean()  # per example, then one number: not per column
        self.std = X.std(axis=1).mean()
        return self


class _StandardizerWholeArray(reference_Standardizer):
    def fit(self, X):
        self.mean, self.std = X.mean(), (X.std() if X.std() > 0 else 1.0)
        return self


class _StandardizerNaN(reference_Standardizer):
    def fit(self, X):
        self.mean, self.std = X.mean(axis=0), X.std(axis=0)
        return self

    def transform(self, X):
        with numpy.errstate(divide="ignore", invalid="ignore"):
            return (X - self.mean) / self.std


class _StandardizerNoSelf(reference_Standardizer):
    def fit(self, X):
        super().fit(X)  # forgets `return self`


def _batches_drop_last(X, y, batch_size, shuffle=True, rng=None):
    for X_batch, y_batch in reference_iterate_minibatches(X, y, batch_size, shuffle, rng):
        if len(X_batch) == batch_size:
            yield X_batch, y_batch


def _batches_two_permutations(X, y, batch_size, shuffle=True, rng=None):
    n = X.shape[0]
    order_X = rng.permutation(n) if shuffle else numpy.arange(n)
    order_y = rng.permutation(n) if shuffle else numpy.arange(n)
    for start in range(0, n, batch_size):
        yield X[order_X[start:start + batch_size]], y[order_y[start:start + batch_size]]


def _batches_with_replacement(X, y, batch_size, shuffle=True, rng=None):
    n = X.shape[0]
    order = rng.integers(0, n, size=n) if shuffle else numpy.arange(n)
    for start in range(0, n, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def _batches_always_shuffled(X, y, batch_size, shuffle=True, rng=None):
    return reference_iterate_minibatches(X, y, batch_size, True, rng)


def _shift_same_for_all(x, max_shift, rng):
    shift = int(rng.integers(-max_shift, max_shift + 1))
    return numpy.roll(x, shift, axis=1)


def _shift_too_large(x, max_shift, rng):
    return reference_random_shift(x, max_shift + 1, rng)


def _shift_high_end_excluded(x, max_shift, rng):
    n, length = x.shape
    shifts = rng.integers(-max_shift, max_shift, size=n)  # never +max_shift
    return numpy.stack([numpy.roll(row, s) for row, s in zip(x, shifts)])


def _shift_zero_fill(x, max_shift, rng):
    n, length = x.shape
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)
    out = numpy.zeros_like(x)
    for i, s in enumerate(shifts):
        if s >= 0:
            out[i, s:] = x[i, :length - s]
        else:
            out[i, :s] = x[i, -s:]
    return out


def _shift_in_place(x, max_shift, rng):
    x[...] = reference_random_shift(x, max_shift, rng)
    return x


def _ipe_floor(n, batch_size, drop_last=False):
    return n // batch_size


def _ipe_plus_one(n, batch_size, drop_last=False):
    return n // batch_size + (0 if drop_last else 1)


def _total_floor(n, batch_size, epochs, drop_last=False):
    return epochs * _ipe_floor(n, batch_size, drop_last)


def _total_plus_one(n, batch_size, epochs, drop_last=False):
    return epochs * _ipe_plus_one(n, batch_size, drop_last)


def _total_pooled(n, batch_size, epochs, drop_last=False):
    pooled = n * epochs  # as if the epochs were one long pass: the partial batches are merged
    return pooled // batch_size if drop_last else math.ceil(pooled / batch_size)


def _total_ignores_drop_last(n, batch_size, epochs, drop_last=False):
    return epochs * reference_iterations_per_epoch(n, batch_size)


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; turn a shape or type error into feedback that names the call."""
    try:
        return function(*args, **kwargs)
    except (ValueError, IndexError, TypeError, KeyError, AttributeError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _as_list(function: Callable) -> Callable:
    """``function`` whose result (a generator, a list...) is collected into a list."""
    return lambda *args, **kwargs: list(function(*args, **kwargs))


def _labelled_data(rng: numpy.random.Generator, class_sizes: list[int], feature_shape: tuple[int, ...]
                   ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """X of shape (N, *feature_shape) whose first entry per row is the row's index, and y, shuffled."""
    y = rng.permutation(numpy.repeat(numpy.arange(len(class_sizes)), class_sizes))
    X = rng.standard_normal((len(y), *feature_shape))
    X.reshape(len(y), -1)[:, 0] = numpy.arange(len(y))
    return X, y


def _ids(X_part: Any, n: int, what: str, name: str) -> numpy.ndarray:
    """The example indices stored in column 0 of a returned X part."""
    part = as_host(X_part)
    expect(part.ndim >= 1, f"{what}: {name} should be an array of examples, got {part!r}.")
    ids = part.reshape(len(part), -1)[:, 0] if len(part) else numpy.zeros(0)
    expect(numpy.all(ids == numpy.round(ids)) and numpy.all((0 <= ids) & (ids < n)),
           f"{what}: {name} holds rows that are not rows of X (the rows must be copied unchanged).")
    return ids.astype(numpy.int64)


# ----------------------------------------------------------------------------- the split question
def _check_one_split(split: Callable, X: numpy.ndarray, y: numpy.ndarray, val_fraction: float,
                     test_fraction: float, rng: numpy.random.Generator) -> numpy.ndarray:
    """Check one call; returns the test example indices."""
    n = len(y)
    what = (f"train_val_test_split(X, y, val_fraction={val_fraction}, test_fraction={test_fraction}, rng) with "
            f"{describe_inputs(X=X, y=y)} and class sizes {numpy.bincount(y).tolist()}")
    X_before, y_before = X.copy(), y.copy()
    result = _call(split, what, X, y, val_fraction, test_fraction, rng)
    expect(isinstance(result, (tuple, list)) and len(result) == 6,
           f"{what} should return six arrays X_train, X_val, X_test, y_train, y_val, y_test; got "
           f"{type(result).__name__}" + (f" of length {len(result)}." if isinstance(result, (tuple, list)) else "."))
    expect(numpy.array_equal(X, X_before) and numpy.array_equal(y, y_before),
           f"{what} changed X or y in place; index them to make new arrays instead.")
    names = ("train", "val", "test")
    X_parts, y_parts = result[:3], [as_host(part) for part in result[3:]]
    ids = {}
    for name, X_part, y_part in zip(names, X_parts, y_parts):
        X_part = as_host(X_part)
        expect(X_part.shape[1:] == X.shape[1:],
               f"{what}: X_{name} has shape {X_part.shape}; its rows should have X's shape {X.shape[1:]}.")
        expect(len(X_part) == len(y_part),
               f"{what}: X_{name} has {len(X_part)} rows but y_{name} has {len(y_part)} labels.")
        ids[name] = _ids(X_part, n, what, f"X_{name}")
        expect(len(numpy.unique(ids[name])) == len(ids[name]),
               f"{what}: X_{name} contains the same example more than once.")
        expect(numpy.array_equal(X_part, X[ids[name]]), f"{what}: the rows of X_{name} were changed.")
        expect(numpy.array_equal(y_part, y[ids[name]]),
               f"{what}: y_{name}[i] is not the label of X_{name}[i]: rows and labels must be moved together, "
               "with the same indices.")
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        shared = numpy.intersect1d(ids[a], ids[b])
        expect(len(shared) == 0, f"{what}: {len(shared)} example(s) are in both the {a} and the {b} set; the sets "
                                 "must not overlap.")
    used = sum(len(part) for part in ids.values())
    expect(used == n, f"{what}: the three sets hold {used} examples in all; every one of the N={n} examples must be "
                      "in exactly one set.")
    sizes = numpy.bincount(y)
    for name, fraction in (("test", test_fraction), ("val", val_fraction)):
        counts = numpy.bincount(y[ids[name]], minlength=len(sizes))
        for c, (count, size) in enumerate(zip(counts, sizes)):
            expect(abs(count - fraction * size) <= 1,
                   f"{what}: the {name} set holds {count} example(s) of class {c}, which has {size} examples; a "
                   f"stratified split puts about {name}_fraction * {size} = {fraction * size:.2f} of them there "
                   "(rounded). Split every class separately.")
    return ids["test"]


@register(
    id="01.train_val_test_split", lesson="01", points=3, names=("train_val_test_split",),
    reference=(reference_train_val_test_split,),
    mutants={
        "not stratified: one random permutation of all the examples": (_split_not_stratified,),
        "the validation and test sets overlap": (_split_overlap,),
        "labels shuffled independently of the rows": (_split_labels_shuffled,),
        "never shuffles: always the first examples of each class": (_split_not_shuffled,),
    },
    hint="For each class c: idx = rng.permutation(np.flatnonzero(y == c)); the first round(test_fraction * len(idx)) "
         "go to test, the next round(val_fraction * len(idx)) to validation, the rest to training. Concatenate "
         "the index lists, then index X and y with the same index arrays.",
)
def check_train_val_test_split(train_val_test_split: Callable, rng: numpy.random.Generator) -> None:
    """A stratified train/validation/test split."""
    cases = [([120, 60, 20], (3,), 0.15, 0.15), ([30, 20, 7, 3], (2,), 0.2, 0.25), ([475, 25], (4,), 0.1, 0.2),
             ([40, 35, 25], (2, 3), 0.3, 0.1), ([5, 1], (1,), 0.2, 0.2), ([16, 16, 16, 16, 16], (2,), 0.25, 0.25)]
    for class_sizes, feature_shape, val_fraction, test_fraction in cases:
        X, y = _labelled_data(rng, class_sizes, feature_shape)
        _check_one_split(train_val_test_split, X, y, val_fraction, test_fraction, rng)
    X, y = _labelled_data(rng, [60, 40], (2,))
    first = _check_one_split(train_val_test_split, X, y, 0.2, 0.2, numpy.random.default_rng(1))
    second = _check_one_split(train_val_test_split, X, y, 0.2, 0.2, numpy.random.default_rng(2))
    expect(not numpy.array_equal(numpy.sort(first), numpy.sort(second)),
           "train_val_test_split(X, y, 0.2, 0.2, rng) picked the same test examples with two different generators: "
           "choose the examples at random, with rng.permutation.")


# ----------------------------------------------------------------------------- the Standardizer question
@register(
    id="01.standardizer", lesson="01", points=2, names=("Standardizer",),
    reference=(reference_Standardizer,),
    mutants={
        "recomputes the statistics in transform (leakage)": (_StandardizerLeaky,),
        "divides by the variance instead of the standard deviation": (_StandardizerVariance,),
        "statistics over the wrong axis (per example instead of per column)": (_StandardizerRows,),
        "one mean and one std for the whole array": (_StandardizerWholeArray,),
        "a constant column gives NaN": (_StandardizerNaN,),
        "fit does not return self": (_StandardizerNoSelf,),
    },
    hint="fit: self.mean = X.mean(axis=0); std = X.std(axis=0); self.std = np.where(std == 0, 1.0, std); "
         "return self. transform: return (X - self.mean) / self.std, with the statistics saved by fit.",
)
def check_standardizer(Standardizer: type, rng: numpy.random.Generator) -> None:  # noqa: N803  (a class)
    """Standardizer.fit / transform with training statistics."""
    for n, m, d, constant_column in [(50, 7, 4, None), (5, 3, 3, 1), (1, 4, 2, None), (2, 1, 5, 0), (30, 30, 3, 2)]:
        scales, offsets = rng.uniform(0.1, 10, d), rng.uniform(-20, 20, d)
        X_train = rng.standard_normal((n, d)) * scales + offsets
        X_new = rng.standard_normal((m, d)) * 2 * scales + offsets + 3 * scales  # another mean and spread
        if constant_column is not None:
            X_train[:, constant_column] = 3.0
        inputs = describe_inputs(X_train=X_train, X_new=X_new)
        scaler = _call(Standardizer, "Standardizer()")
        train_before, new_before = X_train.copy(), X_new.copy()
        fitted = _call(scaler.fit, f"Standardizer().fit(X_train) with {inputs}", X_train)
        expect(fitted is scaler, "Standardizer().fit(X_train) should return the scaler itself (`return self`), so "
                                 f"that Standardizer().fit(X).transform(X) works; it returned {fitted!r}.")
        what = f"Standardizer().fit(X_train).transform(X_new) with {inputs}"
        if constant_column is not None:
            what += f" (column {constant_column} of X_train is constant)"
        if n == 1:
            what += " (one training example: every column is constant)"
        got = _call(scaler.transform, what, X_new)
        expect(numpy.array_equal(X_train, train_before) and numpy.array_equal(X_new, new_before),
               f"{what} changed its input in place; return a new array.")
        expected = reference_Standardizer().fit(X_train).transform(X_new)
        expect_close(got, expected, what=what, rtol=1e-6, atol=1e-9,
                     hint="Use the mean and standard deviation of X_train, saved by fit, to scale X_new; never "
                          "recompute them in transform. A column with std 0 is divided by 1.")
        expect_close(_call(scaler.transform, what, X_train), reference_Standardizer().fit(X_train).transform(X_train),
                     what=f"Standardizer().fit(X_train).transform(X_train) with {inputs}", rtol=1e-6, atol=1e-9)
    # refitting replaces the statistics
    X_a, X_b = rng.standard_normal((10, 2)), 5 + 3 * rng.standard_normal((10, 2))
    scaler = _call(Standardizer, "Standardizer()")
    _call(scaler.fit, "scaler.fit(X_a)", X_a)
    _call(scaler.fit, "scaler.fit(X_b)", X_b)
    expect_close(_call(scaler.transform, "scaler.transform(X_a)", X_a),
                 reference_Standardizer().fit(X_b).transform(X_a),
                 what="after scaler.fit(X_a) then scaler.fit(X_b), scaler.transform(X_a) (the second fit wins)",
                 rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- the mini-batch question
@register(
    id="01.iterate_minibatches", lesson="01", points=2, names=("iterate_minibatches",),
    reference=(reference_iterate_minibatches,),
    mutants={
        "drops the last partial batch": (_batches_drop_last,),
        "shuffles X and y with different permutations": (_batches_two_permutations,),
        "draws examples with replacement (repeats some, misses others)": (_batches_with_replacement,),
        "shuffles even when shuffle=False": (_batches_always_shuffled,),
    },
    hint="order = rng.permutation(N) if shuffle else np.arange(N); for start in range(0, N, batch_size): "
         "idx = order[start:start + batch_size]; yield X[idx], y[idx].",
)
def check_iterate_minibatches(iterate_minibatches: Callable, rng: numpy.random.Generator) -> None:
    """One epoch of (optionally shuffled) mini-batches."""
    cases = [(10, 3, True), (64, 16, True), (7, 3, False), (1, 4, True), (5, 5, True), (23, 1, False),
             (100, 32, True), (12, 5, False)]
    for n, batch_size, shuffle in cases:
        X, _ = _labelled_data(rng, [n], (3,))
        y = 1000 + 7 * numpy.arange(n)  # the label of example i is 1000 + 7 i: pairs are checkable
        what = f"iterate_minibatches(X, y, batch_size={batch_size}, shuffle={shuffle}, rng) with {describe_inputs(X=X)}"
        batches = _call(_as_list(iterate_minibatches), what, X, y, batch_size, shuffle=shuffle, rng=rng)
        expected_count = math.ceil(n / batch_size)
        expect(len(batches) == expected_count,
               f"{what} gave {len(batches)} batches; expected ceil({n} / {batch_size}) = {expected_count} (the last "
               "batch holds the remaining examples, even if fewer than batch_size).")
        order = []
        for b, batch in enumerate(batches):
            expect(isinstance(batch, (tuple, list)) and len(batch) == 2,
                   f"{what}: batch {b} should be a pair (X_batch, y_batch); got {type(batch).__name__}.")
            X_batch, y_batch = as_host(batch[0]), as_host(batch[1])
            size = batch_size if b < expected_count - 1 else n - batch_size * (expected_count - 1)
            expect(len(X_batch) == size and len(y_batch) == size,
                   f"{what}: batch {b} has {len(X_batch)} rows and {len(y_batch)} labels; expected {size}.")
            ids = _ids(X_batch, n, what, f"X_batch of batch {b}")
            expect(numpy.array_equal(X_batch, X[ids]), f"{what}: the rows of batch {b} were changed.")
            expect(numpy.array_equal(y_batch, y[ids]),
                   f"{what}: in batch {b}, y_batch[i] is not the label of X_batch[i]; take both with the same indices.")
            order.extend(ids.tolist())
        expect(sorted(order) == list(range(n)),
               f"{what}: over the epoch some examples came {max(numpy.bincount(order, minlength=n))} times and "
               f"{int(numpy.sum(numpy.bincount(order, minlength=n) == 0))} never; every example must come exactly "
               "once.")
        if not shuffle:
            expect(order == list(range(n)), f"{what}: with shuffle=False the examples must come in their order 0..N-1.")
        elif n >= 10:
            expect(order != list(range(n)), f"{what}: with shuffle=True the examples came in their original order; "
                                            "visit them in the order of rng.permutation(N).")


# ----------------------------------------------------------------------------- the augmentation question
def _shift_of_row(original: numpy.ndarray, shifted: numpy.ndarray) -> int | None:
    """The s in (-L/2, L/2] with shifted == roll(original, s), or None if it is no circular shift."""
    length = len(original)
    for k in range(length):
        if numpy.array_equal(shifted, numpy.roll(original, k)):
            return k if k <= length // 2 else k - length
    return None


@register(
    id="01.random_shift", lesson="01", points=2, names=("random_shift",),
    reference=(reference_random_shift,),
    mutants={
        "the same shift for every example": (_shift_same_for_all,),
        "shifts up to max_shift + 1": (_shift_too_large,),
        "never shifts by +max_shift (rng.integers' high end is excluded)": (_shift_high_end_excluded,),
        "fills with zeros instead of wrapping around (changes the values)": (_shift_zero_fill,),
        "shifts x in place": (_shift_in_place,),
    },
    hint="shifts = rng.integers(-max_shift, max_shift + 1, size=N) (the high end is excluded, hence + 1); row i "
         "of the result is np.roll(x[i], shifts[i]).",
)
def check_random_shift(random_shift: Callable, rng: numpy.random.Generator) -> None:
    """Random circular shifts of 1-D signals."""
    for n, length, max_shift in [(300, 12, 3), (1, 40, 5), (200, 9, 1), (5, 7, 0), (400, 40, 4)]:
        x = rng.standard_normal((n, length))
        before = x.copy()
        what = f"random_shift(x, max_shift={max_shift}, rng) with {describe_inputs(x=x)}"
        out = as_host(_call(random_shift, what, x, max_shift, rng))
        expect(numpy.array_equal(x, before), f"{what} changed x in place; return a new array.")
        expect(out.shape == x.shape, f"{what} returned shape {out.shape}; expected x's shape {x.shape}.")
        shifts = []
        for i in range(n):
            s = _shift_of_row(x[i], out[i])
            expect(s is not None, f"{what}: row {i} of the result is not a circular shift of x[{i}] (its values "
                                  "changed). Use np.roll: what leaves one end comes back at the other.")
            expect(abs(s) <= max_shift, f"{what}: row {i} was shifted by {s}, more than max_shift={max_shift}.")
            shifts.append(s)
        if n >= 200:
            expect(len(set(shifts)) > 1, f"{what}: all {n} rows were shifted by the same amount {shifts[0]}; draw "
                                         "one shift per example.")
            expect(max_shift in shifts and -max_shift in shifts,
                   f"{what}: over {n} rows the shifts ranged from {min(shifts)} to {max(shifts)}; every whole number "
                   f"from -{max_shift} to +{max_shift} (both included) must be possible.")


# ----------------------------------------------------------------------------- the arithmetic question
@register(
    id="01.iterations", lesson="01", points=1, names=("iterations_per_epoch", "total_iterations"),
    reference=(reference_iterations_per_epoch, reference_total_iterations),
    mutants={
        "floor instead of ceil (forgets the last partial batch)": (_ipe_floor, _total_floor),
        "off by one: n // B + 1 even when B divides n": (_ipe_plus_one, _total_plus_one),
        "total counts the partial batch once overall instead of once per epoch":
            (reference_iterations_per_epoch, _total_pooled),
        "total ignores drop_last": (reference_iterations_per_epoch, _total_ignores_drop_last),
    },
    hint="iterations_per_epoch: n // B with drop_last, else ceil(n / B) (= (n + B - 1) // B). "
         "total_iterations: epochs * iterations_per_epoch(n, B, drop_last).",
)
def check_iterations(iterations_per_epoch: Callable, total_iterations: Callable, rng: numpy.random.Generator) -> None:
    """Epochs, batches and iterations."""
    cases = [(1000, 64, 10), (1000, 100, 3), (10, 3, 7), (5, 10, 4), (64, 64, 2), (1, 1, 5), (1257, 32, 40),
             (60000, 128, 1), (7, 2, 0)]
    for n, batch_size, epochs in cases:
        for drop_last in (False, True):
            what = f"iterations_per_epoch(n={n}, batch_size={batch_size}, drop_last={drop_last})"
            got = _call(iterations_per_epoch, what, n, batch_size, drop_last)
            expected = reference_iterations_per_epoch(n, batch_size, drop_last)
            expect(got is not None, f"{what} returned None; did you forget `return`?")
            expect(numpy.ndim(got) == 0 and float(got) == expected,
                   f"{what} returned {got!r}; expected {expected}: {n // batch_size} full batch(es)"
                   + (f" and one of {n % batch_size} example(s)" if n % batch_size else "")
                   + (", and the partial one is dropped." if drop_last and n % batch_size else "."))
            what = f"total_iterations(n={n}, batch_size={batch_size}, epochs={epochs}, drop_last={drop_last})"
            got = _call(total_iterations, what, n, batch_size, epochs, drop_last)
            expected = reference_total_iterations(n, batch_size, epochs, drop_last)
            expect(got is not None, f"{what} returned None; did you forget `return`?")
            expect(numpy.ndim(got) == 0 and float(got) == expected,
                   f"{what} returned {got!r}; expected {expected} = {epochs} epochs x "
                   f"{reference_iterations_per_epoch(n, batch_size, drop_last)} batches per epoch.")
