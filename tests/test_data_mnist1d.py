"""The MNIST-1D generator: shapes, balance, seeds, global state, smoothing, and that the task is not trivial."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from coursepkg.data.mnist1d import MNIST1DConfig, gaussian_smooth, make_mnist1d, mnist1d_templates


def test_default_shapes_split_and_balance():
    X, y, X_test, y_test = make_mnist1d()
    assert X.shape == (4000, 40) and X_test.shape == (1000, 40)
    assert X.dtype == np.float32 and y.dtype == np.int64
    all_y = np.concatenate([y, y_test])
    np.testing.assert_array_equal(np.bincount(all_y), np.full(10, 500))
    all_X = np.concatenate([X, X_test]).astype(np.float64)
    assert all_X.mean() == pytest.approx(0.0, abs=1e-5) and all_X.std() == pytest.approx(1.0, abs=1e-5)
    assert len(np.unique(all_X, axis=0)) == 5000  # every example is different


def test_same_seed_same_data_other_seed_other_data_and_no_global_state():
    np.random.seed(123)  # noqa: NPY002 (the global state is what is checked)
    random.seed(7)
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (the global state is what is checked)
    a = make_mnist1d(600, seed=5)
    b = make_mnist1d(600, seed=5)
    c = make_mnist1d(600, seed=6)
    after = np.random.get_state()  # noqa: NPY002 (the global state is what is checked)
    assert numpy_state[0] == after[0] and np.array_equal(numpy_state[1], after[1]) and numpy_state[2:] == after[2:]
    assert random.getstate() == python_state
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_templates_are_ten_distinct_shapes_starting_at_zero():
    t = mnist1d_templates()
    assert t.shape == (10, 12)
    np.testing.assert_allclose(t[:, 0], 0.0, atol=1e-12)
    assert len(np.unique(np.round(t, 6), axis=0)) == 10


def test_without_randomness_every_digit_is_its_template():
    still = MNIST1DConfig(padding=(36, 36), scale_coeff=0.0, max_translation=1, corr_noise_scale=0.0,
                          iid_noise_scale=0.0, shear_scale=0.0)
    X, y, X_test, y_test = make_mnist1d(200, seed=0, config=still)
    X, y = np.concatenate([X, X_test]), np.concatenate([y, y_test])
    for digit in range(10):
        same = X[y == digit]
        np.testing.assert_allclose(same, np.broadcast_to(same[0], same.shape), atol=1e-6)
    assert len(np.unique(np.round(X, 4), axis=0)) == 10
    # the knobs matter: the default configuration makes every example different
    noisy = make_mnist1d(200, seed=0)[0]
    assert len(np.unique(noisy, axis=0)) == len(noisy)
    assert dataclasses.replace(still, shear_scale=1.0).shear_scale == 1.0


def test_background_is_smooth_correlated_noise():
    quiet = MNIST1DConfig(iid_noise_scale=0.0, shear_scale=0.0, corr_noise_scale=0.0)
    X_flat = make_mnist1d(500, seed=1, config=quiet)[0]
    X_noisy = make_mnist1d(500, seed=1, config=dataclasses.replace(quiet, corr_noise_scale=0.25))[0]
    values, counts = np.unique(X_flat, return_counts=True)
    background = X_flat == values[np.argmax(counts)]  # where no digit is drawn, the quiet signal is constant
    assert background.mean() > 0.2
    noise = X_noisy[background]
    assert np.std(noise) > 0.1  # the same places now hold noise
    pairs = background[:, :-1] & background[:, 1:]
    neighbours = np.corrcoef(X_noisy[:, :-1][pairs], X_noisy[:, 1:][pairs])[0, 1]
    assert neighbours > 0.5, neighbours  # smoothed noise: neighbours move together (white noise: ~0)


def test_gaussian_smooth_matches_scipy():
    x = np.random.default_rng(0).standard_normal((4, 72))
    np.testing.assert_allclose(gaussian_smooth(x, 2.0), gaussian_filter1d(x, 2.0, axis=1), atol=1e-12)
    short = np.random.default_rng(1).standard_normal((3, 6))  # shorter than the kernel: mirrored again
    np.testing.assert_allclose(gaussian_smooth(short, 2.0), gaussian_filter1d(short, 2.0, axis=1), atol=1e-12)


def test_task_is_learnable_but_far_from_trivial_for_a_linear_model():
    X, y, X_test, y_test = make_mnist1d(seed=42)
    with threadpool_limits(1):  # a small fit: BLAS threads only compete with each other (100x slower under load)
        model = LogisticRegression(max_iter=500).fit(X, y)
    test_accuracy = model.score(X_test, y_test)
    assert 0.2 < test_accuracy < 0.8, test_accuracy  # the paper: ~32% for logistic regression, chance is 10%


def test_bad_arguments():
    with pytest.raises(ValueError, match="train_fraction"):
        make_mnist1d(100, train_fraction=1.0)
    X, _, X_test, _ = make_mnist1d(37, train_fraction=0.5)
    assert len(X) + len(X_test) == 37
