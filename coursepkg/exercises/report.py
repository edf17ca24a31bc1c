"""Grade reports: the table a learner or a teacher reads, and the JSON and CSV a gradebook reads.

One :class:`NotebookGrade` holds the verdicts of every question of one lesson for one notebook
(one student), plus notes on what happened while the notebook ran (a cell that raised, timed
out or stopped the kernel). ``str(grade)`` is the terminal table; in a notebook the same rows
are shown as an HTML table.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coursepkg.exercises.display import ShownOnce
from coursepkg.exercises.runner import ERROR, FAILED, NOT_ATTEMPTED, PASSED, Verdict

CSV_COLUMNS = ("student", "notebook", "lesson", "question", "status", "points", "max_points", "message")
TOTAL = "TOTAL"
_MARKS = {PASSED: "passed", FAILED: "FAILED", NOT_ATTEMPTED: "not attempted", ERROR: "ERROR"}


@dataclass
class NotebookGrade(ShownOnce):
    """The grade of one notebook: one verdict per question of its lesson.

    - notebook: the notebook's path (or a label such as "this notebook").
    - lesson: the lesson number, e.g. "02".
    - student: who submitted it ("" when unknown).
    - verdicts: one :class:`Verdict` per question, in the lesson's order.
    - notes: what went wrong while running the notebook, for the teacher and the learner.
    """

    notebook: str
    lesson: str
    student: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(verdict.points for verdict in self.verdicts)

    @property
    def max_score(self) -> float:
        return sum(verdict.max_points for verdict in self.verdicts)

    @property
    def full_marks(self) -> bool:
        return bool(self.verdicts) and self.score == self.max_score

    def __str__(self) -> str:
        who = f"{self.student}: " if self.student else ""
        lines = [f"{who}{self.notebook} (lesson {self.lesson})"]
        width = max([len(verdict.question_id) for verdict in self.verdicts] + [len(TOTAL)])
        for verdict in self.verdicts:
            lines.append(f"  {verdict.question_id:<{width}}  {_MARKS[verdict.status]:<13}  "
                         f"{_points(verdict.points, verdict.max_points):>9}")
            if verdict.status != PASSED and verdict.message:
                lines.extend("      " + line for line in verdict.message.splitlines())
        lines.append(f"  {TOTAL:<{width}}  {'':<13}  {_points(self.score, self.max_score):>9}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colors = {PASSED: "#1a7f37", FAILED: "#cf222e", NOT_ATTEMPTED: "#9a6700", ERROR: "#cf222e"}
        rows = []
        for verdict in self.verdicts:
            message = "" if verdict.status == PASSED else html.escape(verdict.message).replace("\n", "<br>")
            rows.append(f"<tr><td>{html.escape(verdict.question_id)}</td>"
                        f'<td style="color:{colors[verdict.status]}">{_MARKS[verdict.status]}</td>'
                        f"<td>{_points(verdict.points, verdict.max_points)}</td>"
                        f'<td style="text-align:left">{message}</td></tr>')
        rows.append(f"<tr><th>{TOTAL}</th><th></th><th>{_points(self.score, self.max_score)}</th><th></th></tr>")
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        who = f"{html.escape(self.student)}: " if self.student else ""
        return (f"<div><b>{who}{html.escape(self.notebook)} (lesson {html.escape(self.lesson)})</b>"
                "<table><tr><th>question</th><th>status</th><th>points</th><th>feedback</th></tr>"
                + "".join(rows) + "</table>" + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: student, notebook, lesson, score, max_score, questions, notes."""
        return {"student": self.student, "notebook": self.notebook, "lesson": self.lesson,
                "score": self.score, "max_score": self.max_score,
                "questions": [_verdict_dict(verdict) for verdict in self.verdicts], "notes": list(self.notes)}


def _verdict_dict(verdict: Verdict) -> dict[str, Any]:
    return asdict(verdict)


def _points(points: float, max_points: float) -> str:
    return f"{points:g}/{max_points:g}"


def summary(grades: Iterable[NotebookGrade]) -> str:
    """One line per notebook (student, lesson, score) and the count: the end of a folder's report."""
    grades = list(grades)
    lines = [f"{len(grades)} notebook(s) graded"]
    for grade in grades:
        lines.append(f"  {grade.student or '-':<20} {grade.lesson:>4}  {_points(grade.score, grade.max_score):>9}  "
                     f"{grade.notebook}")
    return "\n".join(lines)


def write_json(grades: Iterable[NotebookGrade], path: str | Path) -> Path:
    """Write ``{"notebooks": [grade.to_dict(), ...]}`` to ``path`` (UTF-8, indented)."""
    path = Path(path)
    data = {"notebooks": [grade.to_dict() for grade in grades]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_csv(grades: Iterable[NotebookGrade], path: str | Path) -> Path:
    """Write one row per student per question, then one ``TOTAL`` row per notebook (CSV_COLUMNS)."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for grade in grades:
            for verdict in grade.verdicts:
                writer.writerow([grade.student, grade.notebook, grade.lesson, verdict.question_id, verdict.status,
                                 f"{verdict.points:g}", f"{verdict.max_points:g}", verdict.message])
            writer.writerow([grade.student, grade.notebook, grade.lesson, TOTAL, "",
                             f"{grade.score:g}", f"{grade.max_score:g}", "; ".join(grade.notes)])
    return path
