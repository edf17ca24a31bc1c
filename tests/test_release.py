"""Release: solution notebooks -> exercise notebooks (coursepkg.exercises.release)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coursepkg.cli import main
from coursepkg.exercises.release import ReleaseError, check_release, release, release_source

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SOLUTION = FIXTURES / "solutions" / "98_tiny.ipynb"


@pytest.fixture
def released(tmp_path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode, Path]:
    """(solution notebook, exercise notebook, exercises folder) after releasing the fixture."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    shutil.copy(SOLUTION, solutions)
    release(solutions, tmp_path / "exercises")
    exercise_path = tmp_path / "exercises" / SOLUTION.name
    return nbformat.read(SOLUTION, as_version=4), nbformat.read(exercise_path, as_version=4), tmp_path / "exercises"


def _cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {cell.id: cell for cell in notebook.cells}


def test_code_region_becomes_stub_at_its_indentation(released):
    _, exercise, _ = released
    cells = _cells(exercise)
    assert cells["square"].source == ('def square(x):\n    """Every element of x squared."""\n'
                                      "    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert cells["add"].source == ('def add(a, b):\n    """a + b, elementwise."""\n    for _ in range(1):\n'
                                   "        # YOUR CODE HERE\n        raise NotImplementedError()\n    return total")


def test_markdown_region_becomes_your_answer_here(released):
    _, exercise, _ = released
    assert _cells(exercise)["why"].source == "Why is `square(x)` never negative?\n\nYOUR ANSWER HERE"


def test_no_marker_and_no_solution_text_is_left(released):
    _, exercise, _ = released
    text = nbformat.writes(exercise)
    for leftover in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN", "return x * x", "total = a + b", "x * x >= 0",
                     "teacher only"):
        assert leftover not in text


def test_cells_without_markers_are_copied_unchanged(released):
    solution, exercise, _ = released
    for cell_id in ("intro", "imports", "check-square", "check-add", "grade"):
        assert _cells(exercise)[cell_id].source == _cells(solution)[cell_id].source


def test_outputs_and_execution_counts_are_cleared(released):
    solution, exercise, _ = released
    assert any(cell.get("outputs") for cell in solution.cells)  # the fixture has outputs to clear
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_cell_ids_are_the_solution_ids_and_hidden_cells_are_removed(released):
    solution, exercise, _ = released
    hidden = {"hidden-test", "teacher"}  # a BEGIN/END HIDDEN cell and a cell tagged "hidden"
    assert [cell.id for cell in exercise.cells] == [cell.id for cell in solution.cells if cell.id not in hidden]


def test_metadata_is_minimal(released):
    solution, exercise, _ = released
    assert set(exercise.metadata) == {"kernelspec", "language_info"}
    assert exercise.metadata.kernelspec == solution.metadata.kernelspec
    assert exercise.metadata.language_info == {"name": "python"}
    assert dict(_cells(exercise)["imports"].metadata) == {"tags": ["setup"]}
    nbformat.validate(exercise)


def test_release_is_idempotent_and_byte_identical(released, tmp_path: Path):
    _, _, exercises = released
    path = exercises / SOLUTION.name
    first = path.read_bytes()
    assert release(tmp_path / "solutions", exercises) == []
    assert path.read_bytes() == first
    assert first.endswith(b"\n") and b"\r\n" not in first
    assert check_release(tmp_path / "solutions", exercises) == []


def test_releasing_an_exercise_again_changes_nothing(released, tmp_path: Path):
    _, _, exercises = released
    again = tmp_path / "again"
    release(exercises, again)
    assert (again / SOLUTION.name).read_bytes() == (exercises / SOLUTION.name).read_bytes()


def test_check_release_names_edited_missing_and_orphan_exercises(released, tmp_path: Path):
    _, _, exercises = released
    solutions = tmp_path / "solutions"
    path = exercises / SOLUTION.name
    path.write_text(path.read_text(encoding="utf-8").replace("YOUR CODE HERE", "my attempt"), encoding="utf-8")
    assert check_release(solutions, exercises) == [path]
    path.unlink()
    assert check_release(solutions, exercises) == [path]
    release(solutions, exercises)
    orphan = exercises / "97_gone.ipynb"
    shutil.copy(path, orphan)
    assert check_release(solutions, exercises) == [orphan]
    assert release(solutions, exercises) == [orphan] and not orphan.exists()


@pytest.mark.parametrize(("source", "line", "words"), [
    ("x = 1\n### BEGIN SOLUTION\ny = 2", 2, "never closed"),
    ("x = 1\n### END SOLUTION", 2, "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", 2, "inside the region"),
    ("### BEGIN SOLUTION\ny = 2\n### END HIDDEN", 3, "without a matching"),
    ("### BEGIN HIDDEN\nassert True", 1, "never closed"),
])
def test_unbalanced_markers_are_an_error_naming_notebook_cell_and_line(tmp_path: Path, source, line, words):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    notebook = new_notebook(cells=[new_markdown_cell("# intro"), new_code_cell(source)])
    nbformat.write(notebook, solutions / "05_broken.ipynb")
    with pytest.raises(ReleaseError) as error:
        release(solutions, tmp_path / "exercises")
    message = str(error.value)
    assert "05_broken.ipynb" in message and "cell 1" in message and f"line {line}" in message and words in message
    assert not (tmp_path / "exercises" / "05_broken.ipynb").exists()


def test_release_source_keeps_a_final_newline_only_if_there_was_one():
    assert release_source("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "code") == \
        "# YOUR CODE HERE\nraise NotImplementedError()\n"
    assert release_source("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "code") == \
        "# YOUR CODE HERE\nraise NotImplementedError()"
    assert release_source("a = 1\n### BEGIN HIDDEN\nb = 2\n### END HIDDEN\nc = 3", "code") == "a = 1\nc = 3"
    assert release_source("### BEGIN HIDDEN\nb = 2\n### END HIDDEN", "code") is None


def test_cli_release_and_check_exit_codes(tmp_path: Path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    shutil.copy(SOLUTION, solutions)
    assert main(["release", "--check", str(solutions), str(exercises)]) == 1
    assert main(["release", str(solutions), str(exercises)]) == 0
    assert main(["release", "--check", str(solutions), str(exercises)]) == 0
    nbformat.write(new_notebook(cells=[new_code_cell("### END SOLUTION")]), solutions / "06_bad.ipynb")
    assert main(["release", str(solutions), str(exercises)]) == 2
    assert "06_bad.ipynb" in capsys.readouterr().err


def test_exercises_folder_is_up_to_date_with_solutions():
    """CI guard: exercises/ must be exactly what `coursepkg release` generates from solutions/."""
    if not (ROOT / "solutions").is_dir():
        pytest.skip("no solutions/ folder in this checkout")
    stale = check_release(ROOT / "solutions", ROOT / "exercises")
    assert not stale, ("these exercise notebooks are out of date with their solutions: "
                       + ", ".join(str(path.relative_to(ROOT)) for path in stale)
                       + ". Run `coursepkg release` and commit the result.")
