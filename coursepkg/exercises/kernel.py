"""A Jupyter kernel that runs code cells one at a time and survives whatever the code does.

The grader runs a learner's notebook through :class:`KernelSession`:

- a cell that raises is an ordinary outcome ("raised"), the next cell still runs;
- a cell that runs too long is interrupted ("timeout"); if the interrupt does not stop it, the
  kernel is restarted by :meth:`KernelSession.restart`;
- a cell that stops the kernel (``os._exit``, ``exit()``) is reported as "dead";
- the outputs of the cells are never kept, so a cell printing gigabytes costs no memory here.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

OK, RAISED, TIMEOUT, DEAD = "ok", "raised", "timeout", "dead"
_TIMEOUT_NAME = "CellTimeoutError"
T = TypeVar("T")


@dataclass
class CellOutcome:
    """What happened to one cell: status (ok, raised, timeout, dead) and, for an exception, its text."""

    status: str
    error: str = ""


class _OutputlessClient(NotebookClient):
    """A NotebookClient that keeps no outputs: the grader reads results from files, never from output."""

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> None:
        return None

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        return None


class KernelSession:
    """One Python kernel started in ``cwd`` with environment ``env``; run cells with :meth:`run`.

    Use it as a context manager so that the kernel is always shut down.
    """

    def __init__(self, cwd: str | Path, env: dict[str, str] | None = None, kernel_name: str = "python3",
                 startup_timeout: int = 60) -> None:
        self.cwd = str(cwd)
        self.env = dict(os.environ if env is None else env)
        self.kernel_name = kernel_name
        self.startup_timeout = startup_timeout
        self.client: _OutputlessClient | None = None
        self._reply: dict[str, Any] | None = None

    def __enter__(self) -> KernelSession:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, attempts: int = 3) -> None:
        """Start a fresh kernel (and a client connected to it); see :func:`start_kernel_with_retries`."""
        start_kernel_with_retries(self._start_once, attempts=attempts, clean_up=self.stop)

    def _start_once(self) -> None:
        notebook = nbformat.v4.new_notebook()
        self.client = _OutputlessClient(
            notebook, kernel_name=self.kernel_name, allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_NAME, "evalue": "timed out", "traceback": []},
            startup_timeout=self.startup_timeout, iopub_timeout=1, store_widget_state=False, record_timing=False,
            shutdown_kernel="immediate", on_cell_executed=self._remember_reply)
        self.client.km = self.client.create_kernel_manager()
        # The kernel process's own stdout/stderr (not the cells' output) go nowhere: a learner writing
        # to file descriptor 1 cannot flood the grader's terminal.
        self.client.start_new_kernel(cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.client.start_new_kernel_client()

    def stop(self) -> None:
        """Shut the kernel down (whatever state it is in)."""
        if self.client is not None and self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # noqa: BLE001  (a kernel that is already gone is fine)
                pass
        self.client = None

    def restart(self) -> None:
        """Throw the kernel away and start a fresh one: every definition is lost."""
        self.stop()
        self.start()

    def run(self, source: str, timeout: float) -> CellOutcome:
        """Run ``source`` as one cell, stopping it after ``timeout`` seconds; never raises."""
        assert self.client is not None, "start() the session first"
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, math.ceil(timeout))
        self._reply = None
        try:
            self.client.execute_cell(cell, 0)
        except DeadKernelError:
            return CellOutcome(DEAD, "the kernel stopped")
        except Exception as error:  # noqa: BLE001  (lost contact with the kernel: treat it as dead, restart)
            return CellOutcome(DEAD, f"lost contact with the kernel ({type(error).__name__}: {error})")
        content = (self._reply or {}).get("content", {})
        if any(payload.get("source") == "ask_exit" for payload in content.get("payload") or []):
            return CellOutcome(DEAD, "the cell asked the kernel to exit")  # exit(): the kernel stops right after
        if content.get("status") != "error":
            return CellOutcome(OK)
        if content.get("ename") == _TIMEOUT_NAME:
            return CellOutcome(TIMEOUT, f"timed out after {self.client.timeout} s")
        return CellOutcome(RAISED, _shorten(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"))

    def responsive(self, timeout: float = 3) -> bool:
        """Whether the kernel answers a trivial cell within ``timeout`` seconds (after an interrupt)."""
        return self.run("pass", timeout).status == OK

    def _remember_reply(self, cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self._reply = execute_reply


def start_kernel_with_retries(start: Callable[..., T], *args: Any, attempts: int = 3,
                              clean_up: Callable[[], None] | None = None, **kwargs: Any) -> T:
    """Return ``start(*args, **kwargs)``, calling it again (up to ``attempts`` times in all) while the
    kernel it starts dies before answering.

    A kernel can die while starting for reasons that have nothing to do with any notebook: two
    kernels started at the same moment can be given the same free TCP port. ``clean_up`` runs after
    each failed attempt. Any other error is raised at once.
    """
    if attempts < 1:
        raise ValueError(f"start_kernel_with_retries: attempts must be at least 1, got {attempts}.")
    for attempt in range(1, attempts + 1):
        try:
            return start(*args, **kwargs)
        except RuntimeError as error:  # jupyter_client: "Kernel died before replying to kernel_info"
            if clean_up is not None:
                clean_up()
            if attempt == attempts or "Kernel died" not in str(error):
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
