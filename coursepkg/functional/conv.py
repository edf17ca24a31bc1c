"""Convolutions in 1-D and 2-D, computed with *im2col*: one big matrix product per layer.

What a convolution computes
---------------------------
A 1-D convolution layer (really a cross-correlation, as in every deep-learning library) slides
a kernel of width K along a signal. For output channel o, example n and output position l::

    out[n, o, l] = b[o] + sum over c, k of  w[o, c, k] * x_padded[n, c, l * stride + k * dilation]

i.e. a dot product between the kernel and the patch of input under it. 2-D is the same with a
(KH, KW) kernel sliding over rows and columns.

im2col, simply
--------------
Looping over positions in Python is slow. *im2col* ("image to columns") copies every patch into
one column of a matrix ``cols``. With x = [a, b, c, d, e] (one channel), K = 3, stride 1::

             position 0  1  2
    cols = [[a,         b, c],     <- kernel tap k = 0 sees x[l + 0]
            [b,         c, d],     <- tap k = 1 sees x[l + 1]
            [c,         d, e]]     <- tap k = 2 sees x[l + 2]

Column l is the patch under the kernel at output position l. Every dot product of the layer, for
every example, position and output channel, is now ONE matrix product::

    out (O, L_out * N) = w reshaped to (O, C * K)  @  cols (C * K, L_out * N)

Each row of ``cols`` (one tap k of one channel c) is a single strided slice of the padded input,
``x_padded[..., k * dilation :: stride]``, so building ``cols`` takes a loop over the K taps only,
never over examples or positions. The price is memory: each input value is copied up to K times.

*col2im* goes the other way: it adds every entry of a column matrix back onto the input position
it was copied from. The backward pass uses it to turn d(loss)/d(cols) into d(loss)/d(x);
overlapping patches share input positions, so their gradients add up.

Sizes: with padding P on both sides, stride S and dilation D, a kernel of K taps spans
D * (K - 1) + 1 positions and the output has

    L_out = floor((L + 2P - D * (K - 1) - 1) / S) + 1        (= floor((L + 2P - K) / S) + 1 for D = 1)

positions (:func:`conv_output_size`).

Memory layout: examples last. The columns are ordered (channel, tap) down and (position, example)
across: column l * N + n is window l of example n, so the examples of one position sit side by
side. Each tap is then a slice of the padded input stored as (C, L, N), made of runs of N
neighbouring numbers, which copy far faster than the short runs of L_out numbers an
examples-first layout gives (3-4x here for L_out = 20). The matrix product gives the output as
(O, L_out, N); it is returned as the (N, O, L_out) view of that array, and ReLU, pooling and the
next convolution keep that memory order, so stacked conv layers never copy their activations into
another layout.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import permute_dims, reshape
from coursepkg.functional.products import matmul
from coursepkg.functional.sums import sum_last_axis

# ---------------------------------------------------------------------- sizes and checks


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     where: object = "conv", axis: str = "") -> int:
    """Number of output positions along one axis: floor((size + 2P - D(K-1) - 1) / S) + 1.

    Inputs:
    - size: input length along the axis (L, H or W).
    - kernel_size (K), stride (S), padding (P, zeros added on each side), dilation (D).
    - where: the layer or function to name in error messages (a layer is passed as itself and
      printed only when there is an error: formatting its repr on every call would cost time).
    - axis: the axis's name in error messages ("height", "width"), if any.
    Returns: the output length (an int >= 1).
    Raises ValueError when the kernel does not fit in the padded input, or an argument is out of range.
    """
    try:
        try:
            return _output_size(size, kernel_size, stride, padding, dilation)
        except TypeError:  # an argument that cannot be a cache key (a list, say): check it without the cache
            return _output_size.__wrapped__(size, kernel_size, stride, padding, dilation)
    except _BadGeometryError as problem:
        raise ValueError(f"{_place(where, axis)}: {problem}") from None


class _BadGeometryError(Exception):
    """What is wrong with a convolution's sizes; :func:`conv_output_size` adds where it happened."""


# A network asks for the same few sizes on every step (each layer's forward and backward passes ask
# several times), so the checked answers are kept: typed=True keeps kernel_size=2.0 from matching 2.
@functools.lru_cache(maxsize=1024, typed=True)
def _output_size(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
    for name, value, low in (("kernel_size", kernel_size, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if not isinstance(value, int) or value < low:
            raise _BadGeometryError(f"{name} must be an int >= {low}, got {value!r}.")
    span = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        spanning = f" (spanning {span} positions with dilation={dilation})" if dilation > 1 else ""
        raise _BadGeometryError(f"kernel_size={kernel_size}{spanning} is larger than the padded "
                                f"input: length {size} + 2 * padding {padding} = {padded}.")
    return (padded - span) // stride + 1


def _place(where: object, axis: str) -> str:
    return f"{where} ({axis})" if axis else f"{where}"


def as_pair(value: int | tuple[int, int], name: str, where: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair (rows, columns): 3 -> (3, 3)."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}.")
    return pair


def check_input(where: object, shape: tuple[int, ...], channels: int | None, spatial: str) -> None:
    """Raise a ValueError naming ``where`` (a layer, or a name) unless ``shape`` is (N, channels, *spatial axes).

    Inputs:
    - shape: the input's shape.
    - channels: the expected channel count, or None to accept any.
    - spatial: the names of the spatial axes, "L" for 1-D or "H, W" for 2-D.
    """
    rank = 2 + len(spatial.split(","))
    if len(shape) != rank or (channels is not None and shape[1] != channels):
        expected = f"(N, {channels if channels is not None else 'C'}, {spatial})"
        raise ValueError(f"{where}: input has shape {tuple(shape)}; expected {expected}.")


def window_slice(tap: int, stride: int, dilation: int, out_size: int) -> slice:
    """Where kernel tap ``tap`` reads, for all ``out_size`` output positions: one strided slice.

    Output position l reads input position l * stride + tap * dilation.
    """
    start = tap * dilation
    return slice(start, start + stride * (out_size - 1) + 1, stride)


def _padded_examples_last(x: Any, pads: tuple[int, ...]) -> Any:
    """x of shape (N, C, *S) -> zero-padded array of shape (C, *(S + 2 * pads), N).

    Channels first and examples last, so the columns come out as (C * taps, positions * N) with
    no further copy (see "Memory layout" above). Without padding this is a view of x.
    """
    xp = namespace_of(x)
    x_cl = permute_dims(x, tuple(range(1, x.ndim)) + (0,))  # (C, *S, N)
    if not any(pads):
        return x_cl
    shape = (x_cl.shape[0],) + tuple(s + 2 * p for s, p in zip(x_cl.shape[1:-1], pads)) + (x_cl.shape[-1],)
    padded = xp.zeros(shape, dtype=x.dtype, device=x.device)
    padded[(slice(None), *(slice(p, p + s) for s, p in zip(x_cl.shape[1:-1], pads)), slice(None))] = x_cl
    return padded


def _tap_reach(tap: int, size: int, out_size: int, stride: int, padding: int, dilation: int) -> tuple[slice, slice]:
    """Along one axis: the output positions at which kernel tap ``tap`` reads a real input position
    (not padding), and those input positions, as (input slice, output slice); empty slices if none.

    Output position l reads input position l * stride + tap * dilation - padding.
    """
    shift = tap * dilation - padding
    first = max(0, -(shift // stride))  # the first l with l * stride + shift >= 0
    stop = min(out_size, -((shift - size) // stride))  # past the last l with l * stride + shift < size
    if first >= stop:
        return slice(0, 0), slice(0, 0)
    return slice(first * stride + shift, (stop - 1) * stride + shift + 1, stride), slice(first, stop)


def _col2im(cols: Any, x_shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
            padding: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """col2im along any number of spatial axes.

    Inputs:
    - cols: array of shape (C, taps, *output sizes, N), the taps in the order of
      ``itertools.product(range(K1), range(K2), ...)``.
    - x_shape: (N, C, *sizes), the shape of the input given to im2col.
    - kernel, stride, padding, dilation: one int per spatial axis.
    Returns:
    - dx: array of shape (N, C, *sizes) (a view of a (C, *sizes, N) array).

    Each tap's gradients are added onto the input positions it read; the ones that fell on the
    padding are dropped. A tap that read every input position exactly once (the centre tap of a
    stride-1 convolution whose output is as long as its input) is copied in first, so nothing needs
    to be zero-filled.
    """
    xp = namespace_of(cols)
    first, additions = _col2im_plan(tuple(x_shape[2:]), tuple(cols.shape[2:-1]), kernel, stride, padding, dilation)
    if first is not None:
        dx = xp.asarray(cols[first], copy=True)  # this tap read every position once: start from it
    else:
        dx = xp.zeros((x_shape[1], *x_shape[2:], x_shape[0]), dtype=cols.dtype, device=cols.device)
    for read, write in additions:
        dx[write] += cols[read]
    return permute_dims(dx, (dx.ndim - 1,) + tuple(range(dx.ndim - 1)))  # (N, C, *sizes), a view


@functools.lru_cache(maxsize=256)
def _col2im_plan(sizes: tuple[int, ...], out_sizes: tuple[int, ...], kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[tuple | None, tuple[tuple[tuple, tuple], ...]]:
    """The slices :func:`_col2im` needs, worked out once per layer geometry (they are the same on
    every training step, and finding them costs more Python than the additions themselves).

    Returns (first, additions):
    - first: where in ``cols`` the tap that read every input position once sits, or None;
    - additions: for every other tap that read at least one input position, (where its gradients
      sit in ``cols``, where they are added in dx of shape (C, *sizes, N)).
    """
    first, additions = None, []
    for index, tap in enumerate(itertools.product(*(range(k) for k in kernel))):
        reach = [_tap_reach(t, size, out_size, s, p, d)
                 for t, size, out_size, s, p, d in zip(tap, sizes, out_sizes, stride, padding, dilation)]
        if any(out.start >= out.stop for _, out in reach):
            continue  # this tap read only padding
        read = (slice(None), index, *(out for _, out in reach), slice(None))  # (C, *reached, N)
        reads_all = all(inp.step == 1 and inp.stop - inp.start == size for (inp, _), size in zip(reach, sizes))
        if first is None and reads_all:
            first = read
        else:
            additions.append((read, (slice(None), *(inp for inp, _ in reach), slice(None))))
    return first, tuple(additions)


# ---------------------------------------------------------------------- 1-D


def im2col_1d(x: Any, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> Any:
    """Copy every patch of a batch of signals into one column of a matrix (see the module docstring).

    Inputs:
    - x: array of shape (N, C, L).
    - kernel_size (K), stride (S), padding (P), dilation (D): ints.
    Returns:
    - cols: array of shape (C * K, L_out * N), L_out from :func:`conv_output_size`.
      cols[c * K + k, l * N + n] = x_padded[n, c, l * S + k * D]  (examples last).
    """
    xp = namespace_of(x)
    out_len = conv_output_size(x.shape[2], kernel_size, stride, padding, dilation, where="im2col_1d")
    x_cl = _padded_examples_last(x, (padding,))  # (C, L + 2P, N)
    cols = xp.empty((x.shape[1], kernel_size, out_len, x.shape[0]), dtype=x.dtype, device=x.device)
    for k in range(kernel_size):  # tap k of every window, for every channel and example, in one copy
        cols[:, k, ...] = x_cl[:, window_slice(k, stride, dilation, out_len), :]
    return reshape(cols, (x.shape[1] * kernel_size, out_len * x.shape[0]))  # (C * K, L_out * N), a view


def col2im_1d(cols: Any, x_shape: tuple[int, int, int], kernel_size: int, stride: int = 1, padding: int = 0,
              dilation: int = 1) -> Any:
    """Add each entry of a column matrix back onto the input position it came from (adjoint of im2col).

    Inputs:
    - cols: array of shape (C * K, L_out * N), laid out as :func:`im2col_1d` returns.
    - x_shape: (N, C, L), the shape of the input given to im2col.
    - kernel_size, stride, padding, dilation: as given to im2col.
    Returns:
    - dx: array of shape (N, C, L); positions seen by several patches receive the sum.
    """
    n, c, length = x_shape
    out_len = conv_output_size(length, kernel_size, stride, padding, dilation, where="col2im_1d")
    cols = reshape(cols, (c, kernel_size, out_len, n))
    return _col2im(cols, x_shape, (kernel_size,), (stride,), (padding,), (dilation,))


def _check_conv_args(where: str, x: Any, w: Any, b: Any | None, spatial: str) -> None:
    rank = 2 + len(spatial.split(","))
    if w.ndim != rank:
        raise ValueError(f"{where}: weight has shape {tuple(w.shape)}; expected a rank-{rank} "
                         f"(out_channels, in_channels, {'K' if rank == 3 else 'KH, KW'}) array.")
    if x.ndim != rank or x.shape[1] != w.shape[1]:
        raise ValueError(f"{where}: input has shape {tuple(x.shape)} but weight has shape {tuple(w.shape)}; "
                         f"expected input (N, {w.shape[1]}, {spatial}) (in_channels = weight.shape[1]).")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"{where}: bias has shape {tuple(b.shape)}; expected ({w.shape[0]},) "
                         "(one per output channel).")


def conv1d_forward(x: Any, w: Any, b: Any | None, stride: int = 1, padding: int = 0,
                   dilation: int = 1) -> tuple[Any, tuple]:
    """1-D convolution (cross-correlation) of a batch of multi-channel signals.

    Inputs:
    - x: array of shape (N, C, L).
    - w: weights of shape (O, C, K).
    - b: bias of shape (O,), or None.
    - stride (S), padding (P, zeros on both ends), dilation (D): ints.
    Returns:
    - out: array of shape (N, O, L_out), L_out = floor((L + 2P - D(K-1) - 1) / S) + 1.
    - cache: for :func:`conv1d_backward`.
    """
    _check_conv_args("conv1d", x, w, b, "L")
    out_channels, _, kernel_size = w.shape
    out_len = conv_output_size(x.shape[2], kernel_size, stride, padding, dilation, where="conv1d")
    cols = im2col_1d(x, kernel_size, stride, padding, dilation)  # (C*K, L_out*N)
    w_rows = reshape(w, (out_channels, -1))  # (O, C*K)
    out = matmul(w_rows, cols)  # w_rows @ cols, (O, L_out*N): the one big matrix product
    if b is not None:
        out += b[:, None]
    out = permute_dims(reshape(out, (out_channels, out_len, x.shape[0])), (2, 0, 1))
    return out, (tuple(x.shape), w, cols, b is not None, (stride, padding, dilation))


def _rows_of(dout: Any) -> Any:
    """dout of shape (N, O, *S) -> (O, prod(S) * N), matching the columns of im2col (no copy when
    dout is stored examples last, as the output of conv1d_forward is)."""
    return reshape(permute_dims(dout, tuple(range(1, dout.ndim)) + (0,)), (dout.shape[1], -1))


def conv1d_backward(dout: Any, cache: tuple, input_grad: bool = True) -> tuple[Any, Any, Any | None]:
    """Backward pass of :func:`conv1d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, O, L_out).
    - cache: from the forward pass.
    - input_grad: False skips dx (returned as None) when x needs no gradient (the first layer,
      whose input is data): no col2im and one matrix product less.
    Returns:
    - dx: shape (N, C, L) = col2im(w_rows.T @ dout_rows), or None when input_grad is False
    - dw: shape (O, C, K) = dout_rows @ cols.T
    - db: shape (O,) = dout summed over examples and positions, or None if there was no bias.
    """
    x_shape, w, cols, has_bias, (stride, padding, dilation) = cache
    dout_rows = _rows_of(dout)  # (O, L_out*N)
    # dw = dout_rows @ cols.T, computed as (cols @ dout_rows.T).T: the same numbers, and OpenBLAS runs
    # this (C*K, O) shape with its long inner axis 1.3-1.6x faster (measured for O = 24, C*K = 72).
    dw = reshape(matmul(cols, dout_rows.mT).mT, w.shape)
    dx = None
    if input_grad:
        dcols = matmul(reshape(w, (w.shape[0], -1)).mT, dout_rows)  # w_rows.T @ dout_rows
        dx = col2im_1d(dcols, x_shape, w.shape[2], stride, padding, dilation)
    db = sum_last_axis(dout_rows) if has_bias else None  # xp.sum(dout_rows, axis=1), as a matrix product
    return dx, dw, db


# ---------------------------------------------------------------------- 2-D


def im2col_2d(x: Any, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
              padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1) -> Any:
    """Copy every (KH, KW) patch of a batch of images into one column of a matrix.

    Inputs:
    - x: array of shape (N, C, H, W).
    - kernel_size (KH, KW), stride, padding, dilation: ints or (rows, columns) pairs.
    Returns:
    - cols: array of shape (C * KH * KW, OH * OW * N), examples last:
      cols[(c * KH + i) * KW + j, (r * OW + s) * N + n] = x_padded[n, c, r * SH + i * DH, s * SW + j * DW].
    """
    xp = namespace_of(x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pairs("im2col_2d", kernel_size, stride, padding, dilation)
    oh = conv_output_size(x.shape[2], kh, sh, ph, dh, where="im2col_2d", axis="height")
    ow = conv_output_size(x.shape[3], kw, sw, pw, dw, where="im2col_2d", axis="width")
    x_cl = _padded_examples_last(x, (ph, pw))  # (C, H + 2PH, W + 2PW, N)
    cols = xp.empty((x.shape[1], kh * kw, oh, ow, x.shape[0]), dtype=x.dtype, device=x.device)
    for tap, (i, j) in enumerate(itertools.product(range(kh), range(kw))):  # as im2col_1d: one copy per tap
        cols[:, tap, ...] = x_cl[:, window_slice(i, sh, dh, oh), window_slice(j, sw, dw, ow), :]
    return reshape(cols, (x.shape[1] * kh * kw, oh * ow * x.shape[0]))  # (C * KH * KW, OH * OW * N), a view


def col2im_2d(cols: Any, x_shape: tuple[int, int, int, int], kernel_size: int | tuple[int, int],
              stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
              dilation: int | tuple[int, int] = 1) -> Any:
    """Adjoint of :func:`im2col_2d`: add each column entry back onto its input pixel.

    Inputs:
    - cols: array of shape (C * KH * KW, OH * OW * N), laid out as :func:`im2col_2d` returns.
    - x_shape: (N, C, H, W), the shape of the input given to im2col.
    - kernel_size, stride, padding, dilation: as given to im2col.
    Returns:
    - dx: array of shape (N, C, H, W).
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pairs("col2im_2d", kernel_size, stride, padding, dilation)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph, dh, where="col2im_2d", axis="height")
    ow = conv_output_size(w, kw, sw, pw, dw, where="col2im_2d", axis="width")
    cols = reshape(cols, (c, kh * kw, oh, ow, n))
    return _col2im(cols, x_shape, (kh, kw), (sh, sw), (ph, pw), (dh, dw))


def _pairs(where: str, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple[tuple[int, int], ...]:
    return tuple(as_pair(v, name, where) for v, name in ((kernel_size, "kernel_size"), (stride, "stride"),
                                                         (padding, "padding"), (dilation, "dilation")))


def conv2d_forward(x: Any, w: Any, b: Any | None, stride: int | tuple[int, int] = 1,
                   padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1) -> tuple[Any, tuple]:
    """2-D convolution (cross-correlation) of a batch of multi-channel images.

    Inputs:
    - x: array of shape (N, C, H, W).
    - w: weights of shape (O, C, KH, KW).
    - b: bias of shape (O,), or None.
    - stride, padding, dilation: ints or (rows, columns) pairs.
    Returns:
    - out: array of shape (N, O, OH, OW), OH = floor((H + 2PH - DH(KH-1) - 1) / SH) + 1, OW likewise.
    - cache: for :func:`conv2d_backward`.
    """
    _check_conv_args("conv2d", x, w, b, "H, W")
    out_channels, _, kh, kw = w.shape
    _, (sh, sw), (ph, pw), (dh, dw) = _pairs("conv2d", kh, stride, padding, dilation)
    oh = conv_output_size(x.shape[2], kh, sh, ph, dh, where="conv2d", axis="height")
    ow = conv_output_size(x.shape[3], kw, sw, pw, dw, where="conv2d", axis="width")
    cols = im2col_2d(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw))  # (C*KH*KW, OH*OW*N)
    out = matmul(reshape(w, (out_channels, -1)), cols)  # w_rows @ cols, (O, OH*OW*N)
    if b is not None:
        out += b[:, None]
    out = permute_dims(reshape(out, (out_channels, oh, ow, x.shape[0])), (3, 0, 1, 2))
    return out, (tuple(x.shape), w, cols, b is not None, ((sh, sw), (ph, pw), (dh, dw)))


def conv2d_backward(dout: Any, cache: tuple, input_grad: bool = True) -> tuple[Any, Any, Any | None]:
    """Backward pass of :func:`conv2d_forward`.

    Inputs:
    - dout: upstream gradient of shape (N, O, OH, OW).
    - cache: from the forward pass.
    - input_grad: False skips dx (returned as None), as in :func:`conv1d_backward`.
    Returns:
    - dx: shape (N, C, H, W), or None when input_grad is False
    - dw: shape (O, C, KH, KW)
    - db: shape (O,), or None if there was no bias.
    """
    x_shape, w, cols, has_bias, (stride, padding, dilation) = cache
    dout_rows = _rows_of(dout)  # (O, OH*OW*N)
    # dw = dout_rows @ cols.T, computed as (cols @ dout_rows.T).T: the same numbers, and OpenBLAS runs
    # this (C*K, O) shape with its long inner axis 1.3-1.6x faster (measured for O = 24, C*K = 72).
    dw = reshape(matmul(cols, dout_rows.mT).mT, w.shape)
    dx = None
    if input_grad:
        dcols = matmul(reshape(w, (w.shape[0], -1)).mT, dout_rows)  # w_rows.T @ dout_rows
        dx = col2im_2d(dcols, x_shape, tuple(w.shape[2:]), stride, padding, dilation)
    db = sum_last_axis(dout_rows) if has_bias else None
    return dx, dw, db
