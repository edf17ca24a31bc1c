"""Plots the lessons share: decision boundaries, training curves, confusion matrices, loss
surfaces with optimizer trajectories, and gradient norms per layer.

Each function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns it.
Arrays from any backend are copied to the host first (plotting is a deliberate transfer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy

from coursepkg.backend import to_numpy


def _axes(ax: Any, figsize: tuple[float, float] = (5, 4)) -> Any:
    return ax if ax is not None else plt.subplots(figsize=figsize)[1]


def plot_decision_boundary(predict: Callable[[numpy.ndarray], Any], X: Any, y: Any, ax: Any = None,
                           resolution: int = 200, title: str = "") -> Any:
    """Shade the plane by the predicted class and scatter the points.

    Inputs:
    - predict: maps a NumPy array of shape (M, 2) to class labels (M,) or scores (M, C).
    - X: points of shape (N, 2); y: labels of shape (N,).
    Returns: the Axes.
    """
    X, y = to_numpy(X), to_numpy(y)
    ax = _axes(ax)
    pad = 0.5
    xs = numpy.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = numpy.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    grid_x, grid_y = numpy.meshgrid(xs, ys)
    grid = numpy.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(numpy.float32)
    out = to_numpy(predict(grid))
    labels = out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0.5 if
                                                                                out.dtype.kind == "f" else out)
    ax.contourf(grid_x, grid_y, labels.reshape(grid_x.shape).astype(float), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    return ax


def plot_history(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None,
                 ax: Any = None, title: str = "") -> Any:
    """Plot curves such as ``train_loss`` and ``val_loss`` against the epoch number.

    Inputs: history, a mapping from name to a list of per-epoch values. Returns: the Axes.
    """
    ax = _axes(ax)
    for key in keys or list(history):
        values = list(history[key])
        ax.plot(range(1, len(values) + 1), values, label=key)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.set_title(title)
    return ax


def plot_confusion_matrix(matrix: Any, class_names: Sequence[str] | None = None, ax: Any = None,
                          normalize: bool = False, title: str = "") -> Any:
    """Heat map of a (C, C) confusion matrix: rows are true classes, columns predictions."""
    m = to_numpy(matrix).astype(float)
    if normalize:
        m = m / numpy.maximum(m.sum(axis=1, keepdims=True), 1)
    ax = _axes(ax)
    ax.imshow(m, cmap="Blues")
    names = class_names or [str(i) for i in range(m.shape[0])]
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), value in numpy.ndenumerate(m):
        ax.text(j, i, f"{value:.2f}" if normalize else f"{int(value)}", ha="center", va="center",
                color="white" if value > m.max() / 2 else "black", fontsize=8)
    ax.set_title(title)
    return ax


def plot_loss_surface(f: Callable[[numpy.ndarray, numpy.ndarray], numpy.ndarray],
                      xlim: tuple[float, float], ylim: tuple[float, float],
                      trajectories: Mapping[str, Any] | None = None, ax: Any = None,
                      levels: int = 30, log_scale: bool = False, title: str = "") -> Any:
    """Contours of a 2-D loss f(x, y) (vectorized over grids) with optimizer paths on top.

    Inputs:
    - f: takes two arrays of shape (R, R) and returns the loss, shape (R, R).
    - trajectories: name -> array of shape (steps, 2) of visited points.
    Returns: the Axes.
    """
    ax = _axes(ax, (6, 5))
    xs, ys = numpy.linspace(*xlim, 200), numpy.linspace(*ylim, 200)
    grid_x, grid_y = numpy.meshgrid(xs, ys)
    z = f(grid_x, grid_y)
    ax.contour(grid_x, grid_y, numpy.log1p(z - z.min()) if log_scale else z, levels=levels, cmap="viridis",
               linewidths=0.7)
    for name, path in (trajectories or {}).items():
        path = to_numpy(path)
        ax.plot(path[:, 0], path[:, 1], ".-", markersize=3, label=name)
    if trajectories:
        ax.legend(fontsize=8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_title(title)
    return ax


def plot_gradient_norms(norms: Mapping[str, Sequence[float]], ax: Any = None, title: str = "") -> Any:
    """Bar-like line plot of gradient norm per layer (log scale), one line per configuration.

    Inputs: norms, configuration name -> list of per-layer gradient norms (first layer first).
    """
    ax = _axes(ax)
    for name, values in norms.items():
        ax.semilogy(range(1, len(values) + 1), list(values), "o-", label=name)
    ax.set_xlabel("layer")
    ax.set_ylabel("gradient norm")
    ax.legend(fontsize=8)
    ax.set_title(title)
    return ax
