"""The L2 penalty, added to the loss so that autodiff computes its gradient.

    loss = data_loss + l2_penalty(model, strength)

adds 0.5 * strength * sum(w^2) over the weights, whose gradient is strength * w: each step then
pulls every weight toward zero ("weight decay"). With plain SGD this is the same as
``SGD(..., weight_decay=strength)``; with Adam it is not (see ``AdamW``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coursepkg.tensor import Tensor


def l2_penalty(params: Iterable[Any] | Any, strength: float, include_biases: bool = False) -> Tensor:
    """0.5 * strength * (sum of squares of the weights), as a Tensor in the graph.

    Biases are excluded by default: only parameters with 2 or more dimensions (weight
    matrices, convolution kernels) are penalized, because 1-D parameters (biases, batch-norm
    scales and shifts) do not make a model more complex and shrinking them only hurts the fit.

    Inputs:
    - params: a Module, ``model.parameters()``, or any list of Parameters/Tensors.
    - strength: lambda >= 0.
    - include_biases: also penalize 1-D (and 0-D) parameters.
    Returns: a 0-d Tensor; its gradient with respect to each penalized w is strength * w.
    """
    if strength < 0:
        raise ValueError(f"l2_penalty: strength must be >= 0, got {strength}.")
    if hasattr(params, "parameters"):  # a Module
        params = params.parameters()
    chosen = [p for p in params if include_biases or p.ndim >= 2]
    if not chosen:
        raise ValueError("l2_penalty: no parameter to penalize (only 1-D parameters, and include_biases=False).")
    total = (chosen[0] * chosen[0]).sum()
    for w in chosen[1:]:
        total = total + (w * w).sum()
    return total * (0.5 * strength)
