"""Scoring a whole lesson against a namespace: the learner's notebook globals.

A question names the objects it grades (``names=("mse",)``); they are looked up by name in the
namespace, so the order of the cells does not matter, only what is defined at the end. A name
that is not defined counts as "not attempted".

- :func:`grade_here` is the last cell of every exercise notebook: ``grade_here("02")``.
- :func:`grade_question_to_file` is what the terminal grader runs inside the learner's kernel.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from coursepkg.exercises.display import show
from coursepkg.exercises.question import Question
from coursepkg.exercises.report import NotebookGrade
from coursepkg.exercises.runner import NOT_ATTEMPTED, Verdict, get_question, questions_of, run_question


def score_question(question: Question, namespace: Mapping[str, Any], seed: int = 0) -> Verdict:
    """Run ``question`` on the objects that ``namespace`` holds under the question's names."""
    missing = [name for name in question.names if name not in namespace]
    if missing:
        return Verdict(question.id, NOT_ATTEMPTED, 0, question.points,
                       f"{', '.join(missing)} is not defined: run the cell that defines "
                       f"{'it' if len(missing) == 1 else 'them'}, or write {'it' if len(missing) == 1 else 'them'}.")
    return run_question(question, tuple(namespace[name] for name in question.names), seed=seed)


def score_lesson(lesson: str, namespace: Mapping[str, Any], seed: int = 0) -> list[Verdict]:
    """One verdict per question of ``lesson`` (e.g. "02"), in the lesson's order."""
    questions = questions_of(lesson)
    if not questions:
        raise KeyError(f"No questions are registered for lesson {lesson!r}.")
    return [score_question(question, namespace, seed=seed) for question in questions]


def grade_here(lesson: str, seed: int = 0) -> NotebookGrade:
    """Grade every question of ``lesson`` on this notebook's definitions, and show the table.

    Call it at the end of an exercise notebook: ``grade_here("02")``. It uses the globals of the
    code that calls it (the notebook), so run the cells above first. Returns the
    :class:`~coursepkg.exercises.report.NotebookGrade`; the table is the one ``coursepkg grade`` prints.
    """
    caller = inspect.currentframe().f_back
    try:
        namespace = caller.f_globals
    finally:
        del caller
    grade = NotebookGrade(notebook="this notebook", lesson=lesson, verdicts=score_lesson(lesson, namespace, seed))
    show(grade)
    return grade


def grade_question_to_file(question_id: str, namespace: Mapping[str, Any], path: str, seed: int = 0) -> None:
    """Score one question and write its verdict as JSON to ``path`` (used by the terminal grader).

    The backend is reset to the default first, so a notebook that switched backends is graded
    like every other one. The file is written under a temporary name and renamed, so the grader
    never reads half a file.
    """
    from coursepkg.backend import reset_backend

    reset_backend()
    verdict = score_question(get_question(question_id), namespace, seed=seed)
    partial = Path(path + ".partial")
    partial.write_text(json.dumps(asdict(verdict)), encoding="utf-8")
    os.replace(partial, path)
