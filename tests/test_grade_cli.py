"""Grading folders, the reports, grade_here in a notebook, and the `coursepkg` command line."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from fixtures.lesson98 import QUESTIONS_FILE, SOLUTION, lesson_98_registered, position, write_variant
from nbclient import NotebookClient

from coursepkg.cli import main
from coursepkg.exercises.grade import GradeError, find_notebooks, is_check_cell, lesson_of
from coursepkg.exercises.release import release
from coursepkg.exercises.report import CSV_COLUMNS, TOTAL
from coursepkg.exercises.runner import NOT_ATTEMPTED, PASSED, Verdict, questions_of
from coursepkg.exercises.scoring import grade_here


@pytest.fixture(autouse=True, scope="module")
def _lesson_98():
    with lesson_98_registered():
        yield


# ------------------------------------------------------------------------------- names and cells
@pytest.mark.parametrize(("name", "lesson"), [
    ("02_gradient_descent.ipynb", "02"), ("13_attention.ipynb", "13"), ("alice_02_gd.ipynb", "02"),
    ("bob-smith_07_optimizers.ipynb", "07"), ("02_03_both.ipynb", "02"),
])
def test_lesson_comes_from_the_file_name(name, lesson):
    assert lesson_of(Path("submissions") / name) == lesson


@pytest.mark.parametrize("name", ["untitled.ipynb", "2_short.ipynb", "02-no-underscore.ipynb", "02_notes.txt"])
def test_file_name_without_lesson_number_is_an_error(name):
    with pytest.raises(GradeError, match="lesson number"):
        lesson_of(name)


def test_find_notebooks_reads_students_from_folders_and_file_names(tmp_path: Path):
    for relative in ["alice/98_tiny.ipynb", "bob/week1/98_tiny.ipynb", "carol_98_tiny.ipynb", "98_tiny.ipynb",
                     "alice/.ipynb_checkpoints/98_tiny-checkpoint.ipynb", "dave/scratch.ipynb"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("{}")
    found = [(student, path.relative_to(tmp_path).as_posix()) for student, path in find_notebooks(tmp_path)]
    assert sorted(found) == sorted([("alice", "alice/98_tiny.ipynb"), ("bob", "bob/week1/98_tiny.ipynb"),
                                    ("carol", "carol_98_tiny.ipynb"), ("", "98_tiny.ipynb")])


@pytest.mark.parametrize(("source", "expected"), [
    ('check("02.mse", mse)', True), ('check("02.a", a)\ncheck("02.b", b)', True), ('grade_here("02")', True),
    ('mse = 1\ncheck("02.mse", mse)', False), ("x = check", False), ("%time check(1)", False), ("", False),
])
def test_check_cells_are_recognized(source, expected):
    assert is_check_cell(source) is expected


# ------------------------------------------------------------------------------- grade_here
def _solution_namespace() -> dict:
    namespace: dict = {}
    notebook = nbformat.read(SOLUTION, as_version=4)
    for cell_id in ("imports", "square", "add"):
        exec(notebook.cells[position(notebook.cells, cell_id)].source, namespace)  # noqa: S102
    return namespace


def test_grade_here_grades_the_callers_globals(capsys):
    namespace = _solution_namespace()
    exec("grade = grade_here('98')", namespace)  # noqa: S102  (grade_here reads its caller's globals)
    grade = namespace["grade"]
    assert (grade.score, grade.max_score) == (3, 3)
    assert [v.status for v in grade.verdicts] == [PASSED, PASSED]
    assert capsys.readouterr().out.strip() == str(grade)  # outside IPython: the terminal table, printed


def test_grade_here_missing_names_and_stubs_are_not_attempted(capsys):
    namespace = {"grade_here": grade_here, "square": _stub}
    exec("grade = grade_here('98')", namespace)  # noqa: S102
    grade = namespace["grade"]
    assert grade.score == 0 and [v.status for v in grade.verdicts] == [NOT_ATTEMPTED, NOT_ATTEMPTED]
    assert "add is not defined" in grade.verdicts[1].message


def _stub(*args, **kwargs):
    raise NotImplementedError()


def test_terminal_table_lists_every_question_and_the_total():
    grade = _grade_of([Verdict("98.square", PASSED, 1, 1), Verdict("98.add", NOT_ATTEMPTED, 0, 2, "add: not yet")])
    lines = str(grade).splitlines()
    assert lines[1].split() == ["98.square", "passed", "1/1"]
    assert lines[2].split() == ["98.add", "not", "attempted", "0/2"]
    assert lines[3].split() == ["add:", "not", "yet"]
    assert lines[4].split() == [TOTAL, "1/3"]
    assert "98.add" in grade._repr_html_() and "1/3" in grade._repr_html_()


def _grade_of(verdicts):
    from coursepkg.exercises.report import NotebookGrade

    return NotebookGrade(notebook="x.ipynb", lesson="98", verdicts=verdicts)


@pytest.mark.notebooks
def test_in_a_notebook_each_check_and_the_grade_table_are_shown_once():
    notebook = nbformat.read(SOLUTION, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(SOLUTION.parent)}}).execute()
    cells = {cell.id: cell for cell in notebook.cells}
    for cell_id, text in [("check-square", "[98.square] PASSED"), ("check-add", "[98.add] PASSED"),
                          ("grade", "3/3")]:
        outputs = cells[cell_id].outputs
        assert len(outputs) == 1, f"cell {cell_id} shows {len(outputs)} outputs"
        assert text in outputs[0]["data"]["text/plain"] and "text/html" in outputs[0]["data"]


# ------------------------------------------------------------------------------- the command line
@pytest.mark.notebooks
def test_cli_grades_a_submissions_folder_and_writes_json_and_csv(tmp_path: Path, capsys):
    submissions = tmp_path / "submissions"
    (submissions / "alice").mkdir(parents=True)
    shutil.copy(SOLUTION, submissions / "alice")
    release(SOLUTION.parent, submissions / "bob")
    write_variant(submissions, lambda cells: cells.pop(position(cells, "add")), name="carol_98_tiny.ipynb")
    report_json, report_csv = tmp_path / "grades.json", tmp_path / "grades.csv"

    code = main(["grade", str(submissions), "--json", str(report_json), "--csv", str(report_csv)])

    assert code == 1  # not everyone has full marks
    scores = {entry["student"]: (entry["score"], entry["max_score"])
              for entry in json.loads(report_json.read_text())["notebooks"]}
    assert scores == {"alice": (3, 3), "bob": (0, 3), "carol": (1, 3)}
    with report_csv.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3 * (2 + 1)  # per student: two questions and a total
    totals = {row["student"]: row["points"] for row in rows if row["question"] == TOTAL}
    assert totals == {"alice": "3", "bob": "0", "carol": "1"}
    carol_add = next(row for row in rows if row["student"] == "carol" and row["question"] == "98.add")
    assert carol_add["status"] == NOT_ATTEMPTED and carol_add["max_points"] == "2"
    out = capsys.readouterr().out
    assert out.count(TOTAL) == 3 and "3 notebook(s) graded" in out


@pytest.mark.notebooks
def test_cli_grade_exits_zero_on_full_marks():
    assert main(["grade", str(SOLUTION), "--timeout", "60"]) == 0


def test_cli_grade_cannot_run_without_questions_or_notebooks(tmp_path: Path, capsys):
    unknown = tmp_path / "57_nothing.ipynb"
    shutil.copy(SOLUTION, unknown)
    assert main(["grade", str(unknown)]) == 2
    assert main(["grade", str(tmp_path / "missing")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["grade", str(empty)]) == 2
    assert "lesson 57" in capsys.readouterr().err


def test_cli_questions_lists_points(capsys):
    assert main(["questions", "98"]) == 0
    out = capsys.readouterr().out
    assert "98.square" in out and "98.add" in out and "2 question(s), 3 points" in out
    assert main(["questions", "57"]) == 1


@pytest.mark.notebooks
def test_cli_html_executes_notebooks_into_pages(tmp_path: Path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(SOLUTION, lessons)
    assert main(["html", str(lessons), str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "98_tiny.html").read_text(encoding="utf-8")
    assert "squares every element" in page and TOTAL in page  # outputs of this run, not the stored ones
    assert "98_tiny.html" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    write_variant(lessons, lambda cells: cells.insert(1, nbformat.v4.new_code_cell("1 / 0")))
    assert main(["html", str(lessons), str(tmp_path / "site")]) == 1


def test_extra_questions_can_be_named_by_module_path():
    assert QUESTIONS_FILE.exists()
    assert [q.id for q in questions_of("98")] == ["98.square", "98.add"]


def test_html_pages_show_figures_even_when_ci_sets_mplbackend_agg(tmp_path: Path, monkeypatch):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")])
    nbformat.write(nb, lessons / "99_plot.ipynb")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert main(["html", str(lessons), str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "99_plot.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
