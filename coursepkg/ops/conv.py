"""Convolution and pooling as differentiable ops; the arithmetic lives in
:mod:`coursepkg.functional.conv` and :mod:`coursepkg.functional.pooling` (im2col + one matrix product).

Layouts (PyTorch's): signals (N, C, L), images (N, C, H, W), 1-D weights (O, C, K), 2-D weights
(O, C, KH, KW), biases (O,).
"""

from __future__ import annotations

from typing import Any

from coursepkg.functional import conv as conv_f
from coursepkg.functional import pooling as pool_f
from coursepkg.tensor import Function, Tensor

Size2 = int | tuple[int, int]


class Conv1d(Function):
    returns_new_gradients = True  # matrix products and sums: see Function

    def forward(self, x: Any, w: Any, b: Any = None, stride: int = 1, padding: int = 0, dilation: int = 1) -> Any:
        out, self.cache = conv_f.conv1d_forward(x, w, b, stride, padding, dilation)
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        dx, dw, db = conv_f.conv1d_backward(grad, self.cache, input_grad=self.inputs[0].requires_grad)
        return (dx, dw) if db is None else (dx, dw, db)


class Conv2d(Function):
    returns_new_gradients = True  # matrix products and sums: see Function

    def forward(self, x: Any, w: Any, b: Any = None, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1) -> Any:
        out, self.cache = conv_f.conv2d_forward(x, w, b, stride, padding, dilation)
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        dx, dw, db = conv_f.conv2d_backward(grad, self.cache, input_grad=self.inputs[0].requires_grad)
        return (dx, dw) if db is None else (dx, dw, db)


class MaxPool1d(Function):
    def forward(self, x: Any, kernel_size: int, stride: int | None = None) -> Any:
        out, self.cache = pool_f.max_pool1d_forward(x, kernel_size, stride)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (pool_f.max_pool1d_backward(grad, self.cache),)


class MaxPool2d(Function):
    def forward(self, x: Any, kernel_size: Size2, stride: Size2 | None = None) -> Any:
        out, self.cache = pool_f.max_pool2d_forward(x, kernel_size, stride)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (pool_f.max_pool2d_backward(grad, self.cache),)


class AvgPool1d(Function):
    def forward(self, x: Any, kernel_size: int, stride: int | None = None) -> Any:
        out, self.cache = pool_f.avg_pool1d_forward(x, kernel_size, stride)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (pool_f.avg_pool1d_backward(grad, self.cache),)


class AvgPool2d(Function):
    def forward(self, x: Any, kernel_size: Size2, stride: Size2 | None = None) -> Any:
        out, self.cache = pool_f.avg_pool2d_forward(x, kernel_size, stride)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (pool_f.avg_pool2d_backward(grad, self.cache),)


class GlobalAvgPool(Function):
    def forward(self, x: Any) -> Any:
        out, self.cache = pool_f.global_avg_pool_forward(x)
        return out

    def backward(self, grad: Any) -> tuple[Any]:
        return (pool_f.global_avg_pool_backward(grad, self.cache),)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0,
           dilation: int = 1) -> Tensor:
    """1-D convolution: x (N, C, L), weight (O, C, K), bias (O,) or None -> (N, O, L_out),
    L_out = floor((L + 2 * padding - dilation * (K - 1) - 1) / stride) + 1."""
    options = {"stride": stride, "padding": padding, "dilation": dilation}
    return Conv1d.apply(x, weight, **options) if bias is None else Conv1d.apply(x, weight, bias, **options)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Size2 = 1, padding: Size2 = 0,
           dilation: Size2 = 1) -> Tensor:
    """2-D convolution: x (N, C, H, W), weight (O, C, KH, KW), bias (O,) or None -> (N, O, OH, OW).

    stride, padding and dilation are ints or (rows, columns) pairs."""
    options = {"stride": stride, "padding": padding, "dilation": dilation}
    return Conv2d.apply(x, weight, **options) if bias is None else Conv2d.apply(x, weight, bias, **options)


def max_pool1d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """Max over windows of kernel_size (stride defaults to kernel_size): (N, C, L) -> (N, C, L_out)."""
    return MaxPool1d.apply(x, kernel_size=kernel_size, stride=stride)


def max_pool2d(x: Tensor, kernel_size: Size2, stride: Size2 | None = None) -> Tensor:
    """Max over (KH, KW) windows (stride defaults to the kernel size): (N, C, H, W) -> (N, C, OH, OW)."""
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def avg_pool1d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """Mean over windows of kernel_size (stride defaults to kernel_size): (N, C, L) -> (N, C, L_out)."""
    return AvgPool1d.apply(x, kernel_size=kernel_size, stride=stride)


def avg_pool2d(x: Tensor, kernel_size: Size2, stride: Size2 | None = None) -> Tensor:
    """Mean over (KH, KW) windows (stride defaults to the kernel size): (N, C, H, W) -> (N, C, OH, OW)."""
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride)


def global_avg_pool(x: Tensor) -> Tensor:
    """Mean of each channel over all positions: (N, C, L) or (N, C, H, W) -> (N, C)."""
    return GlobalAvgPool.apply(x)
