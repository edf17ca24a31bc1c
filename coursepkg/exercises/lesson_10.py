"""Lesson 10, hyperparameter tuning: the graded questions.

The learner writes, on plain Python values and NumPy arrays:

- ``grid(space, points_per_dim)``: every combination of the values of each hyperparameter (a
  list of values is taken as it is, a range ``(low, high)`` gives ``points_per_dim`` evenly
  spaced values). Checked against a recursive construction, as a set of combinations: any
  order is accepted, nothing may be missing, extra or repeated.
- ``random_search(objective, sample_fn, n_trials, rng)``: the simplest search loop, returning
  the best params, the best value and the history. Checked by recording every draw and every
  call of the objective.
- ``gp_posterior(X_train, y_train, X_test, length_scale, variance, noise)``: the posterior mean
  and standard deviation of a Gaussian process with an RBF kernel, checked against the
  library's Cholesky implementation (:func:`coursepkg.search.gp_posterior`) and scikit-learn's
  ``GaussianProcessRegressor`` with a fixed kernel.
- ``expected_improvement(mean, std, best, xi)`` for minimization, checked against the closed
  form (:func:`coursepkg.search.expected_improvement`) and a Monte Carlo estimate of
  E[max(best - f - xi, 0)].
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy
import scipy.linalg
from scipy.special import ndtr

from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register
from coursepkg.search import RBF
from coursepkg.search import expected_improvement as library_expected_improvement
from coursepkg.search import gp_posterior as library_gp_posterior


# ----------------------------------------------------------------------------- reference solutions
def reference_grid(space: Mapping[str, Any], points_per_dim: int = 5) -> list[dict]:
    """Every combination of the hyperparameters' values.

    Inputs:
    - space: name -> a list of values (used as given) or a tuple (low, high) (a range:
      ``numpy.linspace(low, high, points_per_dim)``, as Python floats).
    - points_per_dim: values per range.
    Returns: a list of dicts {name: value}, one per combination (prod of the numbers of values),
    the last name varying fastest.
    """
    axes = []
    for values in space.values():
        if isinstance(values, tuple):
            low, high = values
            values = [float(v) for v in numpy.linspace(low, high, points_per_dim)]
        axes.append(list(values))
    return [dict(zip(space, combination)) for combination in itertools.product(*axes)]


def reference_random_search(objective: Callable[[dict], float], sample_fn: Callable[[Any], dict], n_trials: int,
                            rng: numpy.random.Generator) -> tuple[dict, float, list[tuple[dict, float]]]:
    """Random search: draw ``n_trials`` points with ``sample_fn(rng)``, evaluate each once, keep the lowest.

    Returns: (best_params, best_value, history) with history the list of (params, value) pairs
    in the order they were evaluated.
    """
    best_params, best_value, history = None, math.inf, []
    for _ in range(n_trials):
        params = sample_fn(rng)
        value = objective(params)
        history.append((params, value))
        if value < best_value:
            best_params, best_value = params, value
    return best_params, best_value, history


def reference_gp_posterior(X_train: numpy.ndarray, y_train: numpy.ndarray, X_test: numpy.ndarray,
                           length_scale: float, variance: float, noise: float
                           ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """GP posterior with k(a, b) = variance * exp(-|a - b|^2 / (2 length_scale^2)) and noise variance ``noise``.

    Inputs: X_train (n, d), y_train (n,), X_test (m, d).
    Returns: mean (m,) = k*^T (K + noise I)^-1 y and std (m,) = sqrt(max(k** - k*^T (K + noise I)^-1 k*, 0)).
    """
    def kernel(A, B):
        squared = numpy.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)
        return variance * numpy.exp(-squared / (2 * length_scale**2))

    K = kernel(X_train, X_train) + noise * numpy.eye(len(X_train))
    K_star = kernel(X_train, X_test)  # (n, m)
    L = numpy.linalg.cholesky(K)
    alpha = scipy.linalg.cho_solve((L, True), y_train)
    v = scipy.linalg.solve_triangular(L, K_star, lower=True)
    mean = K_star.T @ alpha
    var = variance - numpy.sum(v**2, axis=0)
    return mean, numpy.sqrt(numpy.maximum(var, 0.0))


def reference_expected_improvement(mean: numpy.ndarray, std: numpy.ndarray, best: float,
                                   xi: float = 0.0) -> numpy.ndarray:
    """E[max(best - f - xi, 0)] for f ~ N(mean, std^2), elementwise (minimization).

    (best - mean - xi) Phi(z) + std phi(z) with z = (best - mean - xi) / std; max(best - mean - xi, 0)
    where std = 0.
    """
    mean, std = numpy.asarray(mean, dtype=float), numpy.asarray(std, dtype=float)
    improvement = best - mean - xi
    safe_std = numpy.where(std > 0, std, 1.0)
    z = improvement / safe_std
    ei = improvement * ndtr(z) + std * numpy.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return numpy.where(std > 0, ei, numpy.maximum(improvement, 0.0))


# ----------------------------------------------------------------------------- planted wrong answers
def _grid_axes(space, points_per_dim, endpoint=True):
    axes = []
    for values in space.values():
        if isinstance(values, tuple):
            values = [float(v) for v in numpy.linspace(values[0], values[1], points_per_dim, endpoint=endpoint)]
        axes.append(list(values))
    return axes


def _grid_misses_last(space, points_per_dim=5):
    return reference_grid(space, points_per_dim)[:-1]


def _grid_zip(space, points_per_dim=5):
    return [dict(zip(space, values)) for values in zip(*_grid_axes(space, points_per_dim))]


def _grid_shared_dict(space, points_per_dim=5):
    point, result = {}, []
    for combination in itertools.product(*_grid_axes(space, points_per_dim)):
        for name, value in zip(space, combination):
            point[name] = value
        result.append(point)  # the same dict every time: all entries end up equal to the last one
    return result


def _grid_no_endpoint(space, points_per_dim=5):
    axes = _grid_axes(space, points_per_dim, endpoint=False)
    return [dict(zip(space, combination)) for combination in itertools.product(*axes)]


def _random_search_last(objective, sample_fn, n_trials, rng):
    history = [(params, objective(params)) for params in (sample_fn(rng) for _ in range(n_trials))]
    return history[-1][0], history[-1][1], history


def _random_search_maximizes(objective, sample_fn, n_trials, rng):
    history = [(params, objective(params)) for params in (sample_fn(rng) for _ in range(n_trials))]
    params, value = max(history, key=lambda pair: pair[1])
    return params, value, history


def _random_search_off_by_one(objective, sample_fn, n_trials, rng):
    return reference_random_search(objective, sample_fn, n_trials - 1, rng)


def _gp_variant(bug: str) -> Callable:
    def gp_posterior(X_train, y_train, X_test, length_scale, variance, noise):
        half = 1.0 if bug == "no half" else 2.0

        def kernel(A, B):
            squared = numpy.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)
            return variance * numpy.exp(-squared / (half * length_scale**2))

        K = kernel(X_train, X_train) + (0.0 if bug == "no noise" else noise) * numpy.eye(len(X_train))
        K_star = kernel(X_train, X_test)
        solved = numpy.linalg.solve(K, K_star)  # (n, m)
        mean = solved.T @ y_train
        var = variance - numpy.sum(K_star * solved, axis=0)
        if bug == "prior variance":
            var = numpy.full(len(X_test), float(variance))
        if bug == "noisy prediction":
            var = var + noise
        var = numpy.maximum(var, 0.0)
        return mean, (var if bug == "variance" else numpy.sqrt(var))

    return gp_posterior


def _ei_variant(bug: str) -> Callable:
    def expected_improvement(mean, std, best, xi=0.0):
        mean, std = numpy.asarray(mean, dtype=float), numpy.asarray(std, dtype=float)
        improvement = (mean - best - xi) if bug == "maximizes" else (best - mean + (xi if bug == "xi sign" else -xi))
        with numpy.errstate(divide="ignore", invalid="ignore"):
            z = improvement / std  # no care for std = 0
        pdf = numpy.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
        ei = improvement * ndtr(z) + (0.0 if bug == "no sigma phi" else std * pdf)
        if bug == "naive":
            return ei
        return numpy.where(std > 0, ei, numpy.maximum(improvement, 0.0))

    return expected_improvement


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape, type or linear-algebra error into feedback naming the call."""
    try:
        return function(*args)
    except (ValueError, IndexError, TypeError, KeyError, numpy.linalg.LinAlgError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _pair(result: Any, what: str, names: str, count: int = 2) -> tuple:
    expect(isinstance(result, (tuple, list)) and len(result) == count,
           f"{what} should return a tuple ({names}); got {type(result).__name__}"
           + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    return tuple(result)


# ----------------------------------------------------------------------------- the grid question
def _expected_grid(space: Mapping[str, Any], points_per_dim: int) -> list[dict]:
    """The combinations built recursively (a construction independent of itertools.product)."""
    names = list(space)
    if not names:
        return [{}]
    first, values = names[0], space[names[0]]
    if isinstance(values, tuple):
        low, high = values
        step = (high - low) / (points_per_dim - 1) if points_per_dim > 1 else 0.0
        values = [low + i * step for i in range(points_per_dim)]
    rest = _expected_grid({name: space[name] for name in names[1:]}, points_per_dim)
    return [{first: value, **combination} for value in values for combination in rest]


def _key(point: Mapping[str, Any]) -> tuple:
    """A hashable key of a combination; numbers are rounded so that linspace round-off does not matter."""
    def rounded(value):
        if isinstance(value, (bool, str)) or value is None:
            return value
        if isinstance(value, (int, float, numpy.integer, numpy.floating)):
            return round(float(value), 9)
        return repr(value)

    return tuple(sorted((name, rounded(value)) for name, value in point.items()))


def _grid_cases(rng: numpy.random.Generator) -> list[tuple[dict, int]]:
    cases = [
        ({"lr": [0.1, 0.01, 0.001], "batch_size": [32, 64]}, 5),
        ({"x": (0.0, 1.0), "y": (-2.0, 2.0)}, 3),
        ({"dropout": (0.0, 0.5), "activation": ["relu", "tanh", "gelu"], "hidden": [16, 64]}, 4),
        ({"x": (2.0, 3.0)}, 2),
        ({"a": [1], "b": ["x", "y"]}, 3),
        ({"w": (-1.0, 1.0), "u": (0.0, 10.0), "v": [True, False], "t": (5.0, 6.0)}, 2),
    ]
    names = ["alpha", "beta", "gamma", "delta"]
    for _ in range(2):
        space = {}
        for name in names[: int(rng.integers(2, 5))]:
            if rng.random() < 0.5:
                low = float(numpy.round(rng.uniform(-5, 5), 2))
                space[name] = (low, low + float(numpy.round(rng.uniform(0.5, 5), 2)))
            else:
                space[name] = [int(v) for v in rng.choice(100, size=int(rng.integers(1, 4)), replace=False)]
        cases.append((space, int(rng.integers(2, 5))))
    return cases


@register(
    id="10.grid", lesson="10", points=1, names=("grid",),
    reference=(reference_grid,),
    mutants={
        "misses the last combination": (_grid_misses_last,),
        "zip instead of the Cartesian product": (_grid_zip,),
        "one dict reused for every combination (all entries end up the same)": (_grid_shared_dict,),
        "ranges without their upper end (linspace with endpoint=False)": (_grid_no_endpoint,),
    },
    hint="Build one list of values per name (a tuple (low, high) becomes numpy.linspace(low, high, "
         "points_per_dim)), then [dict(zip(names, combo)) for combo in itertools.product(*lists)].",
)
def check_grid(grid: Callable, rng: numpy.random.Generator) -> None:
    """Grid search: every combination of the hyperparameters' values."""
    for space, points_per_dim in _grid_cases(rng):
        what = f"grid({space!r}, points_per_dim={points_per_dim})"
        result = _call(grid, what, {name: values for name, values in space.items()}, points_per_dim)
        expect(isinstance(result, (list, tuple)), f"{what} should return a list of dicts, got {type(result).__name__}.")
        for point in result:
            expect(isinstance(point, Mapping) and sorted(point) == sorted(space),
                   f"{what}: every entry should be a dict with the keys {sorted(space)}; got {point!r}.")
        expected = _expected_grid(space, points_per_dim)
        expected_keys = {_key(point): point for point in expected}
        seen: dict[tuple, dict] = {}
        for point in result:
            key = _key(point)
            expect(key not in seen, f"{what} contains {dict(point)!r} more than once.")
            expect(key in expected_keys, f"{what} contains {dict(point)!r}, which is not a combination of the "
                                         f"values (a range (low, high) gives numpy.linspace(low, high, "
                                         f"{points_per_dim}), both ends included).")
            seen[key] = point
        missing = [point for key, point in expected_keys.items() if key not in seen]
        expect(not missing, f"{what} returned {len(result)} combinations, expected {len(expected)}; "
                            f"for example {missing[0] if missing else None!r} is missing.")


# ----------------------------------------------------------------------------- the random-search question
def _objectives(rng: numpy.random.Generator) -> list[tuple[str, Callable[[dict], float]]]:
    cx, cy = rng.uniform(-2, 2, size=2)
    return [
        (f"(x - {cx:.2f})^2 + (y - {cy:.2f})^2 + 1 (positive values)",
         lambda p: float((p["x"] - cx) ** 2 + (p["y"] - cy) ** 2 + 1.0)),
        ("-(x^2 + y^2) (a maximum in the middle: the lowest values are at the edges)",
         lambda p: float(-(p["x"] ** 2 + p["y"] ** 2))),
        ("sin(3x) cos(2y) - 5 (negative values)", lambda p: float(math.sin(3 * p["x"]) * math.cos(2 * p["y"]) - 5)),
    ]


@register(
    id="10.random_search", lesson="10", points=2, names=("random_search",),
    reference=(reference_random_search,),
    mutants={
        "returns the last trial instead of the best": (_random_search_last,),
        "maximizes instead of minimizing": (_random_search_maximizes,),
        "runs n_trials - 1 trials": (_random_search_off_by_one,),
    },
    hint="Loop n_trials times: params = sample_fn(rng); value = objective(params); append (params, value) to the "
         "history; keep the params and value of the lowest value seen so far (start from math.inf).",
)
def check_random_search(random_search: Callable, rng: numpy.random.Generator) -> None:
    """Random search: sample, evaluate, keep the best."""
    for (description, function), n_trials in itertools.product(_objectives(rng), (12, 1, 30)):
        draws, calls, generators = [], [], []

        def sample_fn(generator, draws=draws, generators=generators):
            generators.append(generator)
            params = {"x": float(generator.uniform(-3, 3)), "y": float(generator.uniform(-3, 3))}
            draws.append(dict(params))
            return params

        def objective(params, calls=calls, function=function):
            calls.append(dict(params))
            return function(params)

        generator = numpy.random.default_rng(int(rng.integers(2**31)))
        what = f"random_search(objective, sample_fn, n_trials={n_trials}, rng) with objective {description}"
        result = _pair(_call(random_search, what, objective, sample_fn, n_trials, generator), what,
                       "best_params, best_value, history", count=3)
        best_params, best_value, history = result
        expect(len(draws) == n_trials, f"{what}: sample_fn was called {len(draws)} times, expected once per "
                                       f"trial ({n_trials}).")
        expect(all(g is generator for g in generators), f"{what}: call sample_fn(rng) with the rng you were given, "
                                                        "so that the search can be repeated from its seed.")
        expect(calls == draws, f"{what}: the objective should be called exactly once on each sampled point, in "
                               f"order ({n_trials} calls); it was called {len(calls)} times"
                               + ("" if len(calls) != n_trials else " on other points") + ".")
        values = [function(params) for params in draws]
        expect(isinstance(history, (list, tuple)) and len(history) == n_trials,
               f"{what}: history should be a list of {n_trials} (params, value) pairs, got "
               f"{type(history).__name__}" + (f" of length {len(history)}" if hasattr(history, "__len__") else "")
               + ".")
        for i, entry in enumerate(history):
            entry = _pair(entry, f"{what}: history[{i}]", "params, value")
            expect(dict(entry[0]) == draws[i], f"{what}: history[{i}] should hold the params of trial {i}, "
                                               f"{draws[i]!r}; got {entry[0]!r}.")
            expect_close(entry[1], values[i], what=f"{what}: the value in history[{i}]", rtol=1e-12)
        lowest = min(values)
        expect_close(best_value, lowest, what=f"{what}: best_value (the lowest of the {n_trials} values)",
                     rtol=1e-12, atol=1e-12)
        expect(isinstance(best_params, Mapping) and any(dict(best_params) == draws[i]
                                                        for i in range(n_trials) if values[i] == lowest),
               f"{what}: best_params should be the params of the trial with the lowest value, "
               f"{draws[values.index(lowest)]!r}; got {best_params!r}.")


# ----------------------------------------------------------------------------- the GP question
def _sklearn_posterior(X_train, y_train, X_test, length_scale, variance, noise):
    from sklearn.gaussian_process import GaussianProcessRegressor, kernels

    kernel = kernels.ConstantKernel(variance, constant_value_bounds="fixed") * kernels.RBF(length_scale, "fixed")
    model = GaussianProcessRegressor(kernel, alpha=noise, optimizer=None, normalize_y=False).fit(X_train, y_train)
    return model.predict(X_test, return_std=True)


def _gp_cases(rng: numpy.random.Generator) -> list[tuple[str, tuple]]:
    """(description, (X_train, y_train, X_test, length_scale, variance, noise)) for the GP check."""
    cases = []
    X = numpy.sort(rng.uniform(0, 1, size=(5, 1)), axis=0)
    cases.append(("1-D, 5 observations", (X, numpy.sin(6 * X[:, 0]), numpy.linspace(0, 1, 30)[:, None],
                                          0.2, 1.0, 0.01)))
    X = rng.uniform(0, 2, size=(8, 2))
    cases.append(("2-D, 8 noisy observations", (X, rng.standard_normal(8), rng.uniform(0, 2, size=(10, 2)),
                                                0.6, 2.5, 0.1)))
    cases.append(("a single observation (n = 1) in 3-D", (rng.uniform(size=(1, 3)), numpy.array([1.7]),
                                                          rng.uniform(size=(4, 3)), 0.5, 1.5, 0.001)))
    X = numpy.array([[0.0], [1.0], [2.0], [3.5]])
    X_test = numpy.concatenate([X, [[0.5], [2.7], [10.0]]])  # the observations themselves, between, far away
    cases.append(("no noise (noise = 0), predicting at the observations themselves",
                  (X, numpy.array([1.0, -0.5, 2.0, 0.3]), X_test, 0.8, 3.0, 0.0)))
    cases.append(("test points far from every observation (the posterior is the prior there)",
                  (X, numpy.array([1.0, -0.5, 2.0, 0.3]), numpy.array([[50.0], [-40.0]]), 0.5, 2.0, 0.05)))
    for _ in range(3):
        d, n, m = int(rng.integers(1, 4)), int(rng.integers(2, 11)), int(rng.integers(1, 15))
        cases.append((f"random, d = {d}, n = {n}, m = {m}",
                      (rng.uniform(0, 2, size=(n, d)), 2 * rng.standard_normal(n), rng.uniform(-0.5, 2.5, size=(m, d)),
                       float(rng.uniform(0.3, 1.5)), float(rng.uniform(0.5, 4.0)), float(rng.uniform(1e-3, 0.5)))))
    return cases


@register(
    id="10.gp_posterior", lesson="10", points=3, names=("gp_posterior",),
    reference=(reference_gp_posterior,),
    mutants={
        "forgot the noise term on the diagonal of K": (_gp_variant("no noise"),),
        "returns the variance instead of the standard deviation": (_gp_variant("variance"),),
        "uses k** without subtracting (the prior std everywhere)": (_gp_variant("prior variance"),),
        "kernel exp(-d^2 / l^2), without the factor 2": (_gp_variant("no half"),),
        "adds the noise to the predicted variance (std of a noisy observation, not of f)":
            (_gp_variant("noisy prediction"),),
    },
    hint="K = k(X_train, X_train) + noise * I, K_star = k(X_train, X_test); mean = K_star.T @ solve(K, y_train); "
         "var = variance - sum(K_star * solve(K, K_star), axis=0); std = sqrt(max(var, 0)).",
)
def check_gp_posterior(gp_posterior: Callable, rng: numpy.random.Generator) -> None:
    """The posterior mean and standard deviation of a Gaussian process with an RBF kernel."""
    for i, (description, (X_train, y_train, X_test, length_scale, variance, noise)) in enumerate(_gp_cases(rng)):
        what = (f"gp_posterior(X_train, y_train, X_test, length_scale={length_scale:.3g}, variance={variance:.3g}, "
                f"noise={noise:.3g}) ({description}) with "
                f"{describe_inputs(X_train=X_train, y_train=y_train, X_test=X_test)}")
        args = (X_train.copy(), y_train.copy(), X_test.copy(), length_scale, variance, noise)
        mean, std = _pair(_call(gp_posterior, what, *args), what, "mean, std")
        expected_mean, expected_std = library_gp_posterior(RBF(length_scale=length_scale, variance=variance),
                                                           X_train, y_train, X_test, noise=noise)
        std_atol = 1e-4 if noise == 0 else 1e-7  # sqrt of a round-off-sized variance at the observations
        expect_close(mean, expected_mean, what=f"{what}: the mean", rtol=1e-5, atol=1e-7)
        expect_close(std, expected_std, what=f"{what}: the std", rtol=1e-5, atol=std_atol,
                     hint="std is the square root of the posterior variance of f, k** - k*^T (K + noise I)^-1 k*, "
                          "clipped at 0." if noise == 0 else "")
        if i in (0, 1) or noise > 0.2:  # and a second, independent oracle
            sk_mean, sk_std = _sklearn_posterior(X_train, y_train, X_test, length_scale, variance, noise)
            expect_close(as_host(mean), sk_mean, what=f"{what}: the mean (against scikit-learn)", rtol=1e-5,
                         atol=1e-7)
            expect_close(as_host(std), sk_std, what=f"{what}: the std (against scikit-learn)", rtol=1e-5,
                         atol=1e-7)


# ----------------------------------------------------------------------------- the EI question
def _monte_carlo_ei(mean: float, std: float, best: float, xi: float, rng: numpy.random.Generator,
                    n: int = 400_000) -> tuple[float, float]:
    """E[max(best - f - xi, 0)] for f ~ N(mean, std^2) by sampling, and the standard error of the estimate."""
    f = mean + std * rng.standard_normal(n)
    improvement = numpy.maximum(best - f - xi, 0.0)
    return float(numpy.mean(improvement)), float(numpy.std(improvement) / math.sqrt(n))


@register(
    id="10.expected_improvement", lesson="10", points=2, names=("expected_improvement",),
    reference=(reference_expected_improvement,),
    mutants={
        "sign flipped (the expected improvement of a maximization)": (_ei_variant("maximizes"),),
        "missing the sigma * phi(z) term": (_ei_variant("no sigma phi"),),
        "divides by std = 0 (NaN where std is 0 and mean = best - xi)": (_ei_variant("naive"),),
        "xi added instead of subtracted": (_ei_variant("xi sign"),),
    },
    hint="improvement = best - mean - xi; z = improvement / std; EI = improvement * Phi(z) + std * phi(z); "
         "where std == 0, EI = max(improvement, 0) (compute z with std replaced by 1 there, then overwrite).",
)
def check_expected_improvement(expected_improvement: Callable, rng: numpy.random.Generator) -> None:
    """Expected improvement for minimization."""
    cases = [
        ("50 random points", rng.normal(0, 2, size=50), rng.uniform(0.01, 3, size=50), float(rng.normal()), 0.0),
        ("a (4, 5) grid of points, xi = 0.1", rng.normal(0, 1, size=(4, 5)), rng.uniform(0.1, 1, size=(4, 5)),
         -0.3, 0.1),
        ("one point", numpy.array([0.2]), numpy.array([0.7]), 0.5, 0.0),
        ("std = 0 at some points (observed without noise): EI = max(best - mean - xi, 0) there",
         numpy.array([-1.0, 0.0, 1.0, 0.0, 2.0]), numpy.array([0.0, 0.0, 0.0, 0.5, 1.0]), 0.0, 0.0),
        ("std = 0 with xi = 0.25", numpy.array([-1.0, -0.25, 0.5]), numpy.array([0.0, 0.0, 0.0]), 0.0, 0.25),
        ("points far above and far below best with a small std",
         numpy.array([100.0, -100.0, 3.0]), numpy.array([1e-3, 1e-3, 1e-9]), 0.0, 0.01),
    ]
    for description, mean, std, best, xi in cases:
        what = (f"expected_improvement(mean, std, best={best:.3g}, xi={xi:g}) ({description}) with "
                f"{describe_inputs(mean=mean, std=std)}")
        got = _call(expected_improvement, what, mean.copy(), std.copy(), best, xi)
        expect_close(got, library_expected_improvement(mean, std, best, xi), what=what, rtol=1e-6, atol=1e-10)
    # The closed form is an expectation: compare it with the average improvement over many samples of f.
    mean, std = rng.normal(0, 1, size=5), rng.uniform(0.2, 2, size=5)
    best, xi = float(rng.normal(-0.5, 0.5)), 0.05
    got = as_host(_call(expected_improvement, "expected_improvement(mean, std, best, xi)", mean, std, best, xi))
    for k in range(5):
        estimate, error = _monte_carlo_ei(mean[k], std[k], best, xi, rng)
        expect(abs(float(got.reshape(-1)[k]) - estimate) <= 5 * error + 1e-4,
               f"expected_improvement(mean={mean[k]:.4g}, std={std[k]:.4g}, best={best:.4g}, xi={xi}) = "
               f"{float(got.reshape(-1)[k]):.5g}, but a Monte Carlo average of max(best - f - xi, 0) over 400000 "
               f"samples f ~ N(mean, std^2) gives {estimate:.5g} +- {error:.1g}.")
