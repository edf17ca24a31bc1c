"""Elementwise nonlinearities: sigmoid, tanh, ReLU, leaky ReLU, GELU.

Each backward multiplies the upstream gradient by the local derivative ``f'(x)``, written in
terms of what the forward pass already computed where that is cheaper.
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import astype


def sigmoid_forward(x: Any) -> tuple[Any, Any]:
    """sigma(x) = 1 / (1 + exp(-x)), computed without overflow for large |x|.

    Inputs: x, any shape. Returns: out (same shape), cache = out.
    """
    xp = namespace_of(x)
    z = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    out = xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout: Any, cache: Any) -> Any:
    """d sigma / dx = sigma (1 - sigma). Returns dx, same shape as dout."""
    out = cache
    return dout * out * (1 - out)


def tanh_forward(x: Any) -> tuple[Any, Any]:
    """tanh(x). Inputs: x, any shape. Returns: out (same shape), cache = out."""
    out = namespace_of(x).tanh(x)
    return out, out


def tanh_backward(dout: Any, cache: Any) -> Any:
    """d tanh / dx = 1 - tanh^2. Returns dx, same shape as dout."""
    return dout * (1 - cache * cache)


def relu_forward(x: Any) -> tuple[Any, Any]:
    """max(x, 0). Inputs: x, any shape. Returns: out (same shape), cache = the 0/1 mask of x > 0 in x's dtype."""
    xp = namespace_of(x)
    # maximum() and a multiplication by a 0/1 mask, not where(): NumPy's where() branches on every
    # element and is about 15x slower on the random-looking masks of a network. maximum keeps NaN.
    return xp.maximum(x, 0.0), astype(x > 0, x.dtype)


def relu_backward(dout: Any, cache: Any) -> Any:
    """The gradient passes where the input was positive and is zero elsewhere (also at 0)."""
    return dout * cache


def leaky_relu_forward(x: Any, slope: float = 0.01) -> tuple[Any, Any]:
    """x where x > 0, slope * x elsewhere. Returns out and cache = (mask, slope)."""
    xp = namespace_of(x)
    mask = x > 0
    return xp.where(mask, x, slope * x), (mask, slope)


def leaky_relu_backward(dout: Any, cache: Any) -> Any:
    """Gradient 1 where x > 0 and ``slope`` elsewhere."""
    mask, slope = cache
    return namespace_of(dout).where(mask, dout, slope * dout)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_B = 0.044715 * _SQRT_2_OVER_PI


def gelu_forward(x: Any) -> tuple[Any, Any]:
    """GELU, tanh approximation (Hendrycks & Gimpel, 2016):
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Written as ``u = x (a + b x^2)`` with a = sqrt(2/pi), b = 0.044715 a, and
    ``out = 0.5 x (1 + tanh(u))``, updating arrays in place (``*=``, ``+=``) to save temporaries.

    Inputs: x, any shape. Returns: out (same shape), cache = (x, 1 + tanh(u)).
    """
    xp = namespace_of(x)
    u = x * x
    u *= _GELU_B
    u += _SQRT_2_OVER_PI
    u *= x  # u = x (a + b x^2)
    one_plus_t = xp.tanh(u)
    one_plus_t += 1
    out = x * one_plus_t
    out *= 0.5
    return out, (x, one_plus_t)


def gelu_backward(dout: Any, cache: Any) -> Any:
    """Derivative of the tanh approximation, with t = tanh(u) and du/dx = a + 3 b x^2:

        d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx
                             = (1 + t) (0.5 + 0.5 x du/dx (1 - t))      since 1 - t^2 = (1 - t)(1 + t)

    computed in place, with 1 - t = 2 - (1 + t). x^2 is computed again rather than kept from the
    forward pass: one array fewer held until the backward pass, which made the lesson 13 transformer's
    step 1-3% faster here (its memory sits near the processor's 2 MB cache).
    """
    x, one_plus_t = cache
    grad = x * x
    grad *= 1.5 * _GELU_B
    grad += 0.5 * _SQRT_2_OVER_PI  # 0.5 du/dx
    grad *= x
    grad *= 2 - one_plus_t
    grad += 0.5
    grad *= one_plus_t
    grad *= dout
    return grad
