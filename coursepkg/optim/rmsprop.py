"""RMSprop: divide each gradient by a running root-mean-square of its recent values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.optim.base import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e, 2012), as in ``torch.optim.RMSprop`` (not centered).

    With learning rate lr, smoothing alpha, momentum mu, weight decay wd, parameter w and
    gradient g, one step is (all operations elementwise)::

        g = g + wd * w                            (L2 weight decay, only if wd != 0)
        s = alpha * s + (1 - alpha) * g * g       (running mean of g^2; s starts at 0)
        if mu != 0:
            b = mu * b + g / (sqrt(s) + eps)      (b starts at 0)
            w = w - lr * b
        else:
            w = w - lr * g / (sqrt(s) + eps)

    Every coordinate gets its own step size lr / sqrt(s): steep directions (large g^2) take
    small steps, flat ones large steps.

    Inputs:
    - params: ``model.parameters()`` (or a Module, or any list of Parameters).
    - lr: learning rate (0.01 is PyTorch's default, 0.001 is also common).
    - alpha: smoothing constant of the running mean, in [0, 1).
    - eps: added to sqrt(s) to avoid dividing by zero.
    - momentum: mu in [0, 1).
    - weight_decay: wd >= 0, L2 penalty strength (wd * w is added to the gradient).

    State per parameter: ``"square_avg"`` s, and ``"momentum_buffer"`` b when momentum > 0.
    """

    hyperparameters = ("lr", "alpha", "eps", "momentum", "weight_decay")

    def __init__(self, params: Iterable[Any] | Any, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1), got {alpha}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"RMSprop: momentum must be in [0, 1), got {momentum}.")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"RMSprop: eps and weight_decay must be >= 0, got {eps} and {weight_decay}.")
        self.alpha, self.eps = float(alpha), float(eps)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def update(self, p: Any, grad: Any, state: dict[str, Any]) -> None:
        xp = namespace_of(p.data)
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        square_avg = self.buffer(state, "square_avg", p)
        square_avg *= self.alpha
        square_avg += (1.0 - self.alpha) * (grad * grad)
        denominator = xp.sqrt(square_avg)
        denominator += self.eps
        if self.momentum:
            momentum_buffer = self.buffer(state, "momentum_buffer", p)
            momentum_buffer *= self.momentum
            momentum_buffer += grad / denominator
            p.data -= self.lr * momentum_buffer
        else:
            p.data -= self.lr * (grad / denominator)
