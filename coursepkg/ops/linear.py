"""The fused affine op ``x @ w + b``: one graph node instead of two."""

from __future__ import annotations

from typing import Any

from coursepkg import functional as F  # noqa: N812  (PyTorch's name for it)
from coursepkg.tensor import Function, Tensor


class Linear(Function):
    returns_new_gradients = True  # matrix products and sums: see Function

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        out, self.cache = F.linear_forward(x, w, b)
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        dx, dw, db = F.linear_backward(grad, self.cache, input_grad=self.inputs[0].requires_grad)
        return (dx, dw) if db is None else (dx, dw, db)


def linear(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    """x @ w + b for x of shape (N, D) or (..., D), w of shape (D, M), b of shape (M,) -> (N, M) or (..., M)."""
    return Linear.apply(x, w) if b is None else Linear.apply(x, w, b)
