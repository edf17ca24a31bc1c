"""Graded questions: how an exercise is declared, checked, and explained to the learner.

A question is a function that exercises the learner's code on randomized cases and raises
:class:`CheckFailure` with a specific message at the first wrong answer. It is registered with
its id, lesson, points, the names it grades, the reference solution and planted wrong answers
("mutants") that the test suite proves it catches::

    @register(id="02.mse", lesson="02", points=2, names=("mse",),
              reference=(reference_mse,), mutants={"forgot the mean": (mse_sum,)},
              hint="Average the squared differences over every element.")
    def check_mse(mse, rng):
        for case in range(5):
            y_pred, y = rng.standard_normal((2, rng.integers(1, 20)))
            expect_close(mse(y_pred, y), reference_mse(y_pred, y),
                         what=f"mse(y_pred, y) with {describe_inputs(y_pred=y_pred, y=y)}")

The question function receives the learner's objects, in the order of ``names``, and a seeded
``numpy.random.Generator`` named ``rng``. Checks test behaviour, never the reference's quirks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy

from coursepkg.backend import is_array, to_numpy


class CheckFailure(AssertionError):  # noqa: N818  (public name, used by every lesson)
    """A wrong answer: the message says which input, what was expected, what came back."""


@dataclass
class Question:
    """One graded exercise."""

    id: str
    lesson: str
    points: float
    names: tuple[str, ...]
    run: Callable[..., None]
    reference: tuple[Any, ...]
    mutants: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    hint: str = ""
    title: str = ""


REGISTRY: dict[str, Question] = {}


def register(*, id: str, lesson: str, points: float, names: tuple[str, ...], reference: tuple[Any, ...],
             mutants: dict[str, tuple[Any, ...]] | None = None, hint: str = "",
             title: str = "") -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorator that adds a question function to :data:`REGISTRY` (see the module docstring)."""

    def decorate(run: Callable[..., None]) -> Callable[..., None]:
        if id in REGISTRY:
            raise ValueError(f"question id {id!r} is registered twice")
        if len(reference) != len(names):
            raise ValueError(f"question {id}: reference has {len(reference)} objects for names {names}")
        REGISTRY[id] = Question(id=id, lesson=lesson, points=points, names=tuple(names), run=run,
                                reference=tuple(reference), mutants=dict(mutants or {}), hint=hint,
                                title=title or (run.__doc__ or id).strip().splitlines()[0])
        return run

    return decorate


# ---------------------------------------------------------------------- helpers for question authors
def describe(value: Any) -> str:
    """A short description of a value for feedback: its shape and dtype, or its repr."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"array of shape {tuple(value.shape)} ({str(value.dtype).rsplit('.', 1)[-1]})"
    if hasattr(value, "data") and hasattr(value, "requires_grad"):
        return "Tensor of shape " + str(tuple(value.shape))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_inputs(**inputs: Any) -> str:
    """``"x: array of shape (3, 4) (float64), axis: 1"`` for the feedback message."""
    return ", ".join(f"{name}: {describe(value)}" for name, value in inputs.items())


def as_host(value: Any) -> numpy.ndarray:
    """Any array-like (NumPy, CuPy, array_api_strict, Tensor, number) as a NumPy array."""
    if hasattr(value, "requires_grad") and hasattr(value, "data"):
        value = value.data
    if is_array(value) and not isinstance(value, numpy.ndarray):
        return to_numpy(value)
    return numpy.asarray(value)


def max_relative_error(got: Any, expected: Any) -> float:
    """max |got - expected| / max(|got|, |expected|, 1e-8) over all elements."""
    g, e = as_host(got).astype(float), as_host(expected).astype(float)
    if g.size == 0:
        return 0.0
    return float(numpy.max(numpy.abs(g - e) / numpy.maximum(numpy.maximum(numpy.abs(g), numpy.abs(e)), 1e-8)))


def expect_close(got: Any, expected: Any, what: str, rtol: float = 1e-5, atol: float = 1e-8,
                 hint: str = "") -> None:
    """Raise :class:`CheckFailure` unless ``got`` matches ``expected`` in shape and value.

    Inputs:
    - got: what the learner's code returned.
    - expected: the right answer.
    - what: the call and its inputs, for the message, e.g. "mse(y_pred, y) with y: (5,)".
    - rtol, atol: as in ``numpy.allclose``.
    - hint: extra advice for this particular failure.
    """
    if got is None:
        raise CheckFailure(f"{what} returned None; did you forget `return`?" + _with(hint))
    try:
        g = as_host(got)
    except Exception as error:  # noqa: BLE001  (anything a learner returns)
        raise CheckFailure(f"{what} returned {describe(got)}, which is not an array ({error})." + _with(hint)) from None
    e = as_host(expected)
    if g.shape != e.shape:
        raise CheckFailure(f"{what}: expected shape {e.shape}, got shape {g.shape}." + _with(hint))
    if not numpy.all(numpy.isfinite(g)) and numpy.all(numpy.isfinite(e)):
        raise CheckFailure(f"{what}: the result contains NaN or infinity." + _with(hint))
    if not numpy.allclose(g, e, rtol=rtol, atol=atol):
        flat = numpy.argmax(numpy.abs(g.astype(float) - e.astype(float)).reshape(-1)) if g.size else 0
        where = numpy.unravel_index(flat, g.shape) if g.ndim else ()
        at = f" at index {tuple(int(i) for i in where)}" if g.ndim else ""
        raise CheckFailure(
            f"{what}: wrong values{at}: expected {_number(e[where])}, got {_number(g[where])}; "
            f"max relative error {max_relative_error(g, e):.2e} (tolerance {rtol:g})." + _with(hint))


def expect(condition: bool, message: str) -> None:
    """Raise :class:`CheckFailure` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


def _number(value: Any) -> str:
    return f"{float(value):.6g}" if numpy.ndim(value) == 0 and numpy.isrealobj(value) else repr(value)


def _with(hint: str) -> str:
    return f" Hint: {hint}" if hint else ""
