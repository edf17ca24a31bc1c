"""Undoing broadcasting in a backward pass.

When ``a`` of shape (3, 1) is added to ``b`` of shape (4,), NumPy *broadcasts* both to (3, 4).
Each element of ``a`` was used 4 times, so its gradient is the **sum** of the 4 upstream
gradients it fed. ``unbroadcast`` performs exactly that sum.
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import namespace_of


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``, the shape of the input before broadcasting.

    Inputs:
    - grad: array of the broadcast output shape, e.g. (N, M).
    - shape: the original input shape, e.g. (M,) or (N, 1) or ().
    Returns:
    - array of shape ``shape``.
    """
    if grad.shape == tuple(shape):
        return grad
    xp = namespace_of(grad)
    extra = grad.ndim - len(shape)
    if extra:  # leading axes that broadcasting added
        grad = xp.sum(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:  # axes of size 1 that were stretched
        grad = xp.sum(grad, axis=stretched, keepdims=True)
    return grad
