"""Convolution and pooling: functional pairs, ops, modules.

Oracles, none of them the implementation itself:
- forward passes against a naive loop over every index, written here in plain NumPy, and against
  scipy.signal.correlate and an einsum over NumPy's sliding windows;
- im2col/col2im against their definition (col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>);
- backward passes against central differences in float64 (check_gradients);
- max-pool gradients on ties against the rule "the first maximal entry of each window wins" (PyTorch's);
- PyTorch itself, when it is installed (it is not in the course environment, so those tests skip).

Everything that takes a backend runs on NumPy and on array_api_strict (device "device1").
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursepkg.backend import to_numpy
from coursepkg.functional import conv as conv_f
from coursepkg.functional import pooling as pool_f
from coursepkg.gradcheck import GradCheckResult, check_gradients, numerical_gradient, relative_error
from coursepkg.nn.conv import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from coursepkg.nn.linear import Flatten, Linear
from coursepkg.ops import conv as conv_ops
from coursepkg.tensor import Tensor

FEW = settings(max_examples=10, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**31 - 1)


def assert_gradients_ok(f, inputs, names=None) -> GradCheckResult:
    """check_gradients with step 1e-4 and tolerance 1e-5.

    Convolution and average pooling are linear in each input, so central differences have no
    truncation error and a larger step only lowers the rounding error; max pooling is piecewise
    linear and its inputs below are at least 0.1 apart, so the step never changes a window's winner.
    """
    result = check_gradients(f, inputs, names, tolerance=1e-5, h=1e-4)
    assert result.errors, "no input was checked"
    assert result.ok, f"gradient check failed:\n{result}"
    return result


def distinct_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.1 apart, in random order: no ties inside a max-pool window."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


# ---------------------------------------------------------------------- references in plain NumPy


def naive_conv1d(x, w, b, stride=1, padding=0, dilation=1):
    n_examples, channels, length = x.shape
    out_channels, _, k_size = w.shape
    padded = np.zeros((n_examples, channels, length + 2 * padding))
    padded[:, :, padding:padding + length] = x
    out_len = (length + 2 * padding - dilation * (k_size - 1) - 1) // stride + 1
    out = np.zeros((n_examples, out_channels, out_len))
    for n in range(n_examples):
        for o in range(out_channels):
            for pos in range(out_len):
                total = 0.0 if b is None else b[o]
                for c in range(channels):
                    for k in range(k_size):
                        total += w[o, c, k] * padded[n, c, pos * stride + k * dilation]
                out[n, o, pos] = total
    return out


def naive_conv2d(x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    n_examples, channels, height, width = x.shape
    out_channels, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    padded = np.zeros((n_examples, channels, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    oh = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_examples, out_channels, oh, ow))
    for n in range(n_examples):
        for o in range(out_channels):
            for r in range(oh):
                for s in range(ow):
                    patch = padded[n, :, r * sh:r * sh + dh * (kh - 1) + 1:dh, s * sw:s * sw + dw * (kw - 1) + 1:dw]
                    out[n, o, r, s] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return out


def scipy_conv1d(x, w, b, stride, padding):
    """Cross-correlation per (example, output channel), summed over input channels (dilation 1)."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    return np.stack([[sum(scipy.signal.correlate(padded[n, c], w[o, c], mode="valid") for c in range(x.shape[1]))
                      [::stride] + b[o] for o in range(w.shape[0])] for n in range(x.shape[0])])


def scipy_conv2d(x, w, b, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return np.stack([[sum(scipy.signal.correlate(padded[n, c], w[o, c], mode="valid") for c in range(x.shape[1]))
                      [::sh, ::sw] + b[o] for o in range(w.shape[0])] for n in range(x.shape[0])])


def einsum_conv1d(x, w, b, stride, padding, dilation):
    """Every window via NumPy's sliding_window_view, then one einsum."""
    k_size = w.shape[2]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    span = dilation * (k_size - 1) + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, span, axis=2)[:, :, ::stride, ::dilation]
    return np.einsum("nclk,ock->nol", windows, w) + b[None, :, None]


def naive_pool1d(x, k_size, stride, reduce):
    out_len = (x.shape[2] - k_size) // stride + 1
    return np.stack([reduce(x[:, :, i * stride:i * stride + k_size], axis=2) for i in range(out_len)], axis=2)


def naive_pool2d(x, kernel, stride, reduce):
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for r in range(oh):
        for s in range(ow):
            out[:, :, r, s] = reduce(x[:, :, r * sh:r * sh + kh, s * sw:s * sw + kw], axis=(2, 3))
    return out


# ---------------------------------------------------------------------- forward passes

CONV1D_CASES = [  # (N, C, L, O, K, stride, padding, dilation)
    (2, 3, 11, 4, 3, 1, 0, 1),
    (1, 1, 40, 5, 5, 1, 2, 1),   # batch size 1, MNIST-1D-like "same" padding
    (3, 2, 10, 3, 4, 2, 1, 1),   # stride 2: the last input positions are never read
    (2, 2, 9, 2, 3, 3, 3, 1),    # padding as large as the kernel
    (1, 3, 12, 2, 3, 2, 1, 2),   # dilation 2
    (2, 2, 5, 3, 5, 1, 0, 1),    # kernel as long as the input: one output position
    (4, 1, 1, 2, 1, 1, 0, 1),    # 1x1 kernel on a length-1 signal
]


@pytest.mark.parametrize("case", CONV1D_CASES, ids=str)
def test_conv1d_forward_matches_naive_loops_and_einsum(backend, case):
    n, c, length, o, k, stride, padding, dilation = case
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((n, c, length)), rng.standard_normal((o, c, k)), rng.standard_normal(o)
    out, _ = conv_f.conv1d_forward(backend.asarray(x), backend.asarray(w), backend.asarray(b), stride, padding,
                                   dilation)
    got = to_numpy(out)
    expected = naive_conv1d(x, w, b, stride, padding, dilation)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got, einsum_conv1d(x, w, b, stride, padding, dilation), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CONV1D_CASES if c[-1] == 1], ids=str)
def test_conv1d_forward_matches_scipy_correlate(case):
    n, c, length, o, k, stride, padding, _ = case
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((n, c, length)), rng.standard_normal((o, c, k)), rng.standard_normal(o)
    out, _ = conv_f.conv1d_forward(x, w, b, stride, padding)
    np.testing.assert_allclose(out, scipy_conv1d(x, w, b, stride, padding), rtol=1e-10, atol=1e-12)


CONV2D_CASES = [  # (N, C, H, W, O, (KH, KW), stride, padding, dilation)
    (2, 3, 6, 7, 4, (3, 3), (1, 1), (0, 0), (1, 1)),
    (1, 1, 5, 5, 2, (3, 3), (1, 1), (1, 1), (1, 1)),   # batch size 1, "same" padding
    (2, 2, 7, 6, 3, (3, 2), (2, 1), (1, 2), (1, 1)),   # different kernel/stride/padding per axis
    (1, 2, 8, 8, 2, (2, 2), (2, 2), (0, 0), (1, 1)),   # stride = kernel: non-overlapping patches
    (2, 2, 9, 7, 2, (3, 2), (1, 2), (1, 0), (2, 1)),   # dilation on the rows
]


@pytest.mark.parametrize("case", CONV2D_CASES, ids=str)
def test_conv2d_forward_matches_naive_loops_and_scipy(backend, case):
    n, c, h, w_size, o, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((n, c, h, w_size)), rng.standard_normal((o, c) + kernel), rng.standard_normal(o)
    out, _ = conv_f.conv2d_forward(backend.asarray(x), backend.asarray(w), backend.asarray(b), stride, padding,
                                   dilation)
    got = to_numpy(out)
    expected = naive_conv2d(x, w, b, stride, padding, dilation)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    if dilation == (1, 1):
        np.testing.assert_allclose(got, scipy_conv2d(x, w, b, stride, padding), rtol=1e-4, atol=1e-5)


def test_conv_without_bias_and_with_int_arguments(backend):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 2, 2))
    out, _ = conv_f.conv2d_forward(backend.asarray(x), backend.asarray(w), None, stride=2, padding=1)
    np.testing.assert_allclose(to_numpy(out), naive_conv2d(x, w, None, (2, 2), (1, 1)), rtol=1e-4, atol=1e-5)
    x1, w1 = rng.standard_normal((2, 2, 7)), rng.standard_normal((3, 2, 3))
    out1, _ = conv_f.conv1d_forward(backend.asarray(x1), backend.asarray(w1), None, stride=2, padding=1)
    np.testing.assert_allclose(to_numpy(out1), naive_conv1d(x1, w1, None, 2, 1), rtol=1e-4, atol=1e-5)


def test_outputs_and_gradients_stay_on_the_input_device(backend):
    x = Tensor(backend.randn((2, 3, 10)), requires_grad=True)
    layer = Conv1d(3, 4, 3, padding=1)
    out = MaxPool1d(2)(layer(x))
    out.sum().backward()
    for array in (out.data, x.grad, layer.weight.grad, layer.bias.grad):
        assert array.device == x.data.device
        assert array.dtype == backend.default_dtype


# ---------------------------------------------------------------------- im2col / col2im


def test_im2col_1d_columns_are_the_patches():
    x = np.arange(2 * 2 * 7, dtype=float).reshape(2, 2, 7)
    k_size, stride, padding = 3, 2, 1
    cols = conv_f.im2col_1d(x, k_size, stride, padding)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out_len = (7 + 2 * padding - k_size) // stride + 1
    assert cols.shape == (2 * k_size, 2 * out_len)
    for n in range(2):
        for pos in range(out_len):
            patch = padded[n, :, pos * stride:pos * stride + k_size]  # (C, K)
            np.testing.assert_array_equal(cols[:, pos * 2 + n], patch.reshape(-1))  # examples last


def test_im2col_2d_columns_are_the_patches():
    x = np.arange(2 * 3 * 5 * 4, dtype=float).reshape(2, 3, 5, 4)
    cols = conv_f.im2col_2d(x, (2, 3), stride=(2, 1), padding=(1, 1))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (5 + 2 - 2) // 2 + 1, (4 + 2 - 3) // 1 + 1
    assert cols.shape == (3 * 2 * 3, 2 * oh * ow)
    for n in range(2):
        for r in range(oh):
            for s in range(ow):
                patch = padded[n, :, 2 * r:2 * r + 2, s:s + 3]
                np.testing.assert_array_equal(cols[:, (r * ow + s) * 2 + n], patch.reshape(-1))  # examples last


@pytest.mark.parametrize("shape, args", [
    ((2, 3, 9), (3, 2, 1, 2)),  # kernel, stride, padding, dilation
    ((2, 3, 9), (3, 1, 1, 1)),  # "same": the centre tap reads every position once
    ((2, 3, 9), (3, 1, 2, 2)),  # "same" with dilation 2
    ((2, 3, 9), (2, 1, 3, 1)),  # more padding than the kernel: some taps read padding only at the ends
    ((2, 3, 9), (4, 1, 0, 1)),  # no padding
    ((2, 3, 7, 6), ((3, 2), (2, 1), (1, 2), (1, 2))),
    ((2, 3, 7, 6), ((3, 3), (1, 1), (1, 1), (1, 1))),  # "same" in 2-D
    ((2, 3, 7, 6), ((3, 1), (1, 1), (1, 0), (1, 1))),
], ids=str)
def test_col2im_is_the_adjoint_of_im2col(backend64, shape, args):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: what makes the backward pass right."""
    rng = np.random.default_rng(4)
    if len(shape) == 3:
        im2col, col2im = conv_f.im2col_1d, conv_f.col2im_1d
    else:
        im2col, col2im = conv_f.im2col_2d, conv_f.col2im_2d
    x = rng.standard_normal(shape)
    cols_shape = im2col(x, *args).shape
    c = rng.standard_normal(cols_shape)
    cols = to_numpy(im2col(backend64.asarray(x), *args))
    back = to_numpy(col2im(backend64.asarray(c), shape, *args))
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)
    # and entry by entry: dx[i] = <im2col(e_i), c> for a few unit inputs e_i
    for flat in rng.choice(x.size, size=5, replace=False):
        unit = np.zeros(shape)
        unit.flat[flat] = 1.0
        np.testing.assert_allclose(back.flat[flat], np.sum(to_numpy(im2col(unit, *args)) * c), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- gradient checks


@FEW
@given(n=st.integers(1, 3), c=st.integers(1, 3), o=st.integers(1, 3), k=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 2), extra=st.integers(0, 5),
       bias=st.booleans(), seed=SEEDS)
def test_conv1d_gradients(backend64, n, c, o, k, stride, padding, dilation, extra, bias, seed):
    length = max(1, dilation * (k - 1) + 1 - 2 * padding) + extra  # always long enough for the kernel
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, c, length)), rng.standard_normal((o, c, k))]
    if bias:
        inputs.append(rng.standard_normal(o))
    assert_gradients_ok(lambda *t: conv_ops.conv1d(*t, stride=stride, padding=padding, dilation=dilation), inputs,
                        ["x", "w", "b"][:len(inputs)])


@pytest.mark.parametrize("case", CONV2D_CASES, ids=str)
def test_conv2d_gradients(backend64, case):
    n, c, h, w_size, o, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((n, c, h, w_size)), rng.standard_normal((o, c) + kernel), rng.standard_normal(o)]
    assert_gradients_ok(lambda *t: conv_ops.conv2d(*t, stride=stride, padding=padding, dilation=dilation), inputs,
                        ["x", "w", "b"])


def test_conv2d_gradients_without_bias(backend64):
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))]
    assert_gradients_ok(lambda x, w: conv_ops.conv2d(x, w, stride=2, padding=1), inputs, ["x", "w"])


@FEW
@given(n=st.integers(1, 3), c=st.integers(1, 3), k=st.integers(1, 4), stride=st.integers(1, 3),
       extra=st.integers(0, 6), seed=SEEDS)
def test_pool1d_gradients(backend64, n, c, k, stride, extra, seed):
    x = distinct_values(np.random.default_rng(seed), (n, c, k + extra))
    assert_gradients_ok(lambda t: conv_ops.max_pool1d(t, k, stride), [x], ["max_pool1d"])
    assert_gradients_ok(lambda t: conv_ops.avg_pool1d(t, k, stride), [x], ["avg_pool1d"])


@pytest.mark.parametrize("kernel, stride", [((2, 2), None), ((3, 2), (1, 2)), (2, 1), ((1, 3), (2, 1))], ids=str)
def test_pool2d_gradients(backend64, kernel, stride):
    x = distinct_values(np.random.default_rng(7), (2, 2, 5, 6))
    assert_gradients_ok(lambda t: conv_ops.max_pool2d(t, kernel, stride), [x], ["max_pool2d"])
    assert_gradients_ok(lambda t: conv_ops.avg_pool2d(t, kernel, stride), [x], ["avg_pool2d"])


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 3, 4)], ids=str)
def test_global_avg_pool_forward_and_gradients(backend64, shape):
    x = np.random.default_rng(8).standard_normal(shape)
    out = conv_ops.global_avg_pool(Tensor(backend64.asarray(x)))
    np.testing.assert_allclose(to_numpy(out.data), x.reshape(shape[0], shape[1], -1).mean(axis=2), rtol=1e-12)
    assert_gradients_ok(conv_ops.global_avg_pool, [x], ["x"])


def _check_module_parameter_gradients(layer, x) -> None:
    """Gradients of sum(layer(x) * r) for every parameter, against central differences."""
    r = layer.weight.xp.asarray(np.random.default_rng(9).standard_normal(layer(x).shape), device=x.data.device)
    layer.zero_grad()
    (layer(x) * Tensor(r)).sum().backward()
    for name, p in layer.named_parameters():
        numeric = numerical_gradient(lambda: layer.weight.xp.sum(layer(x).data * r), p.data, h=1e-4)
        assert relative_error(p.grad, numeric) < 1e-5, name


@pytest.mark.parametrize("config", [dict(stride=1, padding=0), dict(stride=2, padding=2), dict(stride=3, padding=1,
                                    bias=False), dict(dilation=2, padding=1)], ids=str)
def test_conv1d_module_gradients(backend64, config):
    layer = Conv1d(2, 3, 3, **config)
    x = np.random.default_rng(10).standard_normal((1, 2, 9))
    assert_gradients_ok(layer, [x], ["x"])
    _check_module_parameter_gradients(layer, Tensor(backend64.asarray(x)))


@pytest.mark.parametrize("config", [dict(kernel_size=3, padding=1), dict(kernel_size=(2, 3), stride=(2, 1)),
                                    dict(kernel_size=2, stride=2, bias=False)], ids=str)
def test_conv2d_module_gradients(backend64, config):
    layer = Conv2d(2, 3, **config)
    x = np.random.default_rng(11).standard_normal((2, 2, 5, 6))
    assert_gradients_ok(layer, [x], ["x"])
    _check_module_parameter_gradients(layer, Tensor(backend64.asarray(x)))


def test_pool_modules_gradients(backend64):
    x1 = distinct_values(np.random.default_rng(12), (2, 3, 8))
    x2 = distinct_values(np.random.default_rng(13), (1, 2, 6, 4))
    for layer, x in ((MaxPool1d(2), x1), (AvgPool1d(3, stride=1), x1), (GlobalAvgPool1d(), x1),
                     (MaxPool2d(2), x2), (AvgPool2d((3, 2), stride=1), x2), (GlobalAvgPool2d(), x2)):
        assert_gradients_ok(layer, [x], [repr(layer)])


def test_small_cnn_end_to_end_gradients(backend64):
    """An MNIST-1D-shaped CNN: conv -> relu -> max-pool -> conv -> avg-pool -> flatten -> linear."""
    conv1, conv2, head = Conv1d(1, 3, 5, padding=2), Conv1d(3, 2, 3, stride=2), Linear(2 * 2, 4)

    def model(x):
        h = conv_ops.max_pool1d(conv1(x).relu(), 2)
        return head(Flatten()(conv_ops.avg_pool1d(conv2(h), 2)))

    x = np.random.default_rng(14).standard_normal((2, 1, 20))
    assert model(Tensor(backend64.asarray(x))).shape == (2, 4)
    assert_gradients_ok(model, [x], ["x"])


# ---------------------------------------------------------------------- pooling semantics


@pytest.mark.parametrize("k, stride", [(2, None), (3, 1), (3, 2), (1, 1)])
def test_pool1d_forward_matches_naive_loops(backend, k, stride):
    x = np.random.default_rng(15).standard_normal((2, 3, 11))
    xb = backend.asarray(x)
    step = k if stride is None else stride
    max_out, _ = pool_f.max_pool1d_forward(xb, k, stride)
    avg_out, _ = pool_f.avg_pool1d_forward(xb, k, stride)
    np.testing.assert_allclose(to_numpy(max_out), naive_pool1d(x, k, step, np.max), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(avg_out), naive_pool1d(x, k, step, np.mean), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((3, 2), (1, 2)), ((2, 3), (2, 1))], ids=str)
def test_pool2d_forward_matches_naive_loops(backend, kernel, stride):
    x = np.random.default_rng(16).standard_normal((1, 2, 7, 6))
    xb = backend.asarray(x)
    max_out, _ = pool_f.max_pool2d_forward(xb, kernel, stride)
    avg_out, _ = pool_f.avg_pool2d_forward(xb, kernel, stride)
    np.testing.assert_allclose(to_numpy(max_out), naive_pool2d(x, kernel, stride, np.max), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(avg_out), naive_pool2d(x, kernel, stride, np.mean), rtol=1e-5, atol=1e-6)


def test_max_pool_gradient_goes_to_the_first_maximum_on_ties(backend):
    # windows (K=2, stride 1) start at positions 0..3: [3, 3] [3, 1] [1, 5] [5, 5]. Each window's
    # gradient (1, 10, 100, 1000) goes to its first maximal entry, as argmax (and PyTorch) choose:
    # positions 0, 1, 3 and 3.
    x = backend.asarray(np.array([[[3.0, 3.0, 1.0, 5.0, 5.0]]]))
    out, cache = pool_f.max_pool1d_forward(x, 2, 1)
    np.testing.assert_array_equal(to_numpy(out), [[[3.0, 3.0, 5.0, 5.0]]])
    dout = backend.asarray(np.array([[[1.0, 10.0, 100.0, 1000.0]]]))
    np.testing.assert_array_equal(to_numpy(pool_f.max_pool1d_backward(dout, cache)), [[[1.0, 10.0, 0.0, 1100.0, 0.0]]])
    # K=3: windows [2, 2, 2] [2, 2, 0] [2, 0, 7] [0, 7, 7] -> first maxima at positions 0, 1, 4 and 4;
    # a three-way tie must not send the gradient to the second or third tap as well.
    x = backend.asarray(np.array([[[2.0, 2.0, 2.0, 0.0, 7.0, 7.0]]]))
    out, cache = pool_f.max_pool1d_forward(x, 3, 1)
    np.testing.assert_array_equal(to_numpy(out), [[[2.0, 2.0, 7.0, 7.0]]])
    np.testing.assert_array_equal(to_numpy(pool_f.max_pool1d_backward(dout, cache)),
                                  [[[1.0, 10.0, 0.0, 0.0, 1100.0, 0.0]]])
    # Windows side by side that tile the input (the backward pass assigns instead of adding): K=2,
    # [3, 3] [1, 5] [5, 5] -> positions 0, 3, 4; K=3, [2, 2, 2] [7, 0, 7] -> positions 0, 3.
    x = backend.asarray(np.array([[[3.0, 3.0, 1.0, 5.0, 5.0, 5.0]]]))
    _, cache = pool_f.max_pool1d_forward(x, 2)
    np.testing.assert_array_equal(to_numpy(pool_f.max_pool1d_backward(backend.asarray(np.array([[[1.0, 10.0, 100.0]]])),
                                                                      cache)), [[[1.0, 0.0, 0.0, 10.0, 100.0, 0.0]]])
    x = backend.asarray(np.array([[[2.0, 2.0, 2.0, 7.0, 0.0, 7.0]]]))
    _, cache = pool_f.max_pool1d_forward(x, 3)
    np.testing.assert_array_equal(to_numpy(pool_f.max_pool1d_backward(backend.asarray(np.array([[[1.0, 10.0]]])),
                                                                      cache)), [[[1.0, 0.0, 0.0, 10.0, 0.0, 0.0]]])


def test_max_pool2d_gradient_goes_to_the_argmax_of_each_window(backend):
    x = distinct_values(np.random.default_rng(17), (2, 3, 4, 6))
    out, cache = pool_f.max_pool2d_forward(backend.asarray(x), 2)
    dout = np.random.default_rng(18).standard_normal(tuple(out.shape))
    dx = to_numpy(pool_f.max_pool2d_backward(backend.asarray(dout), cache))
    expected = np.zeros_like(x)
    for n, c, r, s in np.ndindex(*dout.shape):
        window = x[n, c, 2 * r:2 * r + 2, 2 * s:2 * s + 2]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        expected[n, c, 2 * r + i, 2 * s + j] = dout[n, c, r, s]
    np.testing.assert_allclose(dx, expected, rtol=1e-6)


# ---------------------------------------------------------------------- shape arithmetic


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.integers(1, 30), k=st.integers(1, 8), stride=st.integers(1, 5), padding=st.integers(0, 4),
       n=st.integers(1, 3))
def test_conv1d_output_length_formula(length, k, stride, padding, n):
    x, w = np.ones((n, 2, length)), np.ones((3, 2, k))
    if k > length + 2 * padding:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_f.conv1d_forward(x, w, None, stride, padding)
        return
    out, _ = conv_f.conv1d_forward(x, w, None, stride, padding)
    assert out.shape == (n, 3, (length + 2 * padding - k) // stride + 1)
    # the output positions are exactly the window starts 0, S, 2S, ... that fit in the padded input
    assert out.shape[2] == len(range(0, length + 2 * padding - k + 1, stride))


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2))
def test_conv2d_and_pool_output_shape_formula(h, w, kh, kw, sh, sw, ph, pw):
    x = np.ones((1, 1, h, w))
    if kh <= h + 2 * ph and kw <= w + 2 * pw:
        out, _ = conv_f.conv2d_forward(x, np.ones((2, 1, kh, kw)), None, (sh, sw), (ph, pw))
        assert out.shape == (1, 2, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
    if kh <= h and kw <= w:
        pooled, _ = pool_f.max_pool2d_forward(x, (kh, kw), (sh, sw))
        assert pooled.shape == (1, 1, (h - kh) // sh + 1, (w - kw) // sw + 1)


# ---------------------------------------------------------------------- modules


def test_conv_module_parameters_shapes_and_init(backend):
    layer = Conv1d(3, 8, 5)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (8, 3, 5) and layer.bias.shape == (8,)
    bound = 1 / np.sqrt(3 * 5)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C * K
    for p in layer.parameters():
        values = to_numpy(p.data)
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.5 * bound
    layer2 = Conv2d(2, 4, (3, 2), bias=False)
    assert layer2.weight.shape == (4, 2, 3, 2) and layer2.bias is None and len(layer2.parameters()) == 1
    assert np.all(np.abs(to_numpy(layer2.weight.data)) <= 1 / np.sqrt(2 * 3 * 2))
    assert layer(Tensor(backend.randn((4, 3, 40)))).shape == (4, 8, 36)
    assert Conv1d(1, 32, 5, padding=2)(Tensor(backend.randn((1, 1, 40)))).shape == (1, 32, 40)
    assert Conv2d(2, 4, 3, stride=2, padding=1)(Tensor(backend.randn((2, 2, 8, 7)))).shape == (2, 4, 4, 4)
    assert MaxPool1d(2)(Tensor(backend.randn((2, 3, 9)))).shape == (2, 3, 4)
    assert AvgPool2d(2, stride=1)(Tensor(backend.randn((2, 3, 4, 5)))).shape == (2, 3, 3, 4)
    assert GlobalAvgPool1d()(Tensor(backend.randn((2, 3, 9)))).shape == (2, 3)


def test_module_output_matches_functional(backend):
    layer = Conv1d(2, 3, 3, stride=2, padding=1)
    x = np.random.default_rng(19).standard_normal((2, 2, 9))
    got = to_numpy(layer(Tensor(backend.asarray(x))).data)
    w, b = to_numpy(layer.weight.data).astype(float), to_numpy(layer.bias.data).astype(float)
    np.testing.assert_allclose(got, naive_conv1d(x, w, b, 2, 1), rtol=1e-4, atol=1e-5)


def test_reprs():
    assert repr(Conv1d(3, 8, 5)) == "Conv1d(in_channels=3, out_channels=8, kernel_size=5)"
    assert repr(Conv1d(3, 8, 5, stride=2, padding=1, bias=False)) == (
        "Conv1d(in_channels=3, out_channels=8, kernel_size=5, stride=2, padding=1, bias=False)")
    assert repr(Conv2d(1, 4, 3, padding=1)) == (
        "Conv2d(in_channels=1, out_channels=4, kernel_size=(3, 3), padding=(1, 1))")
    assert repr(MaxPool1d(2)) == "MaxPool1d(kernel_size=2, stride=2)"
    assert repr(AvgPool2d(3, stride=(1, 2))) == "AvgPool2d(kernel_size=(3, 3), stride=(1, 2))"


# ---------------------------------------------------------------------- errors


def test_conv1d_wrong_channels_or_rank_names_the_layer(backend):
    layer = Conv1d(3, 8, 5)
    expected = (r"Conv1d\(in_channels=3, out_channels=8, kernel_size=5\): "
                r"input has shape \(4, 2, 40\); expected \(N, 3, L\)")
    with pytest.raises(ValueError, match=expected):
        layer(Tensor(backend.randn((4, 2, 40))))
    with pytest.raises(ValueError, match=r"Conv1d\(.*\): input has shape \(4, 40\); expected \(N, 3, L\)"):
        layer(Tensor(backend.randn((4, 40))))
    with pytest.raises(ValueError, match=r"Conv2d\(.*\): input has shape \(4, 3, 40\); expected \(N, 3, H, W\)"):
        Conv2d(3, 8, 3)(Tensor(backend.randn((4, 3, 40))))
    with pytest.raises(ValueError, match=r"MaxPool2d\(.*\): input has shape \(2, 3, 8\); expected \(N, C, H, W\)"):
        MaxPool2d(2)(Tensor(backend.randn((2, 3, 8))))
    with pytest.raises(ValueError, match=r"GlobalAvgPool1d\(\): input has shape \(2, 3, 4, 4\)"):
        GlobalAvgPool1d()(Tensor(backend.randn((2, 3, 4, 4))))


def test_kernel_larger_than_padded_input_says_so(backend):
    with pytest.raises(ValueError, match=r"Conv1d\(.*kernel_size=5.*\): kernel_size=5 is larger than the padded "
                                         r"input: length 3 \+ 2 \* padding 0 = 3"):
        Conv1d(1, 2, 5)(Tensor(backend.randn((2, 1, 3))))
    with pytest.raises(ValueError, match=r"Conv1d\(.*\): kernel_size=3 \(spanning 5 positions with dilation=2\) "
                                         r"is larger than the padded input: length 2 \+ 2 \* padding 1 = 4"):
        Conv1d(1, 2, 3, padding=1, dilation=2)(Tensor(backend.randn((2, 1, 2))))
    with pytest.raises(ValueError, match=r"Conv2d\(.*\) \(width\): kernel_size=4 is larger than the padded input"):
        Conv2d(1, 2, (2, 4))(Tensor(backend.randn((1, 1, 5, 3))))
    with pytest.raises(ValueError, match=r"MaxPool1d\(kernel_size=4, stride=4\): kernel_size=4 is larger"):
        MaxPool1d(4)(Tensor(backend.randn((1, 1, 3))))
    with pytest.raises(ValueError, match="max_pool1d: kernel_size=4 is larger than the padded input"):
        pool_f.max_pool1d_forward(backend.randn((1, 1, 3)), 4)
    with pytest.raises(ValueError, match=r"conv2d \(height\): kernel_size=3 is larger"):
        conv_f.conv2d_forward(backend.randn((1, 1, 2, 5)), backend.randn((1, 1, 3, 3)), None)


def test_functional_shape_errors_name_the_function(backend):
    x, w = backend.randn((2, 3, 10)), backend.randn((4, 2, 3))
    with pytest.raises(ValueError, match=r"conv1d: input has shape \(2, 3, 10\) but weight has shape \(4, 2, 3\)"):
        conv_f.conv1d_forward(x, w, None)
    with pytest.raises(ValueError, match=r"conv1d: bias has shape \(3,\); expected \(4,\)"):
        conv_f.conv1d_forward(backend.randn((2, 2, 10)), w, backend.randn((3,)))
    with pytest.raises(ValueError, match=r"conv2d: weight has shape \(4, 2, 3\)"):
        conv_f.conv2d_forward(backend.randn((2, 2, 5, 5)), w, None)
    with pytest.raises(ValueError, match="conv1d: stride must be an int >= 1, got 0"):
        conv_f.conv1d_forward(backend.randn((2, 2, 10)), w, None, stride=0)
    with pytest.raises(ValueError, match=r"conv1d: input has shape \(2, 2, 10\)"):  # through the op too
        conv_ops.conv1d(Tensor(backend.randn((2, 2, 10))), Tensor(backend.randn((4, 3, 3))))


def test_remembered_sizes_still_check_every_call():
    """conv_output_size keeps the sizes it has checked; a remembered size must not let a bad argument
    through (2.0 equals 2 as a dictionary key), and each error must still name its own caller."""
    assert conv_f.conv_output_size(10, 2, 2) == 5  # now remembered
    with pytest.raises(ValueError, match="first: kernel_size must be an int >= 1, got 2.0"):
        conv_f.conv_output_size(10, 2.0, 2, where="first")
    with pytest.raises(ValueError, match="first: stride must be an int >= 1, got 2.0"):
        conv_f.conv_output_size(10, 2, 2.0, where="first")
    for where in ("first", "second"):  # the same bad geometry twice: both errors name their caller
        with pytest.raises(ValueError, match=f"{where} \\(width\\): kernel_size=4 is larger"):
            conv_f.conv_output_size(3, 4, where=where, axis="width")
    with pytest.raises(ValueError, match=r"list: kernel_size must be an int >= 1, got \[2\]"):  # not a cache key
        conv_f.conv_output_size(10, [2], where="list")


def test_col2im_of_one_geometry_after_another(backend):
    """The slices col2im uses are worked out once per geometry: two geometries in turn, each checked
    against its adjoint property <im2col(x), c> = <x, col2im(c)>."""
    for _ in range(2):
        for shape, k, stride, padding in (((2, 3, 9), 3, 1, 1), ((2, 3, 9), 3, 2, 0), ((1, 2, 6), 5, 1, 2)):
            x, n = backend.randn(shape), shape[0]
            cols = conv_f.im2col_1d(x, k, stride, padding)
            c = backend.randn(tuple(cols.shape))
            back = conv_f.col2im_1d(c, shape, k, stride, padding)
            assert float(to_numpy(backend.xp.sum(cols * c))) == pytest.approx(float(to_numpy(backend.xp.sum(x * back))),
                                                                              rel=1e-4), (shape, k, stride, padding, n)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"Conv1d\(.*\): kernel_size must be a positive int, got 0"):
        Conv1d(1, 2, 0)
    with pytest.raises(ValueError, match=r"Conv1d\(.*\): padding must be an int >= 0, got -1"):
        Conv1d(1, 2, 3, padding=-1)
    with pytest.raises(ValueError, match=r"Conv2d\(.*\): kernel_size must be an int or a pair of ints"):
        Conv2d(1, 2, (3, 3, 3))
    with pytest.raises(ValueError, match=r"MaxPool1d\(.*\): stride must be a positive int, got 0"):
        MaxPool1d(2, stride=0)


# ---------------------------------------------------------------------- PyTorch, when installed


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(20)
    x, w, b = rng.standard_normal((3, 2, 17)), rng.standard_normal((4, 2, 3)), rng.standard_normal(4)
    ours, _ = conv_f.conv1d_forward(x, w, b, 2, 1, 2)
    theirs = functional.conv1d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1, dilation=2)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10)
    x2, w2 = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 3, 2))
    ours2, _ = conv_f.conv2d_forward(x2, w2, None, (2, 1), (1, 0))
    theirs2 = functional.conv2d(torch.tensor(x2), torch.tensor(w2), stride=(2, 1), padding=(1, 0))
    np.testing.assert_allclose(ours2, theirs2.numpy(), rtol=1e-10)
    ours3, _ = pool_f.max_pool2d_forward(x2, (2, 3), (1, 2))
    np.testing.assert_allclose(ours3, functional.max_pool2d(torch.tensor(x2), (2, 3), (1, 2)).numpy())
    ours4, _ = pool_f.max_pool1d_forward(x, 3, 2)
    np.testing.assert_allclose(ours4, functional.max_pool1d(torch.tensor(x), 3, 2).numpy())
    ours5, _ = pool_f.avg_pool1d_forward(x, 3, 2)
    np.testing.assert_allclose(ours5, functional.avg_pool1d(torch.tensor(x), 3, 2).numpy(), rtol=1e-12)
