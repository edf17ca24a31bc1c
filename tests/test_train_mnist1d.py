"""Acceptance: a small Conv1d network trained with ``fit`` reaches at least 90% test accuracy on
MNIST-1D (the MNIST-1D paper reports about 94% for a CNN and about 68% for an MLP), and clearly
beats an MLP with three times its parameters trained the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import nn, optim
from coursepkg.data import load_dataset
from coursepkg.train import evaluate, fit

ACCURACY = {"accuracy": lambda labels, logits: float(np.mean(np.argmax(logits, axis=1) == labels))}


def _train(model: nn.Module, X, y, X_test, y_test) -> float:
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=5e-3), (X, y), epochs=20, batch_size=128,
        progress=False, seed=0)
    return evaluate(model, nn.CrossEntropyLoss(), (X_test, y_test), metrics=ACCURACY)["accuracy"]


@pytest.mark.slow
def test_small_cnn_beats_90_percent_on_mnist1d_and_the_mlp():
    data = load_dataset("mnist1d")
    cp.set_backend("numpy", seed=0)
    cnn = nn.Sequential(
        nn.Conv1d(1, 24, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Flatten(), nn.Linear(24 * 5, 10),
    )
    cnn_accuracy = _train(cnn, data.X[:, None, :], data.y, data.X_test[:, None, :], data.y_test)
    cp.set_backend("numpy", seed=0)
    mlp = nn.Sequential(nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
    mlp_accuracy = _train(mlp, data.X, data.y, data.X_test, data.y_test)
    print(f"MNIST-1D test accuracy: CNN {cnn_accuracy:.3f} ({cnn.num_parameters()} parameters), "
          f"MLP {mlp_accuracy:.3f} ({mlp.num_parameters()} parameters)")
    assert cnn_accuracy >= 0.90
    assert mlp_accuracy < cnn_accuracy - 0.15
    assert mlp.num_parameters() > 3 * cnn.num_parameters()
