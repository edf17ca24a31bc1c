"""Losses, each fused with its last activation for numerical stability.

All losses return the **mean** over the batch (a Python-independent 0-d array).
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.functional.layout import reshape
from coursepkg.functional.onehot import one_hot
from coursepkg.functional.sums import max_last_axis, max_over_rows, sum_last_axis, sum_over_rows


def log_softmax(logits: Any, axis: int = -1) -> Any:
    """log softmax along ``axis``, stable for large logits (subtracts the max first).

    Inputs: logits of any shape. Returns: array of the same shape.
    """
    xp = namespace_of(logits)
    if axis in (-1, logits.ndim - 1):  # the same, with faster row maxima and sums (functional.sums)
        shifted = logits - max_last_axis(logits, keepdims=True)
        return shifted - xp.log(sum_last_axis(xp.exp(shifted), keepdims=True))
    shifted = logits - xp.max(logits, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(logits: Any, axis: int = -1) -> Any:
    """softmax along ``axis``: exp(z_i) / sum_j exp(z_j). Same shape as ``logits``."""
    xp = namespace_of(logits)
    if axis in (-1, logits.ndim - 1):  # the same, with faster row maxima and sums (functional.sums)
        e = xp.exp(logits - max_last_axis(logits, keepdims=True))
        e /= sum_last_axis(e, keepdims=True)
        return e
    if logits.ndim == 2 and axis in (0, -2):  # down each column: passes over whole rows (functional.sums)
        e = xp.exp(logits - max_over_rows(logits))
        e /= sum_over_rows(e)
        return e
    e = xp.exp(logits - xp.max(logits, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_cross_entropy_forward(logits: Any, labels: Any) -> tuple[Any, tuple]:
    """Mean cross-entropy of softmax(logits) against integer class labels.

    With s = logits - max(logits) per row (which changes nothing but avoids overflow),
    the loss of row i is  log(sum_j exp(s_ij)) - s_i,label_i.

    Inputs:
    - logits: array of shape (N, C), unnormalized class scores.
    - labels: int array of shape (N,), values in [0, C).
    Returns:
    - loss: 0-d array, -mean_i log softmax(logits_i)[labels_i].
    - cache: (probabilities of shape (N, C), one-hot labels of shape (N, C)).
    """
    xp = namespace_of(logits)
    n, c = logits.shape
    shifted = logits - max_last_axis(logits, keepdims=True)  # xp.max(logits, axis=1), faster (functional.sums)
    probs = xp.exp(shifted)
    total = sum_last_axis(probs)  # (N,): xp.sum(probs, axis=1), as a faster matrix product
    one_hot_labels = one_hot(labels, c, logits.dtype)  # (N, C)
    # Row i's loss is log(total_i) - s_i,label_i, and the loss their mean. The s_i,label_i are summed
    # as one dot product of the whole arrays with the one-hot rows (not one per row: 1 vs 5 us here).
    picked = xp.vecdot(reshape(shifted, (n * c,)), reshape(one_hot_labels, (n * c,)))
    loss = (sum_last_axis(xp.log(total)) - picked) / n
    probs /= total[:, None]  # now the softmax probabilities
    return loss, (probs, one_hot_labels)


def softmax_cross_entropy_backward(dout: Any, cache: tuple) -> Any:
    """Gradient with respect to the logits: (softmax - one_hot(labels)) / N, times dout.

    Returns: dlogits of shape (N, C).
    """
    probs, one_hot = cache
    dlogits = probs - one_hot
    dlogits *= dout / probs.shape[0]
    return dlogits


def bce_with_logits_forward(logits: Any, targets: Any) -> tuple[Any, tuple]:
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1].

    Uses log(1 + exp(-|z|)) so no exp ever overflows:
    loss_i = max(z, 0) - z t + log(1 + exp(-|z|)).

    Inputs:
    - logits: array of any shape.
    - targets: float array of the same shape, values in [0, 1].
    Returns:
    - loss: 0-d array.
    - cache: (logits, targets).
    """
    xp = namespace_of(logits)
    per_item = xp.maximum(logits, 0) - logits * targets + xp.log1p(xp.exp(-xp.abs(logits)))
    return xp.mean(per_item), (logits, targets)


def bce_with_logits_backward(dout: Any, cache: tuple) -> Any:
    """Gradient with respect to the logits: (sigmoid(z) - t) / size, times dout."""
    from coursepkg.functional.activations import sigmoid_forward

    logits, targets = cache
    probs, _ = sigmoid_forward(logits)
    return (probs - targets) * (dout / logits.size)


def mse_forward(predictions: Any, targets: Any) -> tuple[Any, tuple]:
    """Mean squared error, mean over every element.

    Inputs: predictions and targets of the same shape. Returns: 0-d loss, cache.
    """
    xp = namespace_of(predictions)
    diff = predictions - targets
    return xp.mean(diff * diff), (diff,)


def mse_backward(dout: Any, cache: tuple) -> Any:
    """d/dpredictions = 2 (predictions - targets) / size, times dout."""
    (diff,) = cache
    return diff * (2 * dout / diff.size)


def mae_forward(predictions: Any, targets: Any) -> tuple[Any, tuple]:
    """Mean absolute error, mean over every element. Returns: 0-d loss, cache."""
    xp = namespace_of(predictions)
    diff = predictions - targets
    return xp.mean(xp.abs(diff)), (diff,)


def mae_backward(dout: Any, cache: tuple) -> Any:
    """d/dpredictions = sign(predictions - targets) / size, times dout (0 where they are equal)."""
    (diff,) = cache
    return namespace_of(diff).sign(diff) * (dout / diff.size)
