"""The matrix-product sums of coursepkg.functional.sums equal xp.sum along the same axes."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg import functional as F  # noqa: N812
from coursepkg.backend import to_numpy
from coursepkg.functional.sums import cached_constant


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (1, 1), (7, 1), (3, 0, 2), (2, 3, 4, 5)])
def test_sums_match_xp_sum(backend64, shape):
    x_np = np.random.default_rng(0).standard_normal(shape)
    x = backend64.asarray(x_np)
    np.testing.assert_allclose(to_numpy(F.sum_over_rows(x)), x_np.sum(axis=tuple(range(len(shape) - 1))),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(F.sum_last_axis(x)), x_np.sum(axis=-1), rtol=1e-12, atol=1e-12)
    kept = F.sum_last_axis(x, keepdims=True)
    assert tuple(kept.shape) == shape[:-1] + (1,)
    np.testing.assert_allclose(to_numpy(kept), x_np.sum(axis=-1, keepdims=True), rtol=1e-12, atol=1e-12)
    w_np = np.random.default_rng(1).standard_normal(shape[-1])
    for keepdims in (False, True):
        weighted = F.sum_last_axis(x, keepdims=keepdims, weights=backend64.asarray(w_np))
        np.testing.assert_allclose(to_numpy(weighted), (x_np * w_np).sum(axis=-1, keepdims=keepdims),
                                   rtol=1e-12, atol=1e-12)


def test_sums_of_a_non_contiguous_view(backend):
    x_np = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    x = backend.asarray(x_np)
    view = x[:, ::2]
    np.testing.assert_allclose(to_numpy(F.sum_over_rows(view)), x_np[:, ::2].sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(to_numpy(F.sum_last_axis(view)), x_np[:, ::2].sum(axis=1), rtol=1e-5)
    assert F.sum_last_axis(x).dtype == x.dtype


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 8), (1, 1), (7, 1), (2, 3, 4, 5), (3, 200), (6,), (4, 64), (4, 65),
                                   (300, 10), (40, 3, 16)])
def test_max_last_axis_matches_xp_max(backend, shape):
    x_np = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    x = backend.asarray(x_np)
    assert np.array_equal(to_numpy(F.max_last_axis(x)), x_np.max(axis=-1))
    kept = F.max_last_axis(x, keepdims=True)
    assert tuple(kept.shape) == shape[:-1] + (1,) and kept.dtype == x.dtype
    assert np.array_equal(to_numpy(kept), x_np.max(axis=-1, keepdims=True))


def test_max_last_axis_of_views_infinities_and_nan():
    x_np = np.random.default_rng(3).standard_normal((600, 10)).astype(np.float32)
    x_np[1, 4], x_np[2, :] = np.nan, -np.inf
    x_np[3, 7] = np.inf
    expected = x_np.max(axis=-1)
    got = F.max_last_axis(x_np)
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.isnan(got[1]) and got[2] == -np.inf and got[3] == np.inf
    assert np.array_equal(F.max_last_axis(x_np[:, ::3]), x_np[:, ::3].max(axis=-1), equal_nan=True)
    assert np.array_equal(F.max_last_axis(x_np.T), x_np.T.max(axis=-1), equal_nan=True)


class _UnhashableDevice:
    """Like CuPy's Device: compares by value, so it cannot be a dictionary key."""

    __hash__ = None

    def __init__(self, number: int) -> None:
        self.number = number

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _UnhashableDevice) and other.number == self.number

    def __repr__(self) -> str:
        return f"<Device {self.number}>"


def test_cached_constant_makes_each_constant_once_also_on_unhashable_devices():
    made = []

    def make(shape, dtype, device):
        made.append(device)
        return np.ones(shape, dtype=dtype)

    gpu0 = _UnhashableDevice(0)
    for device in ("cpu", gpu0):
        first = cached_constant(make, (3,), np.float32, device)
        assert cached_constant(make, (3,), np.float32, device) is first
    assert made == ["cpu", gpu0] and made[1] is gpu0  # the device itself is passed on, not a stand-in
    assert cached_constant(make, (3,), np.float32, _UnhashableDevice(0)) is first  # an equal device: the same
    assert len(made) == 2
    cached_constant(make, (3,), np.float32, _UnhashableDevice(1))
    cached_constant(make, (4,), np.float32, gpu0)
    assert len(made) == 4  # another device, another shape: new constants


@pytest.mark.parametrize("shape", [(5, 3), (1, 4), (2, 4, 8), (8, 1024), (2, 3, 4, 5)])
def test_max_over_rows_matches_xp_max(backend, shape):
    x_np = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    x_np.reshape(-1, shape[-1])[-1, 0] = np.inf  # the last row holds the largest number of column 0
    got = F.max_over_rows(backend.asarray(x_np))
    assert tuple(got.shape) == shape[-1:]
    assert np.array_equal(to_numpy(got), x_np.max(axis=tuple(range(len(shape) - 1))))
