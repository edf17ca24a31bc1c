"""Running a question against the learner's code and reporting the verdict."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

import numpy

from coursepkg.exercises.question import REGISTRY, CheckFailure, Question

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"


@dataclass
class Verdict:
    """The outcome of one question: status, points earned out of points possible, message."""

    question_id: str
    status: str
    points: float
    max_points: float
    message: str = ""

    def __bool__(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        mark = {PASSED: "PASSED", FAILED: "FAILED", NOT_ATTEMPTED: "NOT ATTEMPTED", ERROR: "ERROR"}[self.status]
        head = f"[{self.question_id}] {mark} ({self.points:g}/{self.max_points:g} points)"
        return head + (f"\n  {self.message}" if self.message else "")

    def _repr_html_(self) -> str:
        import html

        color = {PASSED: "#1a7f37", FAILED: "#cf222e", NOT_ATTEMPTED: "#9a6700", ERROR: "#cf222e"}[self.status]
        body = html.escape(str(self)).replace("\n", "<br>")
        return f'<div style="border-left:4px solid {color};padding:4px 8px;font-family:monospace">{body}</div>'


def load_questions() -> dict[str, Question]:
    """Import every ``lesson_NN`` module of this package so that its questions are registered."""
    import coursepkg.exercises as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("lesson_"):
            importlib.import_module(f"coursepkg.exercises.{info.name}")
    return REGISTRY


def get_question(question_id: str) -> Question:
    """The registered question with this id; a KeyError listing the lesson's ids otherwise."""
    questions = load_questions()
    if question_id not in questions:
        lesson = question_id.split(".")[0]
        known = sorted(q for q in questions if q.startswith(lesson + "."))
        raise KeyError(f"No question {question_id!r}. Questions of lesson {lesson}: {known}")
    return questions[question_id]


def run_question(question: Question, objects: tuple[Any, ...], seed: int = 0) -> Verdict:
    """Run ``question`` on the learner's ``objects`` and return its verdict (never raises)."""
    from coursepkg.backend import get_backend, set_backend

    max_points = question.points
    if len(objects) != len(question.names):
        return Verdict(question.id, ERROR, 0, max_points,
                       f"this check needs {len(question.names)} object(s): {', '.join(question.names)}; "
                       f"got {len(objects)}.")
    previous_backend = get_backend()
    try:
        question.run(*objects, rng=numpy.random.default_rng(seed))
    except NotImplementedError:
        return Verdict(question.id, NOT_ATTEMPTED, 0, max_points,
                       f"{', '.join(question.names)}: not implemented yet (replace the "
                       "`raise NotImplementedError()` with your code).")
    except CheckFailure as failure:
        hint = f"\n  Hint: {question.hint}" if question.hint and "Hint:" not in str(failure) else ""
        return Verdict(question.id, FAILED, 0, max_points, str(failure) + hint)
    except RecursionError:
        return Verdict(question.id, ERROR, 0, max_points, "your code recursed without end (RecursionError).")
    except Exception as error:  # noqa: BLE001  (a learner's bug is a verdict, not a crash)
        return Verdict(question.id, ERROR, 0, max_points,
                       f"your code raised {type(error).__name__}: {error}")
    finally:
        set_backend(previous_backend)
    return Verdict(question.id, PASSED, max_points, max_points, question.title)


def check(question_id: str, *objects: Any, seed: int = 0) -> Verdict:
    """Check the learner's objects for one question and show the verdict (the notebook check cell).

    Example: ``check("02.mse", mse)``. Returns the :class:`Verdict` (truthy when passed).
    """
    verdict = run_question(get_question(question_id), objects, seed=seed)
    try:
        from IPython.display import display

        from IPython import get_ipython

        if get_ipython() is not None:
            display(verdict)
            return verdict
    except ImportError:
        pass
    print(verdict)
    return verdict


def grade_here(lesson: str, namespace: dict[str, Any] | None = None, seed: int = 0) -> list[Verdict]:
    """Grade every question of ``lesson`` against the notebook's own definitions and show a table.

    Inputs:
    - lesson: the lesson number as a string, e.g. "02".
    - namespace: where to find the learner's objects; default: the caller's globals.
    Returns: the list of verdicts (one per question).
    """
    import inspect

    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals  # type: ignore[union-attr]
    verdicts = []
    for question in sorted((q for q in load_questions().values() if q.lesson == lesson), key=lambda q: q.id):
        missing = [name for name in question.names if name not in namespace]
        if missing:
            verdicts.append(Verdict(question.id, NOT_ATTEMPTED, 0, question.points,
                                    f"not defined in this notebook: {', '.join(missing)}"))
            continue
        verdicts.append(run_question(question, tuple(namespace[n] for n in question.names), seed=seed))
    total = sum(v.points for v in verdicts)
    possible = sum(v.max_points for v in verdicts)
    lines = [f"{v.question_id:<12} {v.status:<14} {v.points:g}/{v.max_points:g}" for v in verdicts]
    print("\n".join(lines + [f"{'TOTAL':<12} {'':<14} {total:g}/{possible:g}"]))
    return verdicts
