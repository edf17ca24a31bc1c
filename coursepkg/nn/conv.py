"""Convolution and pooling layers: ``Conv1d``, ``Conv2d``, ``MaxPool1d/2d``, ``AvgPool1d/2d``,
``GlobalAvgPool1d/2d``.

A convolution layer applies the same small kernel at every position of its input, so it has few
weights and detects a pattern wherever it appears: the reason a CNN beats an MLP on MNIST-1D,
whose digits are shifted around. Pooling layers shrink the signal, keeping the strongest (max)
or the average response of each window.
"""

from __future__ import annotations

from coursepkg.functional.conv import as_pair, check_input, conv_output_size
from coursepkg.nn import init
from coursepkg.nn.module import Module, Parameter
from coursepkg.ops import conv as conv_ops
from coursepkg.tensor import Tensor

Size2 = int | tuple[int, int]


def _check_positive(where: str, **values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: {name} must be a positive int, got {value!r}.")


class Conv1d(Module):
    """1-D convolution over signals: out[n, o, l] = b[o] + sum_{c,k} w[o, c, k] * x_pad[n, c, l*stride + k].

    Inputs:
    - in_channels (C), out_channels (O), kernel_size (K).
    - stride, padding (zeros added on both ends), dilation (spacing between kernel taps).
    - bias: whether to learn b.
    Forward: x of shape (N, C, L) -> (N, O, L_out), L_out = floor((L + 2 * padding - K) / stride) + 1
    (with dilation D, K is replaced by D * (K - 1) + 1).
    Parameters: weight (O, C, K), bias (O,); both U(+-1/sqrt(C*K)) at start, like PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, dilation: int = 1) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation = stride, padding, dilation
        _check_positive(repr(self), in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                        stride=stride, dilation=dilation)
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"{self!r}: padding must be an int >= 0, got {padding!r}.")
        fan_in = in_channels * kernel_size
        self.weight = Parameter(init.default_uniform((out_channels, in_channels, kernel_size), fan_in=fan_in))
        self.bias = Parameter(init.default_uniform((out_channels,), fan_in=fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x.shape, self.in_channels, "L")  # self: printed only if there is an error
        conv_output_size(x.shape[2], self.kernel_size, self.stride, self.padding, self.dilation, where=self)
        return conv_ops.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel_size={self.kernel_size}"
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text + ("" if getattr(self, "bias", True) is not None else ", bias=False")


class Conv2d(Module):
    """2-D convolution over images.

    Inputs:
    - in_channels (C), out_channels (O).
    - kernel_size, stride, padding, dilation: ints or (rows, columns) pairs.
    - bias: whether to learn b.
    Forward: x of shape (N, C, H, W) -> (N, O, OH, OW), OH = floor((H + 2 * PH - KH) / SH) + 1, OW likewise.
    Parameters: weight (O, C, KH, KW), bias (O,); both U(+-1/sqrt(C*KH*KW)) at start, like PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size2, stride: Size2 = 1,
                 padding: Size2 = 0, bias: bool = True, dilation: Size2 = 1) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        where = repr(self)
        _check_positive(where, in_channels=in_channels, out_channels=out_channels)
        # from here on, kernel_size, stride, padding and dilation are (rows, columns) pairs
        self.kernel_size = as_pair(kernel_size, "kernel_size", where)
        self.stride = as_pair(stride, "stride", where)
        self.padding = as_pair(padding, "padding", where)
        self.dilation = as_pair(dilation, "dilation", where)
        _check_positive(where, **{f"{name}[{i}]": getattr(self, name)[i]
                                  for name in ("kernel_size", "stride", "dilation") for i in (0, 1)})
        if min(self.padding) < 0:
            raise ValueError(f"{where}: padding must be >= 0, got {padding!r}.")
        kh, kw = self.kernel_size
        fan_in = in_channels * kh * kw
        self.weight = Parameter(init.default_uniform((out_channels, in_channels, kh, kw), fan_in=fan_in))
        self.bias = Parameter(init.default_uniform((out_channels,), fan_in=fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x.shape, self.in_channels, "H, W")
        for axis, name in ((0, "height"), (1, "width")):
            conv_output_size(x.shape[2 + axis], self.kernel_size[axis], self.stride[axis], self.padding[axis],
                             self.dilation[axis], where=self, axis=name)
        return conv_ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        text = f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel_size={self.kernel_size}"
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            value = getattr(self, name)
            if value not in (default, (default, default)):
                text += f", {name}={value}"
        return text + ("" if getattr(self, "bias", True) is not None else ", bias=False")


class _Pool(Module):
    """Shared checks and repr of the pooling layers (no parameters)."""

    spatial = "L"

    def __init__(self, kernel_size: Size2, stride: Size2 | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        where = repr(self)
        if self.spatial == "L":
            _check_positive(where, kernel_size=self.kernel_size, stride=self.stride)
        else:
            self.kernel_size = as_pair(self.kernel_size, "kernel_size", where)
            self.stride = as_pair(self.stride, "stride", where)
            _check_positive(where, **{f"{name}[{i}]": getattr(self, name)[i]
                                      for name in ("kernel_size", "stride") for i in (0, 1)})

    def _check(self, x: Tensor) -> None:
        check_input(self, x.shape, None, self.spatial)
        if self.spatial == "L":
            conv_output_size(x.shape[2], self.kernel_size, self.stride, where=self)
            return
        for axis, name in ((0, "height"), (1, "width")):
            conv_output_size(x.shape[2 + axis], self.kernel_size[axis], self.stride[axis], where=self, axis=name)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool1d(_Pool):
    """Maximum over windows of kernel_size positions, per channel; stride defaults to kernel_size.

    Forward: x of shape (N, C, L) -> (N, C, L_out), L_out = floor((L - kernel_size) / stride) + 1.
    """

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return conv_ops.max_pool1d(x, self.kernel_size, self.stride)


class AvgPool1d(_Pool):
    """Mean over windows of kernel_size positions, per channel; stride defaults to kernel_size.

    Forward: x of shape (N, C, L) -> (N, C, L_out), L_out = floor((L - kernel_size) / stride) + 1.
    """

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return conv_ops.avg_pool1d(x, self.kernel_size, self.stride)


class MaxPool2d(_Pool):
    """Maximum over (KH, KW) windows, per channel; stride defaults to the kernel size.

    Forward: x of shape (N, C, H, W) -> (N, C, OH, OW), OH = floor((H - KH) / SH) + 1, OW likewise.
    """

    spatial = "H, W"

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return conv_ops.max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2d(_Pool):
    """Mean over (KH, KW) windows, per channel; stride defaults to the kernel size.

    Forward: x of shape (N, C, H, W) -> (N, C, OH, OW), OH = floor((H - KH) / SH) + 1, OW likewise.
    """

    spatial = "H, W"

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return conv_ops.avg_pool2d(x, self.kernel_size, self.stride)


class GlobalAvgPool1d(Module):
    """Mean of each channel over all positions. Forward: (N, C, L) -> (N, C)."""

    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x.shape, None, "L")
        return conv_ops.global_avg_pool(x)


class GlobalAvgPool2d(Module):
    """Mean of each channel over all pixels. Forward: (N, C, H, W) -> (N, C)."""

    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x.shape, None, "H, W")
        return conv_ops.global_avg_pool(x)
