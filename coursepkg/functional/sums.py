"""Sums and maxima along one axis of an array, written the way NumPy runs them fastest.

``xp.sum(x, axis=...)`` is the obvious way to write these, and it is what the rest of the package
uses. On NumPy, though, summing along an axis of the small arrays a course network produces
(say 512 rows of 32 numbers) runs one short inner loop per row or column: measured here it is 3-8x
slower than the same sum written as a matrix product, ``x @ ones``, which BLAS runs in bulk. The
layers call these two functions in the places that run on every training step (bias gradients,
layer normalization, softmax); the result is the same sum, up to float rounding.

The maximum along short rows (softmax subtracts each row's maximum) has the same problem and no
matrix-product form; :func:`max_last_axis` copies the rows into columns first and takes the
maximum over the first axis, which NumPy runs as a few whole-array passes.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import reshape


def cached_constant(make: Any, shape: Any, dtype: Any, device: Any) -> Any:
    """``make(shape, dtype=dtype, device=device)``, made once and kept: for constants that are only
    ever read, such as ``xp.ones`` as a matrix-product operand or ``xp.eye`` to copy rows from.

    Inputs:
    - make: the namespace's function, for example ``xp.ones`` or ``xp.eye``.
    - shape: its first argument (a shape, or the size of an identity).
    - dtype, device: as the function takes them.
    Returns: the array (the same object on every call with the same arguments; do not modify it).
    """
    try:
        return _cached_constant(make, shape, dtype, device)
    except TypeError:  # CuPy's Device objects cannot be dictionary keys: key on their name instead
        return _cached_constant(make, shape, dtype, _KeyedByName(device))


class _KeyedByName:
    """A device that cannot be a dictionary key, made into one by its name ("<CUDA Device 0>")."""

    __slots__ = ("device",)

    def __init__(self, device: Any) -> None:
        self.device = device

    def __hash__(self) -> int:
        return hash(repr(self.device))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _KeyedByName) and repr(other.device) == repr(self.device)


@functools.lru_cache(maxsize=64)
def _cached_constant(make: Any, shape: Any, dtype: Any, device: Any) -> Any:
    return make(shape, dtype=dtype, device=device.device if isinstance(device, _KeyedByName) else device)


def as_rows(x: Any) -> Any:
    """(..., D) -> (M, D): every leading axis folded into one axis of rows (a view when x is contiguous)."""
    return x if x.ndim == 2 else reshape(x, (math.prod(x.shape[:-1]), x.shape[-1]))


def sum_over_rows(x: Any) -> Any:
    """Sum over every axis but the last: ``xp.sum(x, axis=tuple(range(x.ndim - 1)))``.

    Inputs:
    - x: array of shape (..., D), for example (N, D) or (B, T, D).
    Returns:
    - array of shape (D,).
    """
    xp = namespace_of(x)
    rows = as_rows(x)  # (M, D)
    return cached_constant(xp.ones, (rows.shape[0],), x.dtype, x.device) @ rows


def max_over_rows(x: Any) -> Any:
    """Maximum over every axis but the last: ``xp.max(x, axis=tuple(range(x.ndim - 1)))``, as whole-row
    passes (each row compared with the running maximum).

    Inputs:
    - x: array of shape (..., D), at least one row.
    Returns:
    - array of shape (D,).
    """
    return _max(as_rows(x), 0)


def sum_last_axis(x: Any, keepdims: bool = False, weights: Any = None) -> Any:
    """Sum over the last axis: ``xp.sum(x, axis=-1, keepdims=keepdims)``, or with ``weights``
    the weighted sum ``xp.sum(x * weights, axis=-1, ...)`` (the same matrix-vector product).

    Inputs:
    - x: array of shape (..., D).
    - keepdims: keep the summed axis, with size 1.
    - weights: optional array of shape (D,).
    Returns:
    - array of shape (...) or, with keepdims, (..., 1).
    """
    xp = namespace_of(x)
    d = x.shape[-1]
    column = cached_constant(xp.ones, (d,), x.dtype, x.device) if weights is None else weights  # (D,)
    if x.ndim <= 2 and not keepdims:  # (D,) @ (D,) and (M, D) @ (D,) already have the summed shape
        return x @ column
    if x.ndim == 2 and keepdims:  # (M, D) @ (D, 1) is already the keepdims shape
        return x @ reshape(column, (d, 1))
    total = as_rows(x) @ column  # (M,)
    return reshape(total, tuple(x.shape[:-1]) + ((1,) if keepdims else ()))


# Rows at most this long are copied into columns before taking their maximum (measured here: 5-10x
# faster for rows of 8-32 numbers, no gain at 128, much slower for long rows).
_SHORT_ROW = 64
_FEW_NUMBERS = 1024  # below this the copy's extra calls cost more than the rows (the tiny step's batch of 8)


def max_last_axis(x: Any, keepdims: bool = False) -> Any:
    """Maximum over the last axis: ``xp.max(x, axis=-1, keepdims=keepdims)``.

    Inputs:
    - x: array of shape (..., D), at least 1-D.
    - keepdims: keep the reduced axis, with size 1.
    Returns:
    - array of shape (...) or, with keepdims, (..., 1).
    """
    xp = namespace_of(x)
    if (x.size < _FEW_NUMBERS or x.shape[-1] > _SHORT_ROW or x.ndim < 2
            or not hasattr(xp, "ascontiguousarray")):  # NumPy and CuPy have it; the array API does not
        return _max(x, -1, keepdims)
    columns = xp.ascontiguousarray(as_rows(x).mT)  # (D, M): row j holds element j of every row
    largest = _max(columns, 0)  # (M,)
    return reshape(largest, tuple(x.shape[:-1]) + ((1,) if keepdims else ()))


def _max(x: Any, axis: int, keepdims: bool = False) -> Any:
    """``xp.max(x, axis=axis, keepdims=keepdims)``. On NumPy, the reduction ``numpy.max`` itself
    calls (``maximum.reduce``), without its Python wrapper: 1.2 of its 2.4 us on (8, 10)."""
    if type(x) is numpy.ndarray:
        return numpy.maximum.reduce(x, axis=axis, keepdims=keepdims)
    return namespace_of(x).max(x, axis=axis, keepdims=keepdims)
