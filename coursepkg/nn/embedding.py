"""Embeddings: a learned vector for each token (``Embedding``) and each position
(``PositionalEmbedding``), as used by the transformer of lesson 13.

An embedding is a lookup table: row i of the weight matrix is the vector of token i. Looking up
is ``ops.take``; its backward pass adds each output gradient into the row it came from, so a
token that appears several times in a batch receives the sum of all its gradients.
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import get_backend, namespace_of
from coursepkg.nn.module import Module, Parameter
from coursepkg.ops.shape import take
from coursepkg.tensor import Tensor


class Embedding(Module):
    """A learned vector of size ``dim`` for each of ``num_embeddings`` tokens.

    Inputs:
    - num_embeddings: vocabulary size V.
    - dim: embedding size D.
    - init_std: standard deviation of the N(0, init_std^2) initial weights (PyTorch uses 1).
    Forward: integer indices of any shape S, values in [0, V) (a Tensor, a backend array or a
    NumPy array) -> Tensor of shape (*S, D); for example (B, T) -> (B, T, D).
    Parameters: weight (V, D).
    """

    def __init__(self, num_embeddings: int, dim: int, init_std: float = 1.0) -> None:
        super().__init__()
        self.num_embeddings, self.dim = num_embeddings, dim
        self.weight = Parameter(get_backend().randn((num_embeddings, dim)) * init_std)

    def forward(self, indices: Any) -> Tensor:
        idx = indices.data if isinstance(indices, Tensor) else get_backend().asarray(indices)
        xp = namespace_of(idx)
        if not xp.isdtype(idx.dtype, "integral"):
            raise TypeError(f"{self!r}: indices must be integers (token ids), got dtype {idx.dtype} "
                            f"with shape {tuple(idx.shape)}.")
        if idx.size:
            low, high = int(xp.min(idx)), int(xp.max(idx))
            if low < 0 or high >= self.num_embeddings:
                raise IndexError(f"{self!r}: indices must be in [0, {self.num_embeddings}), got values from "
                                 f"{low} to {high} in indices of shape {tuple(idx.shape)}.")
        return take(self.weight, idx)

    def extra_repr(self) -> str:
        return f"num_embeddings={self.num_embeddings}, dim={self.dim}"


class PositionalEmbedding(Module):
    """A learned vector for each position 0..max_len-1, added to the token embeddings.

    Attention itself ignores order (permute the inputs and the outputs permute the same way);
    adding a different vector at each position lets the model know where each token is.

    Inputs:
    - max_len: the longest sequence the model will see.
    - dim: embedding size D.
    - init_std: standard deviation of the N(0, init_std^2) initial weights.
    Forward: x of shape (B, T, D) with T <= max_len -> x + weight[:T], shape (B, T, D).
    Parameters: weight (max_len, D).
    """

    def __init__(self, max_len: int, dim: int, init_std: float = 1.0) -> None:
        super().__init__()
        self.max_len, self.dim = max_len, dim
        self.weight = Parameter(get_backend().randn((max_len, dim)) * init_std)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.dim or x.shape[1] > self.max_len:
            raise ValueError(f"{self!r}: input has shape {x.shape}, expected (B, T, {self.dim}) with "
                             f"T <= max_len={self.max_len}.")
        return x + self.weight[: x.shape[1], ...]

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, dim={self.dim}"
