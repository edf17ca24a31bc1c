"""Gradient clipping and the L2 penalty (lesson 08)."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Linear
from coursepkg.nn.module import Parameter
from coursepkg.optim.clip import clip_grad_norm, clip_grad_value
from coursepkg.optim.penalty import l2_penalty
from coursepkg.optim.sgd import SGD


def params_with_grads(backend, grads):
    params = []
    for g in grads:
        p = Parameter(backend.zeros(g.shape))
        p.grad = backend.asarray(g)
        params.append(p)
    return params


def test_clip_grad_norm_rescales_to_max_norm(backend):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4) * 5, rng.standard_normal((2, 2)) * 5]
    params = params_with_grads(backend, grads)
    params.append(Parameter(backend.zeros((3,))))  # no gradient: skipped
    expected_norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    total = clip_grad_norm(params, max_norm=1.5)
    assert isinstance(total, float)
    assert total == pytest.approx(expected_norm, rel=1e-5)
    clipped = [cp.to_numpy(p.grad) for p in params[:3]]
    assert np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in clipped)) == pytest.approx(1.5, rel=1e-5)
    for before, after in zip(grads, clipped):  # the direction is kept: one common factor
        np.testing.assert_allclose(after, before * 1.5 / expected_norm, rtol=1e-5, atol=1e-7)
    assert params[3].grad is None


def test_clip_grad_norm_leaves_small_gradients_alone(backend):
    grads = [np.array([0.3, -0.4])]
    params = params_with_grads(backend, grads)
    assert clip_grad_norm(params, max_norm=1.0) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(cp.to_numpy(params[0].grad), [0.3, -0.4], rtol=1e-6)


def test_clip_does_not_scale_a_shared_gradient_twice(backend):
    # autodiff can give two tensors the very same gradient array (the inputs of an addition)
    shared = backend.asarray(np.array([3.0, 4.0]))
    p, q = Parameter(backend.zeros((2,))), Parameter(backend.zeros((2,)))
    p.grad = q.grad = shared
    total = clip_grad_norm([p, q], max_norm=1.0)
    assert total == pytest.approx(np.sqrt(50.0), rel=1e-6)
    np.testing.assert_allclose(cp.to_numpy(p.grad), [3 / np.sqrt(50), 4 / np.sqrt(50)], rtol=1e-5)
    np.testing.assert_allclose(cp.to_numpy(q.grad), cp.to_numpy(p.grad))
    np.testing.assert_array_equal(cp.to_numpy(shared), [3.0, 4.0])


def test_clip_grad_value(backend):
    grad = np.array([[-3.0, 0.5], [2.0, -0.1]])
    params = params_with_grads(backend, [grad])
    clip_grad_value(params, 1.0)
    np.testing.assert_array_equal(cp.to_numpy(params[0].grad), np.clip(grad.astype(np.float32), -1.0, 1.0))


def test_clip_arguments_are_checked():
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm"):
        clip_grad_norm([], max_norm=0)
    with pytest.raises(ValueError, match="clip_grad_value: clip_value"):
        clip_grad_value([], clip_value=-1)


def test_l2_penalty_value_and_gradient(backend64):
    cp.seed(0)
    model = Sequential(Linear(3, 4), Linear(4, 2))
    strength = 0.3
    penalty = l2_penalty(model, strength)
    weights = [cp.to_numpy(model[0].weight.data), cp.to_numpy(model[1].weight.data)]
    assert penalty.shape == ()
    assert penalty.item() == pytest.approx(0.5 * strength * sum(np.sum(w**2) for w in weights), rel=1e-12)
    penalty.backward()
    for layer, w in zip(model, weights):
        np.testing.assert_allclose(cp.to_numpy(layer.weight.grad), strength * w, rtol=1e-12)
        assert layer.bias.grad is None  # biases (1-D) are excluded by default


def test_l2_penalty_with_biases_and_finite_differences(backend64):
    cp.seed(0)
    layer = Linear(3, 2)
    penalty = l2_penalty(layer.parameters(), 0.7, include_biases=True)
    penalty.backward()
    np.testing.assert_allclose(cp.to_numpy(layer.bias.grad), 0.7 * cp.to_numpy(layer.bias.data), rtol=1e-12)

    def total(w, b):
        return l2_penalty([w, b], 0.7, include_biases=True)

    result = cp.check_gradients(total, [layer.weight.data, layer.bias.data], names=["weight", "bias"])
    assert result.ok, str(result)


def test_l2_penalty_with_sgd_equals_weight_decay(backend64):
    """SGD on loss + l2_penalty(lambda) moves the weights exactly as SGD(weight_decay=lambda)."""
    from coursepkg import ops

    x, y = backend64.randn((6, 3)), backend64.randn((6, 2))
    results = []
    for use_penalty in (True, False):
        cp.seed(3)
        layer = Linear(3, 2, bias=False)
        optimizer = SGD(layer, lr=0.1, weight_decay=0.0 if use_penalty else 0.2)
        for _ in range(3):
            optimizer.zero_grad()
            loss = ops.mse_loss(layer(cp.Tensor(x)), y)
            if use_penalty:
                loss = loss + l2_penalty(layer, 0.2)
            loss.backward()
            optimizer.step()
        results.append(cp.to_numpy(layer.weight.data))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_l2_penalty_errors():
    layer = Linear(3, 2)
    with pytest.raises(ValueError, match="strength"):
        l2_penalty(layer, -1.0)
    with pytest.raises(ValueError, match="no parameter"):
        l2_penalty([layer.bias], 0.1)
