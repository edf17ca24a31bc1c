"""``Dropout``: randomly zero activations while training (lesson 08)."""

from __future__ import annotations

from coursepkg.nn.module import Module
from coursepkg.ops.dropout import dropout
from coursepkg.tensor import Tensor


class Dropout(Module):
    """Inverted dropout: in training, zero each entry with probability p and scale the others by
    1 / (1 - p); in eval mode (``model.eval()``), the identity.

    Inputs:
    - p: probability of zeroing an entry, in [0, 1].
    Forward: any shape in, same shape out. The mask comes from the active backend's seeded
    generator, so ``coursepkg.seed(s)`` makes it repeatable.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is the probability of dropping an entry and must be in [0, 1], got p={p}.")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
