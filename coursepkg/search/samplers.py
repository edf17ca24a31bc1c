"""Samplers decide which trials to run next; grid and random search are the two simplest.

Every sampler speaks the same two-word protocol, *ask and tell*, so that the code that runs the
trials (:func:`coursepkg.search.search`, serially, in processes or on a cluster) never needs to
know how the points are chosen::

    sampler = RandomSampler(space, seed=0)
    for _ in range(20):
        (params,) = sampler.ask(1)              # a list of 1 dict {name: value}
        sampler.tell(params, objective(params))

- ``ask(n, pending)`` returns n new points; ``pending`` lists the points whose trials are still
  running (Bayesian optimization must not propose them again).
- ``tell(params, value)`` reports a finished trial; ``value`` is None for a failed trial. Samplers
  always *minimize* (the runner negates the values when maximizing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy

from coursepkg.search.space import SearchSpace


class Sampler:
    """Base class of the ask/tell protocol (see the module docstring)."""

    def __init__(self, space: SearchSpace) -> None:
        if not isinstance(space, SearchSpace):
            raise TypeError(f"{type(self).__name__}: space must be a SearchSpace, got {type(space).__name__}.")
        self.space = space

    def ask(self, n: int = 1, pending: Sequence[Mapping[str, Any]] = ()) -> list[dict]:
        """Up to n new points to try (fewer only when the sampler has run out, as a grid does)."""
        raise NotImplementedError

    def tell(self, params: Mapping[str, Any], value: float | None) -> None:
        """Record a finished trial: its params and value (None if it failed)."""


class RandomSampler(Sampler):
    """Random search: every point drawn independently from the space (log-uniform where asked).

    Inputs:
    - space: the SearchSpace.
    - seed: seed of the generator (int, a list of ints, or None for fresh entropy).
    """

    def __init__(self, space: SearchSpace, seed: int | Sequence[int] | None = None) -> None:
        super().__init__(space)
        self.rng = numpy.random.default_rng(seed)

    def ask(self, n: int = 1, pending: Sequence[Mapping[str, Any]] = ()) -> list[dict]:
        return self.space.sample(self.rng, n)


class GridSampler(Sampler):
    """Grid search: the points of ``space.grid(points_per_dim)``, each once, in order.

    Points already told (for instance, read back from a results file when a search resumes) are
    skipped, so a resumed grid search runs only the points it has not run yet.

    Inputs:
    - space: the SearchSpace.
    - points_per_dim: values per continuous dimension (int, or dict name -> int).
    - shuffle: visit the grid in a random order (then any prefix of it covers the space evenly).
    - seed: seed of the shuffle.
    """

    def __init__(self, space: SearchSpace, points_per_dim: int | Mapping[str, int] = 5, shuffle: bool = False,
                 seed: int | Sequence[int] | None = None) -> None:
        super().__init__(space)
        self.points = space.grid(points_per_dim)
        if shuffle:
            order = numpy.random.default_rng(seed).permutation(len(self.points))
            self.points = [self.points[i] for i in order]
        self.used: set[tuple] = set()  # keys of the points asked or told so far

    def __len__(self) -> int:
        return len(self.points)

    def _key(self, params: Mapping[str, Any]) -> tuple:
        return tuple(params[name] for name in self.space.names)

    def ask(self, n: int = 1, pending: Sequence[Mapping[str, Any]] = ()) -> list[dict]:
        chosen = []
        for point in self.points:
            if len(chosen) == n:
                break
            if self._key(point) not in self.used:
                self.used.add(self._key(point))
                chosen.append(dict(point))
        return chosen

    def tell(self, params: Mapping[str, Any], value: float | None) -> None:
        self.used.add(self._key(params))
