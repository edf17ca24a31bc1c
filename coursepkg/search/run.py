"""Running a search: ask the sampler, run the trials on an executor, record, tell, repeat.

::

    from coursepkg.search import SearchSpace, LogUniform, IntUniform, search

    def objective(params):                         # returns the validation loss to minimize
        return train_and_validate(lr=params["lr"], hidden=params["hidden"])

    space = SearchSpace({"lr": LogUniform(1e-4, 1e-1), "hidden": IntUniform(16, 256, log=True)})
    result = search(objective, space, method="bayes", n_trials=30, seed=0, results_path="search.jsonl")
    result.best_params, result.best_value

In parallel, keep ``batch_size`` trials running at once (by default, as many as the executor has
workers); the sampler proposes a new point whenever one finishes::

    with ProcessPoolExecutor(max_workers=2) as pool:        # the objective must be picklable
        result = search(objective, space, "random", n_trials=30, executor=pool)

    client = distributed.Client("scheduler-address:8786")  # or Client(LocalCluster(...))
    result = search(objective, space, "bayes", n_trials=30, executor=client.get_executor(pure=False))

Interrupt a search (Ctrl-C, a crash, a lost job) and call ``search`` again with the same
``results_path``: the trials in the file are told to the sampler and not run again, and
``n_trials`` counts them, so ``n_trials=30`` means "30 in the file when done".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from coursepkg.search.bayes import BayesianOptimizer
from coursepkg.search.executor import InProcessExecutor, default_batch_size, run_trial
from coursepkg.search.results import FAILED, SearchResult, append_trial, load_trials
from coursepkg.search.samplers import GridSampler, RandomSampler, Sampler
from coursepkg.search.space import SearchSpace

METHODS = ("grid", "random", "bayes")


def make_sampler(method: str, space: SearchSpace, seed: Any = 0, points_per_dim: int | Mapping[str, int] = 5,
                 **options: Any) -> Sampler:
    """The sampler for a method name: "grid" -> GridSampler, "random" -> RandomSampler,
    "bayes" -> BayesianOptimizer (``options`` go to its constructor)."""
    if method == "grid":
        return GridSampler(space, points_per_dim, seed=seed, **options)
    if method == "random":
        return RandomSampler(space, seed=seed, **options)
    if method == "bayes":
        return BayesianOptimizer(space, seed=seed, **options)
    raise ValueError(f"search: method must be one of {METHODS} or a Sampler, got {method!r}.")


def search(objective: Callable[[dict], float], space: SearchSpace, method: str | Sampler = "random",
           n_trials: int | None = None, *, executor: Executor | None = None, batch_size: int | None = None,
           seed: int | None = 0, results_path: str | os.PathLike | None = None, minimize: bool = True,
           points_per_dim: int | Mapping[str, int] = 5, callback: Callable[[dict], None] | None = None,
           **sampler_options: Any) -> SearchResult:
    """Run a hyperparameter search and return its trials.

    Inputs:
    - objective: objective(params: dict) -> float, the number to minimize (or maximize). A trial
      that raises, or returns NaN or an infinity, is recorded as failed and the search goes on.
    - space: the SearchSpace.
    - method: "grid", "random", "bayes", or any Sampler instance (ask/tell).
    - n_trials: total number of trials, those already in ``results_path`` included; for "grid",
      None means the whole grid.
    - executor: where trials run (see :mod:`coursepkg.search.executor`); None runs them here, one by one.
    - batch_size: trials running at once; default :func:`default_batch_size` of the executor.
    - seed: seed of the sampler (when ``method`` is a name).
    - results_path: a JSON-lines file; finished trials are appended to it, and those already
      there are not run again.
    - minimize: False to maximize the objective.
    - points_per_dim: grid resolution, for "grid".
    - callback: called with each finished trial dict, e.g. ``print``.
    - sampler_options: passed to the sampler, e.g. ``n_initial=5`` or ``shuffle=True``.
    Returns:
    - a SearchResult with every trial, in the order they finished.
    """
    previous = load_trials(results_path) if results_path is not None else []
    _check_previous(previous, space, results_path)
    if isinstance(method, str):
        resumed = previous and seed is not None and method != "grid"
        run_seed = [seed, len(previous)] if resumed else seed  # on resume, draw new random points
        sampler = make_sampler(method, space, run_seed, points_per_dim, **sampler_options)
    else:
        sampler = method
    if n_trials is None:
        if not isinstance(sampler, GridSampler):
            raise ValueError(f"search: n_trials is required for method {method!r}.")
        n_trials = len(sampler)

    result = SearchResult(previous, minimize=minimize)
    for trial in previous:
        sampler.tell(trial["params"], _sampler_value(trial["value"], minimize))
    executor = InProcessExecutor() if executor is None else executor
    batch_size = default_batch_size(executor) if batch_size is None else batch_size
    next_id = max((t["trial_id"] for t in previous), default=-1) + 1
    n_to_submit = n_trials - len(previous)
    running: dict[Future, dict] = {}  # future -> {"trial_id": ..., "params": ...}
    try:
        while n_to_submit > 0 or running:
            free = min(batch_size - len(running), n_to_submit)
            if free > 0:
                pending = [info["params"] for info in running.values()]
                proposals = sampler.ask(free, pending=pending)
                n_to_submit = n_to_submit - len(proposals) if len(proposals) == free else 0  # 0: sampler ran out
                for params in proposals:
                    running[executor.submit(run_trial, objective, params)] = {"trial_id": next_id, "params": params}
                    next_id += 1
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                trial = _record(running.pop(future), future)
                result.add(trial)
                if results_path is not None:
                    append_trial(results_path, trial)
                sampler.tell(trial["params"], _sampler_value(trial["value"], minimize))
                if callback is not None:
                    callback(trial)
    except BaseException:  # Ctrl-C or a crash: do not start the queued trials; the file has the finished ones
        for future in running:
            future.cancel()
        raise
    return result


def _record(info: dict, future: Future) -> dict:
    """The trial dict for a finished future (a worker that died counts as a failed trial)."""
    try:
        outcome = future.result()
    except Exception as exception:  # e.g. BrokenProcessPool, or a Dask worker lost
        outcome = {"value": None, "status": FAILED, "error": f"{type(exception).__name__}: {exception}",
                   "duration": None}
    return {"trial_id": info["trial_id"], "params": info["params"], **outcome}


def _sampler_value(value: float | None, minimize: bool) -> float | None:
    """Samplers minimize: flip the sign when maximizing; None stays None (a failed trial)."""
    return None if value is None else (value if minimize else -value)


def _check_previous(trials: list[dict], space: SearchSpace, path: Any) -> None:
    for trial in trials:
        if sorted(trial.get("params", {})) != sorted(space.names):
            raise ValueError(f"search: the results file {path} has a trial with params "
                             f"{sorted(trial.get('params', {}))}, but the space has {sorted(space.names)}; "
                             f"use a new results_path for a new search space.")
