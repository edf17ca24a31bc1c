"""Finite-difference gradient checks of every op in ``coursepkg.ops``, on random shapes.

Shapes come from hypothesis (small sizes, broadcasting cases, batch size 1); values from a
seeded NumPy generator, kept away from the points where an op has a kink (ReLU and |x| at 0,
ties of max). Every check runs in float64 on each backend (``backend64``).

The first tests check the checker itself: ``numerical_gradient`` against derivatives known in
closed form, ``relative_error``, and ``check_gradients`` catching a wrong backward pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from coursepkg import ops
from coursepkg.backend import to_numpy
from coursepkg.gradcheck import GradCheckResult, check_gradients, numerical_gradient, relative_error
from coursepkg.tensor import Function, Tensor

FEW = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**31 - 1)
SMALL_SHAPES = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def assert_gradients_ok(f, inputs, names=None, tolerance: float = 1e-5) -> GradCheckResult:
    """Run check_gradients and fail with its report (one relative error per input).

    The tolerance is 1e-5, not 1e-6: an element whose true gradient is tiny (say 1e-4) has a
    finite-difference rounding error of about 1e-10, a relative error of 1e-6. A wrong backward
    pass gives errors of 1e-2 or more.
    """
    result = check_gradients(f, inputs, names, tolerance=tolerance)
    assert result.errors, "no input was checked"
    assert result.ok, f"gradient check failed:\n{result}"
    return result


def normal(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(seed: int, shape: tuple[int, ...], low: float = 0.2, high: float = 2.0) -> np.ndarray:
    """Values with |x| in [low, high] and a random sign: far from a kink at 0."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def positive(seed: int, shape: tuple[int, ...], low: float = 0.3, high: float = 3.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def distinct(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """All values distinct, at least 0.3 apart, so max has no ties within a finite-difference step."""
    rng = np.random.default_rng(seed)
    size = math.prod(shape)
    return (rng.permutation(size) * 0.5 - size * 0.25 + rng.uniform(-0.1, 0.1, size)).reshape(shape)


@st.composite
def axis_choice(draw, ndim: int):
    """None, an int (possibly negative) or a tuple of distinct axes."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or ndim == 0:
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(axes)


@st.composite
def basic_index(draw, shape: tuple[int, ...]):
    """An index of ints, in-bounds slices (steps 1, 2, -1), None and at most one Ellipsis."""
    parts: list = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "full":
            parts.append(slice(None))
        else:
            step = draw(st.sampled_from([None, 1, 2, -1]))
            start = draw(st.none() | st.integers(-n, n - 1))
            stop = draw(st.none() | (st.integers(-n, n) if step != -1 else st.integers(-n, n - 1)))
            parts.append(slice(start, stop, step))
    if draw(st.booleans()):  # drop the last few axes, spelled with or without a trailing ...
        keep = draw(st.integers(0, len(parts)))
        parts = parts[:keep] + ([Ellipsis] if draw(st.booleans()) else [])
    elif len(parts) > 1 and draw(st.booleans()):  # an Ellipsis standing for leading axes
        drop = draw(st.integers(1, len(parts) - 1))
        parts = [Ellipsis] + parts[drop:]
    for _ in range(draw(st.integers(0, 2))):  # new axes of size 1
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


# ---------------------------------------------------------------------- the checker itself
def test_numerical_gradient_matches_closed_form(backend64):
    x_host = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    x = backend64.asarray(x_host)
    xp = backend64.xp
    grad = numerical_gradient(lambda: xp.sum(xp.sin(x) * x), x)
    assert isinstance(grad, np.ndarray) and grad.shape == (2, 3)
    np.testing.assert_allclose(grad, np.cos(x_host) * x_host + np.sin(x_host), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(backend64.to_numpy(x), x_host)  # restored after every step


def test_numerical_gradient_of_a_0d_array(backend64):
    x = backend64.asarray(np.array(1.5))
    xp = backend64.xp
    grad = numerical_gradient(lambda: xp.exp(x), x)
    assert grad.shape == ()
    assert grad == pytest.approx(math.exp(1.5), rel=1e-8)


def test_relative_error():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 2.2)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no division by zero
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


class _WrongSquare(Function):
    """x**2 with the classic bug: the backward pass forgets the factor 2."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, grad):
        return (grad * self.a,)


def test_check_gradients_catches_a_wrong_backward(backend64):
    x = np.array([0.5, -1.2, 2.0])
    bad = check_gradients(lambda t: _WrongSquare.apply(t), [x], ["x"])
    assert not bad.ok
    assert bad.errors["x"] > 0.1
    assert "x" in str(bad) and "WRONG" in str(bad)
    good = check_gradients(lambda t: t * t, [x], ["x"])
    assert good.ok and good.errors["x"] < 1e-7
    assert "ok" in str(good)


def test_check_gradients_skips_integer_inputs(backend64):
    logits = normal(0, (3, 4))
    labels = np.array([0, 3, 1])
    result = check_gradients(lambda z, y: ops.cross_entropy(z, y), [logits, labels], ["logits", "labels"])
    assert list(result.errors) == ["logits"]
    assert result.ok


def test_check_gradients_works_in_float64_on_a_float32_backend(backend):
    """Learners call it on the default float32 backend: it still checks in float64."""
    x, w = normal(5, (3, 2)), normal(6, (2, 4))
    result = check_gradients(lambda a, b: ops.tanh(a @ b), [x, w], ["x", "w"], tolerance=1e-6)
    assert result.ok, str(result)


def test_check_gradients_reports_an_unused_input_as_zero_gradient(backend64):
    result = check_gradients(lambda a, b: a * 2.0, [normal(1, (2,)), normal(2, (2,))], ["a", "b"])
    assert result.ok and result.errors["b"] == 0.0


# ---------------------------------------------------------------------- arithmetic
BROADCAST_PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)


def _broadcast_examples(test):
    for shapes in [((3, 1), (4,)), ((1,), (2, 3)), ((), (2, 3)), ((2, 3), ()), ((1, 4), (3, 1)), ((1, 1), (1,))]:
        test = example(shapes=shapes, seed=0)(test)
    return test


@pytest.mark.parametrize("op", [ops.add, ops.sub, ops.mul], ids=["add", "sub", "mul"])
@FEW
@_broadcast_examples
@given(shapes=BROADCAST_PAIRS.map(lambda s: s.input_shapes), seed=SEEDS)
def test_add_sub_mul_with_broadcasting(backend64, op, shapes, seed):
    a, b = normal(seed, shapes[0]), normal(seed + 1, shapes[1])
    assert_gradients_ok(op, [a, b], ["a", "b"])


@FEW
@_broadcast_examples
@given(shapes=BROADCAST_PAIRS.map(lambda s: s.input_shapes), seed=SEEDS)
def test_div_with_broadcasting(backend64, shapes, seed):
    a, b = normal(seed, shapes[0]), away_from_zero(seed + 1, shapes[1], low=0.5)
    assert_gradients_ok(ops.div, [a, b], ["a", "b"])


@FEW
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=SEEDS,
       scalar=st.floats(-3, 3).filter(lambda s: abs(s) > 0.1))
def test_operators_with_python_numbers(backend64, shape, seed, scalar):
    x = away_from_zero(seed, shape, low=0.5)
    assert_gradients_ok(lambda t: t + scalar, [x])
    assert_gradients_ok(lambda t: scalar - t, [x])
    assert_gradients_ok(lambda t: t * scalar, [x])
    assert_gradients_ok(lambda t: scalar / t, [x])
    assert_gradients_ok(lambda t: t / scalar, [x])
    assert_gradients_ok(lambda t: -t, [x])


@FEW
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=SEEDS,
       exponent=st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5]))
def test_power(backend64, shape, seed, exponent):
    x = positive(seed, shape, low=0.5) if exponent != int(exponent) else away_from_zero(seed, shape, low=0.5)
    assert_gradients_ok(lambda t: ops.power(t, exponent), [x])
    assert_gradients_ok(lambda t: t**exponent, [x])


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a = draw(st.sampled_from([(), (1,), (2,), (3, 2), (1, 2)]))
    batch_b = draw(st.sampled_from([(), (1,), (2,), (3, 1)]))
    return batch_a + (n, k), batch_b + (k, m)


@FEW
@example(shapes=((1, 3), (3, 2)), seed=0)  # batch size 1
@example(shapes=((2, 4, 3), (3, 5)), seed=1)  # a batch of matrices times one matrix
@example(shapes=((1, 4, 3), (2, 3, 5)), seed=2)  # batch axis of size 1 broadcast
@given(shapes=matmul_shapes(), seed=SEEDS)
def test_matmul_including_batched_and_broadcast(backend64, shapes, seed):
    a, b = normal(seed, shapes[0]), normal(seed + 1, shapes[1])
    assert_gradients_ok(ops.matmul, [a, b], ["a", "b"])
    assert_gradients_ok(lambda x, y: x @ y, [a, b], ["a", "b"])


# ---------------------------------------------------------------------- reductions
@pytest.mark.parametrize("op", [ops.sum, ops.mean, ops.max], ids=["sum", "mean", "max"])
@FEW
@given(data=st.data(), shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=SEEDS, keepdims=st.booleans())
def test_reductions_over_any_axes(backend64, op, data, shape, seed, keepdims):
    axis = data.draw(axis_choice(len(shape)), label="axis")
    x = distinct(seed, shape)  # no ties for max
    assert_gradients_ok(lambda t: op(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("method", ["sum", "mean", "max"])
def test_reduction_methods_with_tuple_axes_and_keepdims(backend64, method):
    x = distinct(3, (2, 3, 4))
    for axis in [None, 0, -1, (0, 2), (1,), (-1, 0)]:
        for keepdims in (False, True):
            assert_gradients_ok(lambda t, a=axis, k=keepdims: getattr(t, method)(axis=a, keepdims=k), [x])


# ---------------------------------------------------------------------- shape ops
@FEW
@given(shape=SMALL_SHAPES, seed=SEEDS, how=st.sampled_from(["flat", "minus_one", "reversed", "extra_ones"]))
def test_reshape(backend64, shape, seed, how):
    size = math.prod(shape)
    target = {"flat": (size,), "minus_one": (-1, shape[-1]), "reversed": tuple(reversed(shape)),
              "extra_ones": (1,) + shape + (1,)}[how]
    x = normal(seed, shape)
    assert_gradients_ok(lambda t: ops.reshape(t, target), [x])
    assert_gradients_ok(lambda t: t.reshape(*target), [x])


@FEW
@given(data=st.data(), shape=SMALL_SHAPES, seed=SEEDS)
def test_transpose(backend64, data, shape, seed):
    axes = tuple(data.draw(st.permutations(range(len(shape))), label="axes"))
    x = normal(seed, shape)
    assert_gradients_ok(lambda t: ops.transpose(t, axes), [x])
    assert_gradients_ok(lambda t: t.T, [x])


@st.composite
def shape_and_index(draw):
    shape = draw(SMALL_SHAPES)
    return shape, draw(basic_index(shape))


@FEW
@example(case=((3, 4), (0,)), seed=0)
@example(case=((3, 4), 1), seed=0)
@example(case=((3, 4), (None, slice(1, 3), Ellipsis)), seed=0)
@example(case=((2, 3, 4), (Ellipsis, -1)), seed=0)
@example(case=((2, 3, 4), (slice(None, None, -1), 0, None)), seed=0)
@example(case=((4,), (slice(None, None, 2),)), seed=0)
@example(case=((1, 2), (0, 1)), seed=0)  # every axis indexed by an int: a 0-d result
@given(case=shape_and_index(), seed=SEEDS)
def test_getitem_with_ints_slices_none_and_ellipsis(backend64, case, seed):
    shape, index = case
    x = normal(seed, shape)
    assert_gradients_ok(lambda t: t[index], [x])


@FEW
@given(seed=SEEDS, rows=st.integers(1, 5), width=st.integers(1, 3),
       index_shape=st.sampled_from([(1,), (4,), (2, 3), (6,)]))
def test_take_with_repeated_indices(backend64, seed, rows, width, index_shape):
    rng = np.random.default_rng(seed)
    indices = rng.integers(-rows, rows, size=index_shape)  # negative ones count from the end
    indices.reshape(-1)[0] = indices.reshape(-1)[-1]  # at least one row picked twice (when there are 2+)
    x = normal(seed, (rows, width))
    assert_gradients_ok(lambda t: ops.take(t, indices), [x])


@FEW
@given(data=st.data(), shape=SMALL_SHAPES, seed=SEEDS, count=st.integers(1, 3))
def test_concat(backend64, data, shape, seed, count):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count), label="sizes")
    pieces = []
    for i, size in enumerate(sizes):
        piece_shape = list(shape)
        piece_shape[axis] = size
        pieces.append(normal(seed + i, tuple(piece_shape)))
    assert_gradients_ok(lambda *ts: ops.concat(list(ts), axis=axis), pieces)


# ---------------------------------------------------------------------- elementwise and activations
SHAPES_0D_UP = array_shapes(min_dims=0, max_dims=3, max_side=4)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "gelu"])
@FEW
@given(shape=SHAPES_0D_UP, seed=SEEDS)
def test_smooth_elementwise(backend64, name, shape, seed):
    # Within +-3: further left, GELU's slope is so small (about 1e-5 at x = -5) that round-off in the
    # central difference alone gives a relative error near 1e-3.
    x = np.clip(normal(seed, shape) * 2, -3.0, 3.0)
    assert_gradients_ok(getattr(ops, name), [x])


@pytest.mark.parametrize("name", ["log", "sqrt"])
@FEW
@given(shape=SHAPES_0D_UP, seed=SEEDS)
def test_log_and_sqrt_on_positive_inputs(backend64, name, shape, seed):
    assert_gradients_ok(getattr(ops, name), [positive(seed, shape)])


@FEW
@given(shape=SHAPES_0D_UP, seed=SEEDS, slope=st.sampled_from([0.01, 0.1, 0.3]))
def test_relu_and_leaky_relu_away_from_zero(backend64, shape, seed, slope):
    x = away_from_zero(seed, shape)
    assert_gradients_ok(ops.relu, [x])
    assert_gradients_ok(lambda t: t.relu(), [x])
    assert_gradients_ok(lambda t: ops.leaky_relu(t, slope), [x])


def test_tensor_methods_for_elementwise_functions(backend64):
    x = positive(4, (2, 3))
    for method in ["exp", "log", "sqrt", "tanh", "sigmoid", "relu"]:
        assert_gradients_ok(lambda t, m=method: getattr(t, m)(), [x])


@pytest.mark.parametrize("op", [ops.softmax, ops.log_softmax], ids=["softmax", "log_softmax"])
@FEW
@given(data=st.data(), shape=SMALL_SHAPES, seed=SEEDS)
def test_softmax_and_log_softmax_along_any_axis(backend64, op, data, shape, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = normal(seed, shape) * 2
    assert_gradients_ok(lambda t: op(t, axis=axis), [x])


# ---------------------------------------------------------------------- losses
@FEW
@example(n=1, classes=2, seed=0)
@given(n=st.integers(1, 5), classes=st.integers(1, 5), seed=SEEDS)
def test_cross_entropy(backend64, n, classes, seed):
    logits = normal(seed, (n, classes))
    labels = np.random.default_rng(seed).integers(0, classes, size=n)
    assert_gradients_ok(ops.cross_entropy, [logits, labels], ["logits", "labels"])


@FEW
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=SEEDS)
def test_binary_cross_entropy_with_logits_in_logits_and_targets(backend64, shape, seed):
    logits = normal(seed, shape) * 3
    targets = np.random.default_rng(seed + 1).uniform(0, 1, size=shape)
    assert_gradients_ok(ops.binary_cross_entropy_with_logits, [logits, targets], ["logits", "targets"])


@FEW
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=SEEDS)
def test_mse_and_mae_in_predictions_and_targets(backend64, shape, seed):
    predictions = normal(seed, shape)
    targets = predictions + away_from_zero(seed + 1, shape)  # |difference| >= 0.2: no kink for MAE
    assert_gradients_ok(ops.mse_loss, [predictions, targets], ["predictions", "targets"])
    assert_gradients_ok(ops.mae_loss, [predictions, targets], ["predictions", "targets"])


# ---------------------------------------------------------------------- linear
@FEW
@example(n=1, d=3, m=2, seed=0, bias=True)
@example(n=1, d=1, m=1, seed=0, bias=False)
@given(n=st.integers(1, 5), d=st.integers(1, 4), m=st.integers(1, 4), seed=SEEDS, bias=st.booleans())
def test_linear_with_and_without_bias(backend64, n, d, m, seed, bias):
    x, w, b = normal(seed, (n, d)), normal(seed + 1, (d, m)), normal(seed + 2, (m,))
    if bias:
        assert_gradients_ok(ops.linear, [x, w, b], ["x", "w", "b"])
    else:
        assert_gradients_ok(lambda x_, w_: ops.linear(x_, w_), [x, w], ["x", "w"])


@pytest.mark.parametrize("x_shape", [(2, 3, 4), (4,), (2, 1, 2, 4)])
def test_linear_on_inputs_with_leading_axes(backend64, x_shape):
    """(..., D) inputs: every leading position is a row; the gradient of x keeps x's shape."""
    x, w, b = normal(1, x_shape), normal(2, (4, 3)), normal(3, (3,))
    assert_gradients_ok(ops.linear, [x, w, b], ["x", "w", "b"])
    out = ops.linear(Tensor(backend64.asarray(x)), Tensor(backend64.asarray(w)))
    assert out.shape == x_shape[:-1] + (3,)
    np.testing.assert_allclose(to_numpy(out.data), x @ w, rtol=1e-12)


def test_a_small_network_end_to_end(backend64):
    """Many ops chained: linear -> gelu -> matmul -> log_softmax -> take -> mean."""
    x, w1, b1, w2 = normal(0, (4, 3)), normal(1, (3, 5)), normal(2, (5,)), normal(3, (5, 2))
    rows = np.array([1, 1, 3])

    def net(x_, w1_, b1_, w2_):
        hidden = ops.gelu(ops.linear(x_, w1_, b1_))
        logp = ops.log_softmax(hidden @ w2_, axis=1)
        return ops.take(logp, rows).mean() + ops.sigmoid(hidden).max(axis=0).sum()

    assert_gradients_ok(net, [x, w1, b1, w2], ["x", "w1", "b1", "w2"])


def test_check_gradients_builds_float64_tensors(backend64):
    seen = []

    def spy(t: Tensor) -> Tensor:
        seen.append(str(t.dtype))
        return t * t

    check_gradients(spy, [np.ones(2, dtype=np.float32)])
    assert seen and all(name.endswith("float64") for name in seen)
