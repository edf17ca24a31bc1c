"""Loss functions as modules: call ``loss_fn(predictions, targets)`` to get a 0-d Tensor."""

from __future__ import annotations

from typing import Any

from coursepkg import ops
from coursepkg.nn.module import Module
from coursepkg.tensor import Tensor


class CrossEntropyLoss(Module):
    """Mean softmax cross-entropy: logits (N, C), integer labels (N,) -> 0-d."""

    def forward(self, logits: Tensor, labels: Any) -> Tensor:
        return ops.cross_entropy(logits, labels)


class BCEWithLogitsLoss(Module):
    """Mean binary cross-entropy on logits: logits and targets of the same shape -> 0-d."""

    def forward(self, logits: Tensor, targets: Any) -> Tensor:
        return ops.binary_cross_entropy_with_logits(logits, targets)


class MSELoss(Module):
    """Mean squared error: predictions and targets of the same shape -> 0-d."""

    def forward(self, predictions: Tensor, targets: Any) -> Tensor:
        return ops.mse_loss(predictions, targets)


class L1Loss(Module):
    """Mean absolute error: predictions and targets of the same shape -> 0-d."""

    def forward(self, predictions: Tensor, targets: Any) -> Tensor:
        return ops.mae_loss(predictions, targets)


MAELoss = L1Loss
