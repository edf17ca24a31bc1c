"""Every solution notebook of the course earns full marks from the terminal grader.

The grader runs the notebook in a fresh kernel and scores it with the package's own checks, so
this proves the single source (``solutions/``) and the checks agree. Slow: one kernel per lesson.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursepkg.exercises.grade import grade_notebook, lesson_of
from coursepkg.exercises.runner import questions_of

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_gets_full_marks(path: Path):
    assert questions_of(lesson_of(path)), f"lesson {lesson_of(path)} registers no graded questions"
    grade = grade_notebook(path, timeout_per_cell=300)
    assert grade.full_marks, f"{path.name} does not get full marks:\n{grade}"
    assert not grade.notes, f"{path.name} ran with problems:\n{grade}"
