"""Scaled dot-product attention as a differentiable op (the math is in
:mod:`coursepkg.functional.attention`).
"""

from __future__ import annotations

from typing import Any

from coursepkg.functional.attention import (
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
)
from coursepkg.tensor import Function, Tensor


class ScaledDotProductAttention(Function):
    def forward(self, q: Any, k: Any, v: Any, causal: bool = False, mask: Any = None) -> Any:
        out, self.cache = scaled_dot_product_attention_forward(q, k, v, causal=causal, mask=mask)
        return out

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        return scaled_dot_product_attention_backward(grad, self.cache)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = False,
                                 mask: Any = None) -> Tensor:
    """softmax(q @ k^T / sqrt(d)) @ v over every batch element and head at once.

    Inputs:
    - q: Tensor of shape (B, H, T, d) or (B, T, d).
    - k: Tensor of shape (B, H, S, d) or (B, S, d).
    - v: Tensor of shape (B, H, S, dv) or (B, S, dv).
    - causal: if True, query t only attends to keys 0..t.
    - mask: optional bool array (or Tensor) broadcastable to (..., T, S); True = may attend.
    Returns: a Tensor of shape (B, H, T, dv) or (B, T, dv).
    """
    mask = mask.data if isinstance(mask, Tensor) else mask
    return ScaledDotProductAttention.apply(q, k, v, causal=causal, mask=mask)
