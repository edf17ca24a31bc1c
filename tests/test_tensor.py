"""The autodiff engine: graph building, backward(), gradient accumulation, no_grad, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import ops
from coursepkg.backend import dtype_name
from coursepkg.gradcheck import numerical_gradient
from coursepkg.tensor import Tensor, is_grad_enabled, no_grad, tensor


def leaf(backend, values, requires_grad: bool = True) -> Tensor:
    return Tensor(backend.asarray(np.asarray(values, dtype=float)), requires_grad=requires_grad)


def grad_of(x: Tensor) -> np.ndarray:
    assert x.grad is not None
    return cp.to_numpy(x.grad)


# ---------------------------------------------------------------------- making tensors
def test_tensor_from_lists_numbers_and_arrays(backend):
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert a.shape == (2, 2) and a.ndim == 2 and a.size == 4 and len(a) == 2
    assert dtype_name(a.dtype) == "float32"
    assert a.xp is backend.xp
    assert not a.requires_grad and a.grad is None
    np.testing.assert_array_equal(a.numpy(), [[1, 2], [3, 4]])
    assert Tensor(2.5).shape == () and Tensor(2.5).item() == 2.5
    assert Tensor(a).data is a.data
    b = tensor([1, 2, 3])
    assert "int" in dtype_name(b.dtype)
    c = tensor([1, 2], dtype=backend.xp.float64, requires_grad=True)
    assert dtype_name(c.dtype) == "float64" and c.requires_grad
    assert "requires_grad=True" in repr(c) and "(2,)" in repr(c)


def test_item_needs_one_element(backend):
    assert Tensor([[3.0]]).item() == 3.0
    with pytest.raises(ValueError, match=r"item.*\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_detach_cuts_the_graph(backend):
    x = leaf(backend, [1.0, 2.0])
    y = (x * 3).detach()
    assert not y.requires_grad and y._creator is None
    z = y * x
    z.sum().backward()
    np.testing.assert_array_equal(grad_of(x), [3.0, 6.0])  # y is a constant now


# ---------------------------------------------------------------------- backward
def test_backward_of_a_simple_expression(backend64):
    a, b = leaf(backend64, [1.0, -2.0, 3.0]), leaf(backend64, [0.5, 4.0, -1.0])
    ((a * b + a) / 2).sum().backward()
    np.testing.assert_allclose(grad_of(a), (np.array([0.5, 4.0, -1.0]) + 1) / 2)
    np.testing.assert_allclose(grad_of(b), np.array([1.0, -2.0, 3.0]) / 2)


def test_gradients_accumulate_until_zero_grad(backend64):
    x = leaf(backend64, [[0.3, -1.2], [2.0, 0.7]])
    w = leaf(backend64, [[1.5], [-0.5]])

    def loss():
        return ops.tanh(x @ w).sum()

    loss().backward()
    first_x, first_w = grad_of(x).copy(), grad_of(w).copy()
    loss().backward()
    np.testing.assert_array_equal(grad_of(x), 2 * first_x)  # exactly doubled
    np.testing.assert_array_equal(grad_of(w), 2 * first_w)
    x.zero_grad()
    w.zero_grad()
    assert x.grad is None and w.grad is None
    loss().backward()
    np.testing.assert_array_equal(grad_of(x), first_x)


def test_backward_twice_on_the_same_graph_doubles(backend64):
    x = leaf(backend64, [1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(grad_of(x), [4.0, 8.0])


def test_a_tensor_used_twice_gets_the_sum_of_both_gradients(backend64):
    values = np.array([1.5, -2.0, 0.5])
    a = leaf(backend64, values)
    (a * a).sum().backward()
    np.testing.assert_array_equal(grad_of(a), 2 * values)
    b = leaf(backend64, values)
    (b + b).sum().backward()
    np.testing.assert_array_equal(grad_of(b), [2.0, 2.0, 2.0])
    c = leaf(backend64, values)
    (c - c * 3 + c / 2).sum().backward()
    np.testing.assert_allclose(grad_of(c), np.full(3, 1 - 3 + 0.5))


def test_diamond_graph(backend64):
    """a feeds two branches that meet again: d = (2a) * (a + 1), dd/da = 2(a + 1) + 2a."""
    values = np.array([[0.5, -1.0], [2.0, 3.0]])
    a = leaf(backend64, values)
    b = a * 2
    c = a + 1
    d = b * c
    e = ops.exp(d * 0.1) + d  # d itself is used twice on the way up
    e.sum().backward()
    inner = 2 * values * (values + 1)
    expected = (0.1 * np.exp(0.1 * inner) + 1) * (2 * (values + 1) + 2 * values)
    np.testing.assert_allclose(grad_of(a), expected, rtol=1e-12)

    xp = backend64.xp
    x = backend64.asarray(values)
    numeric = numerical_gradient(
        lambda: xp.sum(xp.exp(0.1 * (2 * x) * (x + 1)) + (2 * x) * (x + 1)), x)
    np.testing.assert_allclose(grad_of(a), numeric, rtol=1e-6)


def test_only_tensors_that_require_grad_get_gradients(backend64):
    a = leaf(backend64, [1.0, 2.0])
    constant = leaf(backend64, [3.0, 4.0], requires_grad=False)
    out = a * constant
    assert out.requires_grad
    out.sum().backward()
    assert constant.grad is None
    np.testing.assert_array_equal(grad_of(a), [3.0, 4.0])
    assert not (constant * 2).requires_grad


def test_backward_with_an_explicit_gradient(backend64):
    x = leaf(backend64, [[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    upstream = backend64.asarray(np.array([[1.0, 0.0], [0.5, -1.0]]))
    y.backward(upstream)
    np.testing.assert_array_equal(grad_of(x), [[2.0, 0.0], [3.0, -8.0]])
    z = x * 1
    z.backward(Tensor(upstream))  # a Tensor is accepted too
    np.testing.assert_array_equal(grad_of(x), [[3.0, 0.0], [3.5, -9.0]])


def test_backward_with_a_number_as_gradient(backend64):
    x = leaf(backend64, [1.0, 2.0])
    (x * x).sum().backward(0.5)
    np.testing.assert_array_equal(grad_of(x), [1.0, 2.0])


def test_backward_on_a_leaf(backend64):
    x = leaf(backend64, [2.0])
    x.backward()
    np.testing.assert_array_equal(grad_of(x), [1.0])


def test_leaf_gradients_are_separate_writable_arrays(backend64):
    """An optimizer or gradient clipping may scale .grad in place: no two leaves may share it."""
    a, b = leaf(backend64, [1.0, 2.0]), leaf(backend64, [3.0, 4.0])
    (a + b).sum().backward()  # the same upstream array reaches both leaves
    assert a.grad is not b.grad
    a.grad *= 10  # writable (sum's backward is a read-only broadcast view in NumPy)
    np.testing.assert_array_equal(grad_of(b), [1.0, 1.0])
    upstream = backend64.asarray(np.array([1.0, 1.0]))
    c = leaf(backend64, [5.0, 6.0])
    c.backward(upstream)
    c.grad *= 3
    np.testing.assert_array_equal(cp.to_numpy(upstream), [1.0, 1.0])  # the caller's array is untouched


def _arrays_in(value):
    """Every NumPy array inside a (nested) cache of tuples, lists and dicts."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)


@pytest.mark.parametrize("make", [
    lambda rng: ops.linear(Tensor(rng.standard_normal((4, 3)), requires_grad=True),
                           Tensor(rng.standard_normal((3, 2)), requires_grad=True),
                           Tensor(rng.standard_normal(2), requires_grad=True)),
    lambda rng: cp.nn.Conv1d(2, 3, 3, padding=1)(Tensor(rng.standard_normal((2, 2, 5)), requires_grad=True)),
    lambda rng: cp.nn.Conv2d(2, 3, 2)(Tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)),
    lambda rng: cp.nn.BatchNorm1d(3)(Tensor(rng.standard_normal((5, 3)), requires_grad=True)),
    lambda rng: cp.nn.LayerNorm(3)(Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)),
], ids=["linear", "conv1d", "conv2d", "batchnorm", "layernorm"])
def test_ops_that_say_their_gradients_are_new_return_new_arrays(make):
    """An op with returns_new_gradients = True hands its parameters' gradients over without a copy,
    so its backward must return arrays that nothing else holds: not the upstream gradient, not an
    input, not a cached array, not each other, and writable."""
    out = make(np.random.default_rng(0))
    fn = out._creator
    assert type(fn).returns_new_gradients
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(out.data.dtype)
    grads = [g for g in fn.backward(upstream) if g is not None]
    held = [upstream, *(t.data for t in fn.inputs), *_arrays_in(vars(fn))]
    for i, g in enumerate(grads):
        assert g.flags.writeable
        assert not any(np.shares_memory(g, other) for other in held), type(fn).__name__
        assert not any(np.shares_memory(g, other) for other in grads[i + 1:]), type(fn).__name__


def test_layer_gradients_are_kept_without_a_copy_and_still_accumulate(backend64):
    """A Linear layer's gradients become .grad as they are; a second backward adds into a new array."""
    layer = cp.nn.Linear(3, 2)
    x = Tensor(backend64.randn((4, 3)))
    ops.sum(layer(x)).backward()
    first = layer.weight.grad
    assert not np.shares_memory(cp.to_numpy(first), cp.to_numpy(layer.bias.grad))
    ops.sum(layer(x)).backward()
    np.testing.assert_allclose(cp.to_numpy(layer.weight.grad), 2 * cp.to_numpy(first))


def test_gradient_dtype_follows_the_leaf(backend):
    x = leaf(backend, [1.0, 2.0])
    (x.sum() * 3).backward()
    assert x.grad.dtype == x.dtype


def test_deep_chain_does_not_hit_the_recursion_limit():
    """Recursion depth does not depend on the backend, so NumPy alone (array_api_strict is slow here)."""
    x = leaf(cp.get_backend(), [1.0, -1.0])
    y = x
    for _ in range(5000):
        y = y + 1
    assert 5000 > sys.getrecursionlimit() / 2
    y.sum().backward()
    np.testing.assert_array_equal(grad_of(x), [1.0, 1.0])
    np.testing.assert_array_equal(y.numpy(), [5001.0, 4999.0])
    z = x
    for _ in range(5000):
        z = z * 1.0001
    z.sum().backward()
    np.testing.assert_allclose(grad_of(x), 1 + 1.0001**5000, rtol=1e-3)
    del y, z  # freeing a 5000-deep graph must not overflow the stack either


# ---------------------------------------------------------------------- no_grad
def test_no_grad_builds_no_graph(backend):
    x = leaf(backend, [1.0, 2.0])
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2 + 1).sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y._creator is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert x.grad is None


def test_no_grad_is_restored_after_an_exception(backend):
    with pytest.raises(ZeroDivisionError), no_grad():
        _ = 1 / 0
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()  # the inner block restores the outer state, not True
    assert is_grad_enabled()


# ---------------------------------------------------------------------- errors
def test_backward_on_a_non_scalar_needs_a_gradient(backend):
    x = leaf(backend, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"non-scalar.*\(2, 2\)"):
        (x * 2).backward()


def test_backward_on_a_tensor_without_grad_is_an_error(backend):
    x = leaf(backend, [1.0, 2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_backward_rejects_a_gradient_of_the_wrong_shape(backend):
    x = leaf(backend, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"backward.*\(2,\).*\(2, 2\)"):
        (x * 2).backward(backend.asarray(np.ones(2)))


def test_numpy_arrays_on_the_left_of_an_operator_give_tensors():
    """NumPy defers to Tensor's reflected operators (array_api_strict arrays refuse instead)."""
    backend64 = cp.set_backend("numpy", dtype="float64")
    x = leaf(backend64, [[1.0, 2.0], [3.0, 4.0]])
    a = np.array([[0.5, -1.0], [2.0, 1.0]])
    for result in [a * x, a + x, a - x, a / x, a @ x]:
        assert isinstance(result, Tensor) and result.requires_grad
    (a @ x).sum().backward()
    np.testing.assert_allclose(grad_of(x), cp.to_numpy(a).T @ np.ones((2, 2)))


def test_no_grad_in_one_thread_does_not_silence_another():
    import threading

    inside, release = threading.Event(), threading.Event()

    def evaluate():
        with no_grad():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=evaluate)
    worker.start()
    inside.wait(5)
    try:
        assert is_grad_enabled()
        a = Tensor(np.ones(3), requires_grad=True)
        (a * 2.0).sum().backward()
        np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])
    finally:
        release.set()
        worker.join()
