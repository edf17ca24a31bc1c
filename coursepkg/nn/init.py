"""Weight initialization: how to draw the starting weights so signals neither vanish nor explode.

For a layer with ``fan_in`` inputs and ``fan_out`` outputs:

- Xavier/Glorot (Glorot & Bengio, 2010), for tanh and sigmoid: Var(w) = 2 / (fan_in + fan_out).
- He/Kaiming (He et al., 2015), for ReLU, which zeroes half its inputs: Var(w) = 2 / fan_in.

Every function returns a new backend array of the requested shape, drawn from the active
backend's seeded generator. ``shape`` is (fan_in, fan_out) for a Linear weight and
(out_channels, in_channels, *kernel) for a convolution weight.
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import get_backend


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of the given shape (Linear or convolution layout)."""
    if len(shape) < 2:
        raise ValueError(f"fans: a weight needs 2 or more axes, (in, out) or (out, in, *kernel); got shape {shape}.")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape: tuple[int, ...], gain: float = 1.0) -> Any:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return get_backend().uniform(-bound, bound, shape)


def xavier_normal(shape: tuple[int, ...], gain: float = 1.0) -> Any:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return get_backend().randn(shape) * (gain * math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(shape: tuple[int, ...]) -> Any:
    """U(-a, a) with a = sqrt(6 / fan_in), for ReLU layers."""
    fan_in, _ = fans(shape)
    bound = math.sqrt(6.0 / fan_in)
    return get_backend().uniform(-bound, bound, shape)


def he_normal(shape: tuple[int, ...]) -> Any:
    """N(0, 2 / fan_in), for ReLU layers."""
    fan_in, _ = fans(shape)
    return get_backend().randn(shape) * math.sqrt(2.0 / fan_in)


def default_uniform(shape: tuple[int, ...], fan_in: int | None = None) -> Any:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and Conv layers."""
    fan_in = fan_in if fan_in is not None else fans(shape)[0] if len(shape) > 1 else shape[0]
    bound = 1.0 / math.sqrt(fan_in)
    return get_backend().uniform(-bound, bound, shape)


def normal(shape: tuple[int, ...], std: float = 0.01) -> Any:
    """N(0, std^2): the "small random numbers" that make deep nets stall (lesson 05)."""
    return get_backend().randn(shape) * std


def zeros(shape: tuple[int, ...]) -> Any:
    """All zeros (biases)."""
    return get_backend().zeros(shape)


INITIALIZERS = {
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "he_uniform": he_uniform,
    "he_normal": he_normal, "default": default_uniform, "normal": normal,
}
