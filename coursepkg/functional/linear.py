"""The affine (fully connected) layer: ``out = x @ w + b``."""

from __future__ import annotations

from typing import Any

from coursepkg.functional.sums import sum_over_rows


def linear_forward(x: Any, w: Any, b: Any | None) -> tuple[Any, tuple]:
    """Affine map of a batch of rows.

    Inputs:
    - x: array of shape (N, D), N examples with D features each.
    - w: weights of shape (D, M).
    - b: bias of shape (M,), or None for no bias.
    Returns:
    - out: array of shape (N, M).
    - cache: (x, w, has_bias), for the backward pass.
    """
    out = x @ w
    if b is not None:
        out += b  # in place: no second (N, M) temporary
    return out, (x, w, b is not None)


def linear_backward(dout: Any, cache: tuple, input_grad: bool = True) -> tuple[Any, Any, Any | None]:
    """Backward pass of :func:`linear_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, M).
    - cache: from the forward pass.
    - input_grad: False skips dx (returned as None) when x needs no gradient, as in the first
      layer of a network, whose input is data: that saves one matrix product.
    Returns:
    - dx: shape (N, D) = dout @ w.T, or None when input_grad is False.
    - dw: shape (D, M) = x.T @ dout
    - db: shape (M,) = dout summed over the batch, or None if there was no bias.
    """
    x, w, has_bias = cache
    dx = dout @ w.mT if input_grad else None  # .mT: the matrix transpose (of the last two axes)
    dw = x.mT @ dout
    db = sum_over_rows(dout) if has_bias else None  # xp.sum(dout, axis=0), as a faster matrix product
    return dx, dw, db
