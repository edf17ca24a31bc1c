"""Self-attention and the transformer block (lesson 13).

Shapes use B (batch), T (positions), D = ``dim`` (model width), H (heads) and
hd = D / H (the size of each head).
"""

from __future__ import annotations

from typing import Any

from coursepkg.nn.activation import GELU
from coursepkg.nn.container import Sequential
from coursepkg.nn.dropout import Dropout
from coursepkg.nn.linear import Linear
from coursepkg.nn.module import Module
from coursepkg.nn.normalization import LayerNorm
from coursepkg.ops.attention import multi_head_self_attention
from coursepkg.tensor import Tensor


def _check_sequence(layer: Module, x: Tensor, dim: int) -> None:
    """Raise a ValueError naming the layer unless x has shape (B, T, dim). The layer's name is
    formatted only when there is an error (doing it on every call would cost time)."""
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{type(layer).__name__}(dim={dim}, num_heads={layer.num_heads}): input has shape "
                         f"{x.shape}, expected (B, T, {dim}) (batch, positions, dim={dim}).")


class MultiHeadSelfAttention(Module):
    """Multi-head self-attention: every position looks at every (earlier, if ``causal``) position.

    One fused Linear computes queries, keys and values for all heads at once; they are split
    into H heads of size hd = dim / H, attended independently (in one batched call), joined
    again and mixed by an output projection.

    Inputs:
    - dim: model width D; must be divisible by num_heads.
    - num_heads: number of heads H.
    - causal: if True, position t only attends to positions 0..t.
    Forward: x of shape (B, T, D), optional bool ``mask`` broadcastable to (B, H, T, T)
    (True = may attend) -> Tensor of shape (B, T, D).
    Sub-modules: qkv = Linear(D, 3 D), proj = Linear(D, D).
    """

    def __init__(self, dim: int, num_heads: int, causal: bool = False) -> None:
        super().__init__()
        if num_heads < 1 or dim % num_heads:
            raise ValueError(f"MultiHeadSelfAttention: dim={dim} must be divisible by num_heads={num_heads}.")
        self.dim, self.num_heads, self.causal = dim, num_heads, causal
        self.head_dim = dim // num_heads
        self.qkv = Linear(dim, 3 * dim)
        self.proj = Linear(dim, dim)

    def forward(self, x: Tensor, mask: Any = None) -> Tensor:
        _check_sequence(self, x, self.dim)
        qkv = self.qkv(x)  # (B, T, 3 D): per position, D query, D key and D value numbers
        # Split into heads (B, H, T, hd), attend, join the heads again (B, T, D): one graph node.
        joined = multi_head_self_attention(qkv, self.num_heads, causal=self.causal, mask=mask)
        return self.proj(joined)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, causal={self.causal}"


class TransformerBlock(Module):
    """A pre-norm transformer block:

        x = x + dropout(attention(layer_norm_1(x)))
        x = x + dropout(mlp(layer_norm_2(x)))         mlp = Linear -> GELU -> Linear

    The residual connections (``x + ...``) give gradients a direct path through deep stacks.

    Inputs:
    - dim: model width D; num_heads: H (D divisible by H).
    - mlp_ratio: hidden width of the MLP is mlp_ratio * D.
    - dropout: dropout probability on both residual branches (0 = none).
    - causal: causal self-attention.
    Forward: x of shape (B, T, D), optional bool ``mask`` (see MultiHeadSelfAttention) ->
    Tensor of shape (B, T, D).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0,
                 causal: bool = False) -> None:
        super().__init__()
        self.dim, self.num_heads = dim, num_heads
        self.ln1 = LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim, num_heads, causal=causal)
        self.ln2 = LayerNorm(dim)
        hidden = int(mlp_ratio * dim)
        self.mlp = Sequential(Linear(dim, hidden), GELU(), Linear(hidden, dim))
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask: Any = None) -> Tensor:
        _check_sequence(self, x, self.dim)
        x = x + self.dropout(self.attn(self.ln1(x), mask=mask))
        return x + self.dropout(self.mlp(self.ln2(x)))
