"""Every registered question, whichever lesson defines it: it passes its reference, reads "not
attempted" on the exercise stubs, and catches every planted wrong answer (mutant).

The questions are collected when pytest starts (``load_questions()``), so a new ``lesson_NN``
module is tested without touching this file. The mutant report (caught/planted per question)
is shown in the warnings summary of every pytest run.
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from typing import Any

import pytest

from coursepkg.exercises.question import Question
from coursepkg.exercises.runner import ERROR, FAILED, NOT_ATTEMPTED, PASSED, Verdict, load_questions, run_question
from coursepkg.exercises.scoring import score_question

QUESTIONS: list[Question] = sorted(load_questions().values(), key=lambda question: question.id)
MUTANTS = [(question, name) for question in QUESTIONS for name in question.mutants]


class MutantReport(UserWarning):
    """How many planted wrong answers the questions catch (shown in pytest's warnings summary)."""


def _ids(question: Question) -> str:
    return question.id


# ------------------------------------------------------------------------------- helpers
def _not_implemented(*args: Any, **kwargs: Any) -> None:
    raise NotImplementedError()


def stub(reference: Any) -> Any:
    """What the exercise notebook holds before the learner writes anything: code that raises
    NotImplementedError. A class becomes a subclass whose own methods (``__init__`` included) raise."""
    if inspect.isclass(reference):
        methods = {name: _not_implemented for name, value in vars(reference).items() if inspect.isfunction(value)}
        return type(reference.__name__, (reference,), {**methods, "__init__": _not_implemented})
    return _not_implemented


@functools.cache
def mutant_verdict(question_id: str, mutant: str) -> Verdict:
    question = next(q for q in QUESTIONS if q.id == question_id)
    return run_question(question, question.mutants[mutant])


def caught(question: Question, mutant: str) -> bool:
    """A mutant is caught when it scores 0 as "failed" or "error", with the right number of objects."""
    verdict = mutant_verdict(question.id, mutant)
    return (len(question.mutants[mutant]) == len(question.names) and verdict.status in (FAILED, ERROR)
            and verdict.points == 0)


# ------------------------------------------------------------------------------- per question
@pytest.mark.parametrize("question", QUESTIONS, ids=_ids)
def test_question_is_well_formed(question: Question):
    assert re.fullmatch(r"\d{2}\.\w+", question.id), f"{question.id}: ids look like '02.mse'"
    assert question.id.startswith(question.lesson + "."), f"{question.id}: lesson {question.lesson!r}"
    assert question.points > 0 and question.title
    assert all(name.isidentifier() for name in question.names)
    for name, objects in question.mutants.items():
        assert len(objects) == len(question.names), (
            f"{question.id}: mutant {name!r} has {len(objects)} object(s) for names {question.names}")


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids)
def test_reference_gets_full_points(question: Question):
    verdict = run_question(question, question.reference)
    assert verdict.status == PASSED, str(verdict)
    assert verdict.points == question.points


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids)
def test_exercise_stub_reads_not_attempted(question: Question):
    assert score_question(question, {}).status == NOT_ATTEMPTED  # names not defined at all
    if not all(callable(reference) for reference in question.reference):
        pytest.skip("a non-callable answer has no stub: it is simply undefined in the exercise")
    verdict = run_question(question, tuple(stub(reference) for reference in question.reference))
    assert verdict.status == NOT_ATTEMPTED, str(verdict)
    assert verdict.points == 0


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids)
def test_question_has_at_least_two_mutants(question: Question):
    assert len(question.mutants) >= 2, f"{question.id} plants {len(question.mutants)} mutant(s); plant at least 2"


@pytest.mark.parametrize(("question", "mutant"), MUTANTS, ids=[f"{q.id}-{name}" for q, name in MUTANTS])
def test_mutant_is_caught(question: Question, mutant: str):
    verdict = mutant_verdict(question.id, mutant)
    assert caught(question, mutant), f"{question.id} does not catch the mutant {mutant!r}: {verdict}"
    assert verdict.message, "a caught mutant gets a message saying what is wrong"


# ------------------------------------------------------------------------------- the report
def mutant_report() -> tuple[str, int, int]:
    """(text, caught, planted) over every question."""
    lines, total_caught = [], 0
    width = max([len(question.id) for question in QUESTIONS] + [5])
    for question in QUESTIONS:
        hits = [mutant for mutant in question.mutants if caught(question, mutant)]
        total_caught += len(hits)
        lines.append(f"  {question.id:<{width}}  {len(hits)}/{len(question.mutants)}")
        lines.extend(f"    NOT CAUGHT: {mutant!r} ({mutant_verdict(question.id, mutant).status})"
                     for mutant in question.mutants if mutant not in hits)
    head = f"mutant report: {total_caught}/{len(MUTANTS)} planted wrong answers caught in {len(QUESTIONS)} questions"
    return "\n".join([head, *lines, f"  {'total':<{width}}  {total_caught}/{len(MUTANTS)}"]), total_caught, len(MUTANTS)


def test_mutant_report():
    if not QUESTIONS:
        pytest.skip("no questions registered yet")
    text, hits, planted = mutant_report()
    print(text)
    warnings.warn(MutantReport("\n" + text), stacklevel=1)
    assert hits == planted, text
