"""Pure forward/backward pairs on raw backend arrays, in the style of cs231n's ``layers.py``.

Each operation comes as two functions::

    out, cache = linear_forward(x, w, b)
    dx, dw, db = linear_backward(dout, cache)

The forward pass returns its output and a ``cache`` of what the backward pass needs; the
backward pass takes the upstream gradient ``dout`` (same shape as ``out``) and returns one
gradient per input, each with its input's shape. Lesson 03 writes these by hand; the autodiff
engine in :mod:`coursepkg.tensor` calls them.

Every function works on any array-API namespace (NumPy, CuPy, array_api_strict): the
namespace is read from the input with ``namespace_of(x)``.
"""

from coursepkg.functional.activations import (
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from coursepkg.functional.attention import (
    attention_weights,
    causal_mask,
    multi_head_self_attention_backward,
    multi_head_self_attention_forward,
    scaled_dot_product_attention_backward,
    scaled_dot_product_attention_forward,
)
from coursepkg.functional.broadcast import unbroadcast
from coursepkg.functional.conv import (
    col2im_1d,
    col2im_2d,
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    im2col_1d,
    im2col_2d,
)
from coursepkg.functional.dropout import dropout_backward, dropout_forward
from coursepkg.functional.linear import linear_backward, linear_forward
from coursepkg.functional.losses import (
    bce_with_logits_backward,
    bce_with_logits_forward,
    log_softmax,
    mae_backward,
    mae_forward,
    mse_backward,
    mse_forward,
    softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from coursepkg.functional.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from coursepkg.functional.onehot import one_hot, sum_rows_by_index
from coursepkg.functional.pooling import (
    avg_pool1d_backward,
    avg_pool1d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool1d_backward,
    max_pool1d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from coursepkg.functional.sums import max_last_axis, max_over_rows, sum_last_axis, sum_over_rows

__all__ = [
    "avg_pool1d_backward", "avg_pool1d_forward", "avg_pool2d_backward", "avg_pool2d_forward", "col2im_1d",
    "col2im_2d", "conv1d_backward", "conv1d_forward", "conv2d_backward", "conv2d_forward", "conv_output_size",
    "global_avg_pool_backward", "global_avg_pool_forward", "im2col_1d", "im2col_2d", "max_pool1d_backward",
    "max_pool1d_forward", "max_pool2d_backward", "max_pool2d_forward",
    "attention_weights", "batchnorm_backward", "batchnorm_forward", "causal_mask", "dropout_backward",
    "dropout_forward", "layernorm_backward", "layernorm_forward", "scaled_dot_product_attention_backward",
    "scaled_dot_product_attention_forward", "multi_head_self_attention_backward",
    "multi_head_self_attention_forward",
    "bce_with_logits_backward", "bce_with_logits_forward", "gelu_backward", "gelu_forward",
    "leaky_relu_backward", "leaky_relu_forward", "linear_backward", "linear_forward",
    "log_softmax", "mae_backward", "mae_forward", "mse_backward", "mse_forward", "relu_backward",
    "relu_forward", "sigmoid_backward", "sigmoid_forward", "softmax",
    "softmax_cross_entropy_backward", "softmax_cross_entropy_forward", "max_last_axis", "max_over_rows", "one_hot",
    "sum_last_axis", "sum_over_rows", "sum_rows_by_index",
    "tanh_backward", "tanh_forward", "unbroadcast",
]
