"""The benchmarks compare like with like: from the same weights, the hand-written NumPy step and the
PyTorch step of each case compute the same gradients as coursepkg's, and the same losses step after
step (Adam included). Gradients are compared directly because Adam hides their scale: its first
update is lr * sign(gradient), whatever the gradient's size."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

import coursepkg as cp

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
STEPS = 6


@pytest.fixture
def workers(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("workers")
    yield module
    cp.reset_backend()


def _initial_weights(workers, case: str) -> list[np.ndarray]:
    cp.set_backend("numpy", seed=1)
    return [cp.to_numpy(p.data).copy() for p in workers.coursepkg_model(case).parameters()]


def _losses(step, X, y, batch: int) -> np.ndarray:
    # The same batch at every step: its loss must fall (the data of some cases is random noise).
    return np.array([float(step(X[:batch], y[:batch])) for _ in range(STEPS)])


def _coursepkg_losses(workers, case: str, weights, batch: int) -> np.ndarray:
    X, y = workers._data(case, rows=256)
    step, _ = workers.coursepkg_step(case, weights=weights)
    return _losses(lambda xb, yb: step(xb, yb).item(), X, y, batch)


HAND_WRITTEN = [("tiny", 8), ("digits", 32), ("mlp", 32), ("cnn", 128), ("transformer", 64)]


def _assert_same_gradients(got: list[np.ndarray], expected: list[np.ndarray], names: list[str]) -> None:
    assert len(got) == len(expected)
    for g, e, name in zip(got, expected, names):
        assert g.shape == e.shape and g.dtype == e.dtype, name  # float32 all the way (a float64 step is slower)
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-4 * np.abs(e).max(), err_msg=name)


def _coursepkg_gradients(workers, case: str, weights, xb, yb) -> tuple[list[str], list[np.ndarray]]:
    step, _ = workers.coursepkg_step(case, weights=weights)
    step(xb, yb)  # the optimizer reads .grad and leaves it as it was
    named = list(step.model.named_parameters())
    return [name for name, _ in named], [cp.to_numpy(p.grad) for _, p in named]


@pytest.mark.parametrize("case, batch", HAND_WRITTEN)
def test_the_hand_written_numpy_gradients_are_coursepkg_s(workers, case, batch):
    weights = _initial_weights(workers, case)
    X, y = workers._data(case, rows=256)
    names, expected = _coursepkg_gradients(workers, case, weights, X[:batch], y[:batch])
    step, _ = workers.numpy_step(case, weights)
    _, got = step.loss_and_gradients(X[:batch], y[:batch])
    _assert_same_gradients(got, expected, names)


@pytest.mark.parametrize("case, batch", HAND_WRITTEN)
def test_the_hand_written_numpy_step_computes_what_coursepkg_computes(workers, case, batch):
    weights = _initial_weights(workers, case)
    expected = _coursepkg_losses(workers, case, weights, batch)
    X, y = workers._data(case, rows=256)
    step, _ = workers.numpy_step(case, weights)
    got = _losses(step, X, y, batch)
    assert expected[-1] < expected[0]  # it trains
    np.testing.assert_allclose(got, expected, rtol=1e-4)


@pytest.mark.parametrize("case, batch", [("tiny", 8), ("cnn", 128), ("transformer", 64)])
def test_the_pytorch_step_computes_what_coursepkg_computes(workers, case, batch):
    pytest.importorskip("torch")
    weights = _initial_weights(workers, case)
    expected = _coursepkg_losses(workers, case, weights, batch)
    X, y = workers._data(case, rows=256)
    step, _ = workers.torch_step(case, weights=weights)
    got = _losses(lambda xb, yb: step(xb, yb).item(), X, y, batch)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


@pytest.mark.parametrize("case, batch", [("tiny", 8), ("cnn", 128), ("transformer", 64)])
def test_the_pytorch_gradients_are_coursepkg_s(workers, case, batch):
    pytest.importorskip("torch")
    weights = _initial_weights(workers, case)
    X, y = workers._data(case, rows=256)
    names, expected = _coursepkg_gradients(workers, case, weights, X[:batch], y[:batch])
    step, _ = workers.torch_step(case, weights=weights)
    step(X[:batch], y[:batch])
    parameters = workers.torch_parameters(case, step.model)
    assert [name for name, _, _ in parameters] == names
    got = [p.grad.numpy().T if transposed else p.grad.numpy() for _, p, transposed in parameters]
    _assert_same_gradients(got, expected, names)
