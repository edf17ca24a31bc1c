"""Scaled dot-product attention (Vaswani et al., 2017): forward, backward and masks.

Each query asks "which keys look like me?"; the answer is a softmax over their dot products,
and the output is the matching weighted average of the values:

    scores  = q @ k^T / sqrt(d)          (..., T, S)   one score per (query, key) pair
    weights = softmax(scores, over keys)  (..., T, S)   each row sums to 1
    out     = weights @ v                 (..., T, dv)

A mask removes (query, key) pairs before the softmax: their score is replaced by a very
negative number, so their weight is exactly 0. A **causal** mask lets position t look only at
positions 0..t, which is what a model that predicts the next token needs.

All leading axes are batch axes, so one call handles every example and every head at once:
q of shape (B, H, T, d) (batch, heads, positions, head size) or (B, T, d) for a single head.
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import get_backend, namespace_of
from coursepkg.functional.layout import permute_dims, reshape
from coursepkg.functional.losses import softmax
from coursepkg.functional.products import matmul_into, matmul_transposed
from coursepkg.functional.sums import sum_over_rows


def causal_mask(T: int, S: int | None = None) -> Any:
    """The causal mask on the active backend: True where query t may look at key s (s <= t).

    Inputs:
    - T: number of queries (positions).
    - S: number of keys; default T.
    Returns:
    - bool array of shape (T, S), lower triangular.
    """
    backend = get_backend()
    return backend.xp.tril(backend.ones((T, T if S is None else S), dtype=backend.xp.bool))


def _check_shapes(q: Any, k: Any, v: Any, mask: Any) -> None:
    name = "scaled_dot_product_attention"
    shapes = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
    if q.ndim not in (3, 4) or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"{name}: q, k and v must all have shape (B, H, T, d) or all (B, T, d); got {shapes}.")
    if q.shape[:-2] != k.shape[:-2] or q.shape[:-2] != v.shape[:-2]:
        raise ValueError(f"{name}: q, k and v must share their batch (and head) axes; got {shapes}.")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{name}: queries and keys need the same size d (last axis); got {shapes}.")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: there must be one value per key (k and v share axis -2); got {shapes}.")
    if mask is None:
        return
    scores_shape = tuple(q.shape[:-1]) + (k.shape[-2],)
    mask_shape = tuple(mask.shape)
    fits = len(mask_shape) <= len(scores_shape) and all(
        m in (1, s) for m, s in zip(reversed(mask_shape), reversed(scores_shape)))
    if not fits:
        raise ValueError(f"{name}: mask of shape {mask_shape} does not broadcast to the attention scores of "
                         f"shape {scores_shape} (..., T queries, S keys); got {shapes}.")
    if mask.dtype != namespace_of(mask).bool:
        raise TypeError(f"{name}: mask must be a bool array (True = may attend), got dtype {mask.dtype} "
                        f"with shape {mask_shape}.")


def attention_weights(q: Any, k: Any, causal: bool = False, mask: Any = None) -> Any:
    """softmax(q @ k^T / sqrt(d)) over the keys, with masked (query, key) pairs given weight 0.

    Inputs:
    - q: queries of shape (..., T, d).
    - k: keys of shape (..., S, d).
    - causal: if True, query t only sees keys 0..t.
    - mask: optional bool array broadcastable to (..., T, S); True = may attend, False = hidden.
    Returns:
    - weights of shape (..., T, S); every row sums to 1. (A row whose keys are all hidden gets
      equal weights on all of them: there is nothing better to do.)
    """
    xp = namespace_of(q)
    batch, T, S = tuple(q.shape[:-2]), q.shape[-2], k.shape[-2]
    rows = math.prod(batch) * T  # one column of scores per query
    # The scores are stored keys first, as (S, ..., T): the softmax over the keys is then taken over
    # the first axis, in passes over whole rows of (batch x T) numbers. Stored queries first, it
    # would be T * batch short passes of S numbers each (8 in lesson 13), about 2x slower in NumPy.
    keys_first = _product_keys_first(q, k)  # scores[..., t, s] = q[..., t, :] . k[..., s, :]
    if causal:
        allowed = xp.tril(xp.ones((T, S), dtype=xp.bool, device=q.device))
        mask = allowed if mask is None else xp.logical_and(mask, allowed)
    if mask is not None:
        # Half the lowest float: subtracting the maximum in softmax cannot overflow.
        hidden = _keys_first(xp.logical_not(xp.broadcast_to(mask, batch + (T, S))))
        keys_first = xp.where(hidden, float(xp.finfo(q.dtype).min) / 2, keys_first)
    scores = reshape(keys_first, (S, rows))  # (S, batch x T): column j holds one query's scores
    scores *= 1 / math.sqrt(q.shape[-1])
    weights = softmax(scores, axis=0)  # over the keys, in each column
    return _queries_first(reshape(weights, (S,) + batch + (T,)))


def _product_keys_first(a: Any, b: Any) -> Any:
    """``a @ b.mT`` for a of shape (..., T, d) and b of shape (..., S, d), stored keys first: an array
    of shape (S, ..., T) whose ``_queries_first`` view is the product."""
    keys_first = namespace_of(a).empty((b.shape[-2],) + tuple(a.shape[:-1]), dtype=a.dtype, device=a.device)
    matmul_transposed(a, b, out=_queries_first(keys_first))
    return keys_first


def _queries_first(keys_first: Any) -> Any:
    """(S, ..., T) -> (..., T, S): a view."""
    return permute_dims(keys_first, tuple(range(1, keys_first.ndim)) + (0,))


def _keys_first(queries_first: Any) -> Any:
    """(..., T, S) -> (S, ..., T): a view."""
    return permute_dims(queries_first, (queries_first.ndim - 1,) + tuple(range(queries_first.ndim - 1)))


def scaled_dot_product_attention_forward(q: Any, k: Any, v: Any, causal: bool = False,
                                         mask: Any = None, out: Any = None) -> tuple[Any, tuple]:
    """Scaled dot-product attention for every batch element and head at once.

    Inputs:
    - q: queries of shape (B, H, T, d), or (B, T, d).
    - k: keys of shape (B, H, S, d), or (B, S, d). Self-attention has S = T.
    - v: values of shape (B, H, S, dv), or (B, S, dv).
    - causal: if True, query t only attends to keys 0..t.
    - mask: optional bool array broadcastable to (B, H, T, S) (or (B, T, S)), for example
      (T, S) or (B, 1, 1, S) for padding; True = may attend, False = hidden.
    - out: optional array of shape (B, H, T, dv) (or (B, T, dv)) to write the output into.
    Returns:
    - out: shape (B, H, T, dv), or (B, T, dv).
    - cache: (q, k, v, weights) for the backward pass; ``cache[3]`` are the attention weights
      of shape (..., T, S).
    """
    _check_shapes(q, k, v, mask)
    weights = attention_weights(q, k, causal=causal, mask=mask)
    out = weights @ v if out is None else matmul_into(weights, v, out)
    return out, (q, k, v, weights)


def scaled_dot_product_attention_backward(dout: Any, cache: tuple, out: Any = None) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`scaled_dot_product_attention_forward`.

    With P the weights and s = 1 / sqrt(d):

        dv = P^T @ dout                        dP = dout @ v^T
        dscores = P * (dP - sum(dP * P, over keys))   (the softmax backward, row by row)
        dq = dscores @ k * s                   dk = dscores^T @ q * s

    Hidden pairs have P = 0, so no gradient flows through them.

    Inputs:
    - dout: upstream gradient of shape (..., T, dv).
    - cache: from the forward pass.
    - out: optional three arrays of the shapes of dq, dk and dv to write them into.
    Returns:
    - dq (..., T, d), dk (..., S, d), dv (..., S, dv).
    """
    q, k, v, weights = cache
    batch, T, S = tuple(q.shape[:-2]), q.shape[-2], k.shape[-2]
    rows = math.prod(batch) * T
    # Keys first, as in attention_weights: the softmax backward runs over whole rows.
    dscores = reshape(_product_keys_first(dout, v), (S, rows))  # dP = dout @ v^T, keys first
    weights_by_key = reshape(_keys_first(weights), (S, rows))  # a view when weights come from the forward
    dscores -= sum_over_rows(dscores * weights_by_key)
    dscores *= weights_by_key
    dscores *= 1 / math.sqrt(q.shape[-1])
    dscores = _queries_first(reshape(dscores, (S,) + batch + (T,)))  # (..., T, S)
    if out is None:
        return dscores @ k, dscores.mT @ q, weights.mT @ dout
    dq, dk, dv = out
    return matmul_into(dscores, k, dq), matmul_into(dscores.mT, q, dk), matmul_into(weights.mT, dout, dv)


def multi_head_self_attention_forward(qkv: Any, num_heads: int, causal: bool = False,
                                      mask: Any = None) -> tuple[Any, tuple]:
    """Multi-head self-attention from queries, keys and values packed in one array.

    A transformer computes q, k and v for every position with one Linear(D, 3 D); its output
    holds, for each position, D query numbers, then D key numbers, then D value numbers, and
    each group of D is H heads of hd = D / H numbers. This function splits them into heads,
    attends every head at once (:func:`scaled_dot_product_attention_forward`) and joins the
    heads again: the same as doing those steps one op at a time, in one graph node.

    Inputs:
    - qkv: array of shape (B, T, 3 D).
    - num_heads: H; D must be divisible by H.
    - causal, mask: as in :func:`scaled_dot_product_attention_forward` (mask broadcastable to
      (B, H, T, T)).
    Returns:
    - out: shape (B, T, D), head h in columns h * hd to (h + 1) * hd.
    - cache: the cache of :func:`scaled_dot_product_attention_forward`.
    """
    if qkv.ndim != 3 or qkv.shape[-1] % (3 * num_heads):
        raise ValueError(f"multi_head_self_attention_forward: qkv must have shape (B, T, 3 D) with D divisible "
                         f"by num_heads={num_heads}; got {tuple(qkv.shape)}.")
    B, T, three_d = qkv.shape
    head_dim = three_d // (3 * num_heads)
    xp = namespace_of(qkv)
    # (B, T, 3, H, hd) -> (3, B, H, T, hd): views, nothing is copied.
    split = permute_dims(reshape(qkv, (B, T, 3, num_heads, head_dim)), (2, 0, 3, 1, 4))
    joined = xp.empty((B, T, num_heads, head_dim), dtype=qkv.dtype, device=qkv.device)
    # Each head's output is written straight into its columns of the joined array (a (B, H, T, hd) view).
    _, cache = scaled_dot_product_attention_forward(split[0, ...], split[1, ...], split[2, ...], causal=causal,
                                                    mask=mask, out=permute_dims(joined, (0, 2, 1, 3)))
    joined = reshape(joined, (B, T, num_heads * head_dim))
    return joined, cache


def multi_head_self_attention_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`multi_head_self_attention_forward`.

    Inputs:
    - dout: upstream gradient of shape (B, T, D).
    - cache: from the forward pass.
    Returns:
    - dqkv: shape (B, T, 3 D), packed like the forward's qkv.
    """
    xp = namespace_of(dout)
    B, T, D = dout.shape
    num_heads, head_dim = cache[0].shape[1], cache[0].shape[3]
    dheads = permute_dims(reshape(dout, (B, T, num_heads, head_dim)), (0, 2, 1, 3))  # (B, H, T, hd)
    # dq, dk and dv are written straight into qkv's layout (B, T, 3, H, hd), as (B, H, T, hd) views.
    packed = xp.empty((B, T, 3, num_heads, head_dim), dtype=dout.dtype, device=dout.device)
    scaled_dot_product_attention_backward(dheads, cache,
                                          out=[permute_dims(packed[:, :, i, ...], (0, 2, 1, 3)) for i in range(3)])
    return reshape(packed, (B, T, 3 * D))
