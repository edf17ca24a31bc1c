"""Augmentations: shapes kept, purity, flips, shifts, crops and noise, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.backend import BackendError
from coursepkg.data import augment

SHAPES = [(6, 12), (6, 2, 12), (6, 5, 7), (6, 3, 5, 7)]  # (N, L), (N, C, L), (N, H, W), (N, C, H, W)


def _batch(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _zero_shift(row: np.ndarray, s: int, axis: int) -> np.ndarray:
    """Reference for a zero-filled shift of one example by s along axis (np.roll, then zero what wrapped)."""
    out = np.roll(row, s, axis=axis)
    index = [slice(None)] * row.ndim
    index[axis] = slice(0, s) if s > 0 else slice(max(row.shape[axis] + s, 0), None)
    if s != 0:
        out[tuple(index)] = 0
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_dtypes_kept_and_input_untouched(shape):
    x = _batch(shape)
    before = x.copy()
    outputs = [augment.add_gaussian_noise(x, 0.1, seed=0), augment.random_shift(x, 2, seed=0),
               augment.random_shift(x, 2, mode="zeros", seed=0), augment.random_flip(x, seed=0),
               augment.random_crop(x, 2, seed=0, spatial_dims=1 if len(shape) == 2 else 2)]
    for out in outputs:
        assert out.shape == x.shape and out.dtype == x.dtype and out is not x
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("shape", SHAPES)
def test_flip_twice_is_identity(shape):
    x = _batch(shape)
    np.testing.assert_array_equal(augment.random_flip(x, p=1.0, seed=0), np.flip(x, axis=-1))
    np.testing.assert_array_equal(augment.random_flip(augment.random_flip(x, p=1.0, seed=0), p=1.0, seed=1), x)
    np.testing.assert_array_equal(augment.random_flip(x, p=0.0, seed=0), x)
    once = augment.random_flip(x, seed=3)  # the same draws flip the same examples back
    np.testing.assert_array_equal(augment.random_flip(once, seed=3), x)
    flipped = [not np.array_equal(once[n], x[n]) for n in range(len(x))]
    for n in range(len(x)):
        np.testing.assert_array_equal(once[n], np.flip(x[n], axis=-1) if flipped[n] else x[n])


def test_flip_probability_is_respected():
    x = np.arange(2000 * 3, dtype=np.float32).reshape(2000, 3)
    flipped = augment.random_flip(x, p=0.3, seed=0)[:, 0] != x[:, 0]
    assert flipped.mean() == pytest.approx(0.3, abs=0.04)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("axis", [-1, -2])
def test_shift_is_a_per_example_roll_within_range(shape, axis):
    x, k = _batch(shape), 3
    if len(shape) == 2 and axis == -2:  # that is the batch axis
        with pytest.raises(ValueError, match="non-batch axis"):
            augment.random_shift(x, k, axis=axis, seed=1)
        return
    circular = augment.random_shift(x, k, axis=axis, seed=1)
    zeroed = augment.random_shift(x, k, axis=axis, mode="zeros", seed=1)  # same seed: same shifts
    used = set()
    for n in range(len(x)):
        np.testing.assert_array_equal(np.sort(circular[n], axis=None), np.sort(x[n], axis=None))  # values kept
        shifts = [s for s in range(-k, k + 1) if np.array_equal(circular[n], np.roll(x[n], s, axis=axis))
                  and np.array_equal(zeroed[n], _zero_shift(x[n], s, axis))]
        assert shifts, f"example {n} is not shifted by at most {k}"
        used.update(shifts)
    assert len(used) > 1  # examples get their own shifts


def test_shift_examples_matches_numpy_roll():
    x = np.arange(40, dtype=np.float32).reshape(4, 10)
    shifts = np.array([0, 1, -3, 12])
    out = augment.shift_examples(x, shifts)
    for n, s in enumerate(shifts):
        np.testing.assert_array_equal(out[n], np.roll(x[n], s))
    np.testing.assert_array_equal(augment.shift_examples(x, shifts, zero_fill=True)[3], np.zeros(10))


@pytest.mark.parametrize("shape, spatial_dims", [((5, 3, 6, 7), 2), ((5, 6, 7), 2), ((5, 2, 9), 1)])
def test_random_crop_equals_pad_then_crop(shape, spatial_dims):
    x, p = _batch(shape), 2
    out = augment.random_crop(x, p, seed=4, spatial_dims=spatial_dims)
    pad = [(0, 0)] * (x.ndim - 1 - spatial_dims) + [(p, p)] * spatial_dims
    sizes = x.shape[-spatial_dims:]
    for n in range(len(x)):
        padded = np.pad(x[n], pad)
        windows = []
        for offset in np.ndindex(*([2 * p + 1] * spatial_dims)):
            index = (Ellipsis,) + tuple(slice(o, o + size) for o, size in zip(offset, sizes))
            windows.append(np.array_equal(padded[index], out[n]))
        assert any(windows), f"example {n} is not a crop of its padded version"


def test_noise_has_the_requested_spread():
    x = np.zeros((400, 250), dtype=np.float32)
    noise = augment.add_gaussian_noise(x, 0.5, seed=0) - x
    assert noise.std() == pytest.approx(0.5, rel=0.02)
    assert abs(noise.mean()) < 0.01
    np.testing.assert_array_equal(augment.add_gaussian_noise(x, 0.0, seed=0), x)


def test_seeds_and_generators():
    x = _batch((8, 20))
    np.testing.assert_array_equal(augment.random_shift(x, 5, seed=1), augment.random_shift(x, 5, seed=1))
    assert not np.array_equal(augment.add_gaussian_noise(x, 1.0, seed=1), augment.add_gaussian_noise(x, 1.0, seed=2))
    a = augment.add_gaussian_noise(x, 1.0, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, augment.add_gaussian_noise(x, 1.0, seed=7))
    with pytest.raises(ValueError, match="either seed= or rng="):
        augment.random_flip(x, np.random.default_rng(0), seed=1)


def test_backend_arrays(backend):
    x = _batch((6, 2, 10))
    on_device = backend.asarray(x)
    for out in (augment.add_gaussian_noise(on_device, 0.1), augment.random_shift(on_device, 2),
                augment.random_flip(on_device), augment.random_crop(on_device, 1, spatial_dims=1),
                augment.random_shift(on_device, 2, seed=3)):
        assert cp.namespace_of(out) is backend.xp and out.shape == on_device.shape
        if backend.name == "array_api_strict":
            assert out.device == on_device.device
    flipped = cp.to_numpy(augment.random_flip(on_device, p=1.0))
    np.testing.assert_array_equal(flipped, np.flip(x, axis=-1))
    shifted = cp.to_numpy(augment.random_shift(on_device, 2))
    for n in range(len(x)):
        assert any(np.array_equal(shifted[n], np.roll(x[n], s, axis=-1)) for s in range(-2, 3))


def test_mismatched_generator_and_bad_arguments():
    x = _batch((4, 10))
    with cp.use_backend("array_api_strict", device="device1") as backend:
        strict_x = backend.asarray(x)
        with pytest.raises(BackendError, match="can only draw for NumPy arrays"):
            augment.random_flip(strict_x, np.random.default_rng(0))
        with pytest.raises(BackendError, match="active backend|backend first"):
            augment.random_flip(x)  # NumPy data, strict backend's generator
        assert augment.random_flip(x, seed=0).shape == x.shape  # a seed draws on the host for host data
    with pytest.raises(ValueError, match="sigma"):
        augment.add_gaussian_noise(x, -1.0)
    with pytest.raises(ValueError, match="mode"):
        augment.random_shift(x, 1, mode="reflect")
    with pytest.raises(ValueError, match="non-batch axis"):
        augment.random_flip(x, axis=0)
    with pytest.raises(ValueError, match=r"at least 3 dimensions, got shape \(4, 10\)"):
        augment.random_crop(x, 1)
