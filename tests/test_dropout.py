"""Inverted dropout: eval is the identity, training keeps the expected value, masks are seeded."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.functional.dropout import dropout_backward, dropout_forward
from coursepkg.gradcheck import check_gradients
from coursepkg.nn.dropout import Dropout
from coursepkg.ops.dropout import dropout
from coursepkg.tensor import Tensor


def test_eval_mode_is_the_identity(backend):
    x_host = np.random.default_rng(0).normal(size=(5, 7))
    x = backend.asarray(x_host)
    out, cache = dropout_forward(x, p=0.5, training=False)
    np.testing.assert_array_equal(cp.to_numpy(out), cp.to_numpy(x))
    np.testing.assert_array_equal(cp.to_numpy(dropout_backward(x, cache)), cp.to_numpy(x))
    layer = Dropout(0.5).eval()
    np.testing.assert_array_equal(cp.to_numpy(layer(cp.tensor(x_host)).data), x_host.astype(np.float32))
    layer.train()
    assert not np.array_equal(cp.to_numpy(layer(cp.tensor(x_host)).data), x_host.astype(np.float32))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_training_zeroes_about_p_and_keeps_the_expected_value(backend, p):
    x_host = np.random.default_rng(1).uniform(1.0, 2.0, size=(40, 50))  # no zeros in x itself
    x = backend.asarray(x_host)
    draws = 400
    total = np.zeros_like(x_host)
    zero_fraction = []
    for _ in range(draws):
        out = cp.to_numpy(dropout_forward(x, p=p, training=True)[0])
        kept = out != 0
        zero_fraction.append(1 - kept.mean())
        np.testing.assert_allclose(out[kept], x_host[kept] / (1 - p), rtol=1e-6)  # survivors scaled by 1/(1-p)
        total += out
    # Each entry zeroed with probability p: the fraction over 2000 entries is within ~5 sigma of p.
    sigma_fraction = np.sqrt(p * (1 - p) / x_host.size)
    assert abs(zero_fraction[0] - p) < 5 * sigma_fraction
    assert abs(np.mean(zero_fraction) - p) < 5 * sigma_fraction / np.sqrt(draws)
    # The mean of many draws approaches x: per entry the std of one draw is x sqrt(p / (1 - p)).
    mean = total / draws
    sigma_mean = x_host * np.sqrt(p / (1 - p)) / np.sqrt(draws)
    assert np.all(np.abs(mean - x_host) < 6 * sigma_mean)
    assert abs(np.mean((mean - x_host) / sigma_mean)) < 5 / np.sqrt(x_host.size)


def test_same_seed_same_mask_different_seed_different_mask(backend):
    x = backend.ones((20, 30))
    backend.seed(7)
    a = cp.to_numpy(dropout_forward(x, p=0.5)[0])
    backend.seed(7)
    b = cp.to_numpy(dropout_forward(x, p=0.5)[0])
    backend.seed(8)
    c = cp.to_numpy(dropout_forward(x, p=0.5)[0])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    cp.seed(7)  # the package-level seed reaches the same generator
    np.testing.assert_array_equal(cp.to_numpy(Dropout(0.5)(Tensor(x)).data), a)


def test_mask_source_can_be_another_backend(backend):
    source = cp.Backend(backend.name, seed=3, device=backend.device)
    twin = cp.Backend(backend.name, seed=3, device=backend.device)
    x = backend.ones((10, 10))
    first = cp.to_numpy(dropout_forward(x, p=0.3, mask_source=source)[0])
    second = cp.to_numpy(dropout_forward(x, p=0.3, mask_source=twin)[0])
    np.testing.assert_array_equal(first, second)


def test_backward_uses_the_forward_mask(backend):
    x = Tensor(backend.asarray(np.random.default_rng(2).uniform(1, 2, size=(6, 8))), requires_grad=True)
    out = dropout(x, p=0.4)
    upstream = np.random.default_rng(3).normal(size=(6, 8))
    out.backward(backend.asarray(upstream))
    kept = cp.to_numpy(out.data) != 0
    assert 0 < kept.sum() < kept.size
    expected = np.where(kept, upstream / 0.6, 0.0)
    np.testing.assert_allclose(cp.to_numpy(x.grad), expected, rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 4), (3, 5), (2, 3, 4)])
def test_dropout_op_gradients_with_a_fixed_mask(backend64, shape):
    def f(x):
        backend64.seed(11)  # the same mask at every evaluation, so finite differences make sense
        return dropout(x, p=0.3)

    result = check_gradients(f, [np.random.default_rng(4).normal(size=shape)], ["x"])
    assert result.ok, str(result)


def test_edge_probabilities_and_bad_p(backend):
    x = backend.asarray(np.random.default_rng(5).normal(size=(4, 4)))
    np.testing.assert_array_equal(cp.to_numpy(dropout_forward(x, p=0.0)[0]), cp.to_numpy(x))
    np.testing.assert_array_equal(cp.to_numpy(dropout_forward(x, p=1.0)[0]), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"dropout_forward: .*\[0, 1\], got p=1.5"):
        dropout_forward(x, p=1.5)
    with pytest.raises(ValueError, match=r"Dropout: .*got p=-0.1"):
        Dropout(-0.1)
    with pytest.raises(ValueError, match=r"dropout: .*got p=2"):
        dropout(Tensor(x), p=2)
