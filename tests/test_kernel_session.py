"""KernelSession: a kernel that dies while starting is started again; one that never starts raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursepkg.exercises import kernel
from coursepkg.exercises.kernel import OK, KernelSession


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


def test_notebook_tests_start_a_dead_kernel_again(monkeypatch: pytest.MonkeyPatch):
    nbval_kernel = pytest.importorskip("nbval.kernel")
    import conftest

    assert hasattr(nbval_kernel.start_new_kernel, "__wrapped__")  # the notebook tests use the retrying start
    monkeypatch.setattr(conftest.time, "sleep", lambda seconds: None)
    outcomes = [RuntimeError("Kernel died before replying to kernel_info"), "kernel"]

    def start(**kwargs):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert conftest._retry_when_the_kernel_dies_starting(start)(kernel_name="python3") == "kernel"

    def broken(**kwargs):
        raise RuntimeError("no such kernel spec")

    with pytest.raises(RuntimeError, match="no such kernel"):  # other errors are not retried
        conftest._retry_when_the_kernel_dies_starting(broken)()
