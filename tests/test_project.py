"""Project hygiene: dependency lists agree, notebooks are committed clean, lessons are complete."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises")


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_requirement_name(s) for s in specs}


def _environment_names() -> set[str]:
    names, in_dependencies, in_pip = set(), False, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped == "dependencies:":
            in_dependencies = True
        elif stripped.startswith("- pip:"):
            in_pip = True
        elif stripped.startswith("- ") and in_dependencies and not in_pip:
            names.add(_requirement_name(stripped[2:]))
    return names - {"python", "pip"}


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    pyproject, environment = _pyproject_names(), _environment_names()
    assert pyproject == environment, (
        f"only in pyproject.toml: {sorted(pyproject - environment)}; "
        f"only in environment.yml: {sorted(environment - pyproject)}")


def test_environment_yml_installs_the_package_editable():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def _all_notebooks() -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))


@pytest.mark.parametrize("path", _all_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_notebook_has_no_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them (nbstripout) before committing"


def test_every_solution_has_a_lesson_and_an_exercise():
    solutions = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    lessons = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    exercises = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert solutions <= lessons, f"solutions without a lesson: {sorted(solutions - lessons)}"
    assert solutions == exercises, (f"solutions without a generated exercise: {sorted(solutions - exercises)}; "
                                    f"exercises without a solution: {sorted(exercises - solutions)}")


def test_readme_lists_every_lesson():
    readme = (ROOT / "README.md").read_text()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        assert path.name in readme, f"README.md does not list {path.name}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()


def test_search_is_imported_on_first_use_and_then_works():
    import subprocess
    import sys

    code = ("import sys, coursepkg as cp; assert 'coursepkg.search' not in sys.modules; "
            "assert cp.search.search is sys.modules['coursepkg.search'].search; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
