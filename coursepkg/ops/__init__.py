"""Differentiable operations on Tensors, one small :class:`~coursepkg.tensor.Function` each.

Each op's ``forward`` works on raw backend arrays and its ``backward`` returns one gradient per
input; the heavy lifting is delegated to the matching pair in :mod:`coursepkg.functional`.
The lower-case functions (``add``, ``matmul``, ``relu``...) are the public way to call them.
"""

from coursepkg.ops.arithmetic import add, div, matmul, mul, neg, power, sub
from coursepkg.ops.attention import multi_head_self_attention, scaled_dot_product_attention
from coursepkg.ops.conv import avg_pool1d, avg_pool2d, conv1d, conv2d, global_avg_pool, max_pool1d, max_pool2d
from coursepkg.ops.dropout import dropout
from coursepkg.ops.elementwise import (
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    sqrt,
    tanh,
)
from coursepkg.ops.linear import linear
from coursepkg.ops.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    mae_loss,
    mse_loss,
)
from coursepkg.ops.normalization import batch_norm, layer_norm
from coursepkg.ops.reductions import max, mean, sum  # noqa: A004  (NumPy's names, on purpose)
from coursepkg.ops.shape import concat, getitem, reshape, take, transpose

__all__ = [
    "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "global_avg_pool", "max_pool1d", "max_pool2d",
    "batch_norm", "dropout", "layer_norm", "multi_head_self_attention", "scaled_dot_product_attention",
    "add", "binary_cross_entropy_with_logits", "concat", "cross_entropy", "div", "exp", "gelu",
    "getitem", "leaky_relu", "linear", "log", "log_softmax", "mae_loss", "matmul", "max", "mean",
    "mse_loss", "mul", "neg", "power", "relu", "reshape", "sigmoid", "softmax", "sqrt", "sub", "sum",
    "take", "tanh", "transpose",
]
