"""Lesson 12, convolutions: the graded questions.

The learner writes, on plain NumPy arrays, two cs231n-style forward/backward pairs:

- ``conv1d_forward(x, w, b, stride, padding) -> (out, cache)`` with x (N, C, L), w (O, C, K), b (O,)
  and out (N, O, L_out), and ``conv1d_backward(dout, cache) -> (dx, dw, db)``;
- ``max_pool1d_forward(x, kernel_size, stride) -> (out, cache)`` and
  ``max_pool1d_backward(dout, cache) -> dx``.

Forward outputs are compared with naive implementations written here, with a loop over the
output positions (nothing in common with im2col). Backward passes are compared with the
central-difference gradient of ``sum(forward(...) * dout)`` in float64, for a random ``dout``.
The cache is the learner's business: any content works. The references are the library's pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import functional as F  # noqa: N812  (the conventional short name)
from coursepkg.exercises.question import CheckFailure, describe_inputs, expect, expect_close, register
from coursepkg.gradcheck import numerical_gradient

NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # central differences in float64 with h = 1e-6 are good to ~1e-9


# ----------------------------------------------------------------------------- independent naive versions
def naive_conv1d(x: numpy.ndarray, w: numpy.ndarray, b: numpy.ndarray, stride: int, padding: int) -> numpy.ndarray:
    """out[n, o, l] = b[o] + sum_{c, k} w[o, c, k] * x_padded[n, c, l * stride + k], one position at a time.

    Inputs: x (N, C, L), w (O, C, K), b (O,); stride, padding ints.
    Returns: out of shape (N, O, L_out), L_out = (L + 2 * padding - K) // stride + 1.
    """
    x_padded = numpy.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out_len = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
    out = numpy.empty((x.shape[0], w.shape[0], out_len))
    for position in range(out_len):
        window = x_padded[:, :, position * stride: position * stride + w.shape[2]]  # (N, C, K)
        out[:, :, position] = numpy.einsum("nck,ock->no", window, w) + b
    return out


def naive_max_pool1d(x: numpy.ndarray, kernel_size: int, stride: int) -> numpy.ndarray:
    """out[n, c, l] = max of x[n, c, l * stride : l * stride + kernel_size], one window at a time."""
    out_len = (x.shape[2] - kernel_size) // stride + 1
    return numpy.stack([x[:, :, i * stride: i * stride + kernel_size].max(axis=2) for i in range(out_len)], axis=2)


# ----------------------------------------------------------------------------- planted wrong answers
def _taps(x_padded: numpy.ndarray, kernel_size: int, stride: int, out_len: int) -> numpy.ndarray:
    """(N, C, L') -> (N, C, K, L_out): tap j of the window at every output position."""
    return numpy.stack([x_padded[:, :, j: j + stride * (out_len - 1) + 1: stride] for j in range(kernel_size)],
                       axis=2)


def _conv_variant(bug: str = "") -> tuple[Callable, Callable]:
    """An im2col conv1d pair (forward, backward) with one planted bug ("" = none)."""

    def forward(x, w, b, stride=1, padding=0):
        n, c, length = x.shape
        o, _, k = w.shape
        pads = (2 * padding, 0) if bug == "one side" else (padding, padding)
        out_len = (length + 2 * padding - k) // stride + (0 if bug == "length" else 1)
        cols = _taps(numpy.pad(x, ((0, 0), (0, 0), pads)), k, stride, out_len)  # (N, C, K, L_out)
        cols = cols.transpose(1, 2, 0, 3).reshape(c * k, n * out_len)
        kernel = w[:, :, ::-1] if bug == "flipped" else w
        out = (kernel.reshape(o, c * k) @ cols).reshape(o, n, out_len).transpose(1, 0, 2)
        if bug != "no bias":
            out = out + b[None, :, None]
        return out, (x.shape, w, cols, stride, padding)

    def backward(dout, cache):
        (n, c, length), w, cols, stride, padding = cache
        o, _, k = w.shape
        out_len = dout.shape[2]
        dout_rows = dout.transpose(1, 0, 2).reshape(o, n * out_len)
        dw = (cols @ dout_rows.T).reshape(o, c, k) if bug == "dw transpose" else (dout_rows @ cols.T).reshape(o, c, k)
        dcols = (w.reshape(o, c * k).T @ dout_rows).reshape(c, k, n, out_len).transpose(2, 0, 1, 3)
        dx_padded = numpy.zeros((n, c, length + 2 * padding))
        for j in range(k):
            where = slice(j, j + stride * (out_len - 1) + 1, stride)
            if bug == "overwrite":
                dx_padded[:, :, where] = dcols[:, :, j]
            else:
                dx_padded[:, :, where] += dcols[:, :, j]
        dx = dx_padded[:, :, padding: padding + length]
        if bug == "db axes":
            db = dout.sum(axis=(0, 1))
        elif bug == "db mean":
            db = dout.sum(axis=2).mean(axis=0)
        else:
            db = dout.sum(axis=(0, 2))
        return dx, dw, db

    return forward, backward


def _pool_variant(bug: str = "") -> tuple[Callable, Callable]:
    """A max_pool1d pair (forward, backward) with one planted bug ("" = none)."""

    def forward(x, kernel_size, stride):
        out_len = (x.shape[2] - kernel_size) // stride + 1
        windows = _taps(x, kernel_size, stride, out_len)  # (N, C, K, L_out)
        out = windows.mean(axis=2) if bug == "average" else windows.max(axis=2)
        return out, (x.shape, windows.argmax(axis=2), kernel_size, stride)

    def backward(dout, cache):
        x_shape, winner, kernel_size, stride = cache
        dx = numpy.zeros(x_shape)
        for j in range(kernel_size):
            where = slice(j, j + stride * (dout.shape[2] - 1) + 1, stride)
            if bug == "average":
                share = dout / kernel_size
            elif bug == "all":
                share = dout
            else:
                share = dout * (winner == j)
            if bug == "overwrite":
                dx[:, :, where] = share
            else:
                dx[:, :, where] += share
        return dx

    return forward, backward


# ----------------------------------------------------------------------------- how a pair is checked
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape error into feedback that names the call."""
    try:
        return function(*args)
    except (ValueError, IndexError, TypeError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _forward(function: Callable, call: str, args: tuple) -> tuple[Any, Any]:
    result = _call(function, call, *(a.copy() if isinstance(a, numpy.ndarray) else a for a in args))
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{call} should return a tuple (out, cache); got {type(result).__name__}.")
    return result


def _check_gradients(grads: Any, names: tuple[str, ...], back: str, loss_of: Callable,
                     inputs: dict[str, numpy.ndarray]) -> None:
    """Compare each returned gradient with central differences of ``loss_of(**inputs)``."""
    if len(names) == 1:
        grads = (grads,)
    else:
        expect(isinstance(grads, tuple) and len(grads) == len(names),
               f"{back} should return a tuple ({', '.join('d' + n for n in names)}); got {type(grads).__name__}"
               + (f" of length {len(grads)}." if isinstance(grads, tuple) else "."))
    for name, grad in zip(names, grads):
        point = {key: value.copy() for key, value in inputs.items()}
        expected = numerical_gradient(lambda point=point: loss_of(**point), point[name])
        expect_close(grad, expected, what=f"{back}: d{name} (checked against central differences)",
                     rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)


def _conv_cases(rng: numpy.random.Generator) -> list[tuple[int, ...]]:
    """(N, C, L, O, K, stride, padding): edge cases, then random shapes."""
    cases = [(2, 3, 11, 4, 3, 1, 1),  # overlapping windows, "same" padding
             (1, 1, 7, 2, 5, 2, 2),  # batch 1, one channel, stride 2
             (3, 2, 9, 3, 4, 3, 0),  # windows side by side, no padding
             (2, 2, 8, 5, 1, 1, 0),  # a 1-tap kernel
             (1, 3, 6, 2, 6, 1, 0),  # the kernel covers the whole signal: L_out = 1
             (2, 2, 10, 3, 3, 2, 1)]  # stride 2 with padding, length not a multiple of the stride
    for _ in range(3):
        k = int(rng.integers(1, 6))
        cases.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(k, 13)),
                      int(rng.integers(1, 5)), k, int(rng.integers(1, 4)), int(rng.integers(0, 3))))
    return cases


def _conv_inputs(case: tuple[int, ...], rng: numpy.random.Generator) -> tuple[dict[str, numpy.ndarray], int, int]:
    n, c, length, o, k, stride, padding = case
    inputs = {"x": rng.standard_normal((n, c, length)), "w": rng.standard_normal((o, c, k)),
              "b": rng.standard_normal(o)}
    return inputs, stride, padding


# ----------------------------------------------------------------------------- the questions
_CORRECT_CONV = _conv_variant()


@register(
    id="12.conv1d_forward", lesson="12", points=3, names=("conv1d_forward",),
    reference=(F.conv1d_forward,),
    mutants={
        "kernel flipped (a true convolution instead of the cross-correlation)": (_conv_variant("flipped")[0],),
        "output one position too short (off-by-one in L_out)": (_conv_variant("length")[0],),
        "forgot the bias": (_conv_variant("no bias")[0],),
        "all the padding on the left (one side only)": (_conv_variant("one side")[0],),
    },
    hint="L_out = (L + 2 * padding - K) // stride + 1. Pad both ends with `padding` zeros, then "
         "out[n, o, l] = b[o] + sum over c, k of w[o, c, k] * x_padded[n, c, l * stride + k] (no kernel flip).",
)
def check_conv1d_forward(conv1d_forward: Callable, rng: numpy.random.Generator) -> None:
    """The forward pass of a 1-D convolution layer (cross-correlation with stride and padding)."""
    for case in _conv_cases(rng):
        inputs, stride, padding = _conv_inputs(case, rng)
        call = (f"conv1d_forward(x, w, b, stride={stride}, padding={padding}) with {describe_inputs(**inputs)}")
        out, _ = _forward(conv1d_forward, call, (*inputs.values(), stride, padding))
        expect_close(out, naive_conv1d(*inputs.values(), stride, padding), what=call, rtol=1e-5, atol=1e-6)


@register(
    id="12.conv1d_backward", lesson="12", points=3, names=("conv1d_forward", "conv1d_backward"),
    reference=(F.conv1d_forward, F.conv1d_backward),
    mutants={
        "dx: overlapping windows overwrite instead of adding up": (_CORRECT_CONV[0], _conv_variant("overwrite")[1]),
        "dw: cols @ dout.T reshaped without the transpose": (_CORRECT_CONV[0], _conv_variant("dw transpose")[1]),
        "db summed over examples and channels instead of examples and positions":
            (_CORRECT_CONV[0], _conv_variant("db axes")[1]),
        "db averaged over the batch": (_CORRECT_CONV[0], _conv_variant("db mean")[1]),
    },
    hint="With cols (C*K, N*L_out) and dout_rows (O, N*L_out): dw = dout_rows @ cols.T reshaped to (O, C, K); "
         "dcols = w_rows.T @ dout_rows, and dx adds (+=) each tap's row of dcols back where it was read; "
         "db = dout.sum(axis=(0, 2)).",
)
def check_conv1d_backward(conv1d_forward: Callable, conv1d_backward: Callable, rng: numpy.random.Generator) -> None:
    """The backward pass of a 1-D convolution layer: dx, dw and db."""
    for case in _conv_cases(rng):
        inputs, stride, padding = _conv_inputs(case, rng)
        call = f"conv1d_forward(x, w, b, stride={stride}, padding={padding}) with {describe_inputs(**inputs)}"
        out, cache = _forward(conv1d_forward, call, (*inputs.values(), stride, padding))
        expected = naive_conv1d(*inputs.values(), stride, padding)
        expect_close(out, expected, what=call, rtol=1e-5, atol=1e-6)
        dout = rng.standard_normal(expected.shape)
        back = f"conv1d_backward(dout, cache) after {call}"
        grads = _call(conv1d_backward, back, dout.copy(), cache)
        _check_gradients(grads, ("x", "w", "b"), back,
                         lambda x, w, b, s=stride, p=padding, g=dout: numpy.sum(naive_conv1d(x, w, b, s, p) * g),
                         inputs)


def _distinct(shape: tuple[int, ...], rng: numpy.random.Generator) -> numpy.ndarray:
    """Values at least 0.05 apart, in random order: no ties for the maximum, safe finite differences."""
    size = int(numpy.prod(shape))
    return (rng.permutation(size) * 0.05 - size * 0.025 + rng.uniform(0, 0.01, size)).reshape(shape)


@register(
    id="12.max_pool1d", lesson="12", points=2, names=("max_pool1d_forward", "max_pool1d_backward"),
    reference=(F.max_pool1d_forward, F.max_pool1d_backward),
    mutants={
        "gradient sent to every entry of the window": (_pool_variant()[0], _pool_variant("all")[1]),
        "average pooling instead of max pooling": _pool_variant("average"),
        "overlapping windows overwrite dx instead of adding up": (_pool_variant()[0], _pool_variant("overwrite")[1]),
    },
    hint="Forward: the maximum over each window x[n, c, l*stride : l*stride + K]; remember where it was. "
         "Backward: each window sends its whole dout to that one position (+=, windows may overlap).",
)
def check_max_pool1d(max_pool1d_forward: Callable, max_pool1d_backward: Callable,
                     rng: numpy.random.Generator) -> None:
    """Max pooling over windows of a signal, forward and backward."""
    cases = [(2, 3, 8, 2, 2), (1, 1, 7, 3, 2), (3, 2, 9, 3, 3), (2, 2, 6, 2, 1), (1, 2, 5, 5, 1), (2, 1, 10, 4, 3)]
    for _ in range(2):
        k = int(rng.integers(1, 5))
        cases.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(k, 12)), k,
                      int(rng.integers(1, 4))))
    for n, c, length, kernel_size, stride in cases:
        x = _distinct((n, c, length), rng)
        call = f"max_pool1d_forward(x, kernel_size={kernel_size}, stride={stride}) with {describe_inputs(x=x)}"
        out, cache = _forward(max_pool1d_forward, call, (x, kernel_size, stride))
        expected = naive_max_pool1d(x, kernel_size, stride)
        expect_close(out, expected, what=call, rtol=1e-6)
        dout = rng.standard_normal(expected.shape)
        back = f"max_pool1d_backward(dout, cache) after {call}"
        dx = _call(max_pool1d_backward, back, dout.copy(), cache)
        _check_gradients(dx, ("x",), back,
                         lambda x, k=kernel_size, s=stride, g=dout: numpy.sum(naive_max_pool1d(x, k, s) * g), {"x": x})
