"""Normalization layers: ``BatchNorm1d`` (lesson 05) and ``LayerNorm`` (lesson 13)."""

from __future__ import annotations

from typing import Any

from coursepkg.backend import get_backend
from coursepkg.nn.module import Module, Parameter
from coursepkg.ops.normalization import batch_norm, layer_norm
from coursepkg.tensor import Tensor


class BatchNorm1d(Module):
    """Batch normalization of each feature (channel) over the batch.

    Inputs:
    - num_features: D for inputs of shape (N, D), or C for inputs of shape (N, C, L).
    - momentum: weight of each new batch in the running statistics,
      running = (1 - momentum) * running + momentum * batch (PyTorch's convention).
    - eps: added to the variance before the square root.
    Forward: x of shape (N, D) or (N, C, L) -> same shape. In training mode the batch's own
    statistics are used (N > 1 needed) and the running ones are updated; in eval mode the
    running ones are used.
    Parameters: gamma (D,) initialized to 1, beta (D,) initialized to 0.
    Buffers (saved in state_dict, not trained): running_mean (D,) = 0, running_var (D,) = 1.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        backend = get_backend()
        self.gamma = Parameter(backend.ones((num_features,)))
        self.beta = Parameter(backend.zeros((num_features,)))
        self.register_buffer("running_mean", backend.zeros((num_features,)))
        self.register_buffer("running_var", backend.ones((num_features,)))

    @property
    def running_mean(self) -> Any:
        """Running average of the batch means, shape (num_features,)."""
        return self._buffers["running_mean"]

    @property
    def running_var(self) -> Any:
        """Running average of the (unbiased) batch variances, shape (num_features,)."""
        return self._buffers["running_var"]

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: input has shape {x.shape}, expected (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L).")
        if self.training and x.size // x.shape[1] < 2:
            raise ValueError(f"{self!r}: training mode needs more than one value per feature to compute a "
                             f"variance, got input of shape {x.shape}; use a batch with N > 1, or call .eval().")
        return batch_norm(x, self.gamma, self.beta, self.running_mean, self.running_var,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, momentum={self.momentum}, eps={self.eps}"


class LayerNorm(Module):
    """Layer normalization over the last axis, the same in training and evaluation.

    Inputs:
    - dim: size D of the last axis.
    - eps: added to the variance before the square root.
    Forward: x of shape (..., D) -> same shape.
    Parameters: gamma (D,) initialized to 1, beta (D,) initialized to 0.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps
        backend = get_backend()
        self.gamma = Parameter(backend.ones((dim,)))
        self.beta = Parameter(backend.zeros((dim,)))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.dim:
            raise ValueError(f"{self!r}: input has shape {x.shape}, expected (..., {self.dim}) "
                             f"(the last axis must have dim={self.dim} entries).")
        return layer_norm(x, self.gamma, self.beta, eps=self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"

