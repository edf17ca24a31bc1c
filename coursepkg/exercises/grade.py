"""The terminal grader: run a learner's notebook in a fresh kernel and score every question.

How a notebook is graded (``grade_notebook``):

1. Its lesson comes from the file name: ``02_gradient_descent.ipynb`` (or ``alice_02_....ipynb``)
   is lesson "02"; the questions come from the installed package, never from the notebook.
2. Its code cells run in order in a fresh kernel, except the check cells (cells that only call
   ``check(...)`` or ``grade_here(...)``): their verdicts are the learner's business, not the grade.
   A cell that raises is noted and the next one runs. A cell that runs longer than
   ``timeout_per_cell`` is interrupted; a cell that stops the kernel (``os._exit``, ``exit()``)
   or cannot be interrupted gets the kernel restarted and the cells before it run again.
   Notes name cells by their position in the notebook, counting from 1, markdown cells included.
3. The grader then runs its own cells: one re-imports ``coursepkg.exercises`` from scratch
   (so a notebook that replaced ``check`` or edited the registry changes nothing), then one cell
   per question scores the objects the notebook's globals hold under the question's names
   and writes the verdict as JSON to a file whose path only the grader knows. A question
   whose check runs too long or kills the kernel gets 0 points and says so.

Only ``coursepkg.exercises`` is re-imported, not the whole package: the learner's objects are
built on the package's classes (``Tensor``, ``Module``), and a second copy of those classes
would make every ``isinstance`` check in the learner's code fail.

What this does not stop: the learner's code runs in the same process as the checks, so code
written *to* cheat (rewriting numpy, or the grader's function while a check calls it) can. The
grader makes honest mistakes and edited check cells harmless; it is not a sandbox.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from coursepkg.exercises.kernel import DEAD, OK, RAISED, TIMEOUT, KernelSession
from coursepkg.exercises.question import Question
from coursepkg.exercises.report import NotebookGrade
from coursepkg.exercises.runner import (
    ERROR,
    EXTRA_QUESTIONS_ENV,
    PASSED,
    Verdict,
    extra_module_name,
    extra_question_modules,
    questions_of,
)

CHECK_FUNCTIONS = ("check", "grade_here")
FRESH_MODULES = ("coursepkg.exercises",)
MAX_RESTARTS = 5
_NAME = re.compile(r"^(?P<prefix>.+?)[_\-. ](?P<lesson>\d{2})_.*\.ipynb$")


class GradeError(ValueError):
    """The grader cannot start: a file name without a lesson number, a lesson without questions."""


class _GiveUp(Exception):  # noqa: N818  (a signal inside the grader, not an error to show)
    """The kernel had to be restarted too many times."""


# ------------------------------------------------------------------------------------ file names
def _parse_name(name: str) -> tuple[str, str] | None:
    """(student prefix, lesson) of a notebook file name, or None when it has no lesson number."""
    match = re.match(r"(\d{2})_.*\.ipynb$", name)
    if match:
        return "", match.group(1)
    match = _NAME.match(name)
    return (match.group("prefix"), match.group("lesson")) if match else None


def lesson_of(path: str | Path) -> str:
    """The lesson number of a notebook from its file name: ``"02_gd.ipynb"`` -> ``"02"``.

    A student's name may come first: ``"alice_02_gd.ipynb"`` is lesson "02" too.
    """
    parsed = _parse_name(Path(path).name)
    if parsed is None:
        raise GradeError(f"{path}: the file name does not start with a lesson number (like 02_topic.ipynb)")
    return parsed[1]


def _student_prefix(path: Path) -> str:
    """``alice_02_gd.ipynb`` -> ``"alice"``; ``02_gd.ipynb`` -> ``""``."""
    parsed = _parse_name(path.name)
    return parsed[0] if parsed else ""


def find_notebooks(folder: str | Path) -> list[tuple[str, Path]]:
    """The (student, notebook) pairs of a submissions folder, sorted.

    ``folder/<student>/.../NN_topic.ipynb`` belongs to ``<student>``; a notebook directly in the
    folder belongs to the name before its lesson number (``alice_02_gd.ipynb``), or to "".
    Hidden folders (``.ipynb_checkpoints``) and notebooks without a lesson number are left out.
    """
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        try:
            lesson_of(path)
        except GradeError:
            continue
        student = relative.parts[0] if len(relative.parts) > 1 else _student_prefix(path)
        found.append((student, path))
    return found


# ------------------------------------------------------------------------------------ the notebook
def is_check_cell(source: str) -> bool:
    """Whether a code cell does nothing but call ``check(...)`` / ``grade_here(...)``."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Name) and statement.value.func.id in CHECK_FUNCTIONS
        for statement in body)


def learner_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell number, source) of the code cells the grader runs: not empty, not check cells."""
    return [(number, cell.source) for number, cell in enumerate(notebook.cells, start=1)
            if cell.cell_type == "code" and cell.source.strip() and not is_check_cell(cell.source)]


def _setup_source(extra_modules: list[str]) -> str:
    """The grader's first cell: forget the notebook's copy of the checks and import them afresh."""
    return (
        "def _coursepkg_fresh_grader(prefixes, extra_modules):\n"
        "    import importlib, sys\n"
        "    for name in list(sys.modules):\n"
        "        if name in extra_modules or any(name == p or name.startswith(p + '.') for p in prefixes):\n"
        "            del sys.modules[name]\n"
        "    return importlib.import_module('coursepkg.exercises.scoring').grade_question_to_file\n"
        f"__coursepkg_grade__ = _coursepkg_fresh_grader({FRESH_MODULES!r}, {extra_modules!r})\n"
        "del _coursepkg_fresh_grader\n")


def _kernel_environment() -> dict[str, str]:
    """The grader's environment, with the extra question files as absolute paths (the kernel runs elsewhere)."""
    env = dict(os.environ)
    entries = [str(Path(entry).resolve()) if entry.endswith(".py") else entry for entry in extra_question_modules()]
    if entries:
        env[EXTRA_QUESTIONS_ENV] = ",".join(entries)
    return env


class _Run:
    """A kernel, the cells to run again after a restart, and the notes for the report."""

    def __init__(self, session: KernelSession, notes: list[str]) -> None:
        self.session = session
        self.notes = notes
        self.replay: list[tuple[str, float]] = []
        self.restarts_left = MAX_RESTARTS

    def learner_cell(self, number: int, source: str, timeout: float) -> None:
        outcome = self.session.run(source, timeout)
        if outcome.status in (OK, RAISED):
            self.replay.append((source, timeout))
            if outcome.status == RAISED:
                self.notes.append(f"cell {number} raised {outcome.error}")
            return
        if outcome.status == TIMEOUT:
            self.notes.append(f"cell {number} was stopped: it ran longer than {timeout:g} s")
            if self.session.responsive():
                return
            self.notes.append("the kernel could not be interrupted: it was restarted and the cells before "
                              f"cell {number} were run again")
        else:
            self.notes.append(f"cell {number} stopped the kernel (exit() or os._exit()?): it was restarted "
                              f"and the cells before cell {number} were run again")
        self.recover()

    def recover(self) -> None:
        """Restart the kernel and run the replay cells again; a replay cell that fails is dropped."""
        while True:
            if self.restarts_left == 0:
                raise _GiveUp
            self.restarts_left -= 1
            self.session.restart()
            for source, timeout in list(self.replay):
                if self.session.run(source, timeout).status in (TIMEOUT, DEAD):
                    self.replay.remove((source, timeout))
                    self.notes.append("a cell that ran before failed when run again after a restart; it was left out")
                    break
            else:
                return


def grade_notebook(path: str | Path, timeout_per_cell: float = 120, total_timeout: float = 1800,
                   lesson: str | None = None, student: str = "", seed: int = 0,
                   kernel_name: str = "python3") -> NotebookGrade:
    """Run the notebook at ``path`` in a fresh kernel and grade every question of its lesson.

    Inputs:
    - path: the notebook, named ``NN_topic.ipynb`` (the lesson "NN" comes from the name).
    - timeout_per_cell: seconds each cell (and each question's check) may run before it is stopped.
    - total_timeout: seconds all of the notebook's cells together may run; the cells left are skipped.
      The checks run afterwards, each with ``timeout_per_cell``.
    - lesson: overrides the lesson taken from the file name.
    - student: the name written in the report.
    - seed: the seed of the questions' random cases (the check cells use 0 too).
    Returns: a :class:`~coursepkg.exercises.report.NotebookGrade` with one verdict per question.
    """
    path = Path(path)
    lesson = lesson or lesson_of(path)
    questions = questions_of(lesson)
    if not questions:
        raise GradeError(f"{path}: no questions are registered for lesson {lesson}")
    grade = NotebookGrade(notebook=str(path), lesson=lesson, student=student)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001  (a corrupted submission is a grade, not a crash)
        grade.notes.append(f"the notebook could not be read: {error}")
        grade.verdicts = [Verdict(q.id, ERROR, 0, q.points, "not graded: the notebook could not be read")
                          for q in questions]
        return grade
    with tempfile.TemporaryDirectory(prefix="coursepkg-grade-") as results, \
            KernelSession(path.parent.resolve(), _kernel_environment(), kernel_name) as session:
        run = _Run(session, grade.notes)
        try:
            _run_learner_cells(run, learner_cells(notebook), timeout_per_cell, total_timeout)
        except _GiveUp:
            grade.notes.append("gave up running the notebook: the kernel had to be restarted too many times")
        grade.verdicts = _check_questions(run, questions, Path(results), timeout_per_cell, seed)
    return grade


def _run_learner_cells(run: _Run, cells: list[tuple[int, str]], timeout_per_cell: float,
                       total_timeout: float) -> None:
    deadline = time.monotonic() + total_timeout
    for number, source in cells:
        left = deadline - time.monotonic()
        if left <= 0:
            run.notes.append(f"the notebook ran past its time limit of {total_timeout:g} s: "
                             f"cell {number} and the cells after it were not run")
            return
        run.learner_cell(number, source, min(timeout_per_cell, left))


def _check_questions(run: _Run, questions: list[Question], results: Path, timeout: float,
                     seed: int) -> list[Verdict]:
    setup = _setup_source([extra_module_name(entry) for entry in extra_question_modules()])
    setup_timeout = max(60.0, timeout)
    verdicts = []
    try:
        outcome = run.session.run(setup, setup_timeout)
        if outcome.status in (TIMEOUT, DEAD):
            run.recover()
            outcome = run.session.run(setup, setup_timeout)
        if outcome.status != OK:
            run.notes.append(f"the grader could not load the checks in this kernel: {outcome.error}")
        run.replay.append((setup, setup_timeout))
        for number, question in enumerate(questions):
            verdicts.append(_check_one(run, question, results / f"{number}.json", timeout, seed))
    except _GiveUp:
        run.notes.append("gave up checking: the kernel had to be restarted too many times")
    graded = {verdict.question_id for verdict in verdicts}
    verdicts += [Verdict(q.id, ERROR, 0, q.points, "not graded: the kernel kept failing")
                 for q in questions if q.id not in graded]
    return verdicts


def _check_one(run: _Run, question: Question, result: Path, timeout: float, seed: int) -> Verdict:
    source = f"__coursepkg_grade__({question.id!r}, globals(), {str(result)!r}, seed={seed!r})"
    outcome = run.session.run(source, timeout)
    if result.exists():
        return _read_verdict(question, result)
    if outcome.status == TIMEOUT:
        message = f"timed out: checking your code took longer than {timeout:g} s (an endless loop?)"
        if not run.session.responsive():
            run.recover()
    elif outcome.status == DEAD:
        message = "your code stopped the kernel while it was being checked (exit() or os._exit()?)"
        run.recover()
    else:
        message = f"the check could not run: {outcome.error or 'no result'}"
    return Verdict(question.id, ERROR, 0, question.points, message)


def _read_verdict(question: Question, result: Path) -> Verdict:
    """The verdict the kernel wrote; the points are recomputed here from the package's question."""
    data = json.loads(result.read_text(encoding="utf-8"))
    status = data.get("status", ERROR)
    return Verdict(question.id, status, question.points if status == PASSED else 0, question.points,
                   str(data.get("message", "")))


def grade_path(path: str | Path, timeout_per_cell: float = 120, total_timeout: float = 1800,
               lesson: str | None = None, seed: int = 0,
               progress: Callable[[str], None] | None = None) -> list[NotebookGrade]:
    """Grade one notebook, or every notebook of a submissions folder (see :func:`find_notebooks`).

    Every notebook's lesson is checked first, so a folder with an unknown lesson fails before
    anything runs. ``progress`` (e.g. ``print``) is told which notebook is being graded.
    Returns: one :class:`~coursepkg.exercises.report.NotebookGrade` per notebook.
    """
    path = Path(path)
    if path.is_file():
        targets = [(_student_prefix(path), path)]
    elif path.is_dir():
        targets = find_notebooks(path)
        if not targets:
            raise GradeError(f"{path}: no notebook named like NN_topic.ipynb in this folder")
    else:
        raise GradeError(f"{path}: no such file or folder")
    for _, notebook in targets:
        if not questions_of(lesson or lesson_of(notebook)):
            raise GradeError(f"{notebook}: no questions are registered for lesson {lesson or lesson_of(notebook)}")
    grades = []
    for student, notebook in targets:
        if progress is not None:
            progress(f"grading {notebook} ...")
        grades.append(grade_notebook(notebook, timeout_per_cell=timeout_per_cell, total_timeout=total_timeout,
                                     lesson=lesson, student=student, seed=seed))
    return grades
