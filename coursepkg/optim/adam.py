"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.optim.base import Optimizer


class Adam(Optimizer):
    """Adam: momentum on the gradient plus RMSprop's per-coordinate scaling, bias-corrected.

    With learning rate lr, betas (b1, b2), weight decay wd, parameter w, gradient g and t the
    number of this parameter's updates so far (t = 1 on the first step), one step is (all
    operations elementwise; the same equations as ``torch.optim.Adam``)::

        g = g + wd * w                         (L2 weight decay, only if wd != 0)
        m = b1 * m + (1 - b1) * g              (running mean of g;   m starts at 0)
        v = b2 * v + (1 - b2) * g * g          (running mean of g^2; v starts at 0)
        m_hat = m / (1 - b1^t)                 (bias correction: m and v start at 0,
        v_hat = v / (1 - b2^t)                  so early averages are too small)
        w = w - lr * m_hat / (sqrt(v_hat) + eps)

    The code computes the last three lines in the equivalent form of the paper's section 2,
    which makes fewer passes over w::

        w = w - lr_t * m / (sqrt(v) + eps_t),  lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t),
                                                eps_t = eps * sqrt(1 - b2^t)

    Inputs:
    - params: ``model.parameters()`` (or a Module, or any list of Parameters).
    - lr: learning rate (0.001 is the usual default).
    - betas: (b1, b2), the decay rates of m and v, each in [0, 1).
    - eps: added to sqrt(v_hat) to avoid dividing by zero.
    - weight_decay: wd >= 0, L2 penalty strength (wd * w is added to the gradient, so it is
      rescaled by sqrt(v_hat) like the rest of it; see :class:`AdamW` for the decoupled form).

    State per parameter: ``"step"`` t, ``"exp_avg"`` m and ``"exp_avg_sq"`` v.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    decoupled = False  # AdamW sets this

    def __init__(self, params: Iterable[Any] | Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}.")
        if eps < 0 or weight_decay < 0:
            raise ValueError(f"{name}: eps and weight_decay must be >= 0, got {eps} and {weight_decay}.")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def update(self, p: Any, grad: Any, state: dict[str, Any]) -> None:
        xp = namespace_of(p.data)
        beta1, beta2 = self.betas
        t = state["step"]
        if self.weight_decay and self.decoupled:
            p.data *= 1.0 - self.lr * self.weight_decay   # AdamW: shrink w directly
        elif self.weight_decay:
            grad = grad + self.weight_decay * p.data      # Adam: L2 term in the gradient
        m = self.buffer(state, "exp_avg", p)
        v = self.buffer(state, "exp_avg_sq", p)
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * (grad * grad)
        correction1, correction2 = 1.0 - beta1**t, math.sqrt(1.0 - beta2**t)
        denominator = xp.sqrt(v)
        denominator += self.eps * correction2
        step = m / denominator
        step *= self.lr * correction2 / correction1
        p.data -= step


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
    Regularization", 2019), as in ``torch.optim.AdamW``.

    The weight decay shrinks w directly instead of being added to the gradient, so it is not
    rescaled by Adam's 1 / sqrt(v_hat): every weight decays at the same rate. One step is::

        w = w - lr * wd * w                    (decay first, with the current lr)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1^t)
        v_hat = v / (1 - b2^t)
        w = w - lr * m_hat / (sqrt(v_hat) + eps)

    Inputs: as :class:`Adam`, but ``weight_decay`` defaults to 0.01 (PyTorch's default). As in
    PyTorch the decay is multiplied by the current lr, so a schedule scales both together.
    """

    decoupled = True

    def __init__(self, params: Iterable[Any] | Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
