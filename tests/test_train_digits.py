"""Acceptance: a 2-hidden-layer MLP trained with fit and Adam on scikit-learn's digits reaches
at least 95% test accuracy (the course's lesson-06 promise), on NumPy, in a few seconds."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

import coursepkg as cp
from coursepkg.nn.activation import ReLU
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Linear
from coursepkg.nn.loss import CrossEntropyLoss
from coursepkg.optim.adam import Adam
from coursepkg.train.callbacks import EarlyStopping
from coursepkg.train.loop import evaluate, fit


def accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    return accuracy_score(y_true, logits.argmax(axis=1))


def test_mlp_on_digits_reaches_95_percent():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0  # pixels that are always blank in the training set
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.15, stratify=y_train,
                                                  random_state=0)

    cp.seed(0)
    model = Sequential(Linear(64, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10))
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=1e-3), (X_fit, y_fit), (X_val, y_val),
                  epochs=25, batch_size=32, metrics={"accuracy": accuracy},
                  callbacks=[EarlyStopping(monitor="val_loss", patience=5)], progress=False, seed=0)

    scores = evaluate(model, CrossEntropyLoss(), (X_test, y_test), metrics={"accuracy": accuracy})
    logits = cp.to_numpy(model(cp.Tensor(cp.get_backend().asarray(X_test))).data)
    assert scores["accuracy"] == accuracy_score(y_test, logits.argmax(axis=1))
    assert scores["accuracy"] >= 0.95, history.as_table()
    assert history["accuracy"][-1] > history["accuracy"][0]
