"""Graded exercises: the question registry, the checks, and the verdicts learners see.

In an exercise notebook::

    from coursepkg.exercises import check
    check("02.mse", mse)        # instant, specific feedback on your function
"""

from coursepkg.exercises.question import (
    REGISTRY,
    CheckFailure,
    Question,
    describe,
    describe_inputs,
    expect,
    expect_close,
    register,
)
from coursepkg.exercises.runner import Verdict, check, get_question, grade_here, load_questions, run_question

__all__ = [
    "REGISTRY", "CheckFailure", "Question", "Verdict", "check", "describe", "describe_inputs", "expect",
    "expect_close", "get_question", "grade_here", "load_questions", "register", "run_question",
]
