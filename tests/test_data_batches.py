"""Mini-batches: every example once per epoch, drop_last, seeds, backends, and the epoch arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coursepkg as cp
from coursepkg.backend import BackendError
from coursepkg.data.batches import BatchPlan, batches_per_epoch, iterate_minibatches, iterations

SETTINGS = settings(max_examples=50, deadline=None)


def _data(n):
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)  # row i identifies example i
    return X, np.arange(n)


@SETTINGS
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), shuffle=st.booleans(), seed=st.integers(0, 9))
def test_every_example_exactly_once_without_drop_last(n, batch_size, shuffle, seed):
    X, y = _data(n)
    batches = list(iterate_minibatches(X, y, batch_size, shuffle=shuffle, seed=seed))
    assert len(batches) == math.ceil(n / batch_size) == batches_per_epoch(n, batch_size)
    sizes = [len(yb) for _, yb in batches]
    assert all(s == batch_size for s in sizes[:-1]) and sizes[-1] == n - (len(batches) - 1) * batch_size
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)  # rows and labels stay together
    if not shuffle:
        np.testing.assert_array_equal(seen, y)


@SETTINGS
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), seed=st.integers(0, 9))
def test_drop_last_skips_only_the_partial_batch(n, batch_size, seed):
    X, y = _data(n)
    batches = list(iterate_minibatches(X, y, batch_size, drop_last=True, seed=seed))
    assert len(batches) == n // batch_size == batches_per_epoch(n, batch_size, drop_last=True)
    assert all(len(yb) == batch_size for _, yb in batches)
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], dtype=int)
    assert len(np.unique(seen)) == len(seen) == BatchPlan(n, batch_size, drop_last=True).examples_per_epoch


def test_same_seed_same_order_other_seed_other_order():
    X, y = _data(100)
    order = [np.concatenate([yb for _, yb in iterate_minibatches(X, y, 16, seed=s)]) for s in (3, 3, 4)]
    np.testing.assert_array_equal(order[0], order[1])
    assert not np.array_equal(order[0], order[2])
    assert not np.array_equal(order[0], y)
    generator = np.random.default_rng(3)
    via_generator = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 16, rng=generator)])
    np.testing.assert_array_equal(via_generator, order[0])


def test_default_generator_is_the_active_backends():
    X, y = _data(50)
    cp.seed(11)
    a = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8)])
    cp.seed(11)
    b = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8)])
    c = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8)])  # the generator moved on
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_backend_arrays_stay_on_the_backend(backend):
    X, y = _data(23)
    X_dev, y_dev = backend.asarray(X), backend.asarray(y)
    batches = list(iterate_minibatches(X_dev, y_dev, 5, seed=1))
    for Xb, yb in batches:
        assert cp.namespace_of(Xb) is backend.xp and cp.namespace_of(yb) is backend.xp
        if backend.name == "array_api_strict":
            assert Xb.device == X_dev.device
        np.testing.assert_array_equal(cp.to_numpy(Xb)[:, 0], cp.to_numpy(yb))
    seen = np.concatenate([cp.to_numpy(yb) for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    again = np.concatenate([cp.to_numpy(yb) for _, yb in iterate_minibatches(X_dev, y_dev, 5, seed=1)])
    np.testing.assert_array_equal(seen, again)
    unshuffled = [cp.to_numpy(yb) for _, yb in iterate_minibatches(X_dev, None, 5, shuffle=False)]
    assert unshuffled == [None] * 5


@SETTINGS
@given(n=st.integers(0, 200), batch_size=st.integers(1, 64), epochs=st.integers(0, 5), drop_last=st.booleans())
def test_epoch_arithmetic_counts_what_the_iterator_does(n, batch_size, epochs, drop_last):
    X, y = _data(n)
    counted = sum(len(list(iterate_minibatches(X, y, batch_size, drop_last=drop_last, shuffle=False)))
                  for _ in range(epochs))
    plan = BatchPlan(n, batch_size, epochs, drop_last)
    assert plan.iterations == iterations(n, batch_size, epochs, drop_last) == counted
    last = [len(yb) for _, yb in iterate_minibatches(X, y, batch_size, drop_last=drop_last, shuffle=False)]
    assert plan.last_batch_size == (last[-1] if last else 0)


def test_lesson_example():
    plan = BatchPlan(n_examples=1000, batch_size=64, epochs=10)
    assert (plan.batches_per_epoch, plan.last_batch_size, plan.iterations) == (16, 40, 160)
    assert BatchPlan(1000, 64, 10, drop_last=True).iterations == 150


def test_errors_are_clear():
    X, y = _data(10)
    with pytest.raises(ValueError, match=r"X.shape\[0\]=10 and y.shape\[0\]=9"):
        iterate_minibatches(X, y[:9], 4)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1, got 0"):
        iterate_minibatches(X, y, 0)
    with pytest.raises(ValueError, match="batch_size"):
        batches_per_epoch(10, -1)
    with pytest.raises(ValueError, match="batch_size"):
        BatchPlan(10, 0)
    with cp.use_backend("array_api_strict", device="device1"):
        with pytest.raises(BackendError, match="Move the data to the backend first"):
            iterate_minibatches(X, y, 4)  # NumPy data with the strict backend's generator
        assert len(list(iterate_minibatches(X, y, 4, seed=0))) == 3  # a seed shuffles host data on the host
