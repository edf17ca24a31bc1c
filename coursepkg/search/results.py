"""The record of a search: one dict per finished trial, and the JSON-lines file that keeps it.

A trial is a plain dict::

    {"trial_id": 3, "params": {"lr": 0.01, "hidden": 64}, "value": 0.123,
     "status": "ok", "error": None, "duration": 1.52}

``status`` is "ok" or "failed"; a failed trial (the objective raised, or returned NaN or an
infinity) has ``value`` None and the error text in ``error``. ``duration`` is in seconds.

The results file has one such dict per line (JSON lines). Each finished trial is appended and
flushed at once, so a search that is interrupted loses only the trials still running, and
:func:`coursepkg.search.search` resumes from the file without re-running anything in it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy

OK, FAILED = "ok", "failed"


def append_trial(path: str | os.PathLike, trial: dict) -> None:
    """Append one trial as a line of JSON to ``path`` and flush it to the operating system."""
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(trial) + "\n")
        file.flush()


def load_trials(path: str | os.PathLike) -> list[dict]:
    """The trials stored in a JSON-lines file; [] if it does not exist.

    A last line cut short (the process was killed while writing it) is skipped with a warning.
    """
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as file:
        lines = [line for line in file.read().splitlines() if line.strip()]
    trials = []
    for number, line in enumerate(lines, start=1):
        try:
            trials.append(json.loads(line))
        except json.JSONDecodeError as error:
            if number < len(lines):
                raise ValueError(f"load_trials: line {number} of {path} is not valid JSON: {error}.") from error
            warnings.warn(f"load_trials: skipping the incomplete last line of {path}.", stacklevel=2)
    return trials


class SearchResult:
    """The trials of a search, in the order they finished, and what can be read from them.

    Inputs:
    - trials: a list of trial dicts (see the module docstring).
    - minimize: whether lower values are better.
    """

    def __init__(self, trials: Sequence[dict] = (), minimize: bool = True) -> None:
        self.trials = list(trials)
        self.minimize = minimize

    @classmethod
    def load(cls, path: str | os.PathLike, minimize: bool = True) -> SearchResult:
        """The result stored in a results file."""
        return cls(load_trials(path), minimize=minimize)

    def add(self, trial: dict) -> None:
        """Append a finished trial."""
        self.trials.append(trial)

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.trials)

    def __repr__(self) -> str:
        best = f", best_value={self.best_value:.6g}" if self.n_ok else ""
        return f"SearchResult({len(self)} trials, {self.n_failed} failed{best})"

    @property
    def n_ok(self) -> int:
        """Number of successful trials."""
        return sum(t["status"] == OK for t in self.trials)

    @property
    def n_failed(self) -> int:
        """Number of failed trials."""
        return len(self) - self.n_ok

    @property
    def best(self) -> dict:
        """The successful trial with the lowest value (highest, when maximizing)."""
        ok = [t for t in self.trials if t["status"] == OK]
        if not ok:
            raise ValueError(f"SearchResult.best: none of the {len(self)} trials succeeded.")
        pick = min if self.minimize else max
        return pick(ok, key=lambda t: t["value"])

    @property
    def best_params(self) -> dict:
        """The params of :attr:`best`."""
        return self.best["params"]

    @property
    def best_value(self) -> float:
        """The value of :attr:`best`."""
        return self.best["value"]

    def values(self) -> numpy.ndarray:
        """The trial values in finishing order, shape (n,); NaN for failed trials."""
        return numpy.array([numpy.nan if t["value"] is None else t["value"] for t in self.trials], dtype=float)

    def best_so_far(self) -> numpy.ndarray:
        """Best value after each trial, shape (n,): the curve that compares search methods.

        NaN until the first successful trial; failed trials repeat the previous best.
        """
        values = self.values()
        if not self.minimize:
            values = -values
        best, curve = numpy.inf, numpy.empty(len(values))
        for i, value in enumerate(values):
            if not numpy.isnan(value):
                best = min(best, value)
            curve[i] = best
        curve[numpy.isinf(curve)] = numpy.nan
        return curve if self.minimize else -curve

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per trial, one column per hyperparameter (needs pandas)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError("SearchResult.to_dataframe needs pandas: pip install pandas.") from error
        columns = ("trial_id", "value", "status", "error", "duration")
        rows = []
        for trial in self.trials:
            row = {"trial_id": trial["trial_id"]}
            for name, value in trial["params"].items():
                row[f"param_{name}" if name in columns else name] = value
            row.update({key: trial[key] for key in columns[1:]})
            rows.append(row)
        return pandas.DataFrame(rows)
