"""Scaled dot-product attention, multi-head self-attention and the transformer block."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import ops
from coursepkg.functional.attention import (
    attention_weights,
    causal_mask,
    multi_head_self_attention_forward,
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
)
from coursepkg.gradcheck import check_gradients
from coursepkg.nn.attention import MultiHeadSelfAttention, TransformerBlock
from coursepkg.ops.attention import scaled_dot_product_attention
from coursepkg.tensor import Tensor


def _gradcheck_module(module, x, tolerance=1e-6):
    """Gradient check of a module with respect to its input and every parameter.

    The key part of a fused qkv bias is left out: adding b_k to every key adds the same number
    q . b_k to all scores of a query, which softmax ignores, so its gradient is exactly zero and
    a relative error is meaningless (test_key_bias_gets_no_gradient checks it instead).
    """
    param_names = [name for name, _ in module.named_parameters()]
    names, inputs, key_bias = ["x"], [x], {}
    for name, p in module.named_parameters():
        value = cp.to_numpy(p.data)
        if name.endswith("qkv.bias"):
            d = value.shape[0] // 3
            names += [name + "[q]", name + "[v]"]
            inputs += [value[:d], value[2 * d:]]
            key_bias[name] = value[d:2 * d]
        else:
            names.append(name)
            inputs.append(value)

    def f(x, *tensors):
        pieces = iter(tensors)
        for name in param_names:
            if name in key_bias:
                query, value = next(pieces), next(pieces)
                tensor = ops.concat([query, Tensor(cp.get_backend().asarray(key_bias[name])), value])
            else:
                tensor = next(pieces)
            owner, _, attribute = name.rpartition(".")
            setattr(dict(module.named_modules())[owner], attribute, tensor)
        return module(x)

    # A step of 1e-5 rather than the default 1e-6: with 1e-6, round-off alone pushed a few of 120 random
    # initializations past 1e-6 (up to 8e-6); with 1e-5 the worst of them was 5e-7.
    return check_gradients(f, inputs, names, tolerance=tolerance, h=1e-5)


def naive_attention(q, k, v, mask=None):
    """One (batch, head) at a time, one query at a time: the definition, written out with loops."""
    q4, k4, v4 = (a if a.ndim == 4 else a[:, None] for a in (q, k, v))
    B, H, T, d = q4.shape
    S = k4.shape[2]
    out = np.zeros((B, H, T, v4.shape[-1]))
    for b in range(B):
        for h in range(H):
            for t in range(T):
                scores = np.array([q4[b, h, t] @ k4[b, h, s] / np.sqrt(d) for s in range(S)])
                allowed = np.ones(S, bool) if mask is None else np.broadcast_to(mask, (B, H, T, S))[b, h, t]
                scores = np.where(allowed, scores, -np.inf)
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                out[b, h, t] = sum(weights[s] * v4[b, h, s] for s in range(S))
    return out if q.ndim == 4 else out[:, 0]


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# ---------------------------------------------------------------------- functional
@pytest.mark.parametrize("shapes", [
    ((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4)),
    ((1, 1, 1, 3), (1, 1, 1, 3), (1, 1, 1, 2)),
    ((2, 4, 6), (2, 7, 6), (2, 7, 3)),  # (B, T, d) with S != T and dv != d
])
def test_matches_naive_loop(backend64, shapes):
    q, k, v = (_random(s, seed=i) for i, s in enumerate(shapes))
    out, cache = scaled_dot_product_attention_forward(*(backend64.asarray(a) for a in (q, k, v)))
    np.testing.assert_allclose(cp.to_numpy(out), naive_attention(q, k, v), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cp.to_numpy(cache[3]).sum(axis=-1), 1.0, rtol=1e-12)


def test_causal_and_explicit_masks_match_naive_loop(backend64):
    q, k, v = _random((2, 2, 5, 3), 1), _random((2, 2, 5, 3), 2), _random((2, 2, 5, 4), 3)
    tril = np.tril(np.ones((5, 5), bool))
    args = [backend64.asarray(a) for a in (q, k, v)]
    out, _ = scaled_dot_product_attention_forward(*args, causal=True)
    np.testing.assert_allclose(cp.to_numpy(out), naive_attention(q, k, v, tril), rtol=1e-10)
    padding = np.ones((2, 1, 1, 5), bool)
    padding[0, ..., 3:] = False  # example 0 has two padded keys
    out, _ = scaled_dot_product_attention_forward(*args, mask=backend64.asarray(padding))
    np.testing.assert_allclose(cp.to_numpy(out), naive_attention(q, k, v, padding), rtol=1e-10)
    out, _ = scaled_dot_product_attention_forward(*args, causal=True, mask=backend64.asarray(padding))
    np.testing.assert_allclose(cp.to_numpy(out), naive_attention(q, k, v, padding & tril), rtol=1e-10)


def test_causal_mask_helper(backend):
    np.testing.assert_array_equal(cp.to_numpy(causal_mask(4)), np.tril(np.ones((4, 4), bool)))
    np.testing.assert_array_equal(cp.to_numpy(causal_mask(2, 3)), np.tril(np.ones((2, 3), bool)))


def test_weights_are_rows_summing_to_one_with_zeros_where_hidden(backend):
    q, k = backend.asarray(_random((3, 2, 6, 4), 4)), backend.asarray(_random((3, 2, 6, 4), 5))
    weights = cp.to_numpy(attention_weights(q, k, causal=True))
    assert weights.shape == (3, 2, 6, 6)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(weights[..., ~np.tril(np.ones((6, 6), bool))] == 0)
    assert np.all(weights >= 0)


def test_a_row_with_every_key_hidden_gets_equal_weights(backend):
    q, k = backend.asarray(_random((1, 3, 2), 14)), backend.asarray(_random((1, 4, 2), 15))
    mask = np.ones((3, 4), bool)
    mask[1] = False
    weights = cp.to_numpy(attention_weights(q, k, mask=backend.asarray(mask)))
    np.testing.assert_allclose(weights[0, 1], 0.25, rtol=1e-6)
    assert np.all(np.isfinite(weights))


def test_causal_output_does_not_depend_on_later_positions(backend64):
    q, k, v = _random((2, 2, 6, 3), 6), _random((2, 2, 6, 3), 7), _random((2, 2, 6, 3), 8)
    base, _ = scaled_dot_product_attention_forward(*(backend64.asarray(a) for a in (q, k, v)), causal=True)
    for t in range(5):
        changed = [a.copy() for a in (q, k, v)]
        for a in changed:
            a[:, :, t + 1:] += 10 * _random(a[:, :, t + 1:].shape, 9 + t)
        out, _ = scaled_dot_product_attention_forward(*(backend64.asarray(a) for a in changed), causal=True)
        np.testing.assert_allclose(cp.to_numpy(out)[:, :, : t + 1], cp.to_numpy(base)[:, :, : t + 1], rtol=1e-12)
        assert not np.allclose(cp.to_numpy(out)[:, :, t + 1:], cp.to_numpy(base)[:, :, t + 1:])


def test_backward_gives_no_gradient_through_hidden_keys(backend64):
    q, k, v = _random((1, 4, 3), 10), _random((1, 4, 3), 11), _random((1, 4, 3), 12)
    _, cache = scaled_dot_product_attention_forward(*(backend64.asarray(a) for a in (q, k, v)), causal=True)
    _, dk, dv = scaled_dot_product_attention_backward(backend64.asarray(_random((1, 4, 3), 13)), cache)
    # Key and value at the last position are seen only by the last query, so with an upstream
    # gradient on the first query only, they get nothing.
    dout = np.zeros((1, 4, 3))
    dout[:, 0] = 1.0
    _, dk, dv = scaled_dot_product_attention_backward(backend64.asarray(dout), cache)
    assert np.all(cp.to_numpy(dk)[:, 1:] == 0) and np.all(cp.to_numpy(dv)[:, 1:] == 0)
    assert np.any(cp.to_numpy(dv)[:, 0] != 0)


def test_backward_from_weights_in_any_layout(backend64):
    """The forward keeps the weights as a view of a keys-first array; a cache whose weights are laid
    out the usual way (a copy, as a learner's own forward would give) must give the same gradients."""
    q, k, v, dout = (_random(shape, seed) for seed, shape in enumerate([(2, 3, 4, 5), (2, 3, 6, 5),
                                                                         (2, 3, 6, 2), (2, 3, 4, 2)], start=30))
    _, cache = scaled_dot_product_attention_forward(*(backend64.asarray(a) for a in (q, k, v)), causal=True)
    copied = cache[:3] + (backend64.asarray(cp.to_numpy(cache[3]).copy()),)
    for got, want in zip(scaled_dot_product_attention_backward(backend64.asarray(dout), copied),
                         scaled_dot_product_attention_backward(backend64.asarray(dout), cache)):
        np.testing.assert_allclose(cp.to_numpy(got), cp.to_numpy(want), rtol=1e-12, atol=1e-12)


def test_out_arrays_receive_the_output_and_gradients(backend64):
    """out= writes the results into the given arrays (views into packed arrays, as multi-head attention
    uses it) and gives the numbers of the call without out=."""
    from coursepkg.functional.layout import permute_dims

    q, k, v, dout = (_random((2, 3, 4, 5), seed) for seed in (20, 21, 22, 23))
    args = [backend64.asarray(a) for a in (q, k, v)]
    expected, cache = scaled_dot_product_attention_forward(*args, causal=True)
    joined = backend64.asarray(np.zeros((2, 4, 3, 5)))  # (B, T, H, d)
    out, _ = scaled_dot_product_attention_forward(*args, causal=True, out=permute_dims(joined, (0, 2, 1, 3)))
    np.testing.assert_allclose(cp.to_numpy(out), cp.to_numpy(expected), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cp.to_numpy(joined), np.swapaxes(cp.to_numpy(expected), 1, 2), rtol=1e-12, atol=1e-12)

    expected_grads = scaled_dot_product_attention_backward(backend64.asarray(dout), cache)
    packed = backend64.asarray(np.zeros((2, 4, 3, 3, 5)))  # (B, T, 3 parts, H, d)
    views = [permute_dims(packed[:, :, i, ...], (0, 2, 1, 3)) for i in range(3)]
    grads = scaled_dot_product_attention_backward(backend64.asarray(dout), cache, out=views)
    for i, (grad, want) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(cp.to_numpy(grad), cp.to_numpy(want), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cp.to_numpy(packed)[:, :, i], np.swapaxes(cp.to_numpy(want), 1, 2),
                                   rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- op gradients
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shapes", [
    ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3)),
    ((1, 1, 3, 2), (1, 1, 3, 2), (1, 1, 3, 4)),
    ((2, 3, 4), (2, 5, 4), (2, 5, 2)),
])
def test_sdpa_op_gradients(backend64, shapes, causal):
    inputs = [_random(s, seed=20 + i) for i, s in enumerate(shapes)]
    result = check_gradients(lambda q, k, v: scaled_dot_product_attention(q, k, v, causal=causal),
                             inputs, ["q", "k", "v"])
    assert result.ok, str(result)


def test_sdpa_op_gradients_with_padding_mask(backend64):
    padding = np.ones((2, 1, 1, 4), bool)
    padding[1, ..., 2:] = False
    mask = Tensor(backend64.asarray(padding))
    inputs = [_random((2, 2, 4, 3), seed=30 + i) for i in range(3)]
    result = check_gradients(lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask), inputs, ["q", "k", "v"])
    assert result.ok, str(result)


def test_shape_and_mask_errors_name_the_function_and_shapes(backend):
    q = backend.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: .*same size d.*k \(2, 3, 5\)"):
        scaled_dot_product_attention_forward(q, backend.zeros((2, 3, 5)), backend.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: .*one value per key.*v \(2, 4, 4\)"):
        scaled_dot_product_attention_forward(q, q, backend.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: .*\(B, H, T, d\).*q \(3, 4\)"):
        scaled_dot_product_attention_forward(backend.zeros((3, 4)), backend.zeros((3, 4)), backend.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: mask of shape \(2, 2\) .*\(2, 3, 3\)"):
        scaled_dot_product_attention_forward(q, q, q, mask=backend.ones((2, 2), dtype=backend.xp.bool))
    with pytest.raises(TypeError, match=r"scaled_dot_product_attention: mask must be a bool array"):
        scaled_dot_product_attention_forward(q, q, q, mask=backend.ones((3, 3)))


# ---------------------------------------------------------------------- heads packed in one array
def _split_heads_by_hand(qkv, heads):
    """(B, T, 3 D) -> q, k, v of shape (B, H, T, hd), by slicing columns: the definition."""
    B, T, three_d = qkv.shape
    D = three_d // 3
    hd = D // heads
    return [np.stack([qkv[..., part * D + h * hd:part * D + (h + 1) * hd] for h in range(heads)], axis=1)
            for part in range(3)]


@pytest.mark.parametrize("heads, causal, padded", [(2, False, False), (3, True, False), (1, False, True)])
def test_packed_multi_head_attention_matches_heads_attended_one_by_one(backend64, heads, causal, padded):
    qkv = _random((2, 5, 3 * 6), 50)
    mask = None
    if padded:
        mask = np.ones((2, 1, 1, 5), bool)
        mask[1, ..., 3:] = False
    out, _ = multi_head_self_attention_forward(backend64.asarray(qkv), heads, causal=causal,
                                               mask=None if mask is None else backend64.asarray(mask))
    q, k, v = _split_heads_by_hand(qkv, heads)
    if causal:
        mask = np.tril(np.ones((5, 5), bool))
    expected = naive_attention(q, k, v, mask)  # (B, H, T, hd)
    expected = np.concatenate([expected[:, h] for h in range(heads)], axis=-1)  # heads side by side
    assert tuple(out.shape) == (2, 5, 6)
    np.testing.assert_allclose(cp.to_numpy(out), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("heads, causal", [(2, False), (2, True), (1, True)])
def test_packed_multi_head_attention_gradients(backend64, heads, causal):
    result = check_gradients(lambda qkv: ops.multi_head_self_attention(qkv, heads, causal=causal),
                             [_random((2, 3, 3 * 4), 51)], ["qkv"])
    assert result.ok, str(result)


def test_packed_multi_head_attention_gradients_with_padding_mask(backend64):
    padding = np.ones((2, 1, 1, 4), bool)
    padding[0, ..., 2:] = False  # example 0 sees keys 0 and 1 only
    mask = Tensor(backend64.asarray(padding))
    # Tolerance 1e-5: one entry of the gradient is ~3e-5, where central differences carry ~1e-10 of
    # rounding error (a relative error of ~2e-6 that says nothing about the backward pass).
    result = check_gradients(lambda qkv: ops.multi_head_self_attention(qkv, 2, mask=mask),
                             [_random((2, 4, 3 * 4), 52)], ["qkv"], tolerance=1e-5)
    assert result.ok, str(result)


def test_packed_multi_head_attention_shape_errors(backend):
    with pytest.raises(ValueError, match=r"multi_head_self_attention_forward: .*num_heads=2; got \(2, 3, 9\)"):
        multi_head_self_attention_forward(backend.zeros((2, 3, 9)), 2)
    with pytest.raises(ValueError, match=r"\(B, T, 3 D\).*got \(3, 12\)"):
        multi_head_self_attention_forward(backend.zeros((3, 12)), 2)


# ---------------------------------------------------------------------- modules
def test_multi_head_attention_matches_naive_per_head_computation(backend64):
    layer = MultiHeadSelfAttention(6, num_heads=2)
    x = _random((2, 4, 6), 40)
    out = cp.to_numpy(layer(Tensor(backend64.asarray(x))).data)
    w_qkv, b_qkv = cp.to_numpy(layer.qkv.weight.data), cp.to_numpy(layer.qkv.bias.data)
    w_out, b_out = cp.to_numpy(layer.proj.weight.data), cp.to_numpy(layer.proj.bias.data)
    q, k, v = np.split(x @ w_qkv + b_qkv, 3, axis=-1)  # each (B, T, D); head h owns columns 3h..3h+2
    heads = [naive_attention(q[..., 3 * h:3 * h + 3], k[..., 3 * h:3 * h + 3], v[..., 3 * h:3 * h + 3])
             for h in range(2)]
    expected = np.concatenate(heads, axis=-1) @ w_out + b_out
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_gradients(backend64, causal):
    layer = MultiHeadSelfAttention(4, num_heads=2, causal=causal)
    result = _gradcheck_module(layer, _random((2, 3, 4), 41))
    assert result.ok, str(result)
    assert set(result.errors) == {"x", "qkv.weight", "qkv.bias[q]", "qkv.bias[v]", "proj.weight", "proj.bias"}


def test_key_bias_gets_no_gradient(backend64):
    layer = MultiHeadSelfAttention(4, num_heads=2, causal=True)
    out = layer(Tensor(backend64.asarray(_random((2, 3, 4), 45))))
    (out * Tensor(backend64.asarray(_random((2, 3, 4), 46)))).sum().backward()
    grad = cp.to_numpy(layer.qkv.bias.grad)
    np.testing.assert_allclose(grad[4:8], 0.0, atol=1e-12)
    assert np.all(np.abs(grad[:4]) > 1e-8) and np.all(np.abs(grad[8:]) > 1e-8)


@pytest.mark.parametrize("shape", [(1, 3, 4), (2, 2, 4)])
def test_transformer_block_gradients(backend64, shape):
    block = TransformerBlock(4, num_heads=2, mlp_ratio=2, causal=True)
    count = len(block.parameters())
    result = _gradcheck_module(block, _random(shape, 42), tolerance=1e-5)
    assert result.ok, str(result)
    assert count == 12 and len(result.errors) == 1 + count + 1  # x, and qkv.bias in two pieces


def test_causal_transformer_block_ignores_later_positions(backend64):
    block = TransformerBlock(8, num_heads=2, causal=True)
    x = _random((2, 5, 8), 43)
    base = cp.to_numpy(block(Tensor(backend64.asarray(x))).data)
    changed = x.copy()
    changed[:, 3:] += 3 * _random((2, 2, 8), 47)  # (a constant shift would be undone by LayerNorm)
    out = cp.to_numpy(block(Tensor(backend64.asarray(changed))).data)
    np.testing.assert_allclose(out[:, :3], base[:, :3], rtol=1e-12)
    assert not np.allclose(out[:, 3:], base[:, 3:])
    full = TransformerBlock(8, num_heads=2, causal=False)  # without the mask, earlier outputs change
    assert not np.allclose(cp.to_numpy(full(Tensor(backend64.asarray(changed))).data)[:, :3],
                           cp.to_numpy(full(Tensor(backend64.asarray(x))).data)[:, :3])


def test_transformer_block_dropout_train_vs_eval(backend):
    block = TransformerBlock(8, num_heads=2, dropout=0.5)
    x = Tensor(backend.asarray(_random((2, 5, 8), 44)))
    block.eval()
    a, b = cp.to_numpy(block(x).data), cp.to_numpy(block(x).data)
    np.testing.assert_array_equal(a, b)
    block.train()
    assert not np.allclose(cp.to_numpy(block(x).data), a)


def test_module_shape_errors_name_the_layer(backend):
    with pytest.raises(ValueError, match=r"dim=6 must be divisible by num_heads=4"):
        MultiHeadSelfAttention(6, num_heads=4)
    with pytest.raises(ValueError, match=r"MultiHeadSelfAttention\(dim=8, num_heads=2.*\(2, 5, 6\).*\(B, T, 8\)"):
        MultiHeadSelfAttention(8, 2)(Tensor(backend.zeros((2, 5, 6))))
    with pytest.raises(ValueError, match=r"TransformerBlock\(dim=8, num_heads=2\): input has shape \(5, 8\)"):
        TransformerBlock(8, 2)(Tensor(backend.zeros((5, 8))))


# ---------------------------------------------------------------------- against PyTorch
def test_sdpa_against_torch():
    torch = pytest.importorskip("torch")
    q, k, v = _random((2, 2, 5, 4), 50), _random((2, 2, 5, 4), 51), _random((2, 2, 5, 4), 52)
    cp.set_backend("numpy", dtype="float64")
    tensors = [Tensor(a, requires_grad=True) for a in (q, k, v)]
    out = scaled_dot_product_attention(*tensors, causal=True)
    out.sum().backward()
    ref_inputs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ref = torch.nn.functional.scaled_dot_product_attention(*ref_inputs, is_causal=True)
    ref.sum().backward()
    np.testing.assert_allclose(cp.to_numpy(out.data), ref.detach().numpy(), rtol=1e-8)
    for mine, theirs in zip(tensors, ref_inputs):
        np.testing.assert_allclose(cp.to_numpy(mine.grad), theirs.grad.numpy(), rtol=1e-7, atol=1e-10)
