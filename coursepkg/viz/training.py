"""Training curves: ``plot_training_panels`` draws a History, ``LivePlot`` redraws it after every epoch.

``LivePlot`` is a callback for ``fit``. In a notebook it shows one image below the cell and
replaces it after every epoch (an IPython display handle, so the progress bars above it stay).
Anywhere else (a script, a test, CI) it draws nothing while training; the last figure is
still available as ``live_plot.figure`` after training.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure

from coursepkg.train.callbacks import Callback


def curve_names(history: dict[str, list[float]]) -> list[str]:
    """The quantities worth a panel: "loss" first, then each metric (not "epoch", "lr", "val_*")."""
    names = [key for key in history if key not in ("epoch", "lr") and not key.startswith("val_")]
    return sorted(names, key=lambda name: name != "loss")


def plot_training_panels(history: dict[str, list[float]], metrics: list[str] | None = None,
                         figure: Figure | None = None) -> Figure:
    """One panel per quantity (loss, then metrics), training and validation curves against epochs.

    Inputs:
    - history: a History (or any dict of per-epoch lists with an optional "epoch" list).
    - metrics: which quantities to draw (default: "loss" and every metric in the history).
    - figure: a matplotlib Figure to draw into (cleared first), or None for a new one.
    Returns: the Figure (in a notebook, make it the cell's last expression to show it).
    """
    names = metrics or curve_names(history)
    missing = [name for name in names if name not in history]
    if missing:
        raise KeyError(f"plot_training_panels: {missing} not in the history; it has {sorted(history)}.")
    if figure is None:
        figure = Figure(figsize=(4.5 * max(len(names), 1), 3.2), layout="constrained")
    figure.clear()
    axes = figure.subplots(1, max(len(names), 1), squeeze=False)[0]
    for ax, name in zip(axes, names):
        epochs = history.get("epoch") or list(range(1, len(history[name]) + 1))
        ax.plot(epochs, history[name], marker="o", markersize=3, label=f"train {name}")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", markersize=3, label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where images can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LivePlot(Callback):
    """Redraw the training curves after every ``every`` epochs while ``fit`` runs.

    Inputs:
    - metrics: the quantities to draw (default: "loss" and every metric).
    - every: redraw every this many epochs (the last epoch is always drawn).

    Attributes: ``figure`` (the latest matplotlib Figure, drawn at the end of training even
    headless), ``shown`` (whether a notebook display is being updated).
    """

    def __init__(self, metrics: list[str] | None = None, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"LivePlot: every must be >= 1, got {every}.")
        self.metrics, self.every = metrics, every
        self.figure: Figure | None = None
        self.shown = False
        self._handle: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.shown = in_notebook()
        self._handle = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.shown and epoch % self.every == 0:
            self._show()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.figure = plot_training_panels(self.history, self.metrics, self.figure)
        if self.shown:
            self._show(redraw=False)

    def _show(self, redraw: bool = True) -> None:
        from IPython.display import Image, display

        if redraw:
            self.figure = plot_training_panels(self.history, self.metrics, self.figure)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        image = Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
