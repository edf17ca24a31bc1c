"""Batch norm and layer norm: statistics, running averages, eval mode, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import coursepkg as cp
from coursepkg.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from coursepkg.gradcheck import check_gradients
from coursepkg.nn.normalization import BatchNorm1d, LayerNorm
from coursepkg.ops.normalization import batch_norm, layer_norm
from coursepkg.tensor import Tensor


def _gradcheck_module(module, x, tolerance=1e-6):
    """Gradient check of a module with respect to its input and every parameter."""
    names = [name for name, _ in module.named_parameters()]

    def f(x, *params):
        for name, tensor in zip(names, params):
            owner, _, attribute = name.rpartition(".")
            setattr(dict(module.named_modules())[owner], attribute, tensor)
        return module(x)

    params = [cp.to_numpy(p.data) for p in module.parameters()]
    return check_gradients(f, [x, *params], ["x", *names], tolerance=tolerance)


def _numpy_batchnorm_stats(x):
    axes = (0,) if x.ndim == 2 else (0, 2)
    return x.mean(axis=axes), x.var(axis=axes), x.var(axis=axes, ddof=1)


# ---------------------------------------------------------------------- batch norm, forward
@pytest.mark.parametrize("shape", [(64, 5), (16, 3, 7)])
def test_batchnorm_training_output_has_zero_mean_unit_variance(backend, shape):
    rng = np.random.default_rng(0)
    x_host = rng.normal(3.0, 5.0, size=shape)
    c = shape[1]
    out, _ = batchnorm_forward(backend.asarray(x_host), backend.ones((c,)), backend.zeros((c,)),
                               backend.zeros((c,)), backend.ones((c,)), training=True)
    out = cp.to_numpy(out)
    axes = (0,) if len(shape) == 2 else (0, 2)
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=axes), 1.0, atol=1e-3)
    if len(shape) == 2:  # scikit-learn's StandardScaler does the same (population variance)
        np.testing.assert_allclose(out, StandardScaler().fit_transform(x_host), atol=1e-4)


def test_batchnorm_gamma_and_beta_set_the_scale_and_shift(backend):
    rng = np.random.default_rng(1)
    x = backend.asarray(rng.normal(size=(50, 3)))
    gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([1.0, -3.0, 0.0])
    out, _ = batchnorm_forward(x, backend.asarray(gamma), backend.asarray(beta), backend.zeros((3,)),
                               backend.ones((3,)), training=True)
    out = cp.to_numpy(out)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), atol=1e-3)


@pytest.mark.parametrize("shape", [(8, 4), (5, 3, 6)])
def test_running_statistics_match_explicit_computation(backend64, shape):
    rng = np.random.default_rng(2)
    c, momentum = shape[1], 0.2
    running_mean, running_var = backend64.zeros((c,)), backend64.ones((c,))
    expected_mean, expected_var = np.zeros(c), np.ones(c)
    for step in range(4):
        x = rng.normal(step, 1 + step, size=shape)
        batchnorm_forward(backend64.asarray(x), backend64.ones((c,)), backend64.zeros((c,)),
                          running_mean, running_var, momentum=momentum, training=True)
        mean, _, unbiased_var = _numpy_batchnorm_stats(x)
        expected_mean = (1 - momentum) * expected_mean + momentum * mean
        expected_var = (1 - momentum) * expected_var + momentum * unbiased_var
        np.testing.assert_allclose(cp.to_numpy(running_mean), expected_mean, rtol=1e-12)
        np.testing.assert_allclose(cp.to_numpy(running_var), expected_var, rtol=1e-12)


@pytest.mark.parametrize("shape", [(6, 4), (1, 4), (3, 4, 5)])
def test_eval_mode_uses_running_statistics_and_changes_nothing(backend64, shape):
    rng = np.random.default_rng(3)
    c, eps = shape[1], 1e-5
    rm, rv = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    x = rng.normal(size=shape)
    running_mean, running_var = backend64.asarray(rm), backend64.asarray(rv)
    out, _ = batchnorm_forward(backend64.asarray(x), backend64.asarray(gamma), backend64.asarray(beta),
                               running_mean, running_var, eps=eps, training=False)
    view = (1, c) if len(shape) == 2 else (1, c, 1)
    expected = gamma.reshape(view) * (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + eps) + beta.reshape(view)
    np.testing.assert_allclose(cp.to_numpy(out), expected, rtol=1e-10)
    np.testing.assert_array_equal(cp.to_numpy(running_mean), rm)
    np.testing.assert_array_equal(cp.to_numpy(running_var), rv)


def test_batchnorm_training_with_one_example_is_a_clear_error(backend):
    with pytest.raises(ValueError, match=r"batchnorm_forward: training mode needs more than one value.*\(1, 3\)"):
        batchnorm_forward(backend.zeros((1, 3)), backend.ones((3,)), backend.zeros((3,)),
                          backend.zeros((3,)), backend.ones((3,)), training=True)
    layer = BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(num_features=3.*N > 1"):
        layer(cp.tensor(np.ones((1, 3))))
    layer.eval()
    assert layer(cp.tensor(np.ones((1, 3)))).shape == (1, 3)


def test_batchnorm_shape_errors_name_function_and_shapes(backend):
    with pytest.raises(ValueError, match=r"batchnorm_forward: x has shape \(4, 3\), so gamma needs shape \(3,\)"):
        batchnorm_forward(backend.zeros((4, 3)), backend.ones((5,)), backend.zeros((3,)),
                          backend.zeros((3,)), backend.ones((3,)))
    with pytest.raises(ValueError, match=r"batchnorm_forward: expected x of shape \(N, D\) or \(N, C, L\)"):
        batchnorm_forward(backend.zeros((4,)), backend.ones((4,)), backend.zeros((4,)),
                          backend.zeros((4,)), backend.ones((4,)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(num_features=3.*\(4, 5\).*\(N, 3\)"):
        BatchNorm1d(3)(cp.tensor(np.zeros((4, 5))))


# ---------------------------------------------------------------------- batch norm, backward
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(3, 3), (7, 4), (3, 2, 5), (1, 3, 4)])
def test_batch_norm_op_gradients(backend64, shape, training):
    # (N=2 is left out: there xhat = +-1 whatever x is, so dx is ~0 and a relative error means nothing.)
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    running_mean, running_var = backend64.asarray(rng.normal(size=c)), backend64.asarray(rng.uniform(0.5, 2, c))

    def f(x, gamma, beta):
        return batch_norm(x, gamma, beta, running_mean, running_var, training=training)

    inputs = [rng.normal(size=shape) * 2 + 1, rng.normal(size=c), rng.normal(size=c)]
    result = check_gradients(f, inputs, ["x", "gamma", "beta"])
    assert result.ok, str(result)


def test_batchnorm_backward_formula_matches_the_graph_of_elementary_ops(backend64):
    """The compact formula against autodiff through mean/sub/mul/div/sqrt (the long way)."""
    rng = np.random.default_rng(5)
    x_host, dout = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    g_host, b_host = rng.normal(size=4), rng.normal(size=4)
    out, cache = batchnorm_forward(backend64.asarray(x_host), backend64.asarray(g_host), backend64.asarray(b_host),
                                   backend64.zeros((4,)), backend64.ones((4,)), eps=1e-5, training=True)
    dx, dgamma, dbeta = batchnorm_backward(backend64.asarray(dout), cache)

    x, gamma, beta = (Tensor(backend64.asarray(a), requires_grad=True) for a in (x_host, g_host, b_host))
    mean = x.mean(axis=0)
    centered = x - mean
    var = (centered * centered).mean(axis=0)
    long_way = gamma * centered / (var + 1e-5).sqrt() + beta
    long_way.backward(backend64.asarray(dout))
    np.testing.assert_allclose(cp.to_numpy(out), cp.to_numpy(long_way.data), rtol=1e-10)
    for mine, reference in ((dx, x), (dgamma, gamma), (dbeta, beta)):
        np.testing.assert_allclose(cp.to_numpy(mine), cp.to_numpy(reference.grad), rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------------- BatchNorm1d module
def test_batchnorm1d_module_train_eval_and_state_dict(backend64):
    rng = np.random.default_rng(6)
    layer = BatchNorm1d(3, momentum=0.5)
    batches = [rng.normal(2.0, 3.0, size=(10, 3)) for _ in range(3)]
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for batch in batches:
        out = layer(cp.tensor(batch))
        np.testing.assert_allclose(cp.to_numpy(out.data).mean(axis=0), 0.0, atol=1e-10)
        expected_mean = 0.5 * expected_mean + 0.5 * batch.mean(axis=0)
        expected_var = 0.5 * expected_var + 0.5 * batch.var(axis=0, ddof=1)
    state = layer.state_dict()
    assert set(state) == {"gamma", "beta", "running_mean", "running_var"}
    np.testing.assert_allclose(cp.to_numpy(state["running_mean"]), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(cp.to_numpy(state["running_var"]), expected_var, rtol=1e-12)

    layer.eval()
    probe = rng.normal(size=(4, 3))
    expected = (probe - expected_mean) / np.sqrt(expected_var + 1e-5)
    np.testing.assert_allclose(cp.to_numpy(layer(cp.tensor(probe)).data), expected, rtol=1e-10)

    copy = BatchNorm1d(3)
    copy.load_state_dict({k: cp.to_numpy(v) for k, v in state.items()})
    copy.eval()
    np.testing.assert_allclose(cp.to_numpy(copy(cp.tensor(probe)).data), expected, rtol=1e-10)
    np.testing.assert_allclose(cp.to_numpy(copy.running_var), expected_var, rtol=1e-12)


def test_batchnorm1d_keeps_updating_its_buffers_after_moving_backends():
    layer = BatchNorm1d(2, momentum=1.0)  # momentum 1: the running stats are the last batch's
    strict = cp.set_backend("array_api_strict", device="device1")
    layer.to(strict)
    batch = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    layer(cp.tensor(batch))
    assert "array_api_strict" in type(layer.running_mean).__module__
    np.testing.assert_allclose(cp.to_numpy(layer.state_dict()["running_mean"]), [3.0, 6.0], rtol=1e-6)
    np.testing.assert_allclose(cp.to_numpy(layer.running_var), batch.var(axis=0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_batchnorm1d_module_gradients(backend64, shape):
    layer = BatchNorm1d(4)
    x = np.random.default_rng(7).normal(size=shape)
    result = _gradcheck_module(layer, x)
    assert result.ok, str(result)
    assert set(result.errors) == {"x", "gamma", "beta"}


# ---------------------------------------------------------------------- layer norm
@pytest.mark.parametrize("shape", [(1, 5), (4, 6), (2, 3, 8)])
def test_layernorm_matches_explicit_computation(backend64, shape):
    rng = np.random.default_rng(8)
    x, gamma, beta = rng.normal(2, 3, size=shape), rng.normal(size=shape[-1]), rng.normal(size=shape[-1])
    out, _ = layernorm_forward(backend64.asarray(x), backend64.asarray(gamma), backend64.asarray(beta), eps=1e-5)
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    np.testing.assert_allclose(cp.to_numpy(out), gamma * (x - mean) / np.sqrt(var + 1e-5) + beta, rtol=1e-10)
    plain, _ = layernorm_forward(backend64.asarray(x), backend64.ones((shape[-1],)), backend64.zeros((shape[-1],)))
    np.testing.assert_allclose(cp.to_numpy(plain).mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(cp.to_numpy(plain).var(axis=-1), 1.0, atol=1e-4)


@pytest.mark.parametrize("shape", [(1, 5), (3, 4), (2, 3, 6)])
def test_layer_norm_op_gradients(backend64, shape):
    rng = np.random.default_rng(9)
    inputs = [rng.normal(size=shape), rng.normal(size=shape[-1]), rng.normal(size=shape[-1])]
    result = check_gradients(layer_norm, inputs, ["x", "gamma", "beta"], tolerance=1e-5)
    assert result.ok, str(result)


def test_layernorm_backward_sums_parameter_gradients_over_leading_axes(backend64):
    rng = np.random.default_rng(10)
    x, dout = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    out, cache = layernorm_forward(backend64.asarray(x), backend64.ones((4,)), backend64.zeros((4,)))
    _, dgamma, dbeta = layernorm_backward(backend64.asarray(dout), cache)
    xhat = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(cp.to_numpy(dbeta), dout.sum(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(cp.to_numpy(dgamma), (dout * xhat).sum(axis=(0, 1)), rtol=1e-10)


def test_layernorm_module_gradients_and_errors(backend64):
    layer = LayerNorm(5)
    result = _gradcheck_module(layer, np.random.default_rng(11).normal(size=(2, 3, 5)), tolerance=1e-5)
    assert result.ok, str(result)
    with pytest.raises(ValueError, match=r"LayerNorm\(dim=5.*\(2, 4\).*\(\.\.\., 5\)"):
        layer(cp.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"layernorm_forward: .*x \(2, 4\), gamma \(5,\)"):
        layernorm_forward(backend64.zeros((2, 4)), backend64.ones((5,)), backend64.zeros((5,)))


# ---------------------------------------------------------------------- against PyTorch
def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = rng.normal(size=(6, 3, 4))
    cp.set_backend("numpy", dtype="float64")
    ours = BatchNorm1d(3)
    theirs = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    out = ours(cp.tensor(x))
    expected = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(cp.to_numpy(out.data), expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(cp.to_numpy(ours.running_var), theirs.running_var.numpy(), rtol=1e-10)
    ln_ours, ln_theirs = LayerNorm(4), torch.nn.LayerNorm(4, dtype=torch.float64)
    np.testing.assert_allclose(cp.to_numpy(ln_ours(cp.tensor(x)).data),
                               ln_theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
