"""The fit loop: history contents, loss and metric bookkeeping, divergence, determinism, progress."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import coursepkg as cp
from coursepkg.nn.activation import ReLU
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Linear
from coursepkg.nn.loss import CrossEntropyLoss, MSELoss
from coursepkg.optim.adam import Adam
from coursepkg.optim.schedules import CosineAnnealing
from coursepkg.optim.sgd import SGD
from coursepkg.train.callbacks import Callback, ModelCheckpoint
from coursepkg.train.checkpoint import load_checkpoint
from coursepkg.train.loop import TrainingDiverged, evaluate, fit


def blobs(n: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = np.argmax(X @ rng.standard_normal((4, 3)), axis=1)
    return X, y


def accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == y_true))


def small_model() -> Sequential:
    return Sequential(Linear(4, 16), ReLU(), Linear(16, 3))


class BatchRecorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs):
        self.events.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


def test_history_keys_lengths_and_values(backend):
    X, y = blobs()
    X_val, y_val = blobs(60, seed=1)
    model = small_model()
    recorder = BatchRecorder()
    history = fit(model, CrossEntropyLoss(), Adam(model, lr=0.01), (X, y), (X_val, y_val), epochs=4, batch_size=32,
                  metrics={"accuracy": accuracy}, callbacks=[recorder], progress=False)
    assert set(history) == {"epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 4 for values in history.values())
    assert history["epoch"] == [1, 2, 3, 4] and history.num_epochs == 4
    assert history["lr"] == [0.01] * 4
    assert history["loss"][-1] < history["loss"][0]

    # the training loss is the mean over examples of the batch losses (batches of 32, 32, 32, 32, 22)
    batch_losses = [e[2] for e in recorder.events if e[0] == "batch_end"][-5:]
    sizes = [32, 32, 32, 32, 22]
    assert history["loss"][-1] == pytest.approx(np.dot(batch_losses, sizes) / 150, rel=1e-9)

    # validation numbers are those of the final model, measured independently
    logits = cp.to_numpy(model(cp.Tensor(cp.get_backend().asarray(X_val))).data)
    assert history["val_accuracy"][-1] == pytest.approx(accuracy_score(y_val, logits.argmax(axis=1)))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert history["val_loss"][-1] == pytest.approx(-log_probs[np.arange(60), y_val].mean(), rel=1e-5)
    assert evaluate(model, CrossEntropyLoss(), (X_val, y_val))["loss"] == pytest.approx(history["val_loss"][-1])


def test_train_metric_uses_the_epoch_predictions_in_order():
    """With lr tiny the weights barely move, so the epoch's train accuracy is that of the model."""
    X, y = blobs()
    model = small_model()
    history = fit(model, CrossEntropyLoss(), SGD(model, lr=1e-12), (X, y), epochs=1, batch_size=16,
                  metrics={"accuracy": accuracy}, progress=False)
    logits = cp.to_numpy(model(cp.Tensor(cp.get_backend().asarray(X))).data)
    assert history["accuracy"][0] == pytest.approx(accuracy_score(y, logits.argmax(axis=1)))
    assert set(history) == {"epoch", "lr", "loss", "accuracy"}  # no val_ keys without val_data


def test_callback_hooks_are_called_in_order():
    X, y = blobs(50)
    model = small_model()
    recorder = BatchRecorder()
    fit(model, CrossEntropyLoss(), SGD(model, lr=0.1), (X, y), epochs=2, batch_size=20, callbacks=[recorder],
        progress=False)
    names = [(e[0],) + tuple(e[1:2]) for e in recorder.events]
    assert names == [("train_begin",), ("epoch_begin", 1), ("batch_end", 1), ("batch_end", 2), ("batch_end", 3),
                     ("epoch_end", 1), ("epoch_begin", 2), ("batch_end", 1), ("batch_end", 2), ("batch_end", 3),
                     ("epoch_end", 2), ("train_end",)]
    assert recorder.model is model and recorder.history["epoch"] == [1, 2]


def test_a_callback_can_stop_training():
    class StopAtTwo(Callback):
        def on_epoch_end(self, epoch, logs):
            self.stop_training = epoch == 2

    X, y = blobs(40)
    model = small_model()
    history = fit(model, CrossEntropyLoss(), SGD(model, lr=0.1), (X, y), epochs=10, callbacks=[StopAtTwo()],
                  progress=False)
    assert history["epoch"] == [1, 2]


def test_same_seed_gives_bit_identical_histories():
    X, y = blobs()
    X_val, y_val = blobs(60, seed=1)

    def run(seed):
        cp.seed(0)
        model = small_model()
        history = fit(model, CrossEntropyLoss(), Adam(model, lr=0.01), (X, y), (X_val, y_val), epochs=3,
                      batch_size=16, metrics={"accuracy": accuracy}, progress=False, seed=seed)
        return history, {k: cp.to_numpy(v) for k, v in model.state_dict().items()}

    (first, weights_a), (second, weights_b), (other, _) = run(5), run(5), run(6)
    assert dict(first) == dict(second)
    for name in weights_a:
        np.testing.assert_array_equal(weights_a[name], weights_b[name])
    assert other["loss"] != first["loss"]  # the seed does change the shuffling


def test_no_shuffle_visits_examples_in_order():
    X, y = blobs(30)
    model = small_model()
    recorder = BatchRecorder()
    seen = []

    class SeeBatches(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    history = fit(model, CrossEntropyLoss(), SGD(model, lr=1e-12), (X, y), epochs=1, batch_size=10, shuffle=False,
                  callbacks=[recorder, SeeBatches()], progress=False)
    backend = cp.get_backend()
    expected = [CrossEntropyLoss()(model(cp.Tensor(backend.asarray(X[i:i + 10]))), backend.asarray(y[i:i + 10])).item()
                for i in (0, 10, 20)]
    np.testing.assert_allclose(seen, expected, rtol=1e-5)
    assert history["loss"][0] == pytest.approx(np.mean(expected), rel=1e-5)


def test_progress_false_prints_nothing_and_true_draws_bars(capsys):
    X, y = blobs(40)
    model = small_model()
    fit(model, CrossEntropyLoss(), SGD(model, lr=0.1), (X, y), (X, y), epochs=2, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fit(model, CrossEntropyLoss(), SGD(model, lr=0.1), (X, y), (X, y), epochs=2, progress=True)
    captured = capsys.readouterr()
    assert "2/2" in captured.err and "val_loss" in captured.err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_huge_learning_rate_raises_training_diverged(backend):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)) * 10
    y = X @ rng.standard_normal((4, 1))
    model = Sequential(Linear(4, 32), ReLU(), Linear(32, 1))
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, iteration \d+.*(nan|inf).*smaller") as info:
        fit(model, MSELoss(), SGD(model, lr=1e6), (X, y), epochs=5, batch_size=8, progress=False)
    assert info.value.lr == 1e6 and info.value.epoch >= 1 and info.value.iteration >= 1


def test_divergence_keeps_saved_checkpoints(tmp_path):
    class PoisonWeights(Callback):  # makes the loss NaN from the first batch of epoch 3
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 3:
                self.saved_before = cp.to_numpy(self.model[2].weight.data).copy()
                self.model[2].weight.data = self.model[2].weight.data * float("nan")

    X, y = blobs(60)
    model = small_model()
    checkpoint = ModelCheckpoint(tmp_path / "epoch{epoch}.npz", save_best_only=False)
    poison = PoisonWeights()
    with pytest.raises(TrainingDiverged, match=r"epoch 3, iteration 1: the loss is nan"):
        fit(model, CrossEntropyLoss(), SGD(model, lr=0.1), (X, y), (X, y), epochs=5, callbacks=[checkpoint, poison],
            progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch1.npz", "epoch2.npz"]
    restored = small_model()
    metadata = load_checkpoint(tmp_path / "epoch2.npz", restored, SGD(restored, lr=0.1))
    assert metadata["epoch"] == 2 and np.isfinite(metadata["extra"]["logs"]["val_loss"])
    np.testing.assert_array_equal(cp.to_numpy(restored[2].weight.data), poison.saved_before)


def test_scheduler_is_stepped_after_every_batch():
    X, y = blobs(50)
    model = small_model()
    optimizer = SGD(model, lr=0.1)
    schedule = CosineAnnealing(optimizer, total_steps=100, warmup_steps=4)
    history = fit(model, CrossEntropyLoss(), optimizer, (X, y), epochs=3, batch_size=10, scheduler=schedule,
                  progress=False)
    assert schedule.step_count == 15
    assert optimizer.lr == pytest.approx(schedule.lr_at(15))
    assert history["lr"] == pytest.approx([schedule.lr_at(0), schedule.lr_at(5), schedule.lr_at(10)])


def test_evaluate_restores_training_mode():
    X, y = blobs(20)
    model = small_model()
    model.train()
    scores = evaluate(model, CrossEntropyLoss(), (X, y), batch_size=7, metrics={"accuracy": accuracy})
    assert model.training and set(scores) == {"loss", "accuracy"}


def test_bad_inputs_are_explained():
    X, y = blobs(20)
    model = small_model()
    optimizer = SGD(model, lr=0.1)
    with pytest.raises(ValueError, match=r"train_data has X of shape \(20, 4\) and y of shape \(19,\)"):
        fit(model, CrossEntropyLoss(), optimizer, (X, y[:19]), progress=False)
    with pytest.raises(TypeError, match="val_data must be a pair"):
        fit(model, CrossEntropyLoss(), optimizer, (X, y), val_data=X, progress=False)
    with pytest.raises(ValueError, match="metric 'loss'"):
        fit(model, CrossEntropyLoss(), optimizer, (X, y), metrics={"loss": accuracy}, progress=False)
    with pytest.raises(TypeError, match=r"callbacks\[0\]"):
        fit(model, CrossEntropyLoss(), optimizer, (X, y), callbacks=[print], progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, CrossEntropyLoss(), optimizer, (X, y), batch_size=0, progress=False)
