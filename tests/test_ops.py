"""The ops' forward values (against NumPy, SciPy and scikit-learn), their errors, and dtypes.

Gradients are checked in test_gradcheck.py; here every op is run on each backend and its output
compared with an independent computation on the host.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

import coursepkg as cp
from coursepkg import ops
from coursepkg.backend import Backend, dtype_name
from coursepkg.tensor import Tensor

RNG = np.random.default_rng(1234)
A34 = RNG.standard_normal((3, 4))
B4 = RNG.standard_normal(4)
C31 = RNG.standard_normal((3, 1))
POS34 = RNG.uniform(0.5, 2.0, (3, 4))
SIGNED34 = RNG.choice([-1.0, 1.0], (3, 4)) * RNG.uniform(0.2, 2.0, (3, 4))


def t(backend: Backend, host: np.ndarray, requires_grad: bool = False) -> Tensor:
    return Tensor(backend.asarray(host), requires_grad=requires_grad)


def host(x: Tensor) -> np.ndarray:
    return cp.to_numpy(x)


def close(got: Tensor, expected: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    got_host = host(got)
    assert got_host.shape == np.shape(expected), f"shape {got_host.shape}, expected {np.shape(expected)}"
    np.testing.assert_allclose(got_host, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- forward values
@pytest.mark.parametrize("name, expected", [
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide),
])
@pytest.mark.parametrize("left, right", [(A34, B4), (C31, B4), (B4[:1], A34), (A34, np.array(2.5))],
                         ids=["(3,4)+(4,)", "(3,1)+(4,)", "(1,)+(3,4)", "(3,4)+()"])
def test_broadcasting_arithmetic_matches_numpy(backend64, name, expected, left, right):
    right = right if name != "div" else np.asarray(np.abs(right) + 0.5)
    out = getattr(ops, name)(t(backend64, left), t(backend64, right))
    close(out, expected(left, right), rtol=1e-12)


def test_operators_and_python_numbers(backend64):
    x = t(backend64, POS34)
    close(x + 1.5, POS34 + 1.5)
    close(1.5 + x, POS34 + 1.5)
    close(x - 2, POS34 - 2)
    close(2 - x, 2 - POS34)
    close(x * 3, POS34 * 3)
    close(3 * x, POS34 * 3)
    close(x / 4, POS34 / 4)
    close(4 / x, 4 / POS34)
    close(-x, -POS34)
    close(x**2, POS34**2)
    close(x**0.5, np.sqrt(POS34))
    close(ops.power(x, -1.5), POS34**-1.5)


def test_matmul_matches_numpy_including_batches(backend64):
    a3 = RNG.standard_normal((2, 3, 4))
    b2 = RNG.standard_normal((4, 5))
    b3 = RNG.standard_normal((1, 4, 5))
    close(ops.matmul(t(backend64, A34), t(backend64, b2)), A34 @ b2, rtol=1e-12)
    close(t(backend64, a3) @ t(backend64, b2), a3 @ b2, rtol=1e-12)
    close(t(backend64, a3) @ t(backend64, b3), a3 @ b3, rtol=1e-12)


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (2, 1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(backend64, name, axis, keepdims):
    x = RNG.standard_normal((2, 3, 4))
    out = getattr(ops, name)(t(backend64, x), axis=axis, keepdims=keepdims)
    close(out, getattr(np, name)(x, axis=axis, keepdims=keepdims), rtol=1e-12)


def test_max_splits_the_gradient_between_ties(backend):
    x = t(backend, np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(host(Tensor(x.grad)), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    y = t(backend, np.full((2, 2), 7.0), requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(host(Tensor(y.grad)), np.full((2, 2), 0.25))


def test_shape_ops_match_numpy(backend64):
    x = RNG.standard_normal((2, 3, 4))
    close(ops.reshape(t(backend64, x), (4, -1)), x.reshape(4, -1))
    close(t(backend64, x).reshape(6, 4), x.reshape(6, 4))
    close(ops.transpose(t(backend64, x)), x.transpose())
    close(ops.transpose(t(backend64, x), (1, 0, 2)), x.transpose(1, 0, 2))
    close(t(backend64, x).T, x.T)
    close(t(backend64, x).transpose(2, 0, 1), x.transpose(2, 0, 1))
    for index in [0, -1, (0,), (1, 2), (slice(None), 0), (Ellipsis, 1), (None, 0, Ellipsis),
                  (slice(None, None, -1), slice(1, 3), None), (0, 1, 2), (Ellipsis, None)]:
        close(t(backend64, x)[index], x[index])
    pieces = [RNG.standard_normal((2, k, 4)) for k in (1, 3)]
    close(ops.concat([t(backend64, p) for p in pieces], axis=1), np.concatenate(pieces, axis=1))
    close(ops.concat([t(backend64, p) for p in pieces], axis=-2), np.concatenate(pieces, axis=1))


def test_take_with_negative_indices(backend64):
    """-1 is the last row, in the forward pass and in the gradient."""
    table = RNG.standard_normal((4, 2))
    x = t(backend64, table, requires_grad=True)
    out = ops.take(x, np.array([-1, 0, 3]))
    close(out, table[[-1, 0, 3]])
    out.sum().backward()
    np.testing.assert_array_equal(host(Tensor(x.grad)), [[1, 1], [0, 0], [0, 0], [2, 2]])


def test_take_picks_rows_and_sums_gradients_of_repeats(backend64):
    table = RNG.standard_normal((5, 3))
    indices = np.array([[4, 0], [4, 4]])
    x = t(backend64, table, requires_grad=True)
    out = ops.take(x, indices)
    close(out, table[indices])
    out.sum().backward()
    counts = np.bincount(indices.ravel(), minlength=5).astype(float)
    np.testing.assert_array_equal(host(Tensor(x.grad)), np.repeat(counts[:, None], 3, axis=1))


def test_elementwise_functions_match_scipy(backend64):
    x = RNG.standard_normal((3, 4)) * 3
    tx = t(backend64, x)
    close(ops.exp(tx), np.exp(x), rtol=1e-12)
    close(ops.log(t(backend64, POS34)), np.log(POS34), rtol=1e-12)
    close(ops.sqrt(t(backend64, POS34)), np.sqrt(POS34), rtol=1e-12)
    close(ops.tanh(tx), np.tanh(x), rtol=1e-12)
    close(ops.sigmoid(tx), special.expit(x), rtol=1e-12)
    close(ops.relu(tx), np.maximum(x, 0))
    close(ops.leaky_relu(tx), np.where(x > 0, x, 0.01 * x))
    close(ops.leaky_relu(tx, 0.2), np.where(x > 0, x, 0.2 * x))
    tanh_gelu = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    close(ops.gelu(tx), tanh_gelu, rtol=1e-12)
    close(ops.gelu(tx), x * special.ndtr(x), rtol=0, atol=1e-3)  # the exact GELU, x * Phi(x)
    close(ops.softmax(tx), special.softmax(x, axis=-1), rtol=1e-12)
    close(ops.softmax(tx, axis=0), special.softmax(x, axis=0), rtol=1e-12)
    close(ops.log_softmax(tx, axis=0), special.log_softmax(x, axis=0), rtol=1e-12)
    close(ops.log_softmax(tx), special.log_softmax(x, axis=-1), rtol=1e-12)


def test_losses_match_scikit_learn(backend64):
    logits = RNG.standard_normal((6, 4)) * 2
    labels = np.array([0, 3, 1, 1, 2, 0])
    expected = log_loss(labels, special.softmax(logits, axis=1), labels=[0, 1, 2, 3])
    assert ops.cross_entropy(t(backend64, logits), backend64.asarray(labels)).item() == pytest.approx(expected)

    z = RNG.standard_normal(8) * 3
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=float)
    loss = ops.binary_cross_entropy_with_logits(t(backend64, z), t(backend64, y))
    assert loss.item() == pytest.approx(log_loss(y, special.expit(z)))

    soft = RNG.uniform(0, 1, 8)  # soft targets: -t log p - (1 - t) log(1 - p)
    p = special.expit(z)
    loss = ops.binary_cross_entropy_with_logits(t(backend64, z), t(backend64, soft))
    assert loss.item() == pytest.approx(np.mean(-soft * np.log(p) - (1 - soft) * np.log(1 - p)))

    pred, target = RNG.standard_normal((5, 2)), RNG.standard_normal((5, 2))
    assert ops.mse_loss(t(backend64, pred), t(backend64, target)).item() == pytest.approx(
        mean_squared_error(target, pred))
    assert ops.mae_loss(t(backend64, pred), t(backend64, target)).item() == pytest.approx(
        mean_absolute_error(target, pred))
    assert ops.mse_loss(t(backend64, pred), pred.tolist()).item() == 0.0  # targets as a list


def test_losses_return_0d_tensors(backend):
    z = t(backend, A34)
    assert ops.cross_entropy(z, backend.asarray(np.array([0, 1, 2]))).shape == ()
    assert ops.binary_cross_entropy_with_logits(z, t(backend, np.ones((3, 4)))).shape == ()
    assert ops.mse_loss(z, t(backend, A34)).shape == ()
    assert ops.mae_loss(z, t(backend, A34)).shape == ()


def test_linear_matches_numpy(backend64):
    x, w, b = RNG.standard_normal((5, 3)), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    close(ops.linear(t(backend64, x), t(backend64, w), t(backend64, b)), x @ w + b, rtol=1e-12)
    close(ops.linear(t(backend64, x), t(backend64, w)), x @ w, rtol=1e-12)
    close(ops.linear(t(backend64, x[:1]), t(backend64, w), t(backend64, b)), x[:1] @ w + b, rtol=1e-12)


# ---------------------------------------------------------------------- stability
def test_cross_entropy_and_bce_with_huge_logits_are_finite_and_right(backend64):
    logits = np.array([[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    labels = np.array([0, 1, 2])
    z = t(backend64, logits, requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = ops.cross_entropy(z, backend64.asarray(labels))
        loss.backward()
    # label 0 on row 0: -log(1/(1 + e^-1000 + e^-2000)) = 0; label 1 on row 1: 2000; row 2: 0
    assert loss.item() == pytest.approx(2000.0 / 3)
    grad = host(Tensor(z.grad))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [[0, 0, 0], [1 / 3, -1 / 3, 0], [0, 0, 0]], atol=1e-12)

    zb = t(backend64, np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    targets = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        bce = ops.binary_cross_entropy_with_logits(zb, t(backend64, targets))
        bce.backward()
    assert bce.item() == pytest.approx((0 + 0 + 1000 + 1000) / 4)
    np.testing.assert_allclose(host(Tensor(zb.grad)), [0, 0, 0.25, -0.25], atol=1e-12)


def test_sigmoid_of_huge_inputs(backend):
    x = t(backend, np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = ops.sigmoid(x)
        y.sum().backward()
    np.testing.assert_allclose(host(y), special.expit(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])),
                               rtol=1e-6, atol=0)
    assert np.all(np.isfinite(host(Tensor(x.grad))))
    assert host(Tensor(x.grad))[2] == pytest.approx(0.25)


def test_softmax_of_huge_logits(backend):
    x = t(backend, np.array([[1000.0, 999.0, -1000.0]]))
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        probs = host(ops.softmax(x))
        logp = host(ops.log_softmax(x))
    np.testing.assert_allclose(probs, special.softmax([[1000.0, 999.0, -1000.0]], axis=1), rtol=1e-6)
    np.testing.assert_allclose(logp[0, :2], special.log_softmax([1000.0, 999.0, -1000.0])[:2], rtol=1e-6)
    assert np.all(np.isfinite(logp))


# ---------------------------------------------------------------------- errors
def test_matmul_shape_mismatch_names_both_shapes(backend):
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        ops.matmul(t(backend, A34), t(backend, np.ones((5, 2))))
    with pytest.raises(ValueError, match=r"matmul.*\(4,\)"):
        t(backend, A34) @ t(backend, B4)


def test_cross_entropy_rejects_bad_labels(backend):
    logits = t(backend, A34, requires_grad=True)
    with pytest.raises(ValueError, match=r"cross_entropy.*\(3, 4\).*\(3, 1\)"):
        ops.cross_entropy(logits, backend.asarray(np.array([[0], [1], [2]])))
    with pytest.raises(ValueError, match=r"cross_entropy.*\(3, 4\).*\(4,\)"):
        ops.cross_entropy(logits, backend.asarray(np.array([0, 1, 2, 3])))
    with pytest.raises(TypeError, match=r"cross_entropy.*integer"):
        ops.cross_entropy(logits, backend.asarray(np.array([0.0, 1.0, 2.0])))
    with pytest.raises(ValueError, match=r"cross_entropy.*\(4,\)"):
        ops.cross_entropy(t(backend, B4), backend.asarray(np.array([0])))


@pytest.mark.parametrize("loss", [ops.mse_loss, ops.mae_loss, ops.binary_cross_entropy_with_logits])
def test_elementwise_losses_reject_mismatched_shapes(backend, loss):
    """(3, 1) against (3,) would silently broadcast to (3, 3): it must be an error instead."""
    name = loss.__name__
    with pytest.raises(ValueError, match=rf"{name}.*\(3, 1\).*\(3,\)"):
        loss(t(backend, C31), t(backend, np.ones(3)))


def test_other_op_errors(backend):
    x = t(backend, A34)
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\).*\(5, 2\)"):
        x.reshape(5, 2)
    with pytest.raises(TypeError, match="take"):
        x[backend.asarray(np.array([0, 1]))]
    with pytest.raises(TypeError, match="take"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="exponent"):
        ops.power(x, x)


def test_mixing_backends_is_an_error():
    on_numpy = Tensor(np.ones(3, dtype=np.float32))
    strict = Backend("array_api_strict", device="device1")
    on_strict = Tensor(strict.asarray(np.ones(3)))
    with pytest.raises(TypeError, match=r"Add.*numpy.*array_api_strict"):
        on_numpy + on_strict


# ---------------------------------------------------------------------- dtypes
def _labels():
    return cp.get_backend().asarray(np.array([0, 3, 1]))


CASES = {
    "add": (ops.add, [A34, B4]), "sub": (ops.sub, [C31, B4]), "mul": (ops.mul, [A34, C31]),
    "div": (ops.div, [A34, POS34]), "neg": (ops.neg, [A34]),
    "add_number": (lambda x: 2.5 + x, [A34]), "rsub_number": (lambda x: 1 - x, [A34]),
    "mul_number": (lambda x: x * 0.5, [A34]), "rdiv_number": (lambda x: 2 / x, [POS34]),
    "power": (lambda x: x**2, [A34]), "power_half": (lambda x: ops.power(x, 0.5), [POS34]),
    "matmul": (ops.matmul, [A34, A34.T]), "sum": (lambda x: x.sum(axis=0), [A34]),
    "sum_all": (ops.sum, [A34]), "mean": (lambda x: x.mean(axis=(0, 1), keepdims=True), [A34]),
    "mean_all": (ops.mean, [A34]), "max": (lambda x: x.max(axis=1), [A34]), "max_all": (ops.max, [A34]),
    "reshape": (lambda x: x.reshape(2, 6), [A34]), "transpose": (lambda x: x.T, [A34]),
    "getitem": (lambda x: x[1:, None, 0], [A34]), "take": (lambda x: ops.take(x, _labels()), [A34.T]),
    "concat": (lambda x, y: ops.concat([x, y], axis=0), [A34, A34[:1]]),
    "exp": (ops.exp, [A34]), "log": (ops.log, [POS34]), "sqrt": (ops.sqrt, [POS34]),
    "tanh": (ops.tanh, [A34]), "sigmoid": (ops.sigmoid, [A34]), "relu": (ops.relu, [SIGNED34]),
    "leaky_relu": (ops.leaky_relu, [SIGNED34]), "gelu": (ops.gelu, [A34]),
    "softmax": (ops.softmax, [A34]), "log_softmax": (lambda x: ops.log_softmax(x, axis=0), [A34]),
    "cross_entropy": (lambda z: ops.cross_entropy(z, _labels()), [A34]),
    "bce": (ops.binary_cross_entropy_with_logits, [A34, POS34 / 2]),
    "mse": (ops.mse_loss, [A34, POS34]), "mae": (ops.mae_loss, [A34, POS34]),
    "linear": (ops.linear, [A34, POS34.T, B4[:3]]), "linear_no_bias": (ops.linear, [A34, POS34.T]),
}


def _run_case(backend: Backend, name: str) -> tuple[Tensor, list[Tensor]]:
    fn, arrays = CASES[name]
    inputs = [Tensor(backend.asarray(a), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    out.sum().backward()
    return out, inputs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_keeps_the_dtype_of_its_inputs_on_numpy(name, dtype):
    """float32 in, float32 out and float32 gradients (no silent upcasting); float64 stays float64."""
    out, inputs = _run_case(cp.set_backend("numpy", dtype=dtype), name)
    assert dtype_name(out.dtype) == dtype, f"{name}: output is {out.dtype}"
    for i, x in enumerate(inputs):
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert dtype_name(x.grad.dtype) == dtype, f"{name}: gradient of input {i} is {x.grad.dtype}"
        assert tuple(x.grad.shape) == x.shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_stays_float32_and_on_its_device_on_strict(name):
    """The same on array_api_strict (device1): any hidden host transfer or NumPy-only call raises."""
    backend = cp.set_backend("array_api_strict", device="device1")
    out, inputs = _run_case(backend, name)
    assert out.dtype == backend.xp.float32
    assert out.data.device == backend.device
    for x in inputs:
        assert x.grad.dtype == backend.xp.float32
        assert x.grad.device == backend.device


@pytest.mark.parametrize("loss", [ops.mse_loss, ops.mae_loss, ops.binary_cross_entropy_with_logits])
def test_float64_numpy_targets_do_not_upcast_a_float32_model(loss):
    """Targets straight from scikit-learn are float64 NumPy arrays; the loss stays float32."""
    predictions = Tensor(np.array([0.2, 0.7, -0.1], dtype=np.float32), requires_grad=True)
    targets = np.array([0.0, 1.0, 1.0])  # float64
    out = loss(predictions, targets)
    out.backward()
    assert out.dtype == np.float32
    assert predictions.grad.dtype == np.float32


@pytest.mark.parametrize("loss", [ops.mse_loss, ops.mae_loss, ops.binary_cross_entropy_with_logits])
def test_integer_targets_work_and_stay_float32(backend, loss):
    """0/1 labels as an int array (what scikit-learn's datasets give) work on every backend."""
    predictions = Tensor(backend.asarray(np.array([0.2, 0.7, -0.1])), requires_grad=True)
    targets = backend.asarray(np.array([0, 1, 1]))
    out = loss(predictions, targets)
    out.backward()
    assert out.dtype == backend.xp.float32 and predictions.grad.dtype == backend.xp.float32
    expected = loss(predictions, Tensor(backend.asarray(np.array([0.0, 1.0, 1.0]))))
    assert out.item() == pytest.approx(expected.item())


def test_numbers_and_float64_arrays_take_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert (x * 0.1).dtype == np.float32
    assert (x + np.ones(3)).dtype == np.float32
    assert (np.ones(3) - x).dtype == np.float32
