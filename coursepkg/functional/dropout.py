"""Inverted dropout (Srivastava et al., 2014): randomly silence units while training.

In training each entry is kept with probability ``1 - p`` and zeroed otherwise. The kept
entries are divided by ``1 - p`` ("inverted" dropout), so the expected value of every entry
is unchanged: E[out] = (1 - p) * x / (1 - p) = x. Thanks to that rescaling, evaluation mode
needs no correction at all: it is the identity.

The random numbers come from the active backend's seeded generator (``get_backend().rand``),
so dropout works on every backend and the same seed gives the same mask.
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import get_backend, namespace_of
from coursepkg.functional.layout import astype


def dropout_forward(x: Any, p: float = 0.5, training: bool = True,
                    mask_source: Any = None) -> tuple[Any, Any]:
    """Inverted dropout.

    Inputs:
    - x: array of any shape.
    - p: probability of zeroing each entry, in [0, 1].
    - training: drop (True) or pass x through unchanged (False).
    - mask_source: where the uniform random numbers come from: any object with a method
      ``rand(shape, dtype)`` returning uniform samples in [0, 1), such as a Backend.
      Default: the active backend.
    Returns:
    - out: array of the same shape as x.
    - cache: the mask (0 for dropped entries, 1 / (1 - p) for kept ones), or None in
      evaluation mode.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout_forward: p is the probability of dropping an entry and must be in [0, 1], "
                         f"got p={p}.")
    if not training or p == 0:
        return x, None
    xp = namespace_of(x)
    source = mask_source if mask_source is not None else get_backend()
    if p == 1:
        mask = xp.zeros_like(x)
    else:
        keep = source.rand(tuple(x.shape), dtype=x.dtype) >= p  # True with probability 1 - p
        mask = astype(keep, x.dtype) / (1 - p)
    return x * mask, mask


def dropout_backward(dout: Any, cache: Any) -> Any:
    """Backward pass of :func:`dropout_forward`: the gradient flows through the kept entries only,
    scaled by the same 1 / (1 - p). Returns dx, same shape as dout.
    """
    mask = cache
    return dout if mask is None else dout * mask
