"""Guards for the speed-ups of the performance issue: every fast path must give the numbers of the
plain implementation it replaced.

Each test trains a course model (the lesson 06 MLP, the lesson 12 MNIST-1D CNN, the lesson 13 tiny
transformer) for 20 Adam steps twice from the same seed: once as the package is, once with the
earlier, plainer implementations patched back in (ReLU written with ``where``, the embedding's
backward as a scatter-add, cross-entropy with two sums, linear and convolution layers that always
compute the input's gradient and take (B, T, D) inputs through reshape nodes, attention heads split
and joined by separate reshape, transpose and indexing nodes, sums written with
``xp.sum`` rather than as matrix products, row maxima with ``xp.max``, im2col with ``xp.stack``,
reshapes and transposes through the namespace's functions, attention's weights and their backward
written plainly (``q @ k.mT``, a softmax over rows of the (..., T, S) scores, no products written
into existing arrays), layer norm with ``xp.mean`` and the textbook backward, and every
parameter gradient copied before it becomes ``.grad``). The
loss trajectories and final weights must agree to float32 tolerance. No timing is asserted anywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import functional as F  # noqa: N812
from coursepkg import nn, ops, optim
from coursepkg.backend import get_backend, to_numpy
from coursepkg.data import make_mnist1d
from coursepkg.functional import activations as activations_f
from coursepkg.functional import attention as attention_f
from coursepkg.functional import conv as conv_f
from coursepkg.functional import linear as linear_f
from coursepkg.functional import losses as losses_f
from coursepkg.functional import normalization as normalization_f
from coursepkg.functional import pooling as pooling_f
from coursepkg.functional import sums as sums_f
from coursepkg.ops import attention as attention_ops
from coursepkg.ops import elementwise, shape
from coursepkg.ops import normalization as normalization_ops
from coursepkg.ops.conv import Conv1d as Conv1dOp
from coursepkg.ops.linear import Linear as LinearOp
from coursepkg.ops.losses import SoftmaxCrossEntropy
from coursepkg.ops.normalization import LayerNorm as LayerNormOp


# ---------------------------------------------------------------------- the earlier implementations
def plain_relu_forward(x):
    return cp.namespace_of(x).where(x <= 0, 0.0, x), x > 0


def plain_relu_backward(dout, cache):
    return cp.namespace_of(dout).where(cache, dout, 0.0)


def plain_take_backward(self, grad):
    xp = cp.namespace_of(grad)
    full = xp.zeros(self.shape, dtype=self.dtype, device=self.device)
    rows = xp.reshape(grad, (self.indices.shape[0],) + tuple(self.shape[1:]))
    return (get_backend().scatter_add(full, self.indices, rows),)


def plain_cross_entropy_forward(logits, labels):
    xp = cp.namespace_of(logits)
    n, c = logits.shape
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    exp = xp.exp(shifted)
    total = xp.sum(exp, axis=1, keepdims=True)
    one_hot = xp.astype(labels[:, None] == xp.arange(c, dtype=labels.dtype, device=labels.device), logits.dtype)
    loss = (xp.sum(xp.log(total)) - xp.sum(shifted * one_hot)) / n
    return loss, (exp / total, one_hot)


def plain_sum_over_rows(x):
    return cp.namespace_of(x).sum(x, axis=tuple(range(x.ndim - 1)))


def plain_sum_last_axis(x, keepdims=False, weights=None):
    return cp.namespace_of(x).sum(x if weights is None else x * weights, axis=-1, keepdims=keepdims)


def plain_max_last_axis(x, keepdims=False):
    return cp.namespace_of(x).max(x, axis=-1, keepdims=keepdims)


def plain_im2col_1d(x, kernel_size, stride=1, padding=0, dilation=1):
    xp = cp.namespace_of(x)
    out_len = conv_f.conv_output_size(x.shape[2], kernel_size, stride, padding, dilation)
    x_cl = conv_f._padded_examples_last(x, (padding,))
    taps = [x_cl[:, conv_f.window_slice(k, stride, dilation, out_len), :] for k in range(kernel_size)]
    return xp.reshape(xp.stack(taps, axis=1), (x.shape[1] * kernel_size, out_len * x.shape[0]))


def plain_reshape(x, shape):
    return cp.namespace_of(x).reshape(x, shape)


def plain_permute_dims(x, axes):
    return cp.namespace_of(x).permute_dims(x, axes)


def plain_astype(x, dtype):
    return cp.namespace_of(x).astype(x, dtype)


def plain_linear_layer_forward(self, x):  # (B, T, D) inputs through two reshape nodes
    if x.ndim == 2:
        return ops.linear(x, self.weight, self.bias)
    flat = ops.linear(x.reshape(-1, self.in_features), self.weight, self.bias)
    return flat.reshape(*x.shape[:-1], self.out_features)


def plain_attention_forward(self, x, mask=None):  # split, attend and join heads as separate graph nodes
    B, T, D = x.shape
    qkv = self.qkv(x).reshape(B, T, 3, self.num_heads, self.head_dim).transpose(2, 0, 3, 1, 4)
    heads = ops.scaled_dot_product_attention(qkv[0, ...], qkv[1, ...], qkv[2, ...], causal=self.causal, mask=mask)
    return self.proj(heads.transpose(0, 2, 1, 3).reshape(B, T, D))


def plain_attention_weights(q, k, causal=False, mask=None):
    xp = cp.namespace_of(q)
    scores = (q @ k.mT) / float(np.sqrt(q.shape[-1]))
    if causal:
        allowed = xp.tril(xp.ones((q.shape[-2], k.shape[-2]), dtype=xp.bool, device=q.device))
        mask = allowed if mask is None else xp.logical_and(mask, allowed)
    if mask is not None:
        scores = xp.where(mask, scores, float(xp.finfo(scores.dtype).min) / 2)
    return F.softmax(scores, axis=-1)


def plain_attention_backward(dout, cache):
    q, k, v, weights = cache
    xp = cp.namespace_of(dout)
    dweights = dout @ v.mT
    dscores = weights * (dweights - xp.sum(dweights * weights, axis=-1, keepdims=True)) / float(np.sqrt(q.shape[-1]))
    return dscores @ k, dscores.mT @ q, weights.mT @ dout


def plain_layernorm_forward(x, gamma, beta, eps=1e-5):
    xp = cp.namespace_of(x)
    mean = xp.mean(x, axis=-1, keepdims=True)
    var = xp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    xhat = (x - mean) / xp.sqrt(var + eps)
    return xhat * gamma + beta, (xhat, 1 / xp.sqrt(var + eps), gamma)


def plain_layernorm_backward(dout, cache):
    xp = cp.namespace_of(dout)
    xhat, inv_std, gamma = cache
    leading = tuple(range(dout.ndim - 1))
    dxhat = dout * gamma
    dx = inv_std * (dxhat - xp.mean(dxhat, axis=-1, keepdims=True)
                    - xhat * xp.mean(dxhat * xhat, axis=-1, keepdims=True))
    return dx, xp.sum(dout * xhat, axis=leading), xp.sum(dout, axis=leading)


def plain_linear_backward(self, grad):  # dx always computed, even for a data input
    return F.linear_backward(grad, self.cache, input_grad=True)


def plain_conv1d_backward(self, grad):
    return conv_f.conv1d_backward(grad, self.cache, input_grad=True)


@pytest.fixture
def plain(monkeypatch):
    """Patch the plain implementations back in, for the reference run."""
    def activate():
        monkeypatch.setattr(elementwise.ReLU, "pair", (plain_relu_forward, plain_relu_backward))
        monkeypatch.setattr(shape.Take, "backward", plain_take_backward)
        monkeypatch.setattr(SoftmaxCrossEntropy, "pair",
                            (plain_cross_entropy_forward, F.softmax_cross_entropy_backward))
        monkeypatch.setattr(LinearOp, "backward", plain_linear_backward)
        monkeypatch.setattr(Conv1dOp, "backward", plain_conv1d_backward)
        monkeypatch.setattr(nn.Linear, "forward", plain_linear_layer_forward)
        monkeypatch.setattr(nn.MultiHeadSelfAttention, "forward", plain_attention_forward)
        plain_reductions = (("sum_over_rows", plain_sum_over_rows), ("sum_last_axis", plain_sum_last_axis),
                            ("max_last_axis", plain_max_last_axis))
        for module in (linear_f, normalization_f, losses_f, attention_f, conv_f):
            for name, plain_reduction in plain_reductions:
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, plain_reduction)
        monkeypatch.setattr(conv_f, "im2col_1d", plain_im2col_1d)
        monkeypatch.setattr(attention_f, "attention_weights", plain_attention_weights)
        monkeypatch.setattr(attention_ops, "scaled_dot_product_attention_backward", plain_attention_backward)
        monkeypatch.setattr(normalization_ops, "layernorm_forward", plain_layernorm_forward)
        monkeypatch.setattr(normalization_ops, "layernorm_backward", plain_layernorm_backward)
        plain_layout = (("reshape", plain_reshape), ("permute_dims", plain_permute_dims), ("astype", plain_astype))
        for module in (linear_f, normalization_f, attention_f, conv_f, pooling_f, activations_f, sums_f):
            for name, plain_function in plain_layout:
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, plain_function)
        for op in (LinearOp, Conv1dOp, LayerNormOp):  # every parameter gradient copied, as before
            monkeypatch.setattr(op, "returns_new_gradients", False)
    return activate


# ---------------------------------------------------------------------- the course models
def digits_mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def mnist1d_cnn():
    return nn.Sequential(
        nn.Conv1d(1, 24, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Flatten(), nn.Linear(24 * 5, 10))


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 32, init_std=0.5)
        self.position = nn.PositionalEmbedding(8, 32, init_std=0.5)
        self.block = nn.TransformerBlock(32, num_heads=2, mlp_ratio=2)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 10)

    def forward(self, tokens):
        return self.head(self.norm(self.block(self.position(self.embed(tokens)))))


def _data(kind: str):
    rng = np.random.default_rng(0)
    if kind == "mlp":
        X = rng.standard_normal((20 * 32, 64)).astype(np.float32)
        return X, np.argmax(X @ rng.standard_normal((64, 10)), axis=1)  # a learnable rule
    if kind == "cnn":
        X, y, _, _ = make_mnist1d(1000, seed=0)  # 800 training rows
        return X[:, None, :], y
    tokens = rng.integers(0, 10, (20 * 32, 8))
    return tokens, tokens[:, ::-1].copy()


def train(kind: str, steps: int = 20, batch: int = 32) -> tuple[list[float], dict[str, np.ndarray]]:
    """Loss of every Adam step, and the final parameters, from a fixed seed."""
    cp.seed(0)
    model = {"mlp": digits_mlp, "cnn": mnist1d_cnn, "transformer": TinyTransformer}[kind]()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    X, y = _data(kind)
    losses = []
    for i in range(steps):
        xb, yb = X[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
        if kind == "transformer":
            loss = ops.cross_entropy(model(xb).reshape(-1, 10), yb.reshape(-1))
        else:
            loss = ops.cross_entropy(model(cp.Tensor(xb)), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {name: to_numpy(p.data) for name, p in model.named_parameters()}


@pytest.mark.parametrize("kind", ["mlp", "cnn", "transformer"])
def test_training_matches_the_plain_implementation(backend, plain, kind):
    fast_losses, fast_params = train(kind)
    plain()
    plain_losses, plain_params = train(kind)
    assert fast_losses[-1] < fast_losses[0]  # it trains at all
    np.testing.assert_allclose(fast_losses, plain_losses, rtol=1e-5, atol=1e-6)
    if kind == "transformer":
        # The key bias (the middle third of qkv.bias) has a gradient of exactly zero in exact arithmetic:
        # it adds the same number to every score of a row, which softmax ignores. Its float32 gradient is
        # rounding noise, which Adam divides by its own size and turns into steps of about lr, in a
        # direction that any change of summation order flips. Every other weight must agree.
        for params in (fast_params, plain_params):
            params["block.attn.qkv.bias"] = np.delete(params["block.attn.qkv.bias"], np.s_[32:64])
    for name, fast in fast_params.items():
        np.testing.assert_allclose(fast, plain_params[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_relu_edge_values(backend):
    x = backend.asarray(np.array([-np.inf, -1.0, -0.0, 0.0, 2.0, np.inf, np.nan], dtype=np.float32))
    out, cache = F.relu_forward(x)
    np.testing.assert_array_equal(to_numpy(out), [0, 0, 0, 0, 2, np.inf, np.nan])
    dx = F.relu_backward(backend.asarray(np.arange(1, 8, dtype=np.float32)), cache)
    np.testing.assert_array_equal(to_numpy(dx), [0, 0, 0, 0, 5, 6, 0])  # no gradient at 0 or through NaN


@pytest.mark.parametrize("vocab", [7, 5000])  # the one-hot path, and the scatter path of a big table
def test_embedding_gradient_sums_repeated_tokens(backend, vocab):
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 4, size=(300, 4))  # every token repeated many times
    weight = cp.Tensor(backend.asarray(rng.standard_normal((vocab, 3)).astype(np.float32)), requires_grad=True)
    upstream = rng.standard_normal((300, 4, 3)).astype(np.float32)
    ops.take(weight, indices).backward(backend.asarray(upstream))
    expected = np.zeros((vocab, 3), dtype=np.float64)
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, 3))
    np.testing.assert_allclose(to_numpy(weight.grad), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", ["linear", "conv1d", "conv2d"])
def test_a_data_input_gets_no_gradient_and_changes_no_other(backend64, layer):
    """The first layer skips its input's gradient (input_grad=False): the weight and bias gradients
    must be those computed when the input does need a gradient."""
    rng = np.random.default_rng(2)
    shapes = {"linear": ((5, 4), (4, 3)), "conv1d": ((2, 3, 9), (4, 3, 3)), "conv2d": ((2, 3, 6, 5), (4, 3, 3, 2))}
    x_shape, w_shape = shapes[layer]
    x_data = backend64.asarray(rng.standard_normal(x_shape))
    w = cp.Tensor(backend64.asarray(rng.standard_normal(w_shape)), requires_grad=True)
    b = cp.Tensor(backend64.asarray(rng.standard_normal(w_shape[0] if layer != "linear" else w_shape[1])),
                  requires_grad=True)
    op = {"linear": ops.linear, "conv1d": ops.conv1d, "conv2d": ops.conv2d}[layer]
    grads = []
    for needs_grad in (False, True):
        x = cp.Tensor(x_data, requires_grad=needs_grad)
        w.zero_grad(), b.zero_grad()
        out = op(x, w, b)
        (out * out).sum().backward()
        assert (x.grad is not None) == needs_grad
        grads.append((to_numpy(w.grad), to_numpy(b.grad)))
    for skipped, full in zip(*grads):
        np.testing.assert_array_equal(skipped, full)


@pytest.mark.parametrize("backward, cache_of", [
    (F.linear_backward, lambda x, w: F.linear_forward(x, w, None)[1]),
    (conv_f.conv1d_backward, lambda x, w: conv_f.conv1d_forward(x, w, None)[1]),
])
def test_input_grad_false_returns_none(backward, cache_of):
    rng = np.random.default_rng(3)
    if backward is F.linear_backward:
        x, w, dout = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    else:
        x, w, dout = rng.standard_normal((2, 3, 7)), rng.standard_normal((5, 3, 3)), rng.standard_normal((2, 5, 5))
    cache = cache_of(x, w)
    dx, dw, db = backward(dout, cache, input_grad=False)
    full_dx, full_dw, _ = backward(dout, cache)
    assert dx is None and db is None and full_dx.shape == x.shape
    np.testing.assert_array_equal(dw, full_dw)
