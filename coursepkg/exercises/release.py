"""Release: generate the exercise notebooks from the solution notebooks (the single source).

In a solution notebook (``solutions/NN_topic.ipynb``) every answer is fenced::

    def mse(y_pred, y):
        ### BEGIN SOLUTION
        return ((y_pred - y) ** 2).mean()
        ### END SOLUTION

and :func:`release` writes ``exercises/NN_topic.ipynb`` where the fence and what it holds became::

    def mse(y_pred, y):
        # YOUR CODE HERE
        raise NotImplementedError()

(at the indentation of the ``### BEGIN SOLUTION`` line). In a markdown cell the fenced region
becomes ``YOUR ANSWER HERE``. Lines between ``### BEGIN HIDDEN`` and ``### END HIDDEN`` are
removed, and so is a cell tagged ``hidden`` (or a cell left empty by a hidden region): teacher-only
cells. Outputs and execution counts are cleared, cell ids are kept, the notebook metadata is
reduced to the kernel, and the file is written the same way every time, so releasing twice
gives byte-identical files and :func:`check_release` can tell when an exercise is out of date.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN", "### END HIDDEN"
HIDDEN_TAG = "hidden"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER_STUB = "YOUR ANSWER HERE"
KEPT_CELL_METADATA = ("tags", "editable", "deletable", "jupyter", "slideshow")
DEFAULT_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class ReleaseError(ValueError):
    """A solution notebook whose markers do not pair up."""


def release_source(source: str, cell_type: str, where: str = "cell") -> str | None:
    """The exercise version of one cell's source; None when the whole cell is hidden.

    Inputs:
    - source: the cell's text in the solution notebook.
    - cell_type: "code" (regions become the code stub) or anything else (regions become
      "YOUR ANSWER HERE").
    - where: how to name the cell in an error, e.g. "solutions/02_gd.ipynb, cell 3".
    Returns: the new source (a string), or None when only hidden lines were in the cell.
    Raises: ReleaseError naming ``where`` and the line when the markers do not pair up.
    """
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    open_marker: tuple[str, int] | None = None  # (marker, line number) of the region we are in
    had_hidden = False
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker.startswith((BEGIN_SOLUTION, BEGIN_HIDDEN)):
            if open_marker is not None:
                raise ReleaseError(f"{where}, line {number}: {marker!r} inside the region opened by "
                                   f"{open_marker[0]!r} on line {open_marker[1]} (close it first)")
            begin = BEGIN_SOLUTION if marker.startswith(BEGIN_SOLUTION) else BEGIN_HIDDEN
            open_marker = (begin, number)
            if begin == BEGIN_SOLUTION:
                indent = line[:len(line) - len(line.lstrip())]
                stub = CODE_STUB if cell_type == "code" else (ANSWER_STUB,)
                out.extend(f"{indent}{text}\n" for text in stub)
            else:
                had_hidden = True
        elif marker.startswith((END_SOLUTION, END_HIDDEN)):
            end = END_SOLUTION if marker.startswith(END_SOLUTION) else END_HIDDEN
            expected = END_SOLUTION if open_marker and open_marker[0] == BEGIN_SOLUTION else END_HIDDEN
            if open_marker is None or end != expected:
                opened = f" (the open region is {open_marker[0]!r} from line {open_marker[1]})" if open_marker else ""
                raise ReleaseError(f"{where}, line {number}: {end!r} without a matching "
                                   f"{end.replace('END', 'BEGIN')!r}{opened}")
            open_marker = None
        elif open_marker is None:
            out.append(line)
    if open_marker is not None:
        raise ReleaseError(f"{where}, line {open_marker[1]}: {open_marker[0]!r} is never closed "
                           f"(add {open_marker[0].replace('BEGIN', 'END')!r})")
    text = "".join(out)
    if not source.endswith("\n"):
        text = text.removesuffix("\n")
    if had_hidden and not text.strip():
        return None
    return text


def release_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise notebook generated from a solution notebook (the input is not changed).

    ``name`` (the file name) appears in errors and makes the ids of cells that had none stable.
    """
    exercise = nbformat.v4.new_notebook()
    exercise.metadata = {"kernelspec": dict(solution.metadata.get("kernelspec") or DEFAULT_KERNELSPEC),
                         "language_info": {"name": "python"}}
    exercise.nbformat_minor = max(5, solution.get("nbformat_minor", 5))
    for index, cell in enumerate(solution.cells):
        if HIDDEN_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cell_id = cell.get("id") or hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]
        source = release_source(cell.source, cell.cell_type, where=f"{name}, cell {index} (id {cell_id})")
        if source is None:
            continue
        metadata = {key: copy.deepcopy(cell.metadata[key]) for key in KEPT_CELL_METADATA if key in cell.metadata}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source, metadata=metadata)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=metadata)
            if cell.get("attachments"):
                new.attachments = copy.deepcopy(cell.attachments)
        else:
            new = nbformat.v4.new_raw_cell(source, metadata=metadata)
        new.id = cell_id
        exercise.cells.append(new)
    return exercise


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the exact text written to disk: sorted keys, indent 1, a final newline."""
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def _expected(solutions_dir: Path, exercises_dir: Path) -> dict[Path, str]:
    """Exercise path -> the text it should have, for every solution notebook."""
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"no solutions folder at {solutions_dir}")
    expected = {}
    for solution in sorted(solutions_dir.glob("*.ipynb")):
        try:
            notebook = nbformat.read(solution, as_version=4)
        except Exception as error:  # noqa: BLE001  (any unreadable file gets the same clear message)
            raise ReleaseError(f"{solution}: not a readable notebook ({error})") from error
        expected[exercises_dir / solution.name] = notebook_text(release_notebook(notebook, name=str(solution)))
    return expected


def _orphans(exercises_dir: Path, expected: dict[Path, str]) -> list[Path]:
    """Exercise notebooks whose solution is gone."""
    if not exercises_dir.is_dir():
        return []
    return [path for path in sorted(exercises_dir.glob("*.ipynb")) if path not in expected]


def release(solutions_dir: str | Path = "solutions", exercises_dir: str | Path = "exercises") -> list[Path]:
    """Write ``exercises_dir/NN_topic.ipynb`` for every ``solutions_dir/NN_topic.ipynb``.

    Files already up to date are not touched; exercise notebooks without a solution are deleted.
    Returns: the exercise notebooks written (or deleted), sorted.
    Raises: ReleaseError (unbalanced markers) before any file is written.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    expected = _expected(solutions_dir, exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            with path.open("w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            changed.append(path)
    for orphan in _orphans(exercises_dir, expected):
        orphan.unlink()
        changed.append(orphan)
    return sorted(changed)


def check_release(solutions_dir: str | Path = "solutions", exercises_dir: str | Path = "exercises") -> list[Path]:
    """The exercise notebooks that are out of date (missing, different, or without a solution).

    An empty list means ``exercises_dir`` is exactly what :func:`release` would write.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    expected = _expected(solutions_dir, exercises_dir)
    stale = [path for path, text in expected.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    return sorted(stale + _orphans(exercises_dir, expected))
