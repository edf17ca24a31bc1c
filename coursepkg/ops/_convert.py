"""Turning Python numbers into tensors that match another tensor's backend, dtype and device."""

from __future__ import annotations

from typing import Any

from coursepkg.tensor import Tensor


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor; numbers take ``like``'s dtype and device (no gradient)."""
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    device = getattr(like.data, "device", None)
    if hasattr(value, "__array_namespace__"):
        return Tensor(value)
    kwargs = {"device": device} if device is not None and xp.__name__ != "numpy" else {}
    return Tensor(xp.asarray(value, dtype=like.dtype, **kwargs))


def pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors on one backend (at least one is already a Tensor)."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    return as_tensor(a, b), b
