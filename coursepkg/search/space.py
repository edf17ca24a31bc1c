"""Search spaces: which values each hyperparameter may take.

A search space is a dict of named *dimensions*::

    space = SearchSpace({
        "lr": LogUniform(1e-4, 1e-1),         # a float, uniform in log scale
        "dropout": Uniform(0.0, 0.5),         # a float, uniform
        "hidden": IntUniform(16, 256, log=True),
        "activation": Choice(["relu", "tanh"]),
    })
    space.sample(rng, 3)      # -> 3 dicts such as {"lr": 0.0031, "dropout": 0.12, ...}
    space.grid(4)             # -> every combination of 4 values per continuous dimension

Every dimension is a map from the unit interval [0, 1] onto its values (``from_unit``) and back
(``to_unit``). The whole space is therefore a map from the unit cube [0, 1]^d, and

- *sampling* a point = mapping a uniform random point of the cube (so ``LogUniform`` comes out
  log-uniform, and every integer or choice comes out equally likely);
- the Gaussian process of Bayesian optimization works in the cube, where every dimension has
  the same length 1 and a log-scaled learning rate is as easy to model as a dropout rate.

How each kind of dimension fills [0, 1]:

- ``Uniform(low, high)``: linearly, u = (x - low) / (high - low).
- ``LogUniform(low, high)``: linearly in log x, u = (log x - log low) / (log high - log low).
- ``IntUniform(low, high)``: each integer owns a cell of equal width (in log scale when
  ``log=True``); ``from_unit`` rounds to the nearest integer, ``to_unit`` gives the cell centre.
- ``Choice(values)``: *index-scaled*: value i of k owns the cell [i/k, (i+1)/k] and sits at its
  centre. This keeps one cube dimension per hyperparameter (easy to plot, cheap for the GP), but
  tells the GP that neighbouring values in the list are similar: natural for ordered choices
  (batch sizes 32, 64, 128), only an approximation for unordered ones ("relu", "tanh"), where a
  one-hot encoding (one dimension per value) would be the alternative.

Values are plain Python ``float``/``int``/``str``/``bool`` so that trials can be written to JSON.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy

JSON_SCALARS = (str, int, float, bool, type(None))


class Dimension:
    """One hyperparameter: a map from the unit interval [0, 1] onto its values and back."""

    def from_unit(self, u: numpy.ndarray) -> list:
        """Values for the points u of shape (n,) in [0, 1]; returns a list of n values."""
        raise NotImplementedError

    def to_unit(self, values: Sequence) -> numpy.ndarray:
        """Position in [0, 1] of each of n values; returns shape (n,), float64."""
        raise NotImplementedError

    def grid(self, n_points: int) -> list:
        """At most ``n_points`` evenly spaced values (all of them for a Choice)."""
        raise NotImplementedError

    def sample(self, rng: numpy.random.Generator, n: int) -> list:
        """n random values: uniform points of [0, 1] mapped by :meth:`from_unit`."""
        return self.from_unit(rng.random(n))


@dataclass(frozen=True)
class Uniform(Dimension):
    """A float, uniformly distributed between ``low`` and ``high``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range(self, self.low, self.high)

    def from_unit(self, u: numpy.ndarray) -> list[float]:
        x = self.low + numpy.asarray(u, dtype=float) * (self.high - self.low)
        return [float(v) for v in numpy.clip(x, self.low, self.high)]

    def to_unit(self, values: Sequence[float]) -> numpy.ndarray:
        return (numpy.asarray(values, dtype=float) - self.low) / (self.high - self.low)

    def grid(self, n_points: int) -> list[float]:
        return self.from_unit(_unit_grid(n_points))


@dataclass(frozen=True)
class LogUniform(Dimension):
    """A positive float whose logarithm is uniform: as likely in [1e-4, 1e-3] as in [1e-2, 1e-1]."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_range(self, self.low, self.high)
        if self.low <= 0:
            raise ValueError(f"LogUniform: low must be > 0, got low={self.low}.")

    def from_unit(self, u: numpy.ndarray) -> list[float]:
        log_low, log_high = math.log(self.low), math.log(self.high)
        x = numpy.exp(log_low + numpy.asarray(u, dtype=float) * (log_high - log_low))
        return [float(v) for v in numpy.clip(x, self.low, self.high)]

    def to_unit(self, values: Sequence[float]) -> numpy.ndarray:
        log_low, log_high = math.log(self.low), math.log(self.high)
        return (numpy.log(numpy.asarray(values, dtype=float)) - log_low) / (log_high - log_low)

    def grid(self, n_points: int) -> list[float]:
        return self.from_unit(_unit_grid(n_points))


@dataclass(frozen=True)
class IntUniform(Dimension):
    """An integer in ``low..high`` (both included); ``log=True`` spaces them in log scale (low >= 1)."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self, self.low, self.high)
        if int(self.low) != self.low or int(self.high) != self.high:
            raise ValueError(f"IntUniform: low and high must be integers, got low={self.low}, high={self.high}.")
        if self.log and self.low < 1:
            raise ValueError(f"IntUniform(log=True): low must be >= 1, got low={self.low}.")

    def _edges(self) -> tuple[float, float]:
        """Ends of the interval [low - 1/2, high + 1/2] (in log scale if ``log``): one cell per integer."""
        lo, hi = self.low - 0.5, self.high + 0.5
        return (math.log(lo), math.log(hi)) if self.log else (lo, hi)

    def from_unit(self, u: numpy.ndarray) -> list[int]:
        lo, hi = self._edges()
        t = lo + numpy.asarray(u, dtype=float) * (hi - lo)
        x = numpy.exp(t) if self.log else t
        return [int(v) for v in numpy.clip(numpy.rint(x), self.low, self.high)]

    def to_unit(self, values: Sequence[int]) -> numpy.ndarray:
        lo, hi = self._edges()
        x = numpy.asarray(values, dtype=float)
        return ((numpy.log(x) if self.log else x) - lo) / (hi - lo)

    def grid(self, n_points: int) -> list[int]:
        if n_points >= self.high - self.low + 1:
            return list(range(self.low, self.high + 1))
        if self.log:
            points = numpy.geomspace(self.low, self.high, n_points)
        else:
            points = numpy.linspace(self.low, self.high, n_points)
        return sorted({int(v) for v in numpy.rint(points)})


@dataclass(frozen=True)
class Choice(Dimension):
    """One of a list of values (str, int, float, bool or None), all equally likely."""

    values: tuple

    def __init__(self, values: Sequence) -> None:
        values = tuple(values)
        if len(values) == 0:
            raise ValueError("Choice: values must not be empty.")
        bad = [v for v in values if not isinstance(v, JSON_SCALARS)]
        if bad:
            raise TypeError(f"Choice: values must be str, int, float, bool or None (to be saved as JSON), "
                            f"got {bad[0]!r} of type {type(bad[0]).__name__}.")
        object.__setattr__(self, "values", values)

    def from_unit(self, u: numpy.ndarray) -> list:
        k = len(self.values)
        index = numpy.clip(numpy.floor(numpy.asarray(u, dtype=float) * k), 0, k - 1).astype(int)
        return [self.values[i] for i in index]

    def to_unit(self, values: Sequence) -> numpy.ndarray:
        k = len(self.values)
        return numpy.array([(self._index(v) + 0.5) / k for v in values], dtype=float)

    def _index(self, value: Any) -> int:
        for i, v in enumerate(self.values):
            if v == value and type(v) is type(value):
                return i
        for i, v in enumerate(self.values):  # 1 == 1.0: accept numbers of another type
            if v == value:
                return i
        raise ValueError(f"Choice: {value!r} is not one of {list(self.values)}.")

    def grid(self, n_points: int) -> list:
        return list(self.values)


class SearchSpace:
    """Named dimensions; points are dicts ``{name: value}``; the unit cube has one axis per name.

    Inputs:
    - dimensions: dict name -> Dimension (Uniform, LogUniform, IntUniform or Choice). The order
      of the dict is the order of the cube's axes.
    """

    def __init__(self, dimensions: Mapping[str, Dimension]) -> None:
        if not isinstance(dimensions, Mapping) or len(dimensions) == 0:
            raise ValueError(f"SearchSpace: dimensions must be a non-empty dict name -> Dimension, got {dimensions!r}.")
        for name, dim in dimensions.items():
            if not isinstance(name, str) or not isinstance(dim, Dimension):
                raise TypeError(f"SearchSpace: {name!r} must map a str to a Dimension "
                                f"(Uniform, LogUniform, IntUniform, Choice), got {type(dim).__name__}.")
        self.dimensions = dict(dimensions)

    @property
    def names(self) -> list[str]:
        """The hyperparameter names, in the order of the cube's axes."""
        return list(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name!r}: {dim!r}" for name, dim in self.dimensions.items())
        return f"SearchSpace({{{inner}}})"

    def sample(self, rng: numpy.random.Generator, n: int) -> list[dict]:
        """n random points: uniform points of the unit cube mapped by :meth:`from_unit`.

        Inputs:
        - rng: a ``numpy.random.Generator`` (``numpy.random.default_rng(seed)``).
        - n: how many points.
        Returns:
        - a list of n dicts {name: value}.
        """
        if not isinstance(rng, numpy.random.Generator):
            raise TypeError(f"SearchSpace.sample: rng must be a numpy.random.Generator, got {type(rng).__name__}.")
        return self.from_unit(rng.random((n, len(self))))

    def grid(self, points_per_dim: int | Mapping[str, int] = 5) -> list[dict]:
        """Every combination of evenly spaced values: the Cartesian product of the dimensions' grids.

        Inputs:
        - points_per_dim: values per continuous or integer dimension (an int for all, or a dict
          name -> int); a Choice always contributes all its values.
        Returns:
        - a list of prod_k n_k dicts, the last name varying fastest.
        """
        per_dim = {name: self._points_for(name, points_per_dim) for name in self.names}
        axes = [self.dimensions[name].grid(per_dim[name]) for name in self.names]
        return [dict(zip(self.names, values)) for values in itertools.product(*axes)]

    def _points_for(self, name: str, points_per_dim: int | Mapping[str, int]) -> int:
        n = points_per_dim.get(name, 5) if isinstance(points_per_dim, Mapping) else points_per_dim
        if int(n) != n or n < 1:
            raise ValueError(f"SearchSpace.grid: points_per_dim for {name!r} must be an int >= 1, got {n!r}.")
        return int(n)

    def to_unit(self, points: Sequence[Mapping[str, Any]]) -> numpy.ndarray:
        """Coordinates in the unit cube of n points.

        Inputs:
        - points: a list of n dicts {name: value} with every name of the space.
        Returns:
        - U: shape (n, d), float64, each entry in [0, 1]; column j is dimension ``names[j]``.
        """
        for point in points:
            missing = [name for name in self.names if name not in point]
            if missing:
                raise KeyError(f"SearchSpace.to_unit: point {dict(point)!r} lacks {missing}.")
        columns = [self.dimensions[name].to_unit([p[name] for p in points]) for name in self.names]
        return numpy.stack(columns, axis=1) if points else numpy.zeros((0, len(self)))

    def from_unit(self, U: numpy.ndarray) -> list[dict]:
        """Points for n rows of the unit cube (values clipped to the range, integers rounded).

        Inputs:
        - U: shape (n, d) with d = len(space).
        Returns:
        - a list of n dicts {name: value}.
        """
        U = numpy.asarray(U, dtype=float)
        if U.ndim != 2 or U.shape[1] != len(self):
            raise ValueError(f"SearchSpace.from_unit: U must have shape (n, {len(self)}), got {U.shape}.")
        columns = [self.dimensions[name].from_unit(U[:, j]) for j, name in enumerate(self.names)]
        return [dict(zip(self.names, values)) for values in zip(*columns)]


def _unit_grid(n_points: int) -> numpy.ndarray:
    """n evenly spaced points of [0, 1] including both ends (the midpoint when n = 1)."""
    if n_points < 1:
        raise ValueError(f"grid: n_points must be >= 1, got {n_points}.")
    return numpy.array([0.5]) if n_points == 1 else numpy.linspace(0.0, 1.0, n_points)


def _check_range(dim: Dimension, low: float, high: float) -> None:
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{type(dim).__name__}: need finite low < high, got low={low}, high={high}.")
