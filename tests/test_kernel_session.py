"""KernelSession: a kernel that dies while starting is started again; one that never starts raises."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from coursepkg.exercises import kernel
from coursepkg.exercises.kernel import OK, KernelSession, start_kernel_with_retries


def _dies_first(times: int, calls: list[int]):
    real = kernel._OutputlessClient.start_new_kernel_client

    def start_new_kernel_client(self):
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(self)

    return start_new_kernel_client


@pytest.mark.slow
def test_kernel_that_dies_while_starting_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    monkeypatch.setattr(kernel._OutputlessClient, "start_new_kernel_client", _dies_first(1, calls))
    monkeypatch.setattr(kernel.time, "sleep", lambda seconds: None)
    with KernelSession(tmp_path) as session:
        assert session.run("x = 2 + 2\nassert x == 4", timeout=30).status == OK
    assert len(calls) == 2


def test_kernel_that_never_starts_raises_after_the_last_attempt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    monkeypatch.setattr(kernel._OutputlessClient, "start_new_kernel_client", _dies_first(99, calls))
    monkeypatch.setattr(kernel._OutputlessClient, "start_new_kernel", lambda self, **kwargs: None)
    monkeypatch.setattr(kernel.time, "sleep", lambda seconds: None)
    session = KernelSession(tmp_path)
    with pytest.raises(RuntimeError, match="Kernel died"):
        session.start(attempts=3)
    assert len(calls) == 3
    assert session.client is None  # nothing is left running


def test_start_kernel_with_retries_retries_only_a_dying_kernel(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(kernel.time, "sleep", lambda seconds: None)
    outcomes: list = [RuntimeError("Kernel died before replying to kernel_info"), "kernel"]
    cleaned: list[int] = []

    def start(kernel_name: str):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return f"{outcome} {kernel_name}"

    assert start_kernel_with_retries(start, kernel_name="python3", clean_up=lambda: cleaned.append(1)) \
        == "kernel python3"
    assert cleaned == [1]

    def broken():
        raise RuntimeError("no such kernel spec")

    with pytest.raises(RuntimeError, match="no such kernel"):  # other errors are raised at once
        start_kernel_with_retries(broken, attempts=5, clean_up=lambda: cleaned.append(2))
    assert cleaned == [1, 2]


def test_notebook_tests_start_kernels_with_retries():
    nbval_kernel = pytest.importorskip("nbval.kernel")
    assert isinstance(nbval_kernel.start_new_kernel, functools.partial)
    assert nbval_kernel.start_new_kernel.func is start_kernel_with_retries
