"""The forward/backward pairs of ``coursepkg.functional``, on raw backend arrays.

Each ``*_backward`` is compared with central differences of its own ``*_forward``, with a
random upstream gradient ``dout`` (so every output element matters), in float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from scipy import special

from coursepkg import functional as F  # noqa: N812  (PyTorch's name for it)
from coursepkg.backend import to_numpy
from coursepkg.gradcheck import numerical_gradient, relative_error

FEW = settings(max_examples=8, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPES = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
SEEDS = st.integers(0, 2**31 - 1)
TOLERANCE = 1e-5  # elementwise relative error; see assert_gradients_ok in test_gradcheck.py


def check_pair(backend, forward, backward, inputs, checked=None, h=1e-6, **options):
    """Compare backward(dout, cache) with numerical gradients of sum(forward(*inputs) * dout).

    Inputs:
    - inputs: host arrays; float ones become float64 backend arrays, int ones (labels) stay ints.
    - checked: positions of the inputs whose gradient backward returns (default: all).
    - h: the finite-difference step.
    Returns: the gradients from backward, as NumPy arrays.
    """
    xp = backend.xp
    arrays = [backend.asarray(a) for a in inputs]
    out, cache = forward(*arrays, **options)
    dout = backend.asarray(np.random.default_rng(7).standard_normal(tuple(out.shape)))
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    checked = list(range(len(inputs))) if checked is None else checked
    assert len(grads) == len(checked), f"backward returned {len(grads)} gradients, expected {len(checked)}"
    for position, grad in zip(checked, grads):
        x = arrays[position]
        assert tuple(grad.shape) == tuple(x.shape), f"input {position}: gradient shape {grad.shape} != {x.shape}"
        numeric = numerical_gradient(lambda: xp.sum(forward(*arrays, **options)[0] * dout), x, h=h)
        error = relative_error(grad, numeric)
        assert error < TOLERANCE, f"input {position}: relative error {error:.2e}"
    return [to_numpy(g) for g in grads]


def signed(seed: int, shape: tuple[int, ...], low: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, 2.0, size=shape)


# ---------------------------------------------------------------------- activations
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_smooth_activation_pairs(backend64, name, shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    check_pair(backend64, getattr(F, f"{name}_forward"), getattr(F, f"{name}_backward"), [x])


@FEW
@given(shape=SHAPES, seed=SEEDS, slope=st.sampled_from([0.01, 0.2]))
def test_relu_and_leaky_relu_pairs(backend64, shape, seed, slope):
    x = signed(seed, shape)  # |x| >= 0.2: a step of 1e-4 never crosses the kink, and (the function being
    # linear on each side) it has no truncation error and 100x less round-off than 1e-6. With 1e-6, a
    # slope of 0.01 times a small dout left a gradient so small that round-off alone gave 1.5e-5.
    check_pair(backend64, F.relu_forward, F.relu_backward, [x], h=1e-4)
    check_pair(backend64, F.leaky_relu_forward, F.leaky_relu_backward, [x], h=1e-4, slope=slope)


def test_relu_gradient_is_zero_at_zero_and_below(backend64):
    x = backend64.asarray(np.array([-1.0, 0.0, 2.0]))
    out, cache = F.relu_forward(x)
    np.testing.assert_array_equal(to_numpy(out), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(to_numpy(F.relu_backward(backend64.asarray(np.ones(3)), cache)), [0, 0, 1])
    out, cache = F.leaky_relu_forward(x, slope=0.1)
    np.testing.assert_allclose(to_numpy(out), [-0.1, 0.0, 2.0])
    np.testing.assert_allclose(to_numpy(F.leaky_relu_backward(backend64.asarray(np.ones(3)), cache)), [0.1, 0.1, 1])


def test_sigmoid_of_plus_minus_1000_is_exact_and_silent(backend):
    x = backend.asarray(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, cache = F.sigmoid_forward(x)
        dx = F.sigmoid_backward(backend.asarray(np.ones(5)), cache)
    expected = special.expit(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=np.float32))
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-6, atol=0)
    assert to_numpy(out)[0] == 0.0 and to_numpy(out)[-1] == 1.0
    assert np.all(np.isfinite(to_numpy(dx)))


# ---------------------------------------------------------------------- linear
@FEW
@given(n=st.integers(1, 5), d=st.integers(1, 4), m=st.integers(1, 4), seed=SEEDS)
def test_linear_pair(backend64, n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m)
    check_pair(backend64, F.linear_forward, F.linear_backward, [x, w, b])


def test_linear_pair_without_bias(backend64):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    xa, wa = backend64.asarray(x), backend64.asarray(w)
    out, cache = F.linear_forward(xa, wa, None)
    np.testing.assert_allclose(to_numpy(out), x @ w, rtol=1e-12)
    dx, dw, db = F.linear_backward(backend64.asarray(np.ones((4, 2))), cache)
    assert db is None
    np.testing.assert_allclose(to_numpy(dx), np.ones((4, 2)) @ w.T, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(dw), x.T @ np.ones((4, 2)), rtol=1e-12)


def test_linear_forward_leaves_its_inputs_alone(backend64):
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.arange(4.0)
    xa, wa, ba = backend64.asarray(x), backend64.asarray(w), backend64.asarray(b)
    out, _ = F.linear_forward(xa, wa, ba)
    np.testing.assert_array_equal(to_numpy(out), x @ w + b)
    for before, after in [(x, xa), (w, wa), (b, ba)]:
        np.testing.assert_array_equal(to_numpy(after), before)


# ---------------------------------------------------------------------- losses
@FEW
@given(n=st.integers(1, 5), classes=st.integers(2, 5), seed=SEEDS)
def test_softmax_cross_entropy_pair(backend64, n, classes, seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.standard_normal((n, classes)), rng.integers(0, classes, size=n)
    check_pair(backend64, F.softmax_cross_entropy_forward, F.softmax_cross_entropy_backward,
               [logits, labels], checked=[0])


@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_bce_with_logits_pair(backend64, shape, seed):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape)
    check_pair(backend64, F.bce_with_logits_forward, F.bce_with_logits_backward, [logits, targets], checked=[0])


@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_mse_and_mae_pairs(backend64, shape, seed):
    rng = np.random.default_rng(seed)
    predictions = rng.standard_normal(shape)
    targets = predictions + signed(seed, shape)  # no ties: |x| has a kink at 0
    check_pair(backend64, F.mse_forward, F.mse_backward, [predictions, targets], checked=[0])
    check_pair(backend64, F.mae_forward, F.mae_backward, [predictions, targets], checked=[0])


def test_loss_values_against_direct_formulas(backend64):
    rng = np.random.default_rng(11)
    logits, labels = rng.standard_normal((4, 3)), np.array([2, 0, 0, 1])
    loss, _ = F.softmax_cross_entropy_forward(backend64.asarray(logits), backend64.asarray(labels))
    expected = -np.mean(special.log_softmax(logits, axis=1)[np.arange(4), labels])
    assert float(to_numpy(loss)) == pytest.approx(expected, rel=1e-12)
    assert tuple(loss.shape) == ()

    z, t = rng.standard_normal(6) * 4, rng.uniform(0, 1, 6)
    loss, _ = F.bce_with_logits_forward(backend64.asarray(z), backend64.asarray(t))
    p = special.expit(z)
    assert float(to_numpy(loss)) == pytest.approx(np.mean(-t * np.log(p) - (1 - t) * np.log1p(-p)), rel=1e-10)


def test_losses_with_logits_of_magnitude_1000(backend):
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        logits = backend.asarray(np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]]))
        labels = backend.asarray(np.array([1, 1, 0]))
        loss, cache = F.softmax_cross_entropy_forward(logits, labels)
        dlogits = F.softmax_cross_entropy_backward(backend.asarray(np.array(1.0)), cache)
        z = backend.asarray(np.array([1000.0, -1000.0, -1000.0]))
        t = backend.asarray(np.array([0.0, 1.0, 0.0]))
        bce, bce_cache = F.bce_with_logits_forward(z, t)
        dz = F.bce_with_logits_backward(backend.asarray(np.array(1.0)), bce_cache)
    # row 0: label 1 is 2000 below the max -> 2000; row 1: 0; row 2: a tie -> log 2
    assert float(to_numpy(loss)) == pytest.approx((2000 + 0 + np.log(2)) / 3, rel=1e-6)
    np.testing.assert_allclose(to_numpy(dlogits), [[1 / 3, -1 / 3], [0, 0], [-1 / 6, 1 / 6]], atol=1e-7)
    assert float(to_numpy(bce)) == pytest.approx((1000 + 1000 + 0) / 3, rel=1e-6)
    np.testing.assert_allclose(to_numpy(dz), [1 / 3, -1 / 3, 0], atol=1e-7)


@pytest.mark.parametrize("classes", [1, 10, 513, 1025])  # 513, 1025: above the cached identities, the comparison path
def test_one_hot_rows(backend, classes):
    rng = np.random.default_rng(classes)
    labels = rng.integers(0, classes, size=7)
    for dtype_name in ("float32", "float64"):
        dtype = getattr(backend.xp, dtype_name)
        out = F.one_hot(backend.asarray(labels), classes, dtype)
        assert out.dtype == dtype and tuple(out.shape) == (7, classes)
        np.testing.assert_array_equal(to_numpy(out), np.eye(classes)[labels])
    out[...] = 5  # the result is the caller's: writing to it changes no later result
    np.testing.assert_array_equal(to_numpy(F.one_hot(backend.asarray(labels), classes, dtype)),
                                  np.eye(classes)[labels])


@pytest.mark.parametrize("rest", [(), (3,), (2, 3)], ids=str)
def test_sum_rows_by_index_matches_add_at(backend64, rest):
    """Repeated indices add up, rows no index picked stay zero: the same as NumPy's add.at."""
    rng = np.random.default_rng(len(rest))
    indices = np.array([4, 0, 4, 2, 4, 0])
    values = rng.standard_normal((6, *rest))
    expected = np.zeros((6, *rest))
    np.add.at(expected, indices, values)
    out = F.sum_rows_by_index(backend64.asarray(values), backend64.asarray(indices), 6)
    assert tuple(out.shape) == (6, *rest)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-12)


def test_cross_entropy_of_a_large_batch_against_scipy(backend64):
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((300, 12)) * 4, rng.integers(0, 12, size=300)
    loss, (probs, _) = F.softmax_cross_entropy_forward(backend64.asarray(logits), backend64.asarray(labels))
    expected = -np.mean(special.log_softmax(logits, axis=1)[np.arange(300), labels])
    assert float(to_numpy(loss)) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(to_numpy(probs), special.softmax(logits, axis=1), rtol=1e-12)


# ---------------------------------------------------------------------- softmax and broadcasting
def test_softmax_and_log_softmax(backend64):
    x = np.random.default_rng(5).standard_normal((3, 4)) * 3
    for axis in (0, 1, -1, -2):  # 2-D axis 0 and -2 take the whole-row path
        probs = to_numpy(F.softmax(backend64.asarray(x), axis=axis))
        np.testing.assert_allclose(probs, special.softmax(x, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(probs.sum(axis=axis), 1.0, rtol=1e-12)
        np.testing.assert_allclose(to_numpy(F.log_softmax(backend64.asarray(x), axis=axis)),
                                   special.log_softmax(x, axis=axis), rtol=1e-12)


@pytest.mark.parametrize("grad_shape, shape", [
    ((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), (1, 4)), ((3, 4), ()), ((2, 3, 4), (3, 1)),
    ((2, 3, 4), (1, 1, 1)), ((2, 3), (2, 3)), ((5,), (1,)), ((2, 3, 4), (2, 1, 4)),
])
def test_unbroadcast_sums_what_broadcasting_copied(backend64, grad_shape, shape):
    """Oracle: d/dx sum(g * broadcast(x)) computed by NumPy's own broadcasting, element by element."""
    g = np.random.default_rng(0).standard_normal(grad_shape)
    out = to_numpy(F.unbroadcast(backend64.asarray(g), shape))
    assert out.shape == shape
    expected = np.zeros(shape)
    for index in np.ndindex(*shape):
        one_hot = np.zeros(shape)
        one_hot[index] = 1.0
        expected[index] = np.sum(g * np.broadcast_to(one_hot, grad_shape))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
