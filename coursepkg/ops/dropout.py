"""Inverted dropout as a differentiable op (the math is in :mod:`coursepkg.functional.dropout`)."""

from __future__ import annotations

from typing import Any

from coursepkg.functional.dropout import dropout_backward, dropout_forward
from coursepkg.tensor import Function, Tensor


class Dropout(Function):
    def forward(self, x: Any, p: float = 0.5) -> Any:
        out, self.mask = dropout_forward(x, p, training=True)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (dropout_backward(grad, self.mask),)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each entry with probability p and scale the rest by 1 / (1 - p); the identity when
    ``training`` is False (or p is 0).

    The mask is drawn from the active backend's seeded generator. Any shape in, same shape out.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p is the probability of dropping an entry and must be in [0, 1], got p={p}.")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=p)
