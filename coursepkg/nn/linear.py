"""Fully connected layers: ``Linear``, and the shape helpers ``Flatten`` and ``Identity``."""

from __future__ import annotations

from typing import Any

from coursepkg import ops
from coursepkg.nn import init
from coursepkg.nn.module import Module, Parameter
from coursepkg.tensor import Tensor


class Linear(Module):
    """y = x @ W + b.

    Inputs:
    - in_features (D), out_features (M).
    - bias: whether to learn b.
    - init_scheme: "default" (U(+-1/sqrt(D)), like PyTorch), "he_normal", "he_uniform",
      "xavier_normal", "xavier_uniform" or "normal".
    Forward: x of shape (N, D) or (..., D) -> (N, M) or (..., M).
    Parameters: weight (D, M), bias (M,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init_scheme: str = "default") -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        if init_scheme not in init.INITIALIZERS:
            raise ValueError(f"Linear: unknown init_scheme {init_scheme!r}; choose from {sorted(init.INITIALIZERS)}.")
        self.weight = Parameter(init.INITIALIZERS[init_scheme]((in_features, out_features)))
        self.bias = Parameter(init.default_uniform((out_features,), fan_in=in_features)
                              if init_scheme == "default" else init.zeros((out_features,))) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: input has shape {x.shape}, expected (N, {self.in_features}) "
                             f"(the last axis must have in_features={self.in_features} entries).")
        return ops.linear(x, self.weight, self.bias)  # (..., D) inputs too: every leading position is a row

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class Identity(Module):
    """Returns its input unchanged (a placeholder, for example a removed head)."""

    def forward(self, x: Any) -> Any:
        return x
