"""Callbacks: code that ``fit`` runs at fixed moments of training, without changing ``fit``.

``fit`` calls, on every callback, in the order they were given::

    on_train_begin(logs)
    for each epoch (numbered from 1):
        on_epoch_begin(epoch, logs)
        for each batch (numbered from 1):
            ... forward, backward, optimizer step ...
            on_batch_end(batch, logs)       logs: {"loss": this batch's loss, "lr": ...}
        ... validation ...
        on_epoch_end(epoch, logs)           logs: {"loss", "val_loss", metrics, "lr", ...}
    on_train_end(logs)

Before training, ``fit`` sets ``callback.model``, ``callback.optimizer`` and
``callback.history`` so a callback can reach them. A callback stops training by setting
``self.stop_training = True``: ``fit`` finishes the current epoch and returns.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.backend import to_numpy
from coursepkg.train.checkpoint import save_checkpoint


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    Attributes set by ``fit``: ``model``, ``optimizer``, ``history``; and ``stop_training``
    (False at the start of training).
    """

    def set_context(self, model: Any, optimizer: Any, history: Any) -> None:
        """Called by ``fit`` before training starts."""
        self.model, self.optimizer, self.history = model, optimizer, history
        self.stop_training = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass


class _Monitor:
    """Tracks the best value of one logged quantity; shared by EarlyStopping and ModelCheckpoint."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}.")
        if min_delta < 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta}.")
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, min_delta
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def value(self, logs: dict[str, Any]) -> float:
        if self.monitor not in logs:
            hint = " (pass val_data to fit to get validation values)" if self.monitor.startswith("val_") else ""
            raise KeyError(f"{self.owner}: monitor={self.monitor!r} is not in the logs{hint}; "
                           f"available: {sorted(logs)}.")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        """True (and remember it) when ``value`` beats the best so far by more than min_delta."""
        if math.isnan(value):
            return False
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best = value
        return better


def host_copy(model: Any) -> dict[str, numpy.ndarray]:
    """A snapshot of ``model.state_dict()`` as NumPy copies (so later in-place updates don't touch it)."""
    return {name: numpy.array(to_numpy(array), copy=True) for name, array in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training when the monitored quantity has not improved for ``patience`` epochs.

    Inputs:
    - monitor: the log key to watch, such as "val_loss" or "val_accuracy".
    - mode: "min" (lower is better, losses) or "max" (higher is better, accuracies).
    - patience: how many epochs without improvement to tolerate before stopping.
    - min_delta: an improvement must be larger than this to count.
    - restore_best_weights: at the end of training, put back the weights of the best epoch
      (kept as host copies), whether training stopped early or ran all its epochs.

    Attributes after training: ``best`` (value), ``best_epoch``, ``stopped_epoch`` (None when
    training ran all its epochs), ``wait`` (epochs since the last improvement).
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}.")
        self.tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, int(patience), float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.on_train_begin()

    @property
    def best(self) -> float:
        return self.tracker.best

    @property
    def best_epoch(self) -> int | None:
        return self.tracker.best_epoch

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker.reset()
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, numpy.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.tracker.improved(self.tracker.value(logs)):
            self.tracker.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = host_copy(self.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save a checkpoint at the end of epochs (see :func:`coursepkg.train.save_checkpoint`).

    Inputs:
    - path: the file to write. It may contain fields filled from the epoch and the logs, such
      as ``"ckpt/epoch{epoch:03d}.npz"`` or ``"best-{val_loss:.3f}.npz"``.
    - monitor, mode: the quantity that decides which epoch is best (as in EarlyStopping).
    - save_best_only: save only when the monitored value improves (otherwise every epoch).
    - save_optimizer: also save the optimizer's state (needed to resume training exactly).

    Each file records the epoch, and ``extra={"logs": logs}`` with that epoch's logs.
    Attributes: ``best``, ``best_epoch``, ``saved`` (the list of paths written).
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", mode: str = "min",
                 save_best_only: bool = True, save_optimizer: bool = True) -> None:
        self.path, self.save_best_only, self.save_optimizer = str(path), save_best_only, save_optimizer
        self.tracker = _Monitor("ModelCheckpoint", monitor, mode)
        self.saved: list[str] = []

    @property
    def best(self) -> float:
        return self.tracker.best

    @property
    def best_epoch(self) -> int | None:
        return self.tracker.best_epoch

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker.reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            if not self.tracker.improved(self.tracker.value(logs)):
                return
            self.tracker.best_epoch = epoch
        path = self.path.format(**{**logs, "epoch": epoch})
        save_checkpoint(path, self.model, self.optimizer if self.save_optimizer else None, epoch=epoch,
                        extra={"logs": dict(logs)})
        self.saved.append(path)


class LearningRateScheduler(Callback):
    """Change the learning rate once per epoch.

    Inputs:
    - schedule: either a schedule object from :mod:`coursepkg.optim.schedules` (built on the
      optimizer; its ``step()`` is called at the end of every epoch, so its steps count epochs),
      or a function ``schedule(epoch) -> lr`` (epoch from 1), applied at the start of every epoch.

    To step a schedule after every batch instead, pass it to ``fit(..., scheduler=...)``.
    """

    def __init__(self, schedule: Any | Callable[[int], float]) -> None:
        if not (hasattr(schedule, "step") or callable(schedule)):
            raise TypeError(f"LearningRateScheduler: expected a schedule or a function epoch -> lr, "
                            f"got a {type(schedule).__name__}.")
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not hasattr(self.schedule, "step"):
            self.optimizer.lr = float(self.schedule(epoch))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if hasattr(self.schedule, "step"):
            self.schedule.step()
