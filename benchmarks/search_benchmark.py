"""Sample efficiency of grid search, random search and Bayesian optimization.

Best value found against the number of trials, averaged over seeds, on

- Branin (2-D, known minimum 0.397887), and
- a small real training task: a one-hidden-layer MLP (scikit-learn's MLPClassifier, 20 epochs)
  on the 8x8 digits, tuning the learning rate and the L2 penalty (both log-uniform); the value is
  the validation cross-entropy on a fixed stratified 30% split (smoother than the error rate, which
  moves in steps of 1/540 and is flat across the good region; a diverged run gives NaN, a failed trial).

Random search and Bayesian optimization run once per seed with the largest budget; their value
at budget B is the best of their first B trials. Grid search at budget B is a full grid of
floor(B^(1/2)) points per dimension (it has no seed and no meaningful prefix), so it uses at most
B trials; the table says how many.

Run:  python benchmarks/search_benchmark.py [--quick]
Prints two tables and writes benchmarks/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import warnings

import numpy
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from coursepkg.search import BRANIN_MINIMUM, LogUniform, SearchSpace, branin_objective, branin_space, search

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "search.json")

_DIGITS = None


def digits_split():
    """Train/validation split of the digits, pixels scaled to [0, 1] (cached per process)."""
    global _DIGITS
    if _DIGITS is None:
        X, y = load_digits(return_X_y=True)
        _DIGITS = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    return _DIGITS


def mlp_validation_loss(params: dict) -> float:
    """Train an MLP with these hyperparameters for 20 epochs; return its validation cross-entropy."""
    X_train, X_val, y_train, y_val = digits_split()
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=params["lr"], alpha=params["alpha"],
                          max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return log_loss(y_val, model.predict_proba(X_val), labels=numpy.arange(10))


def mlp_space() -> SearchSpace:
    return SearchSpace({"lr": LogUniform(1e-4, 1.0), "alpha": LogUniform(1e-6, 10.0)})


def compare(objective, space, budgets: list[int], seeds: list[int]) -> dict:
    """Best value found at each budget, per method and seed, plus timings."""
    out = {"budgets": budgets, "seeds": seeds}
    for method in ("random", "bayes"):
        start, curves = time.perf_counter(), []
        for seed in seeds:
            result = search(objective, space, method, max(budgets), seed=seed)
            curves.append([float(result.best_so_far()[b - 1]) for b in budgets])
        out[method] = _summary(numpy.array(curves), time.perf_counter() - start)
    start, grid_best, grid_trials = time.perf_counter(), [], []
    for budget in budgets:
        per_dim = max(1, math.floor(budget ** (1 / len(space)) + 1e-9))
        result = search(objective, space, "grid", points_per_dim=per_dim)
        grid_best.append(float(result.best_value))
        grid_trials.append(len(result))
    out["grid"] = _summary(numpy.array([grid_best]), time.perf_counter() - start)
    out["grid"]["trials_used"] = grid_trials
    return out


def _summary(curves: numpy.ndarray, seconds: float) -> dict:
    return {"mean": curves.mean(axis=0).tolist(), "std": curves.std(axis=0).tolist(), "per_seed": curves.tolist(),
            "seconds": round(seconds, 2)}


def print_table(title: str, result: dict, known_minimum: float | None = None) -> None:
    print(f"\n{title}: best value found (mean +- std over {len(result['seeds'])} seeds)")
    if known_minimum is not None:
        print(f"known minimum {known_minimum}")
    print(f"{'trials':>7} | {'grid (trials used)':>20} | {'random':>17} | {'bayes':>17}")
    for i, budget in enumerate(result["budgets"]):
        grid = f"{result['grid']['mean'][i]:.4f} ({result['grid']['trials_used'][i]})"
        cells = [f"{result[m]['mean'][i]:.4f} +- {result[m]['std'][i]:.4f}" for m in ("random", "bayes")]
        print(f"{budget:>7} | {grid:>20} | {cells[0]:>17} | {cells[1]:>17}")
    print("seconds: " + ", ".join(f"{m} {result[m]['seconds']}" for m in ("grid", "random", "bayes")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds and smaller budgets (a smoke run)")
    args = parser.parse_args()
    seeds = list(range(2 if args.quick else 5))
    branin_budgets = [5, 10, 15] if args.quick else [5, 10, 15, 20, 30]
    mlp_budgets = [5, 10] if args.quick else [5, 10, 15, 20]

    branin = compare(branin_objective, branin_space(), branin_budgets, seeds)
    print_table("Branin", branin, BRANIN_MINIMUM)
    mlp = compare(mlp_validation_loss, mlp_space(), mlp_budgets, seeds[:3])
    print_table("MLP on digits, validation cross-entropy, tuning lr and alpha", mlp)

    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as file:
        json.dump({"branin": branin, "branin_minimum": BRANIN_MINIMUM, "mlp_digits": mlp,
                   "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}, file, indent=1)
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
