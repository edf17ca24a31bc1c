"""Plots for hyperparameter search (lesson 10): comparing methods, and looking inside Bayesian optimization.

- :func:`plot_best_so_far`: best value found against the number of trials, one curve per method
  (averaged over seeds): the picture of sample efficiency.
- :func:`plot_gp_slice`: the GP posterior (mean +- 2 std) and the observations along one
  hyperparameter, with the acquisition function underneath and its maximum, the next trial.

Each function draws on matplotlib Axes (a new figure when none are given) and returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy

from coursepkg.search.bayes import BayesianOptimizer
from coursepkg.search.results import SearchResult
from coursepkg.search.space import Choice, IntUniform, LogUniform

Curves = SearchResult | Sequence[SearchResult] | numpy.ndarray


def best_so_far_matrix(curves: Curves) -> numpy.ndarray:
    """Best-so-far curves as one array of shape (n_runs, n_trials), cut to the shortest run.

    Inputs:
    - curves: a SearchResult, a list of them (one per seed), or an array (n_trials,) or (n_runs, n_trials).
    """
    if isinstance(curves, SearchResult):
        curves = [curves]
    if isinstance(curves, numpy.ndarray):
        return numpy.atleast_2d(curves).astype(float)
    rows = [c.best_so_far() if isinstance(c, SearchResult) else numpy.asarray(c, dtype=float) for c in curves]
    length = min(len(row) for row in rows)
    return numpy.stack([row[:length] for row in rows])


def plot_best_so_far(curves: Mapping[str, Curves], ax: Any = None, known_minimum: float | None = None,
                     log_gap: bool = False, title: str = "") -> Any:
    """Best value found against the number of trials, one line per method.

    Inputs:
    - curves: method name -> a SearchResult, a list of them (several seeds: their median is drawn,
      with a band from the first to the third quartile), or an array (n_runs, n_trials).
    - ax: the Axes to draw on (None: a new figure).
    - known_minimum: draw it as a dashed line (when the true minimum is known, as for Branin).
    - log_gap: plot best - known_minimum on a log scale instead (the "regret").
    Returns: the Axes.
    """
    if log_gap and known_minimum is None:
        raise ValueError("plot_best_so_far: log_gap=True needs known_minimum.")
    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    for name, curve in curves.items():
        matrix = best_so_far_matrix(curve)
        if log_gap:
            matrix = matrix - known_minimum
        trials = numpy.arange(1, matrix.shape[1] + 1)
        if len(matrix) == 1:
            ax.plot(trials, matrix[0], label=name)
            continue
        low, median, high = _quartiles(matrix)
        (line,) = ax.plot(trials, median, label=f"{name} (median of {len(matrix)})")
        ax.fill_between(trials, low, high, color=line.get_color(), alpha=0.15)
    if known_minimum is not None and not log_gap:
        ax.axhline(known_minimum, color="k", linestyle="--", linewidth=1, label="known minimum")
    if log_gap:
        ax.set_yscale("log")
    ax.set_xlabel("number of trials")
    ax.set_ylabel("best value - known minimum" if log_gap else "best value so far")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def _quartiles(matrix: numpy.ndarray) -> numpy.ndarray:
    """First quartile, median, third quartile over the runs of (n_runs, n_trials); NaN (no success yet) ignored."""
    quartiles = numpy.full((3, matrix.shape[1]), numpy.nan)
    for j in range(matrix.shape[1]):
        column = matrix[:, j][~numpy.isnan(matrix[:, j])]
        if len(column):
            quartiles[:, j] = numpy.percentile(column, [25, 50, 75])
    return quartiles


def plot_gp_slice(optimizer: BayesianOptimizer, name: str | None = None, fixed: Mapping[str, Any] | None = None,
                  true_function: Callable[[dict], float] | None = None, n_points: int = 200,
                  axes: Sequence[Any] | None = None) -> Any:
    """The GP posterior and the acquisition along one hyperparameter, the others held fixed.

    Inputs:
    - optimizer: a BayesianOptimizer with at least 2 successful trials told.
    - name: which hyperparameter (default: the first); not a Choice.
    - fixed: values of the other hyperparameters (default: those of the best trial).
    - true_function: objective(params) -> float, drawn dashed for comparison (when it is cheap).
    - n_points: resolution of the slice.
    - axes: two Axes, (posterior, acquisition); None: a new figure.
    Returns: the two Axes.
    """
    space = optimizer.space
    name = space.names[0] if name is None else name
    if name not in space.names or isinstance(space.dimensions[name], Choice):
        raise ValueError(f"plot_gp_slice: name must be a numeric hyperparameter of {space.names}, got {name!r}.")
    gp = optimizer.fit_model()
    X, y = optimizer.observations()
    best_index = int(numpy.argmin(y))
    base = dict(space.from_unit(X[best_index : best_index + 1])[0], **(fixed or {}))
    column = space.names.index(name)

    U = numpy.repeat(space.to_unit([base]), n_points, axis=0)  # (n_points, d), one column varies
    U[:, column] = numpy.linspace(0.0, 1.0, n_points)
    x = numpy.array(space.dimensions[name].from_unit(U[:, column]), dtype=float)
    mean, std = gp.predict(U, return_std=True)
    score = optimizer.acquisition_values(gp, U, float(numpy.min(y)))

    if axes is None:
        axes = plt.subplots(2, 1, figsize=(6, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})[1]
    top, bottom = axes
    top.plot(x, mean, label="GP mean")
    top.fill_between(x, mean - 2 * std, mean + 2 * std, alpha=0.2, label="mean ± 2 std")
    if true_function is not None:
        top.plot(x, [true_function(p) for p in space.from_unit(U)], "k--", linewidth=1, label="objective")
    observed_x = [p[name] for p in space.from_unit(X)]
    projected = " (projected)" if len(space) > 1 else ""
    top.scatter(observed_x, y, color="k", s=15, zorder=3, label="observations" + projected)
    top.scatter([observed_x[best_index]], [y[best_index]], color="red", s=40, zorder=4, label="best")
    top.set_ylabel("objective")
    top.legend(fontsize="small")
    bottom.plot(x, score, color="tab:green")
    bottom.axvline(x[int(numpy.argmax(score))], color="tab:green", linestyle=":", label="next trial")
    bottom.set_ylabel(optimizer.acquisition.upper())
    bottom.set_xlabel(name)
    bottom.legend(fontsize="small")
    dimension = space.dimensions[name]
    if isinstance(dimension, LogUniform) or (isinstance(dimension, IntUniform) and dimension.log):
        bottom.set_xscale("log")
    for ax in axes:
        ax.grid(alpha=0.3)
    return axes
