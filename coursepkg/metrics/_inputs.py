"""Checking and converting metric inputs, shared by the metric modules.

Why this module exists: every metric starts the same way. It copies its inputs to the host
with :func:`coursepkg.to_numpy` (metrics are computed on the host: that is the one deliberate
device-to-host transfer of evaluation, and the arrays involved are small), checks that they
line up, and checks that labels are whole numbers.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy

from coursepkg.backend import to_numpy


class UndefinedMetricWarning(UserWarning):
    """A metric was undefined for these inputs (for example a division by zero) and was set to a fallback value.

    Raised in the same situations as scikit-learn's ``UndefinedMetricWarning``.
    """


def warn_undefined(message: str) -> None:
    """Emit an :class:`UndefinedMetricWarning` (attributed to the metric function that calls this)."""
    warnings.warn(message, UndefinedMetricWarning, stacklevel=2)


def host(x: Any, name: str, caller: str) -> numpy.ndarray:
    """``x`` (NumPy, a backend array, a Tensor or a list) as a NumPy array on the host."""
    array = to_numpy(x)
    if array.ndim == 0:
        raise ValueError(f"{caller}: {name} must be an array with one entry per example, got a scalar.")
    return array


def same_length(caller: str, **arrays: numpy.ndarray) -> int:
    """The common length of the arrays, or a ValueError naming every length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        described = " and ".join(f"len({name})={n}" for name, n in lengths.items())
        raise ValueError(f"{caller}: inputs must have one entry per example, got {described}.")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"{caller}: got empty inputs; a metric needs at least one example.")
    return n


def labels(x: Any, name: str, caller: str) -> numpy.ndarray:
    """Class labels as a 1-D int64 NumPy array (floats are accepted if they hold whole numbers)."""
    array = host(x, name, caller)
    if array.ndim != 1:
        raise ValueError(f"{caller}: {name} must be 1-D class labels of shape (N,), got shape {array.shape}.")
    if array.dtype.kind == "f" and numpy.all(array == numpy.round(array)):
        array = array.astype(numpy.int64)
    if array.dtype.kind not in "iub":
        raise ValueError(f"{caller}: {name} must hold whole-number class labels, got dtype {array.dtype}.")
    array = array.astype(numpy.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"{caller}: {name} must hold class labels >= 0, got {array.min()}.")
    return array
