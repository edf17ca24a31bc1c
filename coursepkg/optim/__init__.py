"""Optimizers, learning-rate schedules, gradient clipping and the L2 penalty (lessons 07 and 08).

One module per idea: ``base`` (the Optimizer class), ``sgd``, ``rmsprop``, ``adam``,
``schedules``, ``clip`` and ``penalty``.
"""

from coursepkg.optim.adam import Adam, AdamW
from coursepkg.optim.base import Optimizer
from coursepkg.optim.clip import clip_grad_norm, clip_grad_value
from coursepkg.optim.penalty import l2_penalty
from coursepkg.optim.rmsprop import RMSprop
from coursepkg.optim.schedules import (
    CosineAnnealing,
    ExponentialLR,
    LinearWarmup,
    OneCycle,
    Schedule,
    StepLR,
    lr_curve,
)
from coursepkg.optim.sgd import SGD

__all__ = [
    "SGD", "Adam", "AdamW", "CosineAnnealing", "ExponentialLR", "LinearWarmup", "OneCycle", "Optimizer",
    "RMSprop", "Schedule", "StepLR", "clip_grad_norm", "clip_grad_value", "l2_penalty", "lr_curve",
]
