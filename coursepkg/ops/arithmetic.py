"""Arithmetic with broadcasting: add, sub, mul, div, neg, pow, matmul.

Broadcasting is undone in every backward pass with :func:`~coursepkg.functional.unbroadcast`.
"""

from __future__ import annotations

from typing import Any

from coursepkg.functional import unbroadcast
from coursepkg.ops._convert import pair
from coursepkg.tensor import Function, Tensor


class Add(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a * b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        return unbroadcast(grad * self.b, self.a.shape), unbroadcast(grad * self.a, self.b.shape)


class Div(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return a / b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        da = grad / self.b
        db = -da * self.a / self.b
        return unbroadcast(da, self.a.shape), unbroadcast(db, self.b.shape)


class Neg(Function):
    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, grad: Any) -> tuple[Any]:
        return (-grad,)


class Power(Function):
    def forward(self, a: Any, exponent: float) -> Any:
        self.a, self.exponent = a, exponent
        return a**exponent

    def backward(self, grad: Any) -> tuple[Any]:
        return (grad * self.exponent * self.a ** (self.exponent - 1),)


class MatMul(Function):
    """Matrix product of stacks of matrices: (..., N, K) @ (..., K, M) -> (..., N, M).

    1-D operands are not supported (use reshape): it keeps the backward pass short.
    """

    def forward(self, a: Any, b: Any) -> Any:
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not chain; "
                             "need (..., N, K) @ (..., K, M) with 2-D or higher operands.")
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad: Any) -> tuple[Any, Any]:
        da = grad @ self.b.mT
        db = self.a.mT @ grad
        return unbroadcast(da, self.a.shape), unbroadcast(db, self.b.shape)


def add(a: Any, b: Any) -> Tensor:
    """a + b with broadcasting."""
    return Add.apply(*pair(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b with broadcasting."""
    return Sub.apply(*pair(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise a * b with broadcasting."""
    return Mul.apply(*pair(a, b))


def div(a: Any, b: Any) -> Tensor:
    """Elementwise a / b with broadcasting."""
    return Div.apply(*pair(a, b))


def neg(a: Tensor) -> Tensor:
    """-a."""
    return Neg.apply(a)


def power(a: Tensor, exponent: float) -> Tensor:
    """a ** exponent for a constant (Python number) exponent."""
    if isinstance(exponent, Tensor):
        raise TypeError("power: the exponent must be a number, not a Tensor (use exp(b * log(a))).")
    return Power.apply(a, exponent=exponent)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product a @ b; shapes (..., N, K) and (..., K, M) give (..., N, M)."""
    return MatMul.apply(*pair(a, b))
