"""The affine (fully connected) layer: ``out = x @ w + b``."""

from __future__ import annotations

from typing import Any

from coursepkg.functional.layout import reshape
from coursepkg.functional.products import matmul
from coursepkg.functional.sums import as_rows, sum_over_rows


def linear_forward(x: Any, w: Any, b: Any | None) -> tuple[Any, tuple]:
    """Affine map of a batch of rows.

    Inputs:
    - x: array of shape (N, D), N examples with D features each; or (..., D), for example
      (B, T, D) for sequences, where every leading position is one row.
    - w: weights of shape (D, M).
    - b: bias of shape (M,), or None for no bias.
    Returns:
    - out: array of shape (N, M), or (..., M).
    - cache: (x as rows of shape (N, D), w, has_bias), for the backward pass.
    """
    rows = as_rows(x)
    out = matmul(rows, w)  # rows @ w (coursepkg.functional.products: BLAS threads only for big products)
    if b is not None:
        out += b  # in place: no second (N, M) temporary
    if x.ndim != 2:
        out = reshape(out, tuple(x.shape[:-1]) + (w.shape[1],))
    return out, (rows, w, b is not None)


def linear_backward(dout: Any, cache: tuple, input_grad: bool = True) -> tuple[Any, Any, Any | None]:
    """Backward pass of :func:`linear_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, M), or (..., M).
    - cache: from the forward pass.
    - input_grad: False skips dx (returned as None) when x needs no gradient, as in the first
      layer of a network, whose input is data: that saves one matrix product.
    Returns:
    - dx: shape (N, D) = dout @ w.T (or (..., D)), or None when input_grad is False.
    - dw: shape (D, M) = x.T @ dout, with x and dout as rows.
    - db: shape (M,) = dout summed over the batch, or None if there was no bias.
    """
    rows, w, has_bias = cache
    dout_rows = as_rows(dout)
    dx = None
    if input_grad:
        dx = matmul(dout_rows, w.mT)  # dout @ w.T; .mT: the matrix transpose (of the last two axes)
        if dout.ndim != 2:
            dx = reshape(dx, tuple(dout.shape[:-1]) + (w.shape[0],))
    dw = matmul(rows.mT, dout_rows)  # x.T @ dout
    db = sum_over_rows(dout_rows) if has_bias else None  # xp.sum(dout, axis=0), as a faster matrix product
    return dx, dw, db
