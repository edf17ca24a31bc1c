"""The terminal grader (coursepkg.exercises.grade) on the test-only lesson 98.

Lesson 98 has two questions: "98.square" (1 point, name ``square``) and "98.add" (2 points,
name ``add``); tests/fixtures/solutions/98_tiny.ipynb is its solution notebook. Every test
changes that notebook the way a learner might and states the exact score it must get.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.lesson98 import SOLUTION, code, lesson_98_registered, position, write_variant

from coursepkg.exercises.grade import grade_notebook
from coursepkg.exercises.release import release
from coursepkg.exercises.runner import ERROR, FAILED, NOT_ATTEMPTED, PASSED

pytestmark = pytest.mark.notebooks
SHORT = 3  # seconds per cell for the tests that must hit the time limit


@pytest.fixture(autouse=True, scope="module")
def _lesson_98():
    with lesson_98_registered():
        yield


def statuses(grade) -> dict[str, str]:
    return {verdict.question_id: verdict.status for verdict in grade.verdicts}


def notes(grade) -> str:
    return "\n".join(grade.notes)


def test_solution_gets_full_marks():
    grade = grade_notebook(SOLUTION)
    assert (grade.score, grade.max_score) == (3, 3)
    assert statuses(grade) == {"98.square": PASSED, "98.add": PASSED}
    assert grade.lesson == "98" and grade.notes == []


def test_generated_exercise_gets_zero_and_reads_not_attempted(tmp_path: Path):
    release(SOLUTION.parent, tmp_path)
    grade = grade_notebook(tmp_path / SOLUTION.name)
    assert (grade.score, grade.max_score) == (0, 3)
    assert statuses(grade) == {"98.square": NOT_ATTEMPTED, "98.add": NOT_ATTEMPTED}


def test_cells_in_reverse_order_are_graded_on_the_final_definitions(tmp_path: Path):
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.reverse()))
    assert grade.score == 3


def test_deleted_cell_counts_as_not_attempted(tmp_path: Path):
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.pop(position(cells, "add"))))
    assert grade.score == 1
    assert statuses(grade) == {"98.square": PASSED, "98.add": NOT_ATTEMPTED}
    assert "add is not defined" in grade.verdicts[1].message


def test_duplicated_cells_grade_the_last_definition(tmp_path: Path):
    def duplicate_then_break_add(cells):
        cells.extend([code(cell.source) for cell in cells if cell.cell_type == "code"])
        cells.append(code("def add(a, b):\n    return a * b"))

    grade = grade_notebook(write_variant(tmp_path, duplicate_then_break_add))
    assert grade.score == 1
    assert statuses(grade) == {"98.square": PASSED, "98.add": FAILED}


def test_cell_changed_to_markdown_is_not_run(tmp_path: Path):
    def to_markdown(cells):
        cells[position(cells, "square")].cell_type = "markdown"
        for key in ("outputs", "execution_count"):
            cells[position(cells, "square")].pop(key)

    grade = grade_notebook(write_variant(tmp_path, to_markdown))
    assert grade.score == 2
    assert statuses(grade) == {"98.square": NOT_ATTEMPTED, "98.add": PASSED}


def test_cells_that_raise_do_not_stop_the_later_cells(tmp_path: Path):
    def add_errors(cells):
        cells.insert(position(cells, "square"), code("raise RuntimeError('boom')"))
        cells[position(cells, "add")].source += "\nundefined_name"  # add is defined, then the cell raises

    grade = grade_notebook(write_variant(tmp_path, add_errors))
    assert grade.score == 3
    assert "RuntimeError: boom" in notes(grade) and "NameError" in notes(grade)


def test_endless_loop_is_interrupted_and_the_rest_runs(tmp_path: Path):
    path = write_variant(tmp_path, lambda cells: cells.insert(position(cells, "add"), code("while True:\n    pass")))
    grade = grade_notebook(path, timeout_per_cell=SHORT)
    assert grade.score == 3
    assert f"ran longer than {SHORT} s" in notes(grade) and "restarted" not in notes(grade)


def test_loop_that_ignores_interrupts_gets_the_kernel_restarted(tmp_path: Path):
    stubborn = "import time\nwhile True:\n    try:\n        time.sleep(60)\n    except BaseException:\n        pass"
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.insert(position(cells, "add"), code(stubborn))),
                           timeout_per_cell=SHORT)
    assert grade.score == 3  # square, defined before the loop, was defined again after the restart
    assert "could not be interrupted" in notes(grade)


def test_sys_exit_exit_and_os_exit(tmp_path: Path):
    def exits(cells):
        cells.insert(position(cells, "square"), code("import sys\nsys.exit(3)"))  # SystemExit: an exception
        cells.insert(position(cells, "add"), code("exit()"))  # the kernel shuts down after this cell
        cells.append(code("import os\nos._exit(1)"))  # the kernel dies at once

    grade = grade_notebook(write_variant(tmp_path, exits))
    assert grade.score == 3  # the kernel was restarted twice, the definitions before each crash run again
    assert "raised SystemExit" in notes(grade)
    assert notes(grade).count("stopped the kernel") == 2


def test_endless_loop_inside_a_checked_function_times_out_that_question(tmp_path: Path):
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.append(
        code("def add(a, b):\n    while True:\n        pass"))), timeout_per_cell=SHORT)
    assert grade.score == 1
    assert statuses(grade) == {"98.square": PASSED, "98.add": ERROR}
    assert "timed out" in grade.verdicts[1].message


def test_function_that_kills_the_kernel_while_checked_scores_zero_and_grading_goes_on(tmp_path: Path):
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.append(
        code("def square(x):\n    import os\n    os._exit(0)"))))
    assert grade.score == 2  # add is still graded, in a restarted kernel
    assert statuses(grade) == {"98.square": ERROR, "98.add": PASSED}
    assert "stopped the kernel" in grade.verdicts[0].message


def test_huge_output_is_not_kept(tmp_path: Path):
    flood = "print('x' * 20_000_000)\nfor i in range(20_000):\n    print(i)"
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.insert(1, code(flood))))
    assert grade.score == 3 and grade.notes == []
    assert len(str(grade.to_dict())) < 2_000


def test_notebook_that_fakes_the_checks_is_graded_by_the_package(tmp_path: Path):
    cheat = (
        "import coursepkg.exercises as ex, coursepkg.exercises.runner as runner\n"
        "import coursepkg.exercises.scoring as scoring\n"
        "def check(*args, **kwargs):\n    return True\n"
        "ex.check = runner.check = check\n"
        "runner.run_question = lambda question, objects, seed=0: runner.Verdict(question.id, 'passed', 9, 9)\n"
        "scoring.score_question = lambda question, namespace, seed=0: runner.Verdict(question.id, 'passed', 9, 9)\n"
        "ex.load_questions()['98.add'].run = lambda *args, **kwargs: None\n"
        "def add(a, b):\n    return a - b\n"
        "check('98.add', add)")
    grade = grade_notebook(write_variant(tmp_path, lambda cells: cells.append(code(cheat))))
    assert grade.score == 1 and grade.notes == []
    assert statuses(grade) == {"98.square": PASSED, "98.add": FAILED}


def test_total_time_limit_skips_the_remaining_cells(tmp_path: Path):
    def slow_start(cells):
        cells.insert(position(cells, "add"), code("import time\ntime.sleep(2)"))
        cells.insert(position(cells, "add"), code("import time\ntime.sleep(2)"))

    grade = grade_notebook(write_variant(tmp_path, slow_start), total_timeout=3)
    assert grade.score == 1
    assert statuses(grade) == {"98.square": PASSED, "98.add": NOT_ATTEMPTED}
    assert "time limit of 3 s" in notes(grade)


def test_unreadable_notebook_scores_zero_without_crashing(tmp_path: Path):
    path = tmp_path / "98_tiny.ipynb"
    path.write_text("{ this is not json", encoding="utf-8")
    grade = grade_notebook(path)
    assert (grade.score, grade.max_score) == (0, 3)
    assert "could not be read" in notes(grade)
