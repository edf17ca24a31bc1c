"""Neural-network building blocks: ``Module``, ``Parameter``, layers, losses and ``init``."""

from coursepkg.nn import init
from coursepkg.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Flatten, Identity, Linear
from coursepkg.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MAELoss, MSELoss
from coursepkg.nn.module import Module, Parameter

__all__ = [
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "GELU", "Identity", "L1Loss", "LeakyReLU",
    "Linear", "MAELoss", "MSELoss", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "init",
]
