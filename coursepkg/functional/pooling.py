"""Pooling: summarize each window of a signal or image by its maximum or its average.

A pooling window of K positions slides with stride S (by default S = K: windows side by side,
no overlap) over each channel separately; there are no weights. As in
:mod:`coursepkg.functional.conv`, the windows are read with one strided slice per window
offset ("tap"), never with a loop over examples or positions: tap k of every window is
``x[..., k::S]`` (cut to L_out entries), so for K = 3::

    out = maximum(maximum(x[..., 0::S], x[..., 1::S]), x[..., 2::S])      (elementwise)

Max pooling keeps the maximum over the K taps; its gradient flows only to the position that won
(the argmax; on ties, the first one), because nudging any other input does not change the
output. Average pooling keeps the mean over the taps; its gradient is shared equally, 1/K to
every position in the window. 2-D pooling does the same with KH * KW taps.

Output length along each axis: L_out = floor((L - K) / S) + 1.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.conv import as_pair, check_input, conv_output_size, window_slice
from coursepkg.functional.layout import astype, reshape


def _geometry(where: str, x: Any, kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[tuple, bool]:
    """For each tap, the index of what it reads at every output position; and whether the windows
    tile the input (see :func:`_windows`). Raises ValueError, naming ``where``, if a window does not fit."""
    axes = [""] if len(kernel) == 1 else ["height", "width"]
    out_sizes = tuple(conv_output_size(size, k, s, 0, 1, where=where, axis=axis)
                      for size, k, s, axis in zip(x.shape[2:], kernel, stride, axes))
    return _windows(tuple(x.shape[2:]), out_sizes, kernel, stride)


@functools.lru_cache(maxsize=256)
def _windows(sizes: tuple[int, ...], out_sizes: tuple[int, ...], kernel: tuple[int, ...],
             stride: tuple[int, ...]) -> tuple[tuple, bool]:
    """The taps' indices and the tiling flag, worked out once per layer geometry (the same on every step).

    Windows side by side (stride = kernel) that cover the whole input tile it: every input position
    is read by exactly one tap, so the backward pass can assign gradients instead of zero-filling and adding.
    """
    taps = tuple((..., *(window_slice(t, s, 1, o) for t, s, o in zip(tap, stride, out_sizes)))
                 for tap in itertools.product(*(range(k) for k in kernel)))
    tiles = all(s == k and o * k == size for s, k, o, size in zip(stride, kernel, out_sizes, sizes))
    return taps, tiles


def _max_pool_forward(where: str, x: Any, kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[Any, tuple]:
    xp = namespace_of(x)
    taps, tiles = _geometry(where, x, kernel, stride)
    out = x[taps[0]]
    for tap in taps[1:]:  # the running maximum over the window's taps, for all windows at once
        out = xp.maximum(out, x[tap])
    # Which tap won each window: the first one equal to the maximum (what argmax picks on ties), as
    # 0/1 masks in x's dtype (built from x, they keep x's memory order). The last tap needs no mask:
    # it won every window no earlier tap won, and the backward pass gives it what is left.
    winners, taken = [], None
    for tap in taps[:-1]:
        wins = x[tap] == out
        if taken is not None:
            wins = wins & ~taken
        winners.append(astype(wins, x.dtype))
        if len(winners) < len(taps) - 1:  # a later tap still needs to know which windows are taken
            taken = wins if taken is None else taken | wins
    return out, (x, taps, winners, tiles)  # x itself: the graph keeps it alive anyway


def _max_pool_backward(dout: Any, cache: tuple) -> Any:
    xp = namespace_of(dout)
    x, taps, winners, tiles = cache
    # NumPy and CuPy keep x's memory order in *_like (examples last after a convolution).
    dx = xp.empty_like(x) if tiles else xp.zeros_like(x)
    shares, rest = [], dout  # each window sends its gradient to its winning tap only
    for wins in winners:
        shares.append(dout * wins)
        rest = rest - shares[-1]
    for tap, share in zip(taps, shares + [rest]):  # the last tap takes what no earlier tap took
        if tiles:
            dx[tap] = share
        else:
            dx[tap] += share
    return dx


def _avg_pool_forward(where: str, x: Any, kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[Any, tuple]:
    taps, _ = _geometry(where, x, kernel, stride)
    total = x[taps[0]]
    for tap in taps[1:]:
        total = total + x[tap]
    return total / len(taps), (x, taps)


def _avg_pool_backward(dout: Any, cache: tuple) -> Any:
    xp = namespace_of(dout)
    x, taps = cache
    dx = xp.zeros_like(x)  # in x's memory order, as in _max_pool_backward
    share = dout / len(taps)  # every position of a window gets 1/T of its gradient
    for tap in taps:
        dx[tap] += share
    return dx


# ---------------------------------------------------------------------- 1-D


def max_pool1d_forward(x: Any, kernel_size: int, stride: int | None = None) -> tuple[Any, tuple]:
    """Maximum over each window of ``kernel_size`` positions, channel by channel.

    Inputs:
    - x: array of shape (N, C, L).
    - kernel_size (K): window width; stride (S): step between windows (default K).
    Returns:
    - out: array of shape (N, C, L_out), L_out = floor((L - K) / S) + 1.
    - cache: for :func:`max_pool1d_backward` (includes the argmax of each window).
    """
    check_input("max_pool1d", tuple(x.shape), None, "L")
    return _max_pool_forward("max_pool1d", x, (kernel_size,), (kernel_size if stride is None else stride,))


def max_pool1d_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`max_pool1d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, C, L_out).
    - cache: from the forward pass.
    Returns:
    - dx: shape (N, C, L); each window's gradient goes to its maximal entry (the first, on ties).
    """
    return _max_pool_backward(dout, cache)


def avg_pool1d_forward(x: Any, kernel_size: int, stride: int | None = None) -> tuple[Any, tuple]:
    """Mean over each window of ``kernel_size`` positions, channel by channel.

    Inputs:
    - x: array of shape (N, C, L).
    - kernel_size (K): window width; stride (S): step between windows (default K).
    Returns:
    - out: array of shape (N, C, L_out), L_out = floor((L - K) / S) + 1.
    - cache: for :func:`avg_pool1d_backward`.
    """
    check_input("avg_pool1d", tuple(x.shape), None, "L")
    return _avg_pool_forward("avg_pool1d", x, (kernel_size,), (kernel_size if stride is None else stride,))


def avg_pool1d_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`avg_pool1d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, C, L_out).
    - cache: from the forward pass.
    Returns:
    - dx: shape (N, C, L); each window shares its gradient equally (1/K each).
    """
    return _avg_pool_backward(dout, cache)


# ---------------------------------------------------------------------- 2-D


def max_pool2d_forward(x: Any, kernel_size: int | tuple[int, int],
                       stride: int | tuple[int, int] | None = None) -> tuple[Any, tuple]:
    """Maximum over each (KH, KW) window, channel by channel.

    Inputs:
    - x: array of shape (N, C, H, W).
    - kernel_size: int or (KH, KW); stride: int or (SH, SW), default the kernel size.
    Returns:
    - out: array of shape (N, C, OH, OW), OH = floor((H - KH) / SH) + 1, OW likewise.
    - cache: for :func:`max_pool2d_backward`.
    """
    check_input("max_pool2d", tuple(x.shape), None, "H, W")
    kernel = as_pair(kernel_size, "kernel_size", "max_pool2d")
    step = as_pair(kernel if stride is None else stride, "stride", "max_pool2d")
    return _max_pool_forward("max_pool2d", x, kernel, step)


def max_pool2d_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`max_pool2d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, C, OH, OW).
    - cache: from the forward pass.
    Returns:
    - dx: shape (N, C, H, W); each window's gradient goes to its maximal pixel (the first, on ties).
    """
    return _max_pool_backward(dout, cache)


def avg_pool2d_forward(x: Any, kernel_size: int | tuple[int, int],
                       stride: int | tuple[int, int] | None = None) -> tuple[Any, tuple]:
    """Mean over each (KH, KW) window, channel by channel.

    Inputs:
    - x: array of shape (N, C, H, W).
    - kernel_size: int or (KH, KW); stride: int or (SH, SW), default the kernel size.
    Returns:
    - out: array of shape (N, C, OH, OW).
    - cache: for :func:`avg_pool2d_backward`.
    """
    check_input("avg_pool2d", tuple(x.shape), None, "H, W")
    kernel = as_pair(kernel_size, "kernel_size", "avg_pool2d")
    step = as_pair(kernel if stride is None else stride, "stride", "avg_pool2d")
    return _avg_pool_forward("avg_pool2d", x, kernel, step)


def avg_pool2d_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`avg_pool2d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, C, OH, OW).
    - cache: from the forward pass.
    Returns:
    - dx: shape (N, C, H, W); each window shares its gradient equally (1/(KH*KW) each).
    """
    return _avg_pool_backward(dout, cache)


# ---------------------------------------------------------------------- global average pooling


def global_avg_pool_forward(x: Any) -> tuple[Any, tuple]:
    """Mean of each channel over all its positions: one number per channel (1-D or 2-D input).

    Inputs:
    - x: array of shape (N, C, L) or (N, C, H, W).
    Returns:
    - out: array of shape (N, C).
    - cache: for :func:`global_avg_pool_backward`.
    """
    if x.ndim < 3:
        raise ValueError(f"global_avg_pool: input has shape {tuple(x.shape)}; expected (N, C, L) or (N, C, H, W).")
    xp = namespace_of(x)
    return xp.mean(x, axis=tuple(range(2, x.ndim))), (tuple(x.shape), x.dtype, x.device)


def global_avg_pool_backward(dout: Any, cache: tuple) -> Any:
    """Backward pass of :func:`global_avg_pool_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, C).
    - cache: from the forward pass.
    Returns:
    - dx: shape (N, C, L) or (N, C, H, W); every position gets dout / (number of positions).
    """
    xp = namespace_of(dout)
    x_shape, dtype, device = cache
    count = math.prod(x_shape[2:])
    dx = xp.zeros(x_shape, dtype=dtype, device=device)
    dx += reshape(dout / count, tuple(dout.shape) + (1,) * (len(x_shape) - 2))
    return dx
