"""Checking gradients against finite differences.

For a scalar function f and a small step h, the central difference

    (f(x + h e_i) - f(x - h e_i)) / (2 h)

approximates df/dx_i with error O(h^2). Comparing it with the analytic gradient from
backpropagation is the single most useful test of a backward pass. Work in float64: in float32
the rounding error of f swamps the difference for any useful h.

The comparison uses the relative error  |a - n| / max(|a|, |n|, tiny); values around 1e-7 or
smaller mean the gradient is right, 1e-2 or larger mean it is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from coursepkg.backend import get_backend, to_numpy


def numerical_gradient(f: Callable[[], Any], x: Any, h: float = 1e-6) -> numpy.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is changed in place and restored, one element at a time, so ``f`` must read ``x``
    when called.

    Inputs:
    - f: a function of no arguments returning a scalar (a number, a 0-d array or a Tensor).
    - x: a writable float array (NumPy or any backend), of any shape S.
    - h: the step size.
    Returns:
    - a NumPy array of shape S.
    """
    grad = numpy.zeros(tuple(x.shape), dtype=numpy.float64)
    flat_shape = (int(numpy.prod(x.shape)),) if x.ndim else ()
    for flat_index in range(int(numpy.prod(x.shape)) if x.ndim else 1):
        index = numpy.unravel_index(flat_index, tuple(x.shape)) if flat_shape else ()
        index = tuple(int(i) for i in index)
        old = float(to_numpy(x[index]))
        x[index] = old + h
        plus = _scalar(f())
        x[index] = old - h
        minus = _scalar(f())
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _scalar(value: Any) -> float:
    value = getattr(value, "data", value) if hasattr(value, "requires_grad") else value
    return float(to_numpy(value).reshape(-1)[0]) if hasattr(value, "shape") else float(value)


def relative_error(analytic: Any, numeric: Any) -> float:
    """max over elements of |a - n| / max(|a|, |n|, 1e-8)."""
    a, n = numpy.asarray(to_numpy(analytic), dtype=float), numpy.asarray(to_numpy(numeric), dtype=float)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ, analytic {a.shape} vs numeric {n.shape}")
    if a.size == 0:
        return 0.0
    return float(numpy.max(numpy.abs(a - n) / numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(n)), 1e-8)))


@dataclass
class GradCheckResult:
    """The outcome of :func:`check_gradients`: one relative error per input, and a verdict."""

    errors: dict[str, float]
    tolerance: float

    @property
    def ok(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __str__(self) -> str:
        lines = [f"{name}: relative error {err:.2e} {'ok' if err <= self.tolerance else 'WRONG'}"
                 for name, err in self.errors.items()]
        return "\n".join(lines)


def check_gradients(f: Callable[..., Any], inputs: Sequence[Any], names: Sequence[str] | None = None,
                    tolerance: float = 1e-6, h: float = 1e-6, seed: int = 0) -> GradCheckResult:
    """Compare autodiff gradients of ``f(*tensors)`` with central differences, in float64.

    ``f`` may return a tensor of any shape: it is reduced to a scalar by a fixed random
    projection, sum(out * r), so every output element is checked. (r comes from its own random
    stream, so it never equals inputs drawn with ``default_rng(seed)``.)

    Inputs:
    - f: a function of Tensors returning a Tensor.
    - inputs: arrays (NumPy or backend) giving the point to check at; converted to float64
      Tensors with requires_grad=True. Non-float arrays (labels) are passed through unchanged.
    - names: a label for each input in the report (default x0, x1, ...).
    - tolerance: largest accepted relative error.
    Returns: a :class:`GradCheckResult`; ``bool(result.ok)`` says whether all passed.
    """
    from coursepkg.tensor import Tensor

    backend = get_backend()
    xp = backend.xp
    tensors = []
    for x in inputs:
        host = numpy.asarray(to_numpy(x))
        if host.dtype.kind == "f":
            tensors.append(Tensor(backend.asarray(host, dtype=xp.float64), requires_grad=True))
        else:
            tensors.append(Tensor(backend.asarray(host)))
    out = f(*tensors)
    projection = backend.asarray(numpy.random.default_rng([seed, 2718]).standard_normal(out.shape), dtype=xp.float64)

    def objective() -> Any:
        return xp.sum(f(*tensors).data * projection)

    for t in tensors:
        t.grad = None
    (f(*tensors) * projection).sum().backward()
    names = list(names) if names is not None else [f"x{i}" for i in range(len(tensors))]
    errors = {}
    for name, t in zip(names, tensors):
        if not t.requires_grad:
            continue
        numeric = numerical_gradient(objective, t.data, h=h)
        analytic = t.grad if t.grad is not None else xp.zeros(t.shape, dtype=xp.float64)
        errors[name] = relative_error(analytic, numeric)
    return GradCheckResult(errors, tolerance)
