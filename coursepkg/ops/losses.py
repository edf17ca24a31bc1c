"""Loss functions as ops, each fused with its final activation for numerical stability."""

from __future__ import annotations

from typing import Any

from coursepkg import functional as F  # noqa: N812  (PyTorch's name for it)
from coursepkg.ops._convert import as_tensor
from coursepkg.tensor import Function, Tensor


class _Loss(Function):
    """A loss of (prediction, target) defined by a pair from :mod:`coursepkg.functional`.

    The target's gradient is rarely needed (class labels have none), but where the loss is
    smooth in the target it is returned, so the op is correct as a function of both inputs.
    """

    pair: tuple = ()

    def forward(self, prediction: Any, target: Any) -> Any:
        out, self.cache = type(self).pair[0](prediction, target)
        return out

    def backward(self, grad: Any) -> tuple[Any, Any]:
        dprediction = type(self).pair[1](grad, self.cache)
        return dprediction, self.target_gradient(grad, dprediction)

    def target_gradient(self, grad: Any, dprediction: Any) -> Any:
        return None


class SoftmaxCrossEntropy(_Loss):
    pair = (F.softmax_cross_entropy_forward, F.softmax_cross_entropy_backward)


class BCEWithLogits(_Loss):
    pair = (F.bce_with_logits_forward, F.bce_with_logits_backward)

    def target_gradient(self, grad: Any, dprediction: Any) -> Any:
        logits, _ = self.cache  # d/dt [max(z,0) - z t + log(1+e^-|z|)] = -z
        return -logits * (grad / logits.size)


class MSE(_Loss):
    pair = (F.mse_forward, F.mse_backward)

    def target_gradient(self, grad: Any, dprediction: Any) -> Any:
        return -dprediction  # the loss depends on prediction - target only


class MAE(MSE):
    pair = (F.mae_forward, F.mae_backward)


def _check_same_shape(name: str, prediction: Tensor, target: Tensor) -> None:
    if prediction.shape != target.shape:
        raise ValueError(f"{name}: predictions have shape {prediction.shape} but targets have shape "
                         f"{target.shape}; they must match (reshape one of them).")


def cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Mean softmax cross-entropy.

    Inputs:
    - logits: Tensor of shape (N, C).
    - labels: int array or Tensor of shape (N,), values in [0, C).
    Returns: a 0-d Tensor.
    """
    if not isinstance(labels, Tensor):  # an array like the logits' needs no conversion, only wrapping
        labels = Tensor._from_array(labels) if type(labels) is type(logits.data) else Tensor(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: expected logits of shape (N, C) and labels of shape (N,), "
                         f"got logits {logits.shape} and labels {labels.shape}.")
    if not _is_integer(labels):
        raise TypeError("cross_entropy: labels must be integer class indices, got floats "
                        f"({labels.dtype}); for probabilities use binary_cross_entropy_with_logits.")
    return SoftmaxCrossEntropy.apply(logits, labels)


_INTEGER_DTYPES: dict[tuple[type, Any], bool] = {}  # (array type, dtype) -> integer? (isdtype is slow)


def _is_integer(t: Tensor) -> bool:
    key = (type(t.data), t.data.dtype)
    if key not in _INTEGER_DTYPES:
        _INTEGER_DTYPES[key] = bool(t.xp.isdtype(t.dtype, "integral"))
    return _INTEGER_DTYPES[key]


def binary_cross_entropy_with_logits(logits: Tensor, targets: Any) -> Tensor:
    """Mean binary cross-entropy of sigmoid(logits); logits and targets have the same shape."""
    targets = as_tensor(targets, logits)
    _check_same_shape("binary_cross_entropy_with_logits", logits, targets)
    return BCEWithLogits.apply(logits, targets)


def mse_loss(predictions: Tensor, targets: Any) -> Tensor:
    """Mean squared error over all elements; both inputs have the same shape."""
    targets = as_tensor(targets, predictions)
    _check_same_shape("mse_loss", predictions, targets)
    return MSE.apply(predictions, targets)


def mae_loss(predictions: Tensor, targets: Any) -> Tensor:
    """Mean absolute error over all elements; both inputs have the same shape."""
    targets = as_tensor(targets, predictions)
    _check_same_shape("mae_loss", predictions, targets)
    return MAE.apply(predictions, targets)
