"""Graded exercises: the question registry, the checks, and the verdicts learners see.

In an exercise notebook::

    from coursepkg.exercises import check, grade_here
    check("02.mse", mse)        # instant, specific feedback on your function
    ...
    grade_here("02")            # last cell: the whole lesson's table of points

For teachers (imported on demand, they need nbclient/nbconvert):

- :mod:`coursepkg.exercises.release`: ``release``/``check_release`` (solutions -> exercises).
- :mod:`coursepkg.exercises.grade`: ``grade_notebook``/``grade_path`` (the terminal grader).
- :mod:`coursepkg.exercises.report`: ``NotebookGrade``, ``write_json``, ``write_csv``.
- :mod:`coursepkg.exercises.publish`: ``notebooks_to_html``.

The command line ``coursepkg`` (:mod:`coursepkg.cli`) wraps them all.
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
from coursepkg.exercises.runner import (
    Verdict,
    check,
    get_question,
    load_questions,
    questions_of,
    run_question,
)
from coursepkg.exercises.scoring import grade_here

__all__ = [
    "REGISTRY", "CheckFailure", "Question", "Verdict", "check", "describe", "describe_inputs", "expect",
    "expect_close", "get_question", "grade_here", "load_questions", "questions_of", "register", "run_question",
]
