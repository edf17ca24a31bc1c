"""``History``: what ``fit`` measured, one list per quantity, one entry per epoch."""

from __future__ import annotations

import math
from typing import Any


class History(dict):
    """A dict of lists: ``history["loss"][i]`` is the training loss of epoch ``history["epoch"][i]``.

    Keys written by ``fit``: ``"epoch"`` (1, 2, ...), ``"loss"``, ``"lr"`` (at the start of the
    epoch), each metric name, and with validation data ``"val_loss"`` and ``"val_<metric>"``.
    Every list has one float per finished epoch.
    """

    def append(self, logs: dict[str, Any]) -> None:
        """Add one epoch's values (numbers only; other entries are ignored)."""
        for key, value in logs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.setdefault(key, []).append(value)

    @property
    def num_epochs(self) -> int:
        """How many epochs are recorded."""
        return len(self.get("epoch", []))

    def best(self, metric: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """The epoch with the best value of ``metric`` and that value.

        Inputs:
        - metric: a key such as "val_loss" or "val_accuracy".
        - mode: "min" (losses) or "max" (accuracies).
        Returns: (epoch, value); epoch counts from 1 as in ``history["epoch"]``. Ties go to the
        earliest epoch; NaN values are never best.
        """
        if mode not in ("min", "max"):
            raise ValueError(f"History.best: mode must be 'min' or 'max', got {mode!r}.")
        if metric not in self:
            raise KeyError(f"History.best: no {metric!r} in the history; it has {sorted(self)}.")
        values = self[metric]
        candidates = [i for i, v in enumerate(values) if not math.isnan(v)]
        if not candidates:
            raise ValueError(f"History.best: every value of {metric!r} is NaN.")
        sign = 1.0 if mode == "min" else -1.0
        index = min(candidates, key=lambda i: sign * values[i])
        epochs = self.get("epoch", list(range(1, len(values) + 1)))
        return epochs[index], values[index]

    def as_table(self, keys: list[str] | None = None, digits: int = 4) -> str:
        """A plain-text table, one row per epoch (print it, or show it in a notebook).

        Inputs:
        - keys: the columns to show, in order (default: "epoch" then the others as recorded).
        - digits: significant digits of the numbers.
        """
        keys = keys or (["epoch"] if "epoch" in self else []) + [k for k in self if k != "epoch"]
        missing = [k for k in keys if k not in self]
        if missing:
            raise KeyError(f"History.as_table: unknown keys {missing}; the history has {sorted(self)}.")
        rows = max((len(self[k]) for k in keys), default=0)
        cells = [list(keys)] + [[_format(self[k][i], digits) if i < len(self[k]) else "" for k in keys]
                                for i in range(rows)]
        widths = [max(len(row[j]) for row in cells) for j in range(len(keys))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"History({self.num_epochs} epochs, keys={list(self)})"


def _format(value: Any, digits: int) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"
