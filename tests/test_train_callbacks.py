"""Callbacks (EarlyStopping, ModelCheckpoint, LearningRateScheduler, LivePlot) and History."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.nn.activation import ReLU
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Linear
from coursepkg.nn.loss import CrossEntropyLoss
from coursepkg.optim.schedules import StepLR
from coursepkg.optim.sgd import SGD
from coursepkg.train.callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from coursepkg.train.checkpoint import load_checkpoint
from coursepkg.train.history import History
from coursepkg.train.loop import fit
from coursepkg.viz.training import LivePlot, plot_training_panels


def blobs(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    return X, np.argmax(X @ rng.standard_normal((4, 3)), axis=1)


def small_model() -> Sequential:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 3))


class SyntheticValidation(Callback):
    """A test double: replaces the logged monitor value by a scripted curve, and records the
    weights at the end of every epoch (host copies), so tests know what "best" should restore."""

    def __init__(self, curve: list[float], key: str = "val_loss") -> None:
        self.curve, self.key = curve, key
        self.weights: dict[int, dict[str, np.ndarray]] = {}

    def on_epoch_end(self, epoch, logs):
        logs[self.key] = self.curve[epoch - 1]
        self.weights[epoch] = {k: cp.to_numpy(v).copy() for k, v in self.model.state_dict().items()}


def run(callbacks, epochs=20, val=True, lr=0.05):
    X, y = blobs()
    model = small_model()
    history = fit(model, CrossEntropyLoss(), SGD(model, lr=lr), (X, y), (X, y) if val else None, epochs=epochs,
                  batch_size=16, callbacks=callbacks, progress=False)
    return model, history


def weights_of(model) -> dict[str, np.ndarray]:
    return {k: cp.to_numpy(v) for k, v in model.state_dict().items()}


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


CURVE = [1.0, 0.8, 0.6, 0.65, 0.7, 0.61, 0.5, 0.4, 0.3, 0.2]


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best(backend):
    script = SyntheticValidation(CURVE)
    stopper = EarlyStopping(monitor="val_loss", patience=3)
    model, history = run([script, stopper])
    assert history["epoch"] == [1, 2, 3, 4, 5, 6]  # no improvement on 0.6 in epochs 4, 5, 6
    assert stopper.best_epoch == 3 and stopper.best == 0.6 and stopper.stopped_epoch == 6
    assert_same_weights(weights_of(model), script.weights[3])
    assert not np.array_equal(script.weights[3]["layers.0.weight"], script.weights[6]["layers.0.weight"])


def test_early_stopping_without_restore_keeps_the_last_weights():
    script = SyntheticValidation(CURVE)
    stopper = EarlyStopping(patience=3, restore_best_weights=False)
    model, _ = run([script, stopper])
    assert_same_weights(weights_of(model), script.weights[6])


def test_early_stopping_min_delta_and_max_mode():
    # gains under min_delta=0.01 over the best do not count: the best stays at epoch 1
    script = SyntheticValidation([0.50, 0.505, 0.509, 0.508, 0.6], key="val_accuracy")
    stopper = EarlyStopping(monitor="val_accuracy", mode="max", patience=3, min_delta=0.01)
    model, history = run([script, stopper])
    assert history.num_epochs == 4 and stopper.best_epoch == 1
    assert_same_weights(weights_of(model), script.weights[1])


def test_early_stopping_on_a_real_validation_curve():
    """A big model on few noisy examples overfits: validation loss turns up and training stops."""
    rng = np.random.default_rng(0)
    X, X_val = rng.standard_normal((20, 4)), rng.standard_normal((200, 4))
    w = rng.standard_normal((4, 3))
    y = np.argmax(X @ w + 2 * rng.standard_normal((20, 3)), axis=1)
    y_val = np.argmax(X_val @ w + 2 * rng.standard_normal((200, 3)), axis=1)
    model = Sequential(Linear(4, 128), ReLU(), Linear(128, 3))
    stopper = EarlyStopping(patience=5)
    history = fit(model, CrossEntropyLoss(), SGD(model, lr=0.2, momentum=0.9), (X, y), (X_val, y_val), epochs=300,
                  batch_size=20, callbacks=[stopper], progress=False)
    assert history.num_epochs < 300 and history.num_epochs == stopper.stopped_epoch
    best_epoch, best_value = history.best("val_loss")
    assert stopper.best_epoch == best_epoch and history.num_epochs == best_epoch + 5
    assert history["loss"][-1] < history["loss"][best_epoch - 1]  # training loss kept falling


def test_early_stopping_names_a_missing_monitor():
    with pytest.raises(KeyError, match="monitor='val_loss'.*val_data"):
        run([EarlyStopping()], val=False)


def test_model_checkpoint_saves_only_improvements(tmp_path):
    script = SyntheticValidation(CURVE)
    saver = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)
    every = ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_loss:.2f}.npz", save_best_only=False)
    run([script, saver, every], epochs=6)
    assert saver.saved == [str(tmp_path / "best.npz")] * 3 and saver.best_epoch == 3
    model = small_model()
    metadata = load_checkpoint(tmp_path / "best.npz", model, SGD(model, lr=1.0))
    assert metadata["epoch"] == 3 and metadata["extra"]["logs"]["val_loss"] == 0.6
    assert_same_weights(weights_of(model), script.weights[3])
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["best.npz", "e01-1.00.npz"]
    assert len(every.saved) == 6


def test_learning_rate_scheduler_steps_once_per_epoch():
    X, y = blobs(32)
    model = small_model()
    optimizer = SGD(model, lr=0.1)
    schedule = StepLR(optimizer, step_size=2, gamma=0.1)
    history = fit(model, CrossEntropyLoss(), optimizer, (X, y), epochs=5, batch_size=8,
                  callbacks=[LearningRateScheduler(schedule)], progress=False)
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])

    history = fit(model, CrossEntropyLoss(), optimizer, (X, y), epochs=3, batch_size=8,
                  callbacks=[LearningRateScheduler(lambda epoch: 1.0 / epoch)], progress=False)
    assert history["lr"] == pytest.approx([1.0, 0.5, 1 / 3])


def test_history_best_and_table():
    history = History()
    for epoch, (loss, acc) in enumerate([(0.9, 0.5), (0.4, 0.8), (0.5, 0.85), (float("nan"), 0.7)], start=1):
        history.append({"epoch": epoch, "val_loss": loss, "val_accuracy": acc, "note": "ignored"})
    assert history.best("val_loss") == (2, 0.4)
    assert history.best("val_accuracy", mode="max") == (3, 0.85)
    table = history.as_table().splitlines()
    assert table[0].split() == ["epoch", "val_loss", "val_accuracy"]
    assert len(table) == 5 and table[2].split() == ["2", "0.4", "0.8"]
    with pytest.raises(KeyError, match="no 'loss'"):
        history.best("loss")
    with pytest.raises(ValueError, match="mode"):
        history.best("val_loss", mode="lowest")


def test_live_plot_headless_draws_only_at_the_end(capsys):
    plot = LivePlot()
    _, history = run([plot], epochs=3)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert plot.shown is False
    axes = plot.figure.axes
    assert len(axes) == 1 and axes[0].get_ylabel() == "loss"
    train_line, val_line = axes[0].get_lines()
    np.testing.assert_allclose(train_line.get_ydata(), history["loss"])
    np.testing.assert_allclose(val_line.get_ydata(), history["val_loss"])


def test_plot_training_panels_draws_one_panel_per_quantity():
    history = History()
    for epoch in (1, 2, 3):
        history.append({"epoch": epoch, "lr": 0.1, "loss": 1.0 / epoch, "accuracy": 0.3 * epoch,
                        "val_loss": 1.2 / epoch, "val_accuracy": 0.25 * epoch})
    figure = plot_training_panels(history)
    assert [ax.get_ylabel() for ax in figure.axes] == ["loss", "accuracy"]
    np.testing.assert_allclose(figure.axes[1].get_lines()[1].get_ydata(), [0.25, 0.5, 0.75])
    with pytest.raises(KeyError, match="f1"):
        plot_training_panels(history, metrics=["f1"])
