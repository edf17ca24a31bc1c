"""Operations that move elements around without changing them: reshape, transpose,
indexing, take, concat. Their backward passes move the gradient back the same way.
"""

from __future__ import annotations

from typing import Any

from coursepkg import functional as F  # noqa: N812  (PyTorch's name for it)
from coursepkg.backend import get_backend, namespace_of
from coursepkg.functional import layout
from coursepkg.tensor import Function, Tensor


class Reshape(Function):
    def forward(self, a: Any, shape: tuple[int, ...]) -> Any:
        self.shape = a.shape
        try:
            return layout.reshape(a, shape)
        except ValueError as error:
            raise ValueError(f"reshape: cannot reshape an array of shape {tuple(a.shape)} "
                             f"({a.size} elements) into {shape}") from error

    def backward(self, grad: Any) -> tuple[Any]:
        return (layout.reshape(grad, self.shape),)


class Transpose(Function):
    def forward(self, a: Any, axes: tuple[int, ...] | None) -> Any:
        self.axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        return layout.permute_dims(a, self.axes)

    def backward(self, grad: Any) -> tuple[Any]:
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return (layout.permute_dims(grad, tuple(inverse)),)


class GetItem(Function):
    """Basic indexing with ints, slices, ``None`` and ``...`` (no index arrays: use ``take``)."""

    def forward(self, a: Any, index: Any) -> Any:
        self.shape, self.dtype = a.shape, a.dtype
        self.device = getattr(a, "device", None)
        parts = index if isinstance(index, tuple) else (index,)
        named = sum(1 for p in parts if p is not None and p is not Ellipsis)
        if not any(p is Ellipsis for p in parts) and named < a.ndim:
            parts += (Ellipsis,)  # x[0] means x[0, ...]: NumPy assumes it, the array API wants it said
        self.index = tuple(p for p in parts if p is not None)  # None only adds axes of size 1
        self.selected_shape = a[self.index].shape
        return a[parts]

    def backward(self, grad: Any) -> tuple[Any]:
        xp = namespace_of(grad)
        full = xp.zeros(self.shape, dtype=self.dtype, device=self.device)
        full[self.index] = layout.reshape(grad, self.selected_shape)
        return (full,)


class Take(Function):
    """Rows of ``a`` picked by an int array (repeats allowed): ``a[indices]`` along axis 0."""

    def forward(self, a: Any, indices: Any) -> Any:
        xp = namespace_of(a)
        self.shape, self.dtype, self.device = a.shape, a.dtype, getattr(a, "device", None)
        flat = layout.reshape(indices, (-1,))
        self.indices = xp.where(flat < 0, flat + a.shape[0], flat)  # -1 is the last row, also in backward
        out = xp.take(a, self.indices, axis=0)
        return layout.reshape(out, tuple(indices.shape) + tuple(a.shape[1:]))

    def backward(self, grad: Any) -> tuple[Any]:
        rows = layout.reshape(grad, (self.indices.shape[0],) + tuple(self.shape[1:]))  # (M, *rest)
        if self.shape[0] * self.indices.shape[0] <= 1 << 20:
            # A small table (an embedding of a few tokens): the sum of the rows that picked each
            # entry is one matrix product with a one-hot matrix, about 10x faster than NumPy's scatter.
            return (F.sum_rows_by_index(rows, self.indices, self.shape[0]),)
        full = namespace_of(grad).zeros(self.shape, dtype=self.dtype, device=self.device)
        return (get_backend().scatter_add(full, self.indices, rows),)


class Concat(Function):
    def forward(self, *arrays: Any, axis: int = 0) -> Any:
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return namespace_of(arrays[0]).concat(arrays, axis=axis)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        pieces, start = [], 0
        for size in self.sizes:
            index = [slice(None)] * grad.ndim
            index[self.axis] = slice(start, start + size)
            pieces.append(grad[tuple(index)])
            start += size
        return tuple(pieces)


def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    return Reshape.apply(a, shape=tuple(shape))


def transpose(a: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    return Transpose.apply(a, axes=axes)


def getitem(a: Tensor, index: Any) -> Tensor:
    """``a[index]`` for basic indices; ``index`` may not contain arrays (use :func:`take`)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, Tensor) or hasattr(part, "shape") or isinstance(part, list):
            raise TypeError("Tensor indexing takes ints, slices, None and ...; "
                            "pick rows with coursepkg.ops.take(tensor, indices) instead.")
    return GetItem.apply(a, index=index)


def take(a: Tensor, indices: Any) -> Tensor:
    """Rows of ``a`` (shape (V, *rest)) at integer ``indices`` (shape S) -> shape (*S, *rest)."""
    idx = indices.data if isinstance(indices, Tensor) else get_backend().asarray(indices)
    return Take.apply(a, indices=idx)


def concat(tensors: list[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concat.apply(*tensors, axis=axis)
