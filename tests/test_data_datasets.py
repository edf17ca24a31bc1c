"""load_dataset: every name, shapes and dtypes, seeds, options, and the explicit move to a backend."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as sk_datasets

import coursepkg as cp
from coursepkg.data.datasets import LOADERS, Dataset, load_dataset, make_spirals, to_backend

SMALL = {"mnist1d": {"n_samples": 500}}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_dataset_is_host_float32_with_int64_labels(name):
    ds = load_dataset(name, **SMALL.get(name, {}))
    assert isinstance(ds, Dataset) and ds.name == name
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == np.float32 and ds.X.ndim == 2
    assert isinstance(ds.y, np.ndarray) and ds.y.dtype == np.int64 and ds.y.shape == (ds.X.shape[0],)
    assert np.all(np.isfinite(ds.X))
    assert set(np.unique(ds.y)) == set(range(ds.n_classes))
    assert str(ds.X.shape) in ds.description and f"{ds.n_classes} classes" in ds.description
    if ds.feature_names is not None:
        assert len(ds.feature_names) == ds.X.shape[1]
    assert len(ds.target_names) == ds.n_classes
    assert name in repr(ds)


@pytest.mark.parametrize("name, loader", [("digits", sk_datasets.load_digits), ("iris", sk_datasets.load_iris),
                                          ("breast_cancer", sk_datasets.load_breast_cancer),
                                          ("wine", sk_datasets.load_wine)])
def test_bundled_sets_are_sklearns(name, loader):
    ds, bunch = load_dataset(name), loader()
    np.testing.assert_array_equal(ds.X, bunch.data.astype(np.float32))
    np.testing.assert_array_equal(ds.y, bunch.target)
    assert ds.target_names == [str(t) for t in bunch.target_names]


def test_digits_as_images():
    ds = load_dataset("digits", images=True)
    assert ds.X.shape == (1797, 8, 8) and ds.feature_names is None
    np.testing.assert_array_equal(ds.X.reshape(1797, 64), load_dataset("digits").X)


@pytest.mark.parametrize("name", ["moons", "circles", "blobs", "spirals"])
def test_generators_follow_seed_and_size(name):
    a = load_dataset(name, n_samples=123, seed=1)
    b = load_dataset(name, n_samples=123, seed=1)
    c = load_dataset(name, n_samples=123, seed=2)
    assert a.X.shape == (123, 2)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_noise_option_is_used():
    moons = load_dataset("moons", n_samples=100, noise=0.0)
    # noiseless moons: class 0 on the unit circle around (0, 0), class 1 on the one around (1, 0.5)
    centers = np.array([[0.0, 0.0], [1.0, 0.5]])
    radius = np.linalg.norm(moons.X - centers[moons.y], axis=1)
    np.testing.assert_allclose(radius, 1.0, atol=1e-6)
    noisy = load_dataset("moons", n_samples=100, noise=0.3)
    assert np.abs(np.linalg.norm(noisy.X - centers[noisy.y], axis=1) - 1).max() > 0.1


def test_spirals_arms_are_balanced_and_global_random_state_untouched():
    state = np.random.get_state()  # noqa: NPY002 (the global state is what is checked)
    X, y = make_spirals(n_samples=301, n_classes=4, noise=0.0, seed=0)
    after = np.random.get_state()  # noqa: NPY002 (the global state is what is checked)
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 301
    radius = np.linalg.norm(X, axis=1)
    assert radius.max() <= 1.0 + 1e-6
    # without noise, every point lies on its own arm: angle = 4 (class + radius)
    angle = np.arctan2(X[:, 0], X[:, 1])
    expected = 4.0 * (y + radius)
    np.testing.assert_allclose(np.cos(angle - expected)[radius > 1e-3], 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(n_classes=1)


def test_mnist1d_comes_with_its_test_set():
    ds = load_dataset("mnist1d", n_samples=1000, seed=3)
    assert ds.X.shape == (800, 40) and ds.X_test.shape == (200, 40) and ds.y_test.shape == (200,)
    assert ds.n_classes == 10 and "X_test" in repr(ds)


def test_unknown_name_and_option_are_explained():
    with pytest.raises(ValueError, match="known names are.*mnist1d"):
        load_dataset("cifar10")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['noize'\].*'noise'"):
        load_dataset("moons", noize=0.1)


def test_to_backend_moves_explicitly_and_leaves_the_original(backend):
    ds = load_dataset("iris")
    moved = to_backend(ds)
    assert cp.namespace_of(moved.X) is backend.xp and cp.namespace_of(moved.y) is backend.xp
    np.testing.assert_array_equal(cp.to_numpy(moved.X), ds.X)
    np.testing.assert_array_equal(cp.to_numpy(moved.y), ds.y)
    assert "int" in str(moved.y.dtype) and "float32" in str(moved.X.dtype)
    assert isinstance(ds.X, np.ndarray)
    assert moved.X_test is None
