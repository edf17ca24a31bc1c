"""Batch norm and layer norm as differentiable ops (the math is in
:mod:`coursepkg.functional.normalization`).
"""

from __future__ import annotations

from typing import Any

from coursepkg.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from coursepkg.tensor import Function, Tensor


class BatchNorm(Function):
    returns_new_gradients = True  # matrix products and sums: see Function

    def forward(self, x: Any, gamma: Any, beta: Any, running_mean: Any = None, running_var: Any = None,
                momentum: float = 0.1, eps: float = 1e-5, training: bool = True) -> Any:
        out, self.cache = batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                            momentum=momentum, eps=eps, training=training)
        return out

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        return batchnorm_backward(grad, self.cache)


class LayerNorm(Function):
    returns_new_gradients = True  # matrix products and sums: see Function

    def forward(self, x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Any:
        out, self.cache = layernorm_forward(x, gamma, beta, eps=eps)
        return out

    def backward(self, grad: Any) -> tuple[Any, Any, Any]:
        return layernorm_backward(grad, self.cache)


def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, running_mean: Any, running_var: Any,
               training: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization of x of shape (N, D) or (N, C, L), per feature (channel).

    Inputs:
    - x: Tensor of shape (N, D) or (N, C, L).
    - gamma, beta: Tensors of shape (D,) or (C,).
    - running_mean, running_var: backend arrays of shape (D,) or (C,); in training mode they are
      **updated in place** (see :func:`~coursepkg.functional.normalization.batchnorm_forward`).
    - training: normalize with batch statistics (True) or the running ones (False).
    Returns: a Tensor of the same shape as x.
    """
    return BatchNorm.apply(x, gamma, beta, running_mean=_array(running_mean), running_var=_array(running_var),
                           momentum=momentum, eps=eps, training=training)


def layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Layer normalization over the last axis: x of shape (..., D), gamma and beta of shape (D,)."""
    return LayerNorm.apply(x, gamma, beta, eps=eps)
