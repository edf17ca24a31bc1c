"""Token and positional embeddings: lookup, range errors, gradient accumulation."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.gradcheck import check_gradients
from coursepkg.nn.embedding import Embedding, PositionalEmbedding
from coursepkg.tensor import Tensor


def test_lookup_returns_the_weight_rows(backend):
    layer = Embedding(10, 4)
    indices = np.array([[1, 5, 5], [0, 9, 2]])
    out = layer(indices)
    assert out.shape == (2, 3, 4)
    weight = cp.to_numpy(layer.weight.data)
    np.testing.assert_array_equal(cp.to_numpy(out.data), weight[indices])
    same = layer(Tensor(backend.asarray(indices)))  # a Tensor of indices works too
    np.testing.assert_array_equal(cp.to_numpy(same.data), weight[indices])


@pytest.mark.parametrize("bad", [[[0, 10]], [[-1, 3]]])
def test_out_of_range_index_is_a_clear_error(backend, bad):
    layer = Embedding(10, 4)
    with pytest.raises(IndexError, match=r"Embedding\(num_embeddings=10, dim=4\): indices must be in \[0, 10\), "
                                         r"got values from -?\d+ to \d+ in indices of shape \(1, 2\)"):
        layer(np.array(bad))


def test_float_indices_are_a_clear_error(backend):
    with pytest.raises(TypeError, match=r"Embedding\(num_embeddings=10, dim=4\): indices must be integers"):
        Embedding(10, 4)(np.array([1.0, 2.0]))


def test_gradient_accumulates_for_repeated_indices(backend64):
    layer = Embedding(6, 3)
    indices = np.array([[2, 0, 2], [2, 5, 0]])
    upstream = np.random.default_rng(0).normal(size=(2, 3, 3))
    layer(indices).backward(backend64.asarray(upstream))
    expected = np.zeros((6, 3))
    for (b, t), row in np.ndenumerate(indices):
        expected[row] += upstream[b, t]
    np.testing.assert_allclose(cp.to_numpy(layer.weight.grad), expected, rtol=1e-12)
    assert np.all(cp.to_numpy(layer.weight.grad)[[1, 3, 4]] == 0)  # unused rows get nothing


@pytest.mark.parametrize("indices", [np.array([3]), np.array([[1, 1, 4], [0, 4, 4]])])
def test_embedding_gradients(backend64, indices):
    layer = Embedding(5, 3)

    def f(weight):
        layer.weight = weight
        return layer(indices)

    result = check_gradients(f, [np.random.default_rng(1).normal(size=(5, 3))], ["weight"])
    assert result.ok, str(result)


def test_positional_embedding_adds_one_vector_per_position(backend64):
    layer = PositionalEmbedding(max_len=6, dim=4)
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    out = cp.to_numpy(layer(Tensor(backend64.asarray(x))).data)
    np.testing.assert_allclose(out, x + cp.to_numpy(layer.weight.data)[:3], rtol=1e-12)

    def f(x, weight):
        layer.weight = weight
        return layer(x)

    result = check_gradients(f, [x, cp.to_numpy(layer.weight.data)], ["x", "weight"])
    assert result.ok, str(result)
    weight = layer.weight  # a plain Tensor now; its last rows were never used
    layer.weight = Tensor(weight.data, requires_grad=True)
    layer(Tensor(backend64.asarray(x))).sum().backward()
    np.testing.assert_array_equal(cp.to_numpy(layer.weight.grad)[3:], 0.0)
    np.testing.assert_allclose(cp.to_numpy(layer.weight.grad)[:3], 2.0)  # summed over the batch of 2


def test_positional_embedding_errors_name_the_layer(backend):
    layer = PositionalEmbedding(max_len=4, dim=8)
    with pytest.raises(ValueError, match=r"PositionalEmbedding\(max_len=4, dim=8\): input has shape \(2, 5, 8\)"):
        layer(Tensor(backend.zeros((2, 5, 8))))
    with pytest.raises(ValueError, match=r"PositionalEmbedding\(max_len=4, dim=8\): input has shape \(2, 3, 6\)"):
        layer(Tensor(backend.zeros((2, 3, 6))))


def test_embedding_against_torch():
    torch = pytest.importorskip("torch")
    cp.set_backend("numpy", dtype="float64")
    layer = Embedding(7, 3)
    reference = torch.nn.Embedding(7, 3, dtype=torch.float64)
    reference.weight.data = torch.from_numpy(cp.to_numpy(layer.weight.data).copy())
    indices = np.array([[1, 2, 2], [6, 0, 1]])
    layer(indices).sum().backward()
    reference(torch.from_numpy(indices)).sum().backward()
    np.testing.assert_allclose(cp.to_numpy(layer.weight.grad), reference.weight.grad.numpy())
