"""coursepkg.functional.layout: reshape, permute_dims and astype give what the namespace's own
functions give, on every backend (the NumPy fast path calls the array's methods instead)."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg.backend import namespace_of, to_numpy
from coursepkg.functional.layout import astype, permute_dims, reshape


def test_same_results_as_the_namespace(backend):
    xp = backend.xp
    x = backend.randn((2, 3, 4))
    for shape in ((6, 4), (4, 6), (-1,), (2, -1, 2)):
        got, expected = reshape(x, shape), xp.reshape(x, shape)
        assert tuple(got.shape) == tuple(expected.shape)
        np.testing.assert_array_equal(to_numpy(got), to_numpy(expected))
    for axes in ((2, 0, 1), (1, 2, 0), (0, 1, 2)):
        got = permute_dims(x, axes)
        np.testing.assert_array_equal(to_numpy(got), to_numpy(xp.permute_dims(x, axes)))
        assert tuple(got.shape) == tuple(x.shape[a] for a in axes)
    mask = astype(x > 0, x.dtype)
    assert mask.dtype == x.dtype and namespace_of(mask) is xp
    np.testing.assert_array_equal(to_numpy(mask), (to_numpy(x) > 0).astype(to_numpy(x).dtype))
    for out in (reshape(x, (6, 4)), permute_dims(x, (2, 0, 1)), mask):  # stays on the input's device
        assert out.device == x.device


def test_numpy_views_and_copies_as_numpy_gives_them():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert np.shares_memory(reshape(x, (6, 4)), x)  # contiguous: a view
    assert np.shares_memory(permute_dims(x, (2, 0, 1)), x)
    transposed = permute_dims(x, (2, 1, 0))
    flat = reshape(transposed, (-1,))  # not expressible as a view: a copy, in the transposed order
    assert not np.shares_memory(flat, x)
    np.testing.assert_array_equal(flat, np.transpose(x, (2, 1, 0)).ravel())
    converted = astype(x, np.float32)
    assert converted.dtype == np.float32 and not np.shares_memory(converted, x)


def test_bad_shapes_raise_as_the_namespace_does(backend):
    x = backend.randn((2, 3))
    with pytest.raises(ValueError):
        reshape(x, (4, 2))
    with pytest.raises((ValueError, TypeError, IndexError)):
        permute_dims(x, (0, 2))
