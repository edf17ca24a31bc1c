"""Train/val/test splits (stratified) and k-fold indices, with scikit-learn's splitters as the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold, StratifiedKFold

import coursepkg as cp
from coursepkg.data.split import fold_sizes, kfold_indices, train_val_test_split

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def labelled(draw):
    """(X, y): X[i] = [i, i] identifies example i; y has 1 to 5 classes of random sizes."""
    sizes = draw(st.lists(st.integers(1, 30), min_size=1, max_size=5))
    y = np.repeat(np.arange(len(sizes)), sizes)
    y = y[np.random.default_rng(draw(st.integers(0, 100))).permutation(len(y))]
    X = np.stack([np.arange(len(y)), np.arange(len(y))], axis=1)
    return X, y


FRACTIONS = st.sampled_from([0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 1 / 3])


@SETTINGS
@given(data=labelled(), val_fraction=FRACTIONS, test_fraction=FRACTIONS, stratify=st.booleans(),
       seed=st.integers(0, 5))
def test_split_sizes_coverage_alignment_and_class_proportions(data, val_fraction, test_fraction, stratify, seed):
    X, y = data
    n = len(y)
    if n - round(val_fraction * n) - round(test_fraction * n) < 1:
        with pytest.raises(ValueError, match="no training data"):
            train_val_test_split(X, y, val_fraction, test_fraction, stratify=stratify, seed=seed)
        return
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
        X, y, val_fraction, test_fraction, stratify=stratify, seed=seed)
    assert len(X_test) == len(y_test) == round(test_fraction * n)
    assert len(X_val) == len(y_val) == round(val_fraction * n)
    ids = np.concatenate([X_train[:, 0], X_val[:, 0], X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))  # every example exactly once
    for X_part, y_part in ((X_train, y_train), (X_val, y_val), (X_test, y_test)):
        np.testing.assert_array_equal(y[X_part[:, 0]], y_part)  # labels travel with their rows
    if stratify:
        sizes = np.bincount(y)
        test_counts = np.bincount(y_test, minlength=len(sizes))
        assert np.all(np.abs(test_counts - test_fraction * sizes) < 1)  # floor or ceil of the quota
        val_counts = np.bincount(y_val, minlength=len(sizes))
        roomy = sizes * (1 - val_fraction - test_fraction) >= 1  # classes with room for both quotas
        assert np.all(np.abs(val_counts - val_fraction * sizes)[roomy] < 1)


def test_stratification_keeps_a_rare_class_in_every_split():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100)[:, None]
    for seed in range(10):
        _, _, _, y_train, y_val, y_test = train_val_test_split(X, y, 0.2, 0.2, seed=seed)
        np.testing.assert_array_equal([np.sum(y_train == 1), np.sum(y_val == 1), np.sum(y_test == 1)], [6, 2, 2])


def test_seed_controls_the_split():
    X, y = np.arange(200)[:, None], np.arange(200) % 4
    a = train_val_test_split(X, y, seed=1)
    b = train_val_test_split(X, y, seed=1)
    c = train_val_test_split(X, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_split_errors_are_clear():
    X, y = np.zeros((10, 2)), np.zeros(9)
    with pytest.raises(ValueError, match=r"len\(X\)=10 and len\(y\)=9"):
        train_val_test_split(X, y)
    with pytest.raises(ValueError, match="val_fraction must be in"):
        train_val_test_split(X, np.zeros(10), val_fraction=-0.1)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        train_val_test_split(X, np.zeros(10), test_fraction=1.0)
    with pytest.raises(ValueError, match="must be < 1"):
        train_val_test_split(X, np.zeros(10), 0.5, 0.5)
    with cp.use_backend("array_api_strict", device="device1") as backend:
        with pytest.raises(TypeError, match="on the host"):
            train_val_test_split(backend.asarray(X), np.zeros(10))


@SETTINGS
@given(n=st.integers(2, 60), k=st.integers(2, 10), shuffle=st.booleans(), seed=st.integers(0, 3))
def test_kfold_covers_every_index_once_like_sklearn(n, k, shuffle, seed):
    if k > n:
        with pytest.raises(ValueError, match="2 <= k <= n"):
            kfold_indices(n, k)
        return
    folds = kfold_indices(n, k, shuffle=shuffle, seed=seed)
    reference = list(KFold(k, shuffle=shuffle, random_state=seed if shuffle else None).split(np.zeros(n)))
    assert len(folds) == len(reference) == k
    validated = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validated), np.arange(n))
    for train, val in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(n))
    assert sorted(len(v) for _, v in folds) == sorted(len(v) for _, v in reference) == sorted(fold_sizes(n, k))
    if not shuffle:  # contiguous blocks: identical to KFold
        for (train, val), (sk_train, sk_val) in zip(folds, reference):
            np.testing.assert_array_equal(val, sk_val)
            np.testing.assert_array_equal(train, sk_train)


@SETTINGS
@given(data=labelled(), k=st.integers(2, 5), shuffle=st.booleans(), seed=st.integers(0, 3))
def test_stratified_kfold_spreads_each_class_evenly(data, k, shuffle, seed):
    _, y = data
    n = len(y)
    if k > n:
        return
    folds = kfold_indices(n, k, shuffle=shuffle, seed=seed, stratify_labels=y)
    validated = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validated), np.arange(n))
    counts = np.array([np.bincount(y[val], minlength=y.max() + 1) for _, val in folds])  # (k, classes)
    assert np.all(counts.max(axis=0) - counts.min(axis=0) <= 1)
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1
    if np.bincount(y).min() >= k:  # StratifiedKFold's own requirement; it is never more even than ours
        reference = StratifiedKFold(k, shuffle=True, random_state=0).split(np.zeros(n), y)
        sk_counts = np.array([np.bincount(y[val], minlength=y.max() + 1) for _, val in reference])
        assert (counts.max(axis=0) - counts.min(axis=0)).max() <= (sk_counts.max(axis=0) - sk_counts.min(axis=0)).max()


def test_kfold_seed_and_errors():
    a, b = kfold_indices(30, 3, seed=1), kfold_indices(30, 3, seed=1)
    c = kfold_indices(30, 3, seed=2)
    assert all(np.array_equal(u[1], v[1]) for u, v in zip(a, b))
    assert not all(np.array_equal(u[1], v[1]) for u, v in zip(a, c))
    with pytest.raises(ValueError, match="length n=10"):
        kfold_indices(10, 2, stratify_labels=np.zeros(9))
    with pytest.raises(ValueError, match="k=1"):
        kfold_indices(10, 1)
