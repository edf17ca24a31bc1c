"""Neural-network building blocks: ``Module``, ``Parameter``, layers, losses and ``init``."""

from coursepkg.nn import init
from coursepkg.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from coursepkg.nn.attention import MultiHeadSelfAttention, TransformerBlock
from coursepkg.nn.container import Sequential
from coursepkg.nn.conv import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from coursepkg.nn.dropout import Dropout
from coursepkg.nn.embedding import Embedding, PositionalEmbedding
from coursepkg.nn.linear import Flatten, Identity, Linear
from coursepkg.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MAELoss, MSELoss
from coursepkg.nn.module import Module, Parameter
from coursepkg.nn.normalization import BatchNorm1d, LayerNorm

__all__ = [
    "AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "GlobalAvgPool1d", "GlobalAvgPool2d", "MaxPool1d", "MaxPool2d",
    "BatchNorm1d", "Dropout", "Embedding", "LayerNorm", "MultiHeadSelfAttention", "PositionalEmbedding",
    "TransformerBlock",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "Flatten", "GELU", "Identity", "L1Loss", "LeakyReLU",
    "Linear", "MAELoss", "MSELoss", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "init",
]
