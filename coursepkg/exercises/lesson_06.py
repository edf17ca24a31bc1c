"""Lesson 06, the training loop: the graded questions.

The learner writes ``train``, a small ``fit``: epochs of shuffled mini-batches, then a
validation pass in evaluation mode without a graph, returning the per-epoch history; and
``save_model`` / ``load_model``, a checkpoint round trip through a NumPy ``.npz`` archive that is
never unpickled.

How the ``train`` check sees inside the loop: it hands the learner's function a *probe* model
and a *probe* optimizer. The probe model is a real linear classifier (so the loss really
decreases), but column 0 of every input row holds the example's id, which it reads to record
which examples each forward pass saw, in which mode (``model.training``) and whether a graph was
being built. The probe optimizer is a real SGD that, before each update, compares every
gradient with the gradient of the current batch alone (so accumulated gradients are caught).
From these records the check recomputes the expected losses and accuracies independently.
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import nn
from coursepkg.backend import seed as reseed
from coursepkg.backend import set_backend, to_numpy
from coursepkg.exercises.question import CheckFailure, describe_inputs, expect, register
from coursepkg.optim.sgd import SGD
from coursepkg.tensor import Tensor, is_grad_enabled, no_grad

VAL_ID_OFFSET = 1000  # validation examples carry ids 1000, 1001, ...; training examples 0, 1, ...


# ----------------------------------------------------------------------------- reference solutions
def reference_train(model: Any, loss_fn: Callable, optimizer: Any, X_train: numpy.ndarray, y_train: numpy.ndarray,
                    X_val: numpy.ndarray, y_val: numpy.ndarray, epochs: int, batch_size: int,
                    rng: numpy.random.Generator) -> dict[str, list[float]]:
    """Train with shuffled mini-batches and validate after every epoch.

    Inputs:
    - model: a Module mapping a Tensor (B, D) to logits (B, C).
    - loss_fn: ``loss_fn(logits, labels) -> 0-d Tensor``, the mean loss of a batch.
    - optimizer: an Optimizer built on the model's parameters.
    - X_train (N, D), y_train (N,); X_val (M, D), y_val (M,): NumPy arrays, integer labels.
    - epochs, batch_size: positive integers.
    - rng: a numpy Generator, the only source of randomness (the order of the examples).
    Returns: {"train_loss": [...], "val_loss": [...], "val_accuracy": [...]}, one float per epoch.
    """
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    n = X_train.shape[0]
    for _ in range(epochs):
        model.train()
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            indices = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(Tensor(X_train[indices])), y_train[indices])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(indices)
        history["train_loss"].append(total / n)
        model.eval()
        with no_grad():
            logits = model(Tensor(X_val))
            history["val_loss"].append(loss_fn(logits, y_val).item())
            predictions = numpy.argmax(to_numpy(logits.data), axis=1)
        history["val_accuracy"].append(float(numpy.mean(predictions == y_val)))
    model.train()
    return history


def reference_save_model(path: str, model: Any) -> None:
    """Write every entry of ``model.state_dict()`` (parameters and buffers) to the .npz file ``path``."""
    arrays = {name: to_numpy(array) for name, array in model.state_dict().items()}
    numpy.savez(path, **arrays)


def reference_load_model(path: str, model: Any) -> None:
    """Read a file written by ``save_model`` into ``model``, never unpickling anything.

    ``numpy.load(..., allow_pickle=False)`` refuses object arrays; ``load_state_dict`` matches the
    entries by name and raises KeyError (missing or unexpected entry) or ValueError (wrong shape).
    """
    with numpy.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    model.load_state_dict(arrays)


# ----------------------------------------------------------------------------- planted wrong answers: train
def _train_variant(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, epochs, batch_size, rng, *,
                   zero_grad=True, shuffle="each epoch", validate_on="val", eval_mode=True, use_no_grad=True,
                   back_to_train=True, loss_record="mean", drop_last=False):
    """The reference with one thing changed, to plant a bug."""
    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    n = X_train.shape[0]
    once = rng.permutation(n)
    model.train()
    for _ in range(epochs):
        if back_to_train:
            model.train()
        if shuffle == "each epoch":
            order = rng.permutation(n)
        elif shuffle == "once":
            order = once
        elif shuffle == "global":
            order = numpy.random.permutation(n)  # noqa: NPY002  (the planted bug: not the rng it was given)
        else:
            order = numpy.arange(n)
        total, last = 0.0, 0.0
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            indices = order[start:start + batch_size]
            if zero_grad:
                optimizer.zero_grad()
            loss = loss_fn(model(Tensor(X_train[indices])), y_train[indices])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(indices)
            last = loss.item()
        history["train_loss"].append(total / n if loss_record == "mean" else last)
        X_eval, y_eval = (X_val, y_val) if validate_on == "val" else (X_train, y_train)
        model.train(not eval_mode)
        if use_no_grad:
            with no_grad():
                logits = model(Tensor(X_eval))
        else:
            logits = model(Tensor(X_eval))
        history["val_loss"].append(loss_fn(logits, y_eval).item())
        history["val_accuracy"].append(float(numpy.mean(numpy.argmax(to_numpy(logits.data), axis=1) == y_eval)))
    return history


def _train_with(**changes: Any) -> Callable:
    def train(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, epochs, batch_size, rng):
        return _train_variant(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, epochs, batch_size, rng,
                              **changes)

    return train


# ----------------------------------------------------------------------------- the probes
def _softmax_cross_entropy(logits: numpy.ndarray, labels: numpy.ndarray) -> tuple[float, numpy.ndarray]:
    """Mean cross-entropy of (B, C) logits and its gradient with respect to the logits, in float64."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - numpy.log(numpy.exp(shifted).sum(axis=1, keepdims=True))
    b = logits.shape[0]
    dlogits = numpy.exp(log_probs)
    dlogits[numpy.arange(b), labels] -= 1.0
    return float(-log_probs[numpy.arange(b), labels].mean()), dlogits / b


class _ProbeModel(nn.Module):
    """A linear classifier on columns 1: of its input that records how it is called (column 0 is an id)."""

    def __init__(self, n_features: int, n_classes: int, rng: numpy.random.Generator, y_train: numpy.ndarray,
                 y_val: numpy.ndarray) -> None:
        super().__init__()
        self.weight = nn.Parameter(0.1 * rng.standard_normal((n_features, n_classes)))
        self.bias = nn.Parameter(numpy.zeros(n_classes))
        self.y_train, self.y_val = y_train, y_val
        self.optimizer: _ProbeOptimizer | None = None
        self.train_batches: list[numpy.ndarray] = []  # ids of each training forward pass, in order
        self.train_losses: list[tuple[float, int]] = []  # (mean loss, batch size) of each
        self.val_calls: list[tuple[int, numpy.ndarray, numpy.ndarray]] = []  # (steps so far, ids, logits)
        self.last_batch: tuple[numpy.ndarray, numpy.ndarray] | None = None  # (features, dlogits)

    def steps(self) -> int:
        return self.optimizer.steps if self.optimizer is not None else 0

    def epoch_now(self, batches_per_epoch: int) -> int:
        return self.steps() // batches_per_epoch + 1

    def forward(self, x: Any) -> Tensor:
        data = to_numpy(x.data if isinstance(x, Tensor) else numpy.asarray(x))
        expect(data.ndim == 2 and data.shape[1] == self.weight.shape[0] + 1,
               f"the model was called with an input of shape {data.shape}; pass it rows of X_train or X_val "
               f"(shape (B, {self.weight.shape[0] + 1})).")
        ids = numpy.rint(data[:, 0]).astype(numpy.int64)
        is_val = ids >= VAL_ID_OFFSET
        expect(bool(numpy.all(is_val) or not numpy.any(is_val)),
               "one forward pass mixed training and validation examples; keep the two sets apart.")
        features = data[:, 1:]
        out = Tensor(features) @ self.weight + self.bias
        logits = numpy.array(to_numpy(out.data), dtype=numpy.float64)
        after = f"after {self.steps()} optimizer steps"
        if numpy.all(is_val):
            expect(not self.training,
                   f"the validation forward pass ({after}) ran in training mode: call model.eval() before "
                   "validating, or Dropout keeps dropping and BatchNorm keeps updating its statistics.")
            expect(not is_grad_enabled(),
                   f"the validation forward pass ({after}) built a computation graph: wrap it in "
                   "`with no_grad():` (nothing is trained there, so the graph only costs memory and time).")
            self.val_calls.append((self.steps(), ids - VAL_ID_OFFSET, logits))
        elif is_grad_enabled():  # a training batch (passes on training data under no_grad are ignored)
            expect(self.training,
                   f"a training batch ({after}) ran in evaluation mode: call model.train() at the start of "
                   "every epoch (validation switched the model to eval mode).")
            self.train_batches.append(ids)
            loss, dlogits = _softmax_cross_entropy(logits, self.y_train[ids])
            self.train_losses.append((loss, len(ids)))
            self.last_batch = (features, dlogits)
        return out


class _ProbeOptimizer(SGD):
    """Plain SGD that checks, before every update, that the gradients are the current batch's alone."""

    def __init__(self, model: _ProbeModel, lr: float) -> None:
        super().__init__(model.parameters(), lr=lr)
        self.model, self.steps = model, 0
        model.optimizer = self

    def step(self) -> None:
        model = self.model
        expect(model.last_batch is not None, "optimizer.step() was called before any training forward pass.")
        features, dlogits = model.last_batch
        expected = {"weight": features.T @ dlogits, "bias": dlogits.sum(axis=0)}
        for name, p in (("weight", model.weight), ("bias", model.bias)):
            expect(p.grad is not None,
                   f"optimizer.step() number {self.steps + 1} found no gradient in the model's {name}: call "
                   "loss.backward() before optimizer.step().")
            grad = to_numpy(p.grad)
            if not numpy.allclose(grad, expected[name], rtol=1e-6, atol=1e-9):
                raise CheckFailure(
                    f"at optimizer.step() number {self.steps + 1}, the gradient of the {name} is not the gradient "
                    "of the current batch's loss (max difference "
                    f"{numpy.max(numpy.abs(grad - expected[name])):.3g}). backward() *adds* into .grad, so "
                    "without optimizer.zero_grad() before each backward() the gradients of earlier batches "
                    "pile up.")
        self.steps += 1
        super().step()


def _blobs(rng: numpy.random.Generator, n: int, n_features: int, n_classes: int, id_offset: int
           ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """An easy classification set: Gaussian clouds around well-separated centres, ids in column 0."""
    centres = 3.0 * numpy.eye(n_classes, n_features)
    y = rng.integers(0, n_classes, size=n)
    y[:n_classes] = numpy.arange(n_classes)[: min(n, n_classes)]
    X = centres[y] + 0.7 * rng.standard_normal((n, n_features))
    ids = numpy.arange(n, dtype=numpy.float64) + id_offset
    return numpy.concatenate([ids[:, None], X], axis=1), y


def _run_train(train: Callable, data_seed: int, n: int, n_val: int, epochs: int, batch_size: int,
               seed: int) -> tuple[Any, _ProbeModel, str]:
    """Run the learner's train on fresh probes and data made from data_seed; rng is default_rng(seed)."""
    case_rng = numpy.random.default_rng(data_seed)
    n_features, n_classes = 3, 3
    X_train, y_train = _blobs(case_rng, n, n_features, n_classes, 0)
    X_val, y_val = _blobs(case_rng, n_val, n_features, n_classes, VAL_ID_OFFSET)
    model = _ProbeModel(n_features, n_classes, case_rng, y_train, y_val)
    optimizer = _ProbeOptimizer(model, lr=0.3)
    what = (f"train(model, loss_fn, optimizer, X_train, y_train, X_val, y_val, epochs={epochs}, "
            f"batch_size={batch_size}, rng=numpy.random.default_rng({seed})) with "
            f"{describe_inputs(X_train=X_train, X_val=X_val)}")
    history = train(model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, X_val, y_val, epochs, batch_size,
                    numpy.random.default_rng(seed))
    return history, model, what


def _epoch_orders(model: _ProbeModel, n: int, epochs: int, batch_size: int, what: str) -> list[numpy.ndarray]:
    """Check the batches of every epoch and return each epoch's order of training ids."""
    per_epoch = math.ceil(n / batch_size)
    sizes = [len(ids) for ids in model.train_batches]
    expect(len(sizes) == epochs * per_epoch,
           f"{what}: expected {epochs} epochs x {per_epoch} batches = {epochs * per_epoch} training forward "
           f"passes, got {len(sizes)} (with batch sizes {sizes[:12]}{'...' if len(sizes) > 12 else ''}).")
    expected_sizes = [batch_size] * (per_epoch - 1) + [n - batch_size * (per_epoch - 1)]
    orders = []
    for epoch in range(epochs):
        batches = model.train_batches[epoch * per_epoch:(epoch + 1) * per_epoch]
        got_sizes = [len(ids) for ids in batches]
        expect(got_sizes == expected_sizes,
               f"{what}: epoch {epoch + 1} used batches of sizes {got_sizes}; expected {expected_sizes} "
               "(consecutive slices of batch_size examples, the last one smaller when N is not a multiple).")
        order = numpy.concatenate(batches)
        expect(numpy.array_equal(numpy.sort(order), numpy.arange(n)),
               f"{what}: epoch {epoch + 1} did not visit every training example exactly once "
               f"({len(numpy.unique(order))} distinct examples out of {n}, {len(order)} visits); shuffle the "
               "indices with rng.permutation(N) and take consecutive slices of that order.")
        orders.append(order)
    return orders


def _expect_number_list(history: Any, key: str, epochs: int, what: str) -> list[float]:
    expect(isinstance(history, dict), f"{what} should return a dict, got {type(history).__name__}.")
    expect(key in history, f"{what}: the history has no {key!r} entry (it has {sorted(history)}).")
    values = history[key]
    expect(hasattr(values, "__len__") and len(values) == epochs,
           f"{what}: history[{key!r}] should hold one number per epoch ({epochs}), got "
           f"{len(values) if hasattr(values, '__len__') else type(values).__name__}.")
    try:
        return [float(to_numpy(v.data if isinstance(v, Tensor) else v)) for v in values]
    except (TypeError, ValueError):
        raise CheckFailure(f"{what}: history[{key!r}] should hold numbers, got {values!r}.") from None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


@register(
    id="06.train", lesson="06", points=4, names=("train",),
    reference=(reference_train,),
    mutants={
        "never zeroes the gradients (they accumulate across batches)": (_train_with(zero_grad=False),),
        "does not shuffle": (_train_with(shuffle="never"),),
        "shuffles once, then uses the same order every epoch": (_train_with(shuffle="once"),),
        "shuffles with numpy's global generator instead of rng": (_train_with(shuffle="global"),),
        "validation computed on the training data": (_train_with(validate_on="train"),),
        "validates in training mode (model.train(): dropout stays on)": (_train_with(eval_mode=False),),
        "validates without no_grad (builds a graph)": (_train_with(use_no_grad=False),),
        "never switches back to training mode after validating": (_train_with(back_to_train=False),),
        "records the last batch's loss as the epoch's training loss": (_train_with(loss_record="last"),),
        "drops the last, smaller batch": (_train_with(drop_last=True),),
    },
    hint="Each epoch: model.train(); order = rng.permutation(N); for each slice of batch_size indices: "
         "optimizer.zero_grad(), loss = loss_fn(model(Tensor(X[idx])), y[idx]), loss.backward(), optimizer.step(), "
         "and add loss.item() * len(idx) to a total. Then model.eval() and, inside `with no_grad():`, the loss and "
         "accuracy on (X_val, y_val).",
)
def check_train(train: Callable, rng: numpy.random.Generator) -> None:
    """A fit-style training loop with validation after every epoch."""
    set_backend("numpy", seed=int(rng.integers(1 << 30)))
    cases = [(23, 9, 3, 5), (12, 6, 2, 4), (7, 5, 2, 1), (10, 4, 2, 32), (40, 10, 4, 8)]
    for n, n_val, epochs, batch_size in cases:
        data_seed, seed = (int(s) for s in rng.integers(0, 1 << 30, size=2))
        history, model, what = _run_train(train, data_seed, n, n_val, epochs, batch_size, seed)
        orders = _epoch_orders(model, n, epochs, batch_size, what)
        if n >= 5:
            expect(not any(numpy.array_equal(order, numpy.arange(n)) for order in orders),
                   f"{what}: the training examples were visited in their original order 0, 1, 2, ...: shuffle "
                   "them (rng.permutation(N)) at the start of every epoch, or the batches depend on how the "
                   "data happened to be sorted.")
        if epochs > 1 and n >= 5:
            expect(not all(numpy.array_equal(order, orders[0]) for order in orders[1:]),
                   f"{what}: every epoch visited the examples in the same order; draw a new permutation at the "
                   "start of every epoch.")
        _check_history(history, model, n, n_val, epochs, batch_size, what)

        if n == 23:  # reproducibility: the same seed gives the same run, another seed another run
            for again_seed, same in ((seed, True), (seed + 1, False)):
                _, again, again_what = _run_train(train, data_seed, n, n_val, epochs, batch_size, again_seed)
                again_orders = _epoch_orders(again, n, epochs, batch_size, again_what)
                identical = all(numpy.array_equal(a, b) for a, b in zip(again_orders, orders))
                if same:
                    expect(identical, f"{again_what}: called twice with the same seed, train visited the examples "
                                      "in different orders; take every random choice from the rng argument.")
                else:
                    expect(not identical, f"{again_what}: with another seed, train visited the examples in the "
                                          "same orders; shuffle with the rng argument (rng.permutation(N)).")


def _check_history(history: Any, model: _ProbeModel, n: int, n_val: int, epochs: int, batch_size: int,
                   what: str) -> None:
    """Compare the returned history with the losses and accuracies recomputed from the probe's records."""
    train_loss = _expect_number_list(history, "train_loss", epochs, what)
    val_loss = _expect_number_list(history, "val_loss", epochs, what)
    val_accuracy = _expect_number_list(history, "val_accuracy", epochs, what)
    per_epoch = math.ceil(n / batch_size)
    for epoch in range(epochs):
        batch_losses = model.train_losses[epoch * per_epoch:(epoch + 1) * per_epoch]
        expected = sum(loss * size for loss, size in batch_losses) / n
        if not _close(train_loss[epoch], expected):
            plain_mean = float(numpy.mean([loss for loss, _ in batch_losses]))
            hint = (" That is the plain mean of the batch losses; weight each by its batch size (the last batch "
                    "is smaller)." if _close(train_loss[epoch], plain_mean) else
                    " That is the last batch's loss; average over all the batches of the epoch."
                    if _close(train_loss[epoch], batch_losses[-1][0]) else "")
            raise CheckFailure(f"{what}: history['train_loss'][{epoch}] is {train_loss[epoch]:.6g}, expected "
                               f"{expected:.6g}, the mean loss over the epoch's examples (the batch losses weighted "
                               f"by batch size).{hint}")

        calls = [(ids, logits) for steps, ids, logits in model.val_calls if steps == (epoch + 1) * per_epoch]
        expect(bool(calls),
               f"{what}: after epoch {epoch + 1} the model was never evaluated on the validation examples (X_val) "
               "in evaluation mode; validate on X_val, y_val after each epoch's last batch.")
        seen = numpy.concatenate([c[0] for c in calls])
        ids, first = numpy.unique(seen, return_index=True)  # a second pass over the same rows is allowed
        expect(numpy.array_equal(ids, numpy.arange(n_val)),
               f"{what}: the validation after epoch {epoch + 1} should see all {n_val} validation examples, it "
               f"saw {len(ids)} of them.")
        logits = numpy.concatenate([c[1] for c in calls])[first]
        expected_val_loss, _ = _softmax_cross_entropy(logits, model.y_val[ids])
        expected_accuracy = float(numpy.mean(numpy.argmax(logits, axis=1) == model.y_val[ids]))
        expect(_close(val_loss[epoch], expected_val_loss),
               f"{what}: history['val_loss'][{epoch}] is {val_loss[epoch]:.6g}, expected {expected_val_loss:.6g} "
               "(the mean loss on the validation set with the weights at the end of the epoch).")
        if expected_accuracy > 0 and _close(val_accuracy[epoch], 100 * expected_accuracy):
            raise CheckFailure(f"{what}: history['val_accuracy'][{epoch}] is {val_accuracy[epoch]:.6g}, a "
                               "percentage; return a fraction between 0 and 1.")
        expect(_close(val_accuracy[epoch], expected_accuracy),
               f"{what}: history['val_accuracy'][{epoch}] is {val_accuracy[epoch]:.6g}, expected "
               f"{expected_accuracy:.6g} (the fraction of validation examples whose largest logit is the true "
               "class).")
    if n >= 20:
        expect(train_loss[-1] < train_loss[0] and val_loss[-1] < val_loss[0],
               f"{what}: on this easy task the losses should go down, got train_loss {train_loss} and val_loss "
               f"{val_loss}.")


# ----------------------------------------------------------------------------- planted wrong answers: checkpoints
def _save_parameters_only(path, model):
    numpy.savez(path, **{name: to_numpy(p.data) for name, p in model.named_parameters()})


def _save_weights_only(path, model):
    numpy.savez(path, **{name: to_numpy(a) for name, a in model.state_dict().items() if not name.endswith("bias")})


def _save_with_pickle(path, model):
    with open(path, "wb") as file:
        pickle.dump({name: to_numpy(a) for name, a in model.state_dict().items()}, file)


def _load_with_pickle(path, model):
    with numpy.load(path, allow_pickle=True) as archive:
        arrays = {name: archive[name] for name in archive.files}
    model.load_state_dict(arrays)


def _load_by_position(path, model):
    """Pairs the file's arrays with the model's entries in file order, reshaping to fit."""
    with numpy.load(path, allow_pickle=False) as archive:
        arrays = [archive[name] for name in archive.files]
    names = list(model.state_dict())
    model.load_state_dict({name: numpy.resize(array, model.state_dict()[name].shape)
                           for name, array in zip(names, arrays)})


def _load_ignoring_missing(path, model):
    with numpy.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    model.load_state_dict(arrays, strict=False)


def _load_broadcasting(path, model):
    """Copies into the existing arrays with ``[...] =``: a (1, M) array silently fills a (D, M) weight."""
    with numpy.load(path, allow_pickle=False) as archive:
        own = model.state_dict()
        for name in own:
            own[name][...] = archive[name]


# ----------------------------------------------------------------------------- the tripwire
_TRIPWIRE = {"fired": False}


def _tripwire_fired() -> int:
    """Called by pickle when it rebuilds a :class:`_Tripwire`: proof that the file was unpickled."""
    _TRIPWIRE["fired"] = True
    return 0


class _Tripwire:
    """An object whose unpickling runs a function, as a malicious checkpoint could run any code."""

    def __reduce__(self) -> tuple:
        return (_tripwire_fired, ())


def _model(seed: int, sizes: tuple[int, ...] = (5, 7, 3), batch_norm: bool = True) -> nn.Module:
    reseed(seed)
    layers: list[nn.Module] = [nn.Linear(sizes[0], sizes[1])]
    if batch_norm:
        layers.append(nn.BatchNorm1d(sizes[1]))
    layers += [nn.Tanh(), nn.Linear(sizes[1], sizes[2])]
    return nn.Sequential(*layers)


def _name(model: nn.Module) -> str:
    """A one-line description such as ``Sequential(Linear(5, 7), BatchNorm1d(7), Tanh(), Linear(7, 3))``."""
    parts = []
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            parts.append(f"Linear({layer.in_features}, {layer.out_features})")
        elif isinstance(layer, nn.BatchNorm1d):
            parts.append(f"BatchNorm1d({layer.num_features})")
        else:
            parts.append(f"{type(layer).__name__}()")
    return f"Sequential({', '.join(parts)})"


def _predict(model: nn.Module, X: numpy.ndarray) -> numpy.ndarray:
    model.eval()
    with no_grad():
        return to_numpy(model(Tensor(X)).data)


def _expect_refused(load_model: Callable, path: str, model: nn.Module, what: str, why: str) -> None:
    try:
        load_model(path, model)
    except (KeyError, ValueError):
        return
    raise CheckFailure(f"{what}: {why}, but load_model raised no KeyError or ValueError; a checkpoint that does "
                       "not fit the model must be refused loudly, never loaded half-way or silently reshaped.")


@register(
    id="06.checkpoint", lesson="06", points=3, names=("save_model", "load_model"),
    reference=(reference_save_model, reference_load_model),
    mutants={
        "saves only the parameters, not the buffers (batch-norm running statistics)":
            (_save_parameters_only, reference_load_model),
        "saves only the weights, not the biases": (_save_weights_only, reference_load_model),
        "saves with pickle": (_save_with_pickle, reference_load_model),
        "loads with allow_pickle=True (would run code hidden in the file)": (reference_save_model, _load_with_pickle),
        "loads by position instead of by name": (reference_save_model, _load_by_position),
        "ignores entries missing from the file": (reference_save_model, _load_ignoring_missing),
        "copies without checking shapes (broadcasts silently)": (reference_save_model, _load_broadcasting),
    },
    hint="save: numpy.savez(path, **{name: coursepkg.to_numpy(a) for name, a in model.state_dict().items()}). "
         "load: with numpy.load(path, allow_pickle=False) as f: model.load_state_dict({k: f[k] for k in f.files}).",
)
def check_checkpoint(save_model: Callable, load_model: Callable, rng: numpy.random.Generator) -> None:
    """Save a model's parameters and buffers to .npz and load them back, safely."""
    set_backend("numpy", seed=int(rng.integers(1 << 30)))
    seeds = [int(s) for s in rng.integers(0, 1 << 30, size=4)]
    X = rng.standard_normal((6, 5)).astype(numpy.float32)
    with tempfile.TemporaryDirectory(prefix="coursepkg-check-") as folder:
        # 1. A round trip: a trained-looking model (batch-norm statistics moved) into a fresh one.
        source = _model(seeds[0])
        source.train()
        with no_grad():
            source(Tensor(rng.standard_normal((8, 5)).astype(numpy.float32) * 3 + 1))  # moves running_mean/var
        path = os.path.join(folder, "model.npz")
        what = f"save_model(path, model); load_model(path, fresh_model) for the model {_name(source)}"
        save_model(path, source)
        expect(os.path.exists(path), f"{what}: save_model wrote no file at {path!r} (numpy.savez appends '.npz' "
                                     "only when the name lacks it; the check's path already ends in .npz).")
        try:
            with numpy.load(path, allow_pickle=False) as archive:
                saved = {name: archive[name] for name in archive.files}
        except Exception as error:  # noqa: BLE001  (whatever the learner wrote)
            raise CheckFailure(f"{what}: the file is not a NumPy .npz archive that numpy.load(path, "
                               f"allow_pickle=False) can read ({type(error).__name__}: {error}). Save plain arrays "
                               "with numpy.savez, never with pickle.") from None
        expect(isinstance(saved, dict), f"{what}: the file should be an .npz archive (numpy.savez), not one array.")
        own = source.state_dict()
        missing, unexpected = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
        expect(not missing and not unexpected,
               f"{what}: the archive should hold one array per entry of model.state_dict() under the same name; "
               f"missing {missing}, unexpected {unexpected}. (state_dict has the parameters *and* the buffers, "
               "such as batch norm's running statistics.)")
        for name, array in own.items():
            expect(numpy.array_equal(saved[name], to_numpy(array)),
                   f"{what}: the archive's {name!r} differs from the model's.")
        fresh = _model(seeds[1])
        load_model(path, fresh)
        for name, array in source.state_dict().items():
            got = to_numpy(fresh.state_dict()[name])
            expect(got.shape == tuple(array.shape) and numpy.array_equal(got, to_numpy(array)),
                   f"{what}: after loading, the fresh model's {name!r} differs from the saved model's.")
            expect(got.dtype == to_numpy(array).dtype,
                   f"{what}: after loading, {name!r} has dtype {got.dtype}, the model had {to_numpy(array).dtype}.")
        expect(numpy.array_equal(_predict(fresh, X), _predict(source, X)),
               f"{what}: the reloaded model's predictions differ from the original's.")

        # 2. Entries are matched by name, whatever their order in the file (two layers of equal shapes).
        twin = _model(seeds[2], sizes=(4, 4, 4), batch_norm=False)
        entries = list(twin.state_dict().items())[::-1]
        reordered = os.path.join(folder, "reordered.npz")
        numpy.savez(reordered, **{name: to_numpy(array) for name, array in entries})
        target = _model(seeds[3], sizes=(4, 4, 4), batch_norm=False)
        what = (f"load_model(path, model) with a file holding {[name for name, _ in entries]} (in that order) "
                f"for the model {_name(target)}")
        load_model(reordered, target)
        for name, array in twin.state_dict().items():
            expect(numpy.array_equal(to_numpy(target.state_dict()[name]), to_numpy(array)),
                   f"{what}: {name!r} did not receive the file's {name!r}; match entries by name, not position.")

        # 3. Files that do not fit the model are refused.
        model = _model(seeds[1])
        incomplete = os.path.join(folder, "incomplete.npz")
        numpy.savez(incomplete, **{name: to_numpy(a) for name, a in source.state_dict().items()
                                   if name != "layers.3.bias"})
        _expect_refused(load_model, incomplete, model, f"load_model(path, model) with a file that lacks "
                        f"'layers.3.bias' for the model {_name(model)}", "the file has no entry for 'layers.3.bias'")
        small = _model(seeds[2], sizes=(1, 7, 3))
        mismatched = os.path.join(folder, "mismatched.npz")
        numpy.savez(mismatched, **{name: to_numpy(a) for name, a in small.state_dict().items()})
        _expect_refused(load_model, mismatched, model,
                        f"load_model(path, model) with a file saved from {_name(small)} for the model {_name(model)}",
                        "'layers.0.weight' has shape (1, 7) in the file and (5, 7) in the model")

        # 4. An object array is never unpickled: unpickling it would run code (here, a harmless tripwire).
        trap = os.path.join(folder, "trap.npz")
        arrays = {name: to_numpy(a) for name, a in source.state_dict().items()}
        arrays["layers.0.bias"] = numpy.array([_Tripwire()] * 7, dtype=object)
        numpy.savez(trap, **arrays)
        _TRIPWIRE["fired"] = False
        what = "load_model(path, model) with a file whose 'layers.0.bias' is an object array (a pickle)"
        try:
            load_model(trap, _model(seeds[1]))
        except Exception:  # noqa: BLE001  (refusing is right, whichever exception says so)
            pass
        expect(not _TRIPWIRE["fired"],
               f"{what}: load_model unpickled it, which runs whatever code the file's author chose. Load with "
               "numpy.load(path, allow_pickle=False).")
        fresh = _model(seeds[1])
        _expect_refused(load_model, trap, fresh, what, "that entry cannot be read without unpickling")
