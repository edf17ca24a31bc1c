"""Elementwise functions (exp, log, sqrt) and activations (tanh, sigmoid, ReLU, leaky ReLU,
GELU), plus softmax and log-softmax along an axis.
"""

from __future__ import annotations

from typing import Any

from coursepkg import functional as F  # noqa: N812  (PyTorch's name for it)
from coursepkg.backend import namespace_of
from coursepkg.tensor import Function, Tensor


class Exp(Function):
    def forward(self, a: Any) -> Any:
        self.out = namespace_of(a).exp(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any]:
        return (grad * self.out,)


class Log(Function):
    def forward(self, a: Any) -> Any:
        self.a = a
        return namespace_of(a).log(a)

    def backward(self, grad: Any) -> tuple[Any]:
        return (grad / self.a,)


class Sqrt(Function):
    def forward(self, a: Any) -> Any:
        self.out = namespace_of(a).sqrt(a)
        return self.out

    def backward(self, grad: Any) -> tuple[Any]:
        return (grad / (2 * self.out),)


class _Activation(Function):
    """An activation defined by a (forward, backward) pair from :mod:`coursepkg.functional`."""

    pair: tuple = ()

    def forward(self, a: Any, **options: Any) -> Any:
        out, self.cache = type(self).pair[0](a, **options)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (type(self).pair[1](grad, self.cache),)


class Tanh(_Activation):
    pair = (F.tanh_forward, F.tanh_backward)


class Sigmoid(_Activation):
    pair = (F.sigmoid_forward, F.sigmoid_backward)


class ReLU(_Activation):
    pair = (F.relu_forward, F.relu_backward)


class LeakyReLU(_Activation):
    pair = (F.leaky_relu_forward, F.leaky_relu_backward)


class GELU(_Activation):
    pair = (F.gelu_forward, F.gelu_backward)


class Softmax(Function):
    def forward(self, a: Any, axis: int = -1) -> Any:
        self.axis = axis
        self.out = F.softmax(a, axis=axis)
        return self.out

    def backward(self, grad: Any) -> tuple[Any]:
        # Jacobian-vector product: s * (g - sum(g * s))
        xp = namespace_of(grad)
        s = self.out
        return (s * (grad - xp.sum(grad * s, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def forward(self, a: Any, axis: int = -1) -> Any:
        self.axis = axis
        out = F.log_softmax(a, axis=axis)
        self.probs = namespace_of(a).exp(out)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        xp = namespace_of(grad)
        return (grad - self.probs * xp.sum(grad, axis=self.axis, keepdims=True),)


def exp(a: Tensor) -> Tensor:
    """Elementwise e**a."""
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(a)


def sqrt(a: Tensor) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(a)


def tanh(a: Tensor) -> Tensor:
    """Elementwise tanh."""
    return Tanh.apply(a)


def sigmoid(a: Tensor) -> Tensor:
    """Elementwise logistic sigmoid 1 / (1 + e**-a)."""
    return Sigmoid.apply(a)


def relu(a: Tensor) -> Tensor:
    """Elementwise max(a, 0)."""
    return ReLU.apply(a)


def leaky_relu(a: Tensor, slope: float = 0.01) -> Tensor:
    """Elementwise a if a > 0 else slope * a."""
    return LeakyReLU.apply(a, slope=slope)


def gelu(a: Tensor) -> Tensor:
    """Elementwise GELU (tanh approximation)."""
    return GELU.apply(a)


def softmax(a: Tensor, axis: int = -1) -> Tensor:
    """Softmax along ``axis``."""
    return Softmax.apply(a, axis=axis)


def log_softmax(a: Tensor, axis: int = -1) -> Tensor:
    """log(softmax(a)) along ``axis``, computed stably."""
    return LogSoftmax.apply(a, axis=axis)
