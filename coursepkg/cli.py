"""The ``coursepkg`` command: release exercises, grade notebooks, publish lessons, list questions.

    coursepkg release [SOLUTIONS] [EXERCISES]    generate exercises/ from solutions/
    coursepkg release --check                    exit 1 when exercises/ is out of date (CI)
    coursepkg grade PATH [--timeout S] [--total-timeout S] [--json F] [--csv F] [--lesson NN]
    coursepkg html NOTEBOOK_DIR OUT_DIR [--timeout S]
    coursepkg questions [LESSON]

Exit codes: 0 success (grade: every notebook has full marks); 1 the answer is "no" (exercises out
of date, points missing, a lesson raised, no questions); 2 the command could not run (bad
path, unbalanced markers, unknown lesson).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

SUCCESS, NO, CANNOT_RUN = 0, 1, 2


def _release(args: argparse.Namespace) -> int:
    from coursepkg.exercises.release import ReleaseError, check_release, release

    try:
        if args.check:
            stale = check_release(args.solutions, args.exercises)
            for path in stale:
                print(f"out of date: {path}")
            if stale:
                print(f"{len(stale)} exercise notebook(s) out of date: run `coursepkg release`", file=sys.stderr)
                return NO
            print(f"{args.exercises} is up to date with {args.solutions}")
            return SUCCESS
        changed = release(args.solutions, args.exercises)
    except (ReleaseError, FileNotFoundError) as error:
        print(f"coursepkg release: {error}", file=sys.stderr)
        return CANNOT_RUN
    for path in changed:
        print(f"{'wrote' if path.exists() else 'deleted'} {path}")
    print(f"{len(changed)} exercise notebook(s) changed")
    return SUCCESS


def _grade(args: argparse.Namespace) -> int:
    from coursepkg.exercises.grade import GradeError, grade_path
    from coursepkg.exercises.report import summary, write_csv, write_json

    try:
        grades = grade_path(args.path, timeout_per_cell=args.timeout, total_timeout=args.total_timeout,
                            lesson=args.lesson, progress=lambda text: print(text, file=sys.stderr))
    except GradeError as error:
        print(f"coursepkg grade: {error}", file=sys.stderr)
        return CANNOT_RUN
    for grade in grades:
        print(grade)
        print()
    if len(grades) > 1:
        print(summary(grades))
    if args.json:
        print(f"wrote {write_json(grades, args.json)}", file=sys.stderr)
    if args.csv:
        print(f"wrote {write_csv(grades, args.csv)}", file=sys.stderr)
    return SUCCESS if all(grade.full_marks for grade in grades) else NO


def _html(args: argparse.Namespace) -> int:
    from coursepkg.exercises.publish import notebooks_to_html

    try:
        pages = notebooks_to_html(args.notebook_dir, args.out_dir, timeout=args.timeout)
    except ImportError as error:
        print(f"coursepkg html needs nbconvert (pip install 'coursepkg[dev]'): {error}", file=sys.stderr)
        return CANNOT_RUN
    except FileNotFoundError as error:
        print(f"coursepkg html: {error}", file=sys.stderr)
        return CANNOT_RUN
    for page in pages:
        print(f"wrote {page.html}" + (f"  ({len(page.errors)} cell(s) raised)" if page.errors else ""))
        for error in page.errors:
            print(f"  {error}", file=sys.stderr)
    return NO if any(page.errors for page in pages) else SUCCESS


def _questions(args: argparse.Namespace) -> int:
    from coursepkg.exercises.runner import load_questions

    questions = [q for q in load_questions(args.lesson).values() if args.lesson is None or q.lesson == args.lesson]
    if not questions:
        print(f"no questions registered{' for lesson ' + args.lesson if args.lesson else ''}", file=sys.stderr)
        return NO
    questions.sort(key=lambda q: q.lesson)  # stable: keeps each lesson's own order
    width = max(len(q.id) for q in questions)
    for question in questions:
        print(f"{question.id:<{width}}  {question.points:>4g} pt  {', '.join(question.names):<30}  {question.title}")
    print(f"{len(questions)} question(s), {sum(q.points for q in questions):g} points")
    return SUCCESS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``coursepkg`` command (one sub-command per task)."""
    parser = argparse.ArgumentParser(prog="coursepkg", description="Course tools: release, grade, html, questions.")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="generate the exercise notebooks from the solutions")
    release.add_argument("solutions", nargs="?", default="solutions", help="solution notebooks (default: solutions)")
    release.add_argument("exercises", nargs="?", default="exercises", help="exercise notebooks (default: exercises)")
    release.add_argument("--check", action="store_true", help="write nothing; exit 1 if an exercise is out of date")
    release.set_defaults(run=_release)

    grade = commands.add_parser("grade", help="grade a notebook or a folder of submissions")
    grade.add_argument("path", help="a notebook NN_topic.ipynb, or a folder (one sub-folder per student)")
    grade.add_argument("--timeout", type=float, default=120, help="seconds per cell and per check (default 120)")
    grade.add_argument("--total-timeout", type=float, default=1800,
                       help="seconds for all of a notebook's cells (default 1800)")
    grade.add_argument("--lesson", help="the lesson number, when the file names do not start with it")
    grade.add_argument("--json", help="write the report as JSON to this file")
    grade.add_argument("--csv", help="write one row per student per question (and totals) to this CSV file")
    grade.set_defaults(run=_grade)

    html = commands.add_parser("html", help="execute the notebooks of a folder and write them as HTML pages")
    html.add_argument("notebook_dir")
    html.add_argument("out_dir")
    html.add_argument("--timeout", type=float, default=600, help="seconds per cell (default 600)")
    html.set_defaults(run=_html)

    questions = commands.add_parser("questions", help="list the graded questions and their points")
    questions.add_argument("lesson", nargs="?", help="only this lesson, e.g. 02")
    questions.set_defaults(run=_questions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``coursepkg`` command with ``argv`` (default: the command line); return the exit code."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
