"""Running a question against the learner's code and reporting the verdict.

Questions live in the ``lesson_NN`` modules of this package; :func:`load_questions` imports them.
Extra question modules (a test-only lesson, an instructor's private questions) are named in the
environment variable ``COURSEPKG_EXTRA_QUESTIONS``: entries separated by commas (or ``os.pathsep``),
each a dotted module name (``my_questions``) or the path of a ``.py`` file
(``/course/private/lesson_98_questions.py``). They are imported by :func:`load_questions` too.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

from coursepkg.exercises.display import ShownOnce, show
from coursepkg.exercises.question import REGISTRY, CheckFailure, Question

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
EXTRA_QUESTIONS_ENV = "COURSEPKG_EXTRA_QUESTIONS"


@dataclass
class Verdict(ShownOnce):
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


# ---------------------------------------------------------------------------------- finding questions
def extra_question_modules() -> list[str]:
    """The entries of ``COURSEPKG_EXTRA_QUESTIONS`` (module names or ``.py`` paths), in order."""
    text = os.environ.get(EXTRA_QUESTIONS_ENV, "")
    return [entry.strip() for entry in re.split(f"[,{re.escape(os.pathsep)}]", text) if entry.strip()]


def extra_module_name(entry: str) -> str:
    """The name an extra question module gets in ``sys.modules``: a ``.py`` path gives its stem."""
    return Path(entry).stem if entry.endswith(".py") else entry


def _import_extra(entry: str) -> None:
    if not entry.endswith(".py"):
        importlib.import_module(entry)
        return
    name = extra_module_name(entry)
    if name in sys.modules:
        return
    path = Path(entry).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{EXTRA_QUESTIONS_ENV} names {entry!r}, which is not a file")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def load_questions(lesson: str | None = None) -> dict[str, Question]:
    """Register the questions and return the whole registry (question id -> :class:`Question`).

    Imports the ``lesson_NN`` modules of this package (only lesson ``lesson``'s module when it is
    given, e.g. ``"02"`` imports ``lesson_02``) and the modules named in ``COURSEPKG_EXTRA_QUESTIONS``.
    """
    import coursepkg.exercises as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("lesson_") and (lesson is None or _module_lesson(info.name) == lesson):
            importlib.import_module(f"coursepkg.exercises.{info.name}")
    for entry in extra_question_modules():
        _import_extra(entry)
    return REGISTRY


def _module_lesson(module_name: str) -> str:
    """``"lesson_02"`` and ``"lesson_02_gradient_descent"`` -> ``"02"``."""
    return module_name.removeprefix("lesson_").split("_")[0]


def questions_of(lesson: str) -> list[Question]:
    """The questions of one lesson (e.g. ``"02"``), in the order they were registered."""
    load_questions(lesson)
    return [question for question in REGISTRY.values() if question.lesson == lesson]


def get_question(question_id: str) -> Question:
    """The registered question with this id; a KeyError listing the lesson's ids otherwise."""
    lesson = question_id.split(".")[0]
    questions = load_questions(lesson)
    if question_id not in questions:
        questions = load_questions()
    if question_id not in questions:
        known = sorted(q for q in questions if q.startswith(lesson + "."))
        raise KeyError(f"No question {question_id!r}. Questions of lesson {lesson}: {known}")
    return questions[question_id]


# ---------------------------------------------------------------------------------- running them
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

    Example: ``check("02.mse", mse)``. Returns the :class:`Verdict` (truthy when passed); in a
    notebook it is shown once, even when the check is the cell's last line.
    """
    verdict = run_question(get_question(question_id), objects, seed=seed)
    show(verdict)
    return verdict
