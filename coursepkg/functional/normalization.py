"""Batch normalization and layer normalization: forward and backward passes.

Both layers standardize activations, ``xhat = (x - mean) / sqrt(var + eps)``, then let the
network undo it if that helps: ``out = gamma * xhat + beta``. They differ in *what* they
average over:

- **Batch norm** (Ioffe & Szegedy, 2015) averages each feature over the examples of the batch
  (and over positions, for sequences). At test time there is no batch to average over, so it
  uses running averages collected during training.
- **Layer norm** (Ba et al., 2016) averages over the features of each example separately (the
  last axis). It behaves the same in training and evaluation and is the norm of transformers.

The backward passes use the compact formula from cs231n: with ``dxhat = dout * gamma`` and
``m`` values averaged per statistic,

    dx = (1 / m) * inv_std * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

where the sums run over the same axes as the mean.
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import astype, reshape
from coursepkg.functional.sums import as_rows, sum_last_axis, sum_over_rows


def _batchnorm_axes(x: Any, **per_feature: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch norm averages over, and the shape that makes (C,) broadcast against x."""
    if x.ndim not in (2, 3):
        raise ValueError(f"batchnorm_forward: expected x of shape (N, D) or (N, C, L), got {tuple(x.shape)}.")
    for name, array in per_feature.items():
        if tuple(array.shape) != (x.shape[1],):
            raise ValueError(f"batchnorm_forward: x has shape {tuple(x.shape)}, so {name} needs shape "
                             f"({x.shape[1]},), but it has shape {tuple(array.shape)}.")
    if x.ndim == 2:
        return (0,), (1, x.shape[1])
    return (0, 2), (1, x.shape[1], 1)


def batchnorm_forward(x: Any, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                      momentum: float = 0.1, eps: float = 1e-5, training: bool = True) -> tuple[Any, tuple]:
    """Batch normalization: standardize each feature (channel) over the batch, then scale and shift.

    Training mode uses the mean and (biased) variance of this batch, and **updates
    ``running_mean`` and ``running_var`` in place** (PyTorch's convention):

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * m / (m - 1)

    (the running variance uses the unbiased estimate, m = values per feature). Evaluation mode
    normalizes with the running statistics and changes nothing.

    Inputs:
    - x: array of shape (N, D), or (N, C, L) for sequences (each channel is normalized over
      N and L together).
    - gamma, beta: scale and shift of shape (D,) or (C,).
    - running_mean, running_var: arrays of shape (D,) or (C,), updated in place in training.
    - momentum: weight of the current batch in the running averages.
    - eps: added to the variance to avoid division by zero.
    - training: batch statistics (True) or running statistics (False).
    Returns:
    - out: array of the same shape as x.
    - cache: what batchnorm_backward needs.
    """
    xp = namespace_of(x)
    axes, stat_shape = _batchnorm_axes(x, gamma=gamma, beta=beta, running_mean=running_mean,
                                       running_var=running_var)
    count = x.size // x.shape[1]  # values averaged per feature: N, or N * L
    if training:
        if count < 2:
            raise ValueError(f"batchnorm_forward: training mode needs more than one value per feature to "
                             f"compute a variance, got x of shape {tuple(x.shape)}; use a batch with N > 1 "
                             "or switch the layer to eval mode.")
        mean = xp.mean(x, axis=axes)
        centered = x - reshape(mean, stat_shape)
        var = xp.mean(centered * centered, axis=axes)
        running_mean *= 1 - momentum
        running_mean += astype(momentum * mean, running_mean.dtype)
        running_var *= 1 - momentum
        running_var += astype(momentum * var * (count / (count - 1)), running_var.dtype)
    else:
        mean, var = astype(running_mean, x.dtype), astype(running_var, x.dtype)
        centered = x - reshape(mean, stat_shape)
    inv_std = reshape(1 / xp.sqrt(var + eps), stat_shape)
    xhat = centered * inv_std
    out = xhat * reshape(gamma, stat_shape) + reshape(beta, stat_shape)
    return out, (xhat, inv_std, gamma, axes, stat_shape, training)


def batchnorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`batchnorm_forward`.

    In training mode the mean and variance depend on every example, which gives the compact
    formula of this module's docstring; in evaluation mode they are constants, so
    dx = dout * gamma * inv_std.

    Inputs:
    - dout: upstream gradient, same shape as x.
    - cache: from the forward pass.
    Returns:
    - dx: same shape as x.
    - dgamma, dbeta: shape (D,) or (C,).
    """
    xhat, inv_std, gamma, axes, stat_shape, training = cache
    xp = namespace_of(dout)
    dbeta = xp.sum(dout, axis=axes)
    dgamma = xp.sum(dout * xhat, axis=axes)
    dxhat = dout * reshape(gamma, stat_shape)
    if not training:
        return dxhat * inv_std, dgamma, dbeta
    count = dout.size // dout.shape[1]
    sum_dxhat = xp.sum(dxhat, axis=axes, keepdims=True)
    sum_dxhat_xhat = xp.sum(dxhat * xhat, axis=axes, keepdims=True)
    dx = (inv_std / count) * (count * dxhat - sum_dxhat - xhat * sum_dxhat_xhat)
    return dx, dgamma, dbeta


def layernorm_forward(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> tuple[Any, tuple]:
    """Layer normalization: standardize each example over its last axis, then scale and shift.

    The same computation in training and evaluation; there are no running statistics.

    Inputs:
    - x: array of shape (..., D), for example (N, D) or (B, T, D).
    - gamma, beta: scale and shift of shape (D,).
    - eps: added to the variance to avoid division by zero.
    Returns:
    - out: array of shape (..., D).
    - cache: (xhat of shape (M, D), inv_std of shape (M, 1), gamma) for the backward pass, with
      the M = N or B * T positions as rows.
    """
    if x.ndim < 1 or tuple(gamma.shape) != (x.shape[-1],) or tuple(beta.shape) != (x.shape[-1],):
        raise ValueError(f"layernorm_forward: x of shape (..., D) needs gamma and beta of shape (D,); got x "
                         f"{tuple(x.shape)}, gamma {tuple(gamma.shape)}, beta {tuple(beta.shape)}.")
    xp = namespace_of(x)
    d = x.shape[-1]
    rows = as_rows(x)  # (M, D): every leading position is one row; reshaped back at the end
    # The row means below are xp.mean written as faster matrix products (coursepkg.functional.sums),
    # and the sums of squares one dot product per row (xp.vecdot, faster again than squaring and
    # summing). In-place updates (*=, +=) save temporaries.
    mean = sum_last_axis(rows, keepdims=True) / d  # (M, 1)
    centered = rows - mean
    var = xp.vecdot(centered, centered)[:, None] / d  # (M, 1)
    inv_std = 1 / xp.sqrt(var + eps)
    xhat = centered
    xhat *= inv_std  # (x - mean) / sqrt(var + eps), in the same array
    out = xhat * gamma
    out += beta
    return reshape(out, tuple(x.shape)), (xhat, inv_std, gamma)


def layernorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`layernorm_forward` (the batch-norm formula, along the last axis).

    Inputs:
    - dout: upstream gradient of shape (..., D).
    - cache: from the forward pass.
    Returns:
    - dx: shape (..., D).
    - dgamma, dbeta: shape (D,), summed over every leading axis.
    """
    xhat, inv_std, gamma = cache  # xhat (M, D) and inv_std (M, 1): by rows, as in the forward pass
    rows = as_rows(dout)  # (M, D)
    dout_xhat = rows * xhat
    dbeta = sum_over_rows(rows)  # summed over every leading axis
    dgamma = sum_over_rows(dout_xhat)
    # With dxhat = dout * gamma, the two row means of the formula are weighted by gamma / D:
    # mean(dxhat) = sum(dout * gamma / D) and mean(dxhat * xhat) = sum(dout * xhat * gamma / D).
    gamma_over_d = gamma / dout.shape[-1]
    mean_dxhat = sum_last_axis(rows, keepdims=True, weights=gamma_over_d)  # (M, 1)
    mean_dxhat_xhat = sum_last_axis(dout_xhat, keepdims=True, weights=gamma_over_d)
    # dx = inv_std (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), updating one array in place:
    dx = rows * gamma
    dx -= xhat * mean_dxhat_xhat
    dx -= mean_dxhat
    dx *= inv_std
    return reshape(dx, tuple(dout.shape)), dgamma, dbeta
