"""``fit``: the training loop, and ``evaluate``: the validation loop.

One epoch of ``fit`` is::

    model.train()
    for each mini-batch (xb, yb) of a fresh random permutation of the training set:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        (stop with TrainingDiverged if the loss is NaN or infinite)
        loss.backward()
        optimizer.step()
        scheduler.step()                 (if a scheduler was given)
    model.eval(); with no_grad(): loss and metrics on the validation set

plus callbacks around each part (see :mod:`coursepkg.train.callbacks`) and progress bars.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from coursepkg.backend import Backend, get_backend, to_numpy
from coursepkg.tensor import Tensor, no_grad
from coursepkg.train.callbacks import Callback
from coursepkg.train.history import History
from coursepkg.train.progress import TrainingProgress

Metric = Callable[[Any, Any], float]
RESERVED = ("epoch", "loss", "lr")


class TrainingDiverged(RuntimeError):  # noqa: N818  (the name the course uses)
    """The loss became NaN or infinite: the weights have blown up.

    Attributes: ``epoch`` and ``iteration`` (the batch within the epoch, both counted from 1),
    ``loss`` (the value seen) and ``lr`` (the learning rate at that moment).
    """

    def __init__(self, epoch: int, iteration: int, loss: float, lr: float) -> None:
        self.epoch, self.iteration, self.loss, self.lr = epoch, iteration, loss, lr
        super().__init__(
            f"Training diverged at epoch {epoch}, iteration {iteration}: the loss is {loss}. "
            f"The learning rate ({lr:g}) is probably too large: try a smaller one (for example {lr / 10:g}), "
            "or clip the gradients (optim.clip_grad_norm). Checkpoints saved before this point are intact.")


def fit(model: Any, loss_fn: Callable[[Tensor, Any], Tensor], optimizer: Any,
        train_data: tuple[Any, Any], val_data: tuple[Any, Any] | None = None, epochs: int = 10,
        batch_size: int = 32, metrics: dict[str, Metric] | None = None, callbacks: Sequence[Callback] = (),
        scheduler: Any = None, progress: bool = True, seed: int | None = 0, shuffle: bool = True) -> History:
    """Train ``model`` with mini-batch gradient descent and return what was measured.

    Inputs:
    - model: a Module mapping a Tensor of shape (B, ...) to outputs (logits or predictions).
    - loss_fn: ``loss_fn(outputs, targets) -> 0-d Tensor``, such as ``nn.CrossEntropyLoss()``.
    - optimizer: an Optimizer built on ``model.parameters()``.
    - train_data: (X, y), arrays with the same first dimension N: X of shape (N, ...) and y of
      shape (N,) or (N, ...). NumPy arrays (and lists) are moved to the active backend once, here.
    - val_data: (X_val, y_val) likewise, or None. Evaluated after every epoch.
    - epochs: number of passes over the training set.
    - batch_size: examples per mini-batch (the last batch may be smaller).
    - metrics: a dict name -> ``metric(y_true, outputs) -> float``, called on NumPy host arrays
      (y_true of shape (N, ...), outputs of shape (N, ...)), for example
      ``{"accuracy": lambda y, logits: (logits.argmax(axis=1) == y).mean()}``. On the training
      set it is computed from the outputs of the epoch's batches (as the weights changed).
    - callbacks: Callback objects (EarlyStopping, ModelCheckpoint, LivePlot, your own...).
    - scheduler: a schedule from :mod:`coursepkg.optim.schedules`, stepped after every batch.
    - progress: show progress bars (tqdm); False prints nothing.
    - seed: reseeds the active backend's generator at the start, which fixes the shuffling
      (and dropout masks); None leaves the generator as it is.
    - shuffle: draw a new random order of the training set every epoch.
    Returns: a :class:`History` with one entry per epoch in "epoch", "loss", "lr", each metric,
    and with val_data "val_loss" and "val_<metric>".
    Raises TrainingDiverged (naming the epoch and iteration) when a loss is NaN or infinite.
    """
    backend = get_backend()
    X, y = _on_backend(train_data, "train_data", backend)
    val = _on_backend(val_data, "val_data", backend) if val_data is not None else None
    if not (isinstance(epochs, int) and epochs >= 1 and isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"fit: epochs and batch_size must be positive integers, got {epochs} and {batch_size}.")
    metrics = _check_metrics(metrics)
    callbacks = list(callbacks)
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(f"fit: callbacks[{i}] is a {type(callback).__name__}; callbacks must subclass "
                            "coursepkg.train.Callback.")
    if seed is not None:
        backend.seed(seed)

    history = History()
    for callback in callbacks:
        callback.set_context(model, optimizer, history)
    bar = TrainingProgress(epochs, math.ceil(X.shape[0] / batch_size), enabled=progress)
    logs: dict[str, Any] = {}
    try:
        for callback in callbacks:
            callback.on_train_begin(logs)
        for epoch in range(1, epochs + 1):
            logs = {"epoch": epoch}
            for callback in callbacks:
                callback.on_epoch_begin(epoch, logs)
            logs["lr"] = optimizer.lr
            bar.start_epoch(epoch)
            logs.update(_train_one_epoch(model, loss_fn, optimizer, X, y, batch_size, shuffle, scheduler,
                                         metrics, callbacks, bar, epoch, backend))
            if val is not None:
                scores = evaluate(model, loss_fn, val, batch_size=max(batch_size, 256), metrics=metrics)
                logs.update({f"val_{name}": value for name, value in scores.items()})
            history.append(logs)
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            bar.end_epoch(logs)
            if any(getattr(callback, "stop_training", False) for callback in callbacks):
                break
        for callback in callbacks:
            callback.on_train_end(logs)
    finally:
        bar.close()
    return history


def _train_one_epoch(model: Any, loss_fn: Callable, optimizer: Any, X: Any, y: Any, batch_size: int,
                     shuffle: bool, scheduler: Any, metrics: dict[str, Metric], callbacks: list[Callback],
                     bar: TrainingProgress, epoch: int, backend: Backend) -> dict[str, float]:
    """One pass over the training set; returns {"loss": mean loss, metric: value, ...}."""
    xp = backend.xp
    model.train()
    n = X.shape[0]
    order = backend.permutation(n) if shuffle else backend.arange(n)
    total_loss, outputs = 0.0, []
    for iteration, indices in enumerate(_batch_indices(order, batch_size), start=1):
        xb, yb = xp.take(X, indices, axis=0), xp.take(y, indices, axis=0)
        optimizer.zero_grad()
        out = model(Tensor(xb))
        loss = loss_fn(out, yb)
        value = loss.item()  # one number to the host per batch: needed to catch divergence at once
        if not math.isfinite(value):
            raise TrainingDiverged(epoch, iteration, value, optimizer.lr)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += value * indices.shape[0]
        if metrics:
            outputs.append(out.data)
        batch_logs = {"loss": value, "lr": optimizer.lr}
        for callback in callbacks:
            callback.on_batch_end(iteration, batch_logs)
        bar.end_batch(value)
    logs = {"loss": total_loss / n}
    if metrics:
        y_true = to_numpy(xp.take(y, order, axis=0))
        predictions = to_numpy(xp.concat(outputs, axis=0))
        logs.update({name: float(metric(y_true, predictions)) for name, metric in metrics.items()})
    return logs


def evaluate(model: Any, loss_fn: Callable[[Tensor, Any], Tensor], data: tuple[Any, Any], batch_size: int = 256,
             metrics: dict[str, Metric] | None = None) -> dict[str, float]:
    """The mean loss and the metrics of ``model`` on ``data``, in evaluation mode and without a graph.

    Inputs:
    - model, loss_fn, metrics: as in :func:`fit`.
    - data: (X, y) with X of shape (N, ...) and y of shape (N, ...).
    - batch_size: examples per forward pass (only memory depends on it).
    Returns: {"loss": mean loss over the N examples, metric name: value, ...}. The model's
    train/eval mode is restored afterwards.
    """
    backend = get_backend()
    X, y = _on_backend(data, "data", backend, caller="evaluate")
    metrics = _check_metrics(metrics)
    was_training = getattr(model, "training", False)
    model.eval()
    total_loss, outputs = 0.0, []
    n = X.shape[0]
    try:
        with no_grad():
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                out = model(Tensor(X[start:stop, ...]))
                total_loss += loss_fn(out, y[start:stop, ...]).item() * out.shape[0]
                if metrics:
                    outputs.append(out.data)
    finally:
        model.train(was_training)
    scores = {"loss": total_loss / n}
    if metrics:
        y_true, predictions = to_numpy(y), to_numpy(backend.xp.concat(outputs, axis=0))
        scores.update({name: float(metric(y_true, predictions)) for name, metric in metrics.items()})
    return scores


def _batch_indices(order: Any, batch_size: int) -> Iterator[Any]:
    """Consecutive slices of ``order`` (an int array of shape (N,)), each of at most batch_size."""
    n = order.shape[0]
    for start in range(0, n, batch_size):
        yield order[start:min(start + batch_size, n)]  # the standard forbids slicing past the end


def _on_backend(data: Any, argument: str, backend: Backend, caller: str = "fit") -> tuple[Any, Any]:
    """(X, y) as arrays of the active backend: an explicit transfer for NumPy arrays and lists."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{caller}: {argument} must be a pair (X, y) of arrays, got a {type(data).__name__}.")
    X, y = (backend.asarray(part.data if isinstance(part, Tensor) else part) for part in data)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{caller}: {argument} has X of shape {tuple(X.shape)} and y of shape {tuple(y.shape)}; "
                         "both need the same first dimension N (one row per example).")
    if X.shape[0] == 0:
        raise ValueError(f"{caller}: {argument} is empty.")
    return X, y


def _check_metrics(metrics: dict[str, Metric] | None) -> dict[str, Metric]:
    metrics = dict(metrics or {})
    for name, metric in metrics.items():
        if name in RESERVED or name.startswith("val_") or not callable(metric):
            raise ValueError(f"fit: metric {name!r} must be a function and its name must not be one of {RESERVED} "
                             "or start with 'val_'.")
    return metrics
