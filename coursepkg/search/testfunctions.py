"""Cheap test functions with known minima, to compare search methods before spending real training runs.

- Branin, on x1 in [-5, 10], x2 in [0, 15]: three global minima of value 0.397887, at
  (-pi, 12.275), (pi, 2.275) and (9.42478, 2.475).
- Forrester, (6x - 2)^2 sin(12x - 4) on x in [0, 1]: a local minimum near x = 0.01 and the
  global one, -6.02074, at x = 0.75725.

Each comes as a vectorized function of arrays (for plots), an objective of a params dict (for
:func:`coursepkg.search.search`; defined here, at module level, so that it pickles for process
pools and Dask workers), and its search space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy

from coursepkg.search.space import SearchSpace, Uniform

BRANIN_MINIMUM = 0.397887
FORRESTER_MINIMUM = -6.02074


def branin(x1: numpy.ndarray, x2: numpy.ndarray) -> numpy.ndarray:
    """a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s, elementwise (arrays of one shape S)."""
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * numpy.cos(x1) + s


def branin_objective(params: Mapping[str, float]) -> float:
    """Branin at params {"x1": ..., "x2": ...}."""
    return float(branin(params["x1"], params["x2"]))


def branin_space() -> SearchSpace:
    """x1 in [-5, 10], x2 in [0, 15]."""
    return SearchSpace({"x1": Uniform(-5.0, 10.0), "x2": Uniform(0.0, 15.0)})


def forrester(x: numpy.ndarray) -> numpy.ndarray:
    """(6x - 2)^2 sin(12x - 4), elementwise."""
    return (6 * x - 2) ** 2 * numpy.sin(12 * x - 4)


def forrester_objective(params: Mapping[str, float]) -> float:
    """Forrester at params {"x": ...}."""
    return float(forrester(params["x"]))


def forrester_space() -> SearchSpace:
    """x in [0, 1]."""
    return SearchSpace({"x": Uniform(0.0, 1.0)})
