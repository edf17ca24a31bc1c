"""Turning Python numbers into tensors that match another tensor's backend, dtype and device."""

from __future__ import annotations

from typing import Any

from coursepkg.backend import is_array, namespace_of
from coursepkg.tensor import Tensor


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor; numbers take ``like``'s dtype and device (no gradient).

    A real array from ``like``'s library also takes a floating ``like``'s dtype, so float64 or
    integer targets (as scikit-learn returns them) neither turn a float32 model's loss into
    float64 nor fail on backends that refuse to mix floats and integers.
    """
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    device = getattr(like.data, "device", None)
    if is_array(value):
        if (namespace_of(value) is xp and value.dtype != like.dtype
                and xp.isdtype(like.dtype, "real floating")
                and xp.isdtype(value.dtype, ("real floating", "integral", "bool"))):
            value = xp.astype(value, like.dtype)
        return Tensor(value)
    kwargs = {"device": device} if device is not None and xp.__name__ != "numpy" else {}
    return Tensor(xp.asarray(value, dtype=like.dtype, **kwargs))


def pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors on one backend (at least one is already a Tensor)."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    return as_tensor(a, b), b
