"""Gradient clipping: keep one bad batch from throwing the weights far away.

Call it between ``loss.backward()`` and ``optimizer.step()``. Both functions give each
parameter a *new* gradient array (``p.grad = ...``) rather than changing it in place,
because autodiff may hand the same gradient array to two tensors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from coursepkg.backend import namespace_of


def _with_grad(params: Iterable[Any] | Any) -> list[Any]:
    if hasattr(params, "parameters"):  # a Module
        params = params.parameters()
    return [p for p in params if p.grad is not None]


def clip_grad_norm(params: Iterable[Any] | Any, max_norm: float) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    The global norm treats every gradient as part of one long vector::

        total_norm = sqrt(sum over parameters of sum(g * g))
        if total_norm > max_norm:  g = g * max_norm / (total_norm + 1e-6)   for every g

    The direction of the update is kept; only its length shrinks (as ``torch.nn.utils.clip_grad_norm_``).

    Inputs:
    - params: ``model.parameters()``, a Module, or any list of Parameters (those whose grad
      is None are skipped).
    - max_norm: the largest allowed global norm, positive.
    Returns: the global norm *before* clipping, as a float (useful to log).
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be positive, got {max_norm}.")
    params = _with_grad(params)
    if not params:
        return 0.0
    xp = namespace_of(params[0].grad)
    squares = [xp.sum(p.grad * p.grad) for p in params]
    total_norm = math.sqrt(float(sum(squares[1:], squares[0])))  # one transfer to the host
    if total_norm > max_norm:
        scale = max_norm / (total_norm + 1e-6)
        for p in params:
            p.grad = p.grad * scale
    return total_norm


def clip_grad_value(params: Iterable[Any] | Any, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value].

    Inputs:
    - params: ``model.parameters()``, a Module, or any list of Parameters.
    - clip_value: positive bound. Unlike :func:`clip_grad_norm` this changes the direction.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value: clip_value must be positive, got {clip_value}.")
    for p in _with_grad(params):
        xp = namespace_of(p.grad)
        p.grad = xp.clip(p.grad, -clip_value, clip_value)
