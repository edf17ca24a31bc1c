"""Reductions over axes: sum, mean, max.

Backward broadcasts the upstream gradient back to the input's shape: ``sum`` copies it to every
element, ``mean`` divides it by the count, ``max`` sends it to the maximal elements only (split
evenly between ties, so the gradient check agrees).
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import astype
from coursepkg.tensor import Function, Tensor


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def _expand(grad: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """Re-insert the reduced axes (as size 1) so the gradient broadcasts against the input."""
    if keepdims:
        return grad
    xp = namespace_of(grad)
    for a in sorted(axes):
        grad = xp.expand_dims(grad, axis=a)
    return grad


class Sum(Function):
    def forward(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        return namespace_of(a).sum(a, axis=self.axes, keepdims=keepdims)

    def backward(self, grad: Any) -> tuple[Any]:
        xp = namespace_of(grad)
        return (xp.broadcast_to(_expand(grad, self.axes, self.keepdims), self.shape),)


class Mean(Sum):
    def forward(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        total = super().forward(a, axis, keepdims)
        self.count = math.prod(a.shape[i] for i in self.axes)
        return total / self.count

    def backward(self, grad: Any) -> tuple[Any]:
        return (super().backward(grad / self.count)[0],)


class Max(Function):
    def forward(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        xp = namespace_of(a)
        self.axes, self.keepdims = _axes(axis, a.ndim), keepdims
        out = xp.max(a, axis=self.axes, keepdims=True)
        is_max = astype(a == out, a.dtype)
        self.share = is_max / xp.sum(is_max, axis=self.axes, keepdims=True)
        return out if keepdims else xp.squeeze(out, axis=self.axes)

    def backward(self, grad: Any) -> tuple[Any]:
        return (_expand(grad, self.axes, self.keepdims) * self.share,)


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all axes)."""
    return Sum.apply(a, axis=axis, keepdims=keepdims)


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or None for all axes)."""
    return Mean.apply(a, axis=axis, keepdims=keepdims)


def max(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; the gradient goes to the maximal entries (shared among ties)."""
    return Max.apply(a, axis=axis, keepdims=keepdims)
