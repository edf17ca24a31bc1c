"""Scaled dot-product attention as a differentiable op (the math is in
:mod:`coursepkg.functional.attention`).
"""

from __future__ import annotations

from typing import Any

from coursepkg.functional.attention import (
    multi_head_self_attention_backward,
    multi_head_self_attention_forward,
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


class MultiHeadSelfAttention(Function):
    def forward(self, qkv: Any, num_heads: int, causal: bool = False, mask: Any = None) -> Any:
        out, self.cache = multi_head_self_attention_forward(qkv, num_heads, causal=causal, mask=mask)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (multi_head_self_attention_backward(grad, self.cache),)


def multi_head_self_attention(qkv: Tensor, num_heads: int, causal: bool = False, mask: Any = None) -> Tensor:
    """Split packed queries, keys and values into heads, attend, join the heads: one graph node.

    Inputs:
    - qkv: Tensor of shape (B, T, 3 D), the output of one Linear(D, 3 D): per position the D
      query numbers, the D key numbers, the D value numbers, each made of num_heads heads.
    - num_heads: H (D divisible by H).
    - causal, mask: as in :func:`scaled_dot_product_attention` (mask broadcastable to (B, H, T, T)).
    Returns: a Tensor of shape (B, T, D).
    """
    mask = mask.data if isinstance(mask, Tensor) else mask
    return MultiHeadSelfAttention.apply(qkv, num_heads=num_heads, causal=causal, mask=mask)
