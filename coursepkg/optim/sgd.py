"""Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coursepkg.optim.base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent (momentum: Polyak 1964; Nesterov: Sutskever et al. 2013).

    With learning rate lr, momentum mu, weight decay wd, parameter w and gradient g, one step is
    (the same equations as ``torch.optim.SGD`` with dampening 0)::

        g = g + wd * w                      (L2 weight decay, only if wd != 0)
        if mu != 0:
            v = mu * v + g                  (v starts at 0, so v = g on the first step)
            g = g + mu * v   if nesterov    (look ahead along the velocity)
            g = v            otherwise
        w = w - lr * g

    Inputs:
    - params: ``model.parameters()`` (or a Module, or any list of Parameters).
    - lr: learning rate.
    - momentum: mu in [0, 1); 0 gives plain SGD, 0.9 is the usual choice.
    - nesterov: use Nesterov momentum (needs momentum > 0).
    - weight_decay: wd >= 0, strength of the L2 penalty 0.5 * wd * |w|^2 added to the loss
      (so wd * w is added to the gradient).

    State per parameter: ``"momentum_buffer"`` v (shape of the parameter), when momentum > 0.
    """

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, params: Iterable[Any] | Any, lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}.")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0 (for example momentum=0.9).")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}.")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def update(self, p: Any, grad: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data  # a new array: p.grad stays untouched
        if self.momentum:
            velocity = self.buffer(state, "momentum_buffer", p)
            velocity *= self.momentum
            velocity += grad
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        p.data -= self.lr * grad
