"""Standardizer and MinMaxScaler against scikit-learn, on every backend, with constant features."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler as SkMinMax
from sklearn.preprocessing import StandardScaler

import coursepkg as cp
from coursepkg.data.scalers import MinMaxScaler, Standardizer

SETTINGS = settings(max_examples=50, deadline=None)
VALUES = st.integers(-400, 400).map(lambda v: v / 8.0)  # a grid: a column is constant or clearly spread


@st.composite
def train_and_test(draw):
    n, d = draw(st.integers(1, 20)), draw(st.integers(1, 5))
    X_train = draw(arrays(np.float64, (n, d), elements=VALUES))
    constant = draw(st.lists(st.booleans(), min_size=d, max_size=d))
    X_train[:, constant] = X_train[:1, constant]  # some zero-variance features
    X_test = draw(arrays(np.float64, (draw(st.integers(1, 10)), d), elements=VALUES))
    return X_train, X_test


@SETTINGS
@given(data=train_and_test())
def test_standardizer_matches_sklearn(data):
    X_train, X_test = data
    ours, theirs = Standardizer().fit(X_train), StandardScaler().fit(X_train)
    for X in (X_train, X_test):  # test data is transformed with the *training* statistics
        np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.mean, theirs.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.std, theirs.scale_, rtol=1e-9)
    Z = ours.fit_transform(X_train)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(ours.inverse_transform(Z), X_train, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.inverse_transform(X_test), theirs.inverse_transform(X_test), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(data=train_and_test(), feature_range=st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0)]))
def test_min_max_scaler_matches_sklearn(data, feature_range):
    X_train, X_test = data
    ours, theirs = MinMaxScaler(feature_range).fit(X_train), SkMinMax(feature_range=feature_range).fit(X_train)
    for X in (X_train, X_test):
        np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-9, atol=1e-9)
    Z = ours.transform(X_train)
    assert Z.min() >= feature_range[0] - 1e-12 and Z.max() <= feature_range[1] + 1e-12
    np.testing.assert_allclose(ours.inverse_transform(Z), X_train, rtol=1e-9, atol=1e-9)


def test_constant_feature_becomes_zero_not_nan():
    X = np.array([[1.0, 3.0], [2.0, 3.0], [3.0, 3.0]])
    Z = Standardizer().fit_transform(X)
    np.testing.assert_array_equal(Z[:, 1], 0.0)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0)
    np.testing.assert_array_equal(MinMaxScaler((-1.0, 1.0)).fit_transform(X)[:, 1], -1.0)


def test_statistics_come_from_train_only():
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(5.0, 2.0, (200, 3)), rng.normal(-5.0, 1.0, (50, 3))
    scaler = Standardizer().fit(X_train)
    np.testing.assert_allclose(scaler.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0))
    assert scaler.transform(X_test).mean() < -3  # not re-centred on the test data


def test_works_on_images_and_integers():
    X = np.random.default_rng(1).integers(0, 255, (10, 3, 4, 4))
    Z = Standardizer().fit_transform(X)
    assert Z.shape == X.shape and Z.dtype == np.float64
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)


def test_backend_arrays_stay_on_their_backend(backend):
    X = np.random.default_rng(2).normal(3.0, 2.0, (30, 4)).astype(np.float32)
    X[:, 2] = 1.5
    on_device = backend.asarray(X)
    for ours, theirs in ((Standardizer(), StandardScaler()), (MinMaxScaler(), SkMinMax())):
        Z = ours.fit(on_device).transform(on_device)
        assert cp.namespace_of(Z) is backend.xp and "float32" in str(Z.dtype)
        np.testing.assert_allclose(cp.to_numpy(Z), theirs.fit_transform(X.astype(np.float64)), rtol=1e-4, atol=1e-5)
        back = ours.inverse_transform(Z)
        np.testing.assert_allclose(cp.to_numpy(back), X, rtol=1e-5, atol=1e-5)


def test_clear_errors():
    with pytest.raises(RuntimeError, match=r"Standardizer.transform: call fit\(X_train\) first"):
        Standardizer().transform(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="MinMaxScaler.inverse_transform: call fit"):
        MinMaxScaler().inverse_transform(np.zeros((2, 3)))
    scaler = Standardizer().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"feature shape \(2,\).*fit on feature shape \(3,\)"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1.0, 0.0))
    with pytest.raises(ValueError, match="at least one example"):
        Standardizer().fit(np.zeros((0, 3)))
