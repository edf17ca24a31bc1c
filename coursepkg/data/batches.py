"""Mini-batches: shuffling, slicing, and the arithmetic of epochs, batches and iterations.

Vocabulary (lesson 01):

- an **epoch** is one pass over the whole training set;
- a **batch** (mini-batch) is the group of examples used for one gradient step;
- an **iteration** (step) is one parameter update, so one batch.

With N examples and batch size B, an epoch has ceil(N / B) batches (the last one smaller when
B does not divide N), or floor(N / B) with ``drop_last=True`` (the partial batch is skipped,
so every step sees exactly B examples). E epochs take E times as many iterations.

Example: N = 1000, B = 64 gives 15 full batches and one of 40 examples, so 16 batches per epoch
(15 with drop_last) and 160 iterations for 10 epochs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

from coursepkg.backend import namespace_of
from coursepkg.data import _random


def _check_batch_size(batch_size: int, caller: str) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{caller}: batch_size must be a whole number >= 1, got {batch_size!r}.")


def batches_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of batches in one epoch over n examples: ceil(n / B), or floor(n / B) with drop_last."""
    _check_batch_size(batch_size, "batches_per_epoch")
    if n < 0:
        raise ValueError(f"batches_per_epoch: n must be >= 0, got {n}.")
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def iterations(n: int, batch_size: int, epochs: int, drop_last: bool = False) -> int:
    """Total number of iterations (parameter updates) for ``epochs`` passes over n examples.

    It is ``epochs * batches_per_epoch(n, batch_size, drop_last)``: one update per batch.
    """
    if epochs < 0:
        raise ValueError(f"iterations: epochs must be >= 0, got {epochs}.")
    return epochs * batches_per_epoch(n, batch_size, drop_last)


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """The epoch arithmetic of one training run, all in one place.

    >>> plan = BatchPlan(n_examples=1000, batch_size=64, epochs=10)
    >>> plan.batches_per_epoch, plan.last_batch_size, plan.iterations
    (16, 40, 160)
    """

    n_examples: int
    batch_size: int
    epochs: int = 1
    drop_last: bool = False

    def __post_init__(self) -> None:
        _check_batch_size(self.batch_size, "BatchPlan")

    @property
    def batches_per_epoch(self) -> int:
        """Batches in one epoch (see :func:`batches_per_epoch`)."""
        return batches_per_epoch(self.n_examples, self.batch_size, self.drop_last)

    @property
    def iterations(self) -> int:
        """Parameter updates over all epochs (see :func:`iterations`)."""
        return iterations(self.n_examples, self.batch_size, self.epochs, self.drop_last)

    @property
    def last_batch_size(self) -> int:
        """Size of the last batch of an epoch (B when B divides N or with drop_last; 0 if there is none)."""
        if self.batches_per_epoch == 0:
            return 0
        remainder = self.n_examples % self.batch_size
        return self.batch_size if remainder == 0 or self.drop_last else remainder

    @property
    def examples_per_epoch(self) -> int:
        """Examples actually used per epoch (fewer than N with drop_last)."""
        return self.n_examples - (self.n_examples % self.batch_size if self.drop_last else 0)


def iterate_minibatches(X: Any, y: Any, batch_size: int, *, shuffle: bool = True, drop_last: bool = False,
                        seed: int | None = None, rng: Any = None) -> Iterator[tuple[Any, Any]]:
    """Yield the mini-batches (X_batch, y_batch) of one epoch.

    Without shuffling, batch i is the slice [i*B, (i+1)*B). With shuffling, a random permutation
    of 0..N-1 is drawn when the function is called and each batch takes the next B indices
    (``xp.take(X, idx, axis=0)``), so every example appears exactly once per epoch. Batches stay
    in X's library and on X's device; the permutation is drawn there too.

    Inputs:
    - X: array of shape (N, *features), NumPy or a backend array.
    - y: array of shape (N, ...) on the same backend, or None (then y_batch is None).
    - batch_size: B >= 1.
    - shuffle: visit the examples in a random order.
    - drop_last: skip the last batch if it has fewer than B examples.
    - seed: a fresh generator seeded with it (the same seed gives the same order).
    - rng: a numpy.random.Generator (NumPy X) or a Backend; default: the active backend's generator.
    Yields: (X_batch, y_batch) of shapes (B, *features) and (B, ...); the last batch may be smaller.
    """
    caller = "iterate_minibatches"
    _check_batch_size(batch_size, caller)
    n = X.shape[0]
    if y is not None and y.shape[0] != n:
        raise ValueError(f"{caller}: X and y must have the same length (one label per example), "
                         f"got X.shape[0]={n} and y.shape[0]={y.shape[0]}.")
    order = _random.permutation(_random.random_source(X, rng, seed, caller=caller), n) if shuffle else None
    return _batches(X, y, order, batch_size, drop_last)


def _batches(X: Any, y: Any, order: Any, batch_size: int, drop_last: bool) -> Iterator[tuple[Any, Any]]:
    """The generator behind :func:`iterate_minibatches` (split off so that bad input fails at the call)."""
    xp = namespace_of(X)
    n = X.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if drop_last and stop - start < batch_size:
            return
        if order is None:
            yield X[start:stop, ...], (None if y is None else y[start:stop, ...])
        else:
            idx = order[start:stop]
            yield xp.take(X, idx, axis=0), (None if y is None else xp.take(y, idx, axis=0))
