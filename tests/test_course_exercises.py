"""Every generated exercise notebook scores zero, every question "not attempted", and runs
without any error other than the stubs' ``NotImplementedError``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coursepkg.exercises.grade import grade_notebook
from coursepkg.exercises.runner import NOT_ATTEMPTED

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_generated_exercise_scores_zero_and_reads_not_attempted(path: Path):
    grade = grade_notebook(path, timeout_per_cell=300)
    assert grade.verdicts, f"{path.name}: no questions were graded"
    assert grade.score == 0, f"{path.name} scores points with no answers filled in:\n{grade}"
    not_attempted = [v.question_id for v in grade.verdicts if v.status == NOT_ATTEMPTED]
    assert len(not_attempted) == len(grade.verdicts), f"{path.name}: every question should read not attempted:\n{grade}"
    unexpected = [note for note in grade.notes if "NotImplementedError" not in note]
    assert not unexpected, f"{path.name}: errors other than the stubs' NotImplementedError:\n{grade}"
