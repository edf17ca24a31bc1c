"""Where trials run: any ``concurrent.futures.Executor``.

The runner submits ``run_trial(objective, params)`` to an executor and waits for the futures:

- ``None`` (the default): :class:`InProcessExecutor`, one trial after another in this process.
- ``ProcessPoolExecutor(max_workers=2)``: in parallel, in processes on this machine. The
  objective and its params travel to the workers by pickle, so the objective must be picklable:
  a function defined at the top level of an importable module (not a lambda, not a function
  defined inside another function, and, with the "spawn" or "forkserver" start methods, not a
  function defined in a notebook); ``functools.partial`` of such a function is fine.
- ``distributed.Client(address).get_executor(pure=False)``: on a Dask cluster (``pure=False``
  so that two trials with the same params both run; Dask's cloudpickle also ships lambdas and
  notebook functions, but the modules they import must be installed on the workers).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from typing import Any

from coursepkg.search.results import FAILED, OK


def run_trial(objective: Callable[[dict], float], params: Mapping[str, Any]) -> dict:
    """Call ``objective(params)`` and report how it went; never raises an ``Exception``.

    Inputs:
    - objective: a function of a dict of hyperparameters returning a number to minimize.
    - params: the dict of hyperparameters.
    Returns:
    - {"value": float or None, "status": "ok" or "failed", "error": str or None, "duration": seconds}.
      The trial fails if the objective raises, or returns something that is not a finite number.
    """
    start = time.perf_counter()
    try:
        value = float(objective(dict(params)))
        error = None if math.isfinite(value) else f"objective returned {value}"
    except Exception as exception:  # a failing trial must not stop the search
        value, error = None, f"{type(exception).__name__}: {exception}"
    duration = time.perf_counter() - start
    if error is not None:
        return {"value": None, "status": FAILED, "error": error, "duration": duration}
    return {"value": value, "status": OK, "error": None, "duration": duration}


class InProcessExecutor(Executor):
    """An executor that runs each call at once, in this process: ``submit`` returns a finished future."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exception:
            future.set_exception(exception)
        return future


def default_batch_size(executor: Executor) -> int:
    """How many trials to keep running at once on ``executor``: its number of workers.

    1 for :class:`InProcessExecutor`; ``max_workers`` of a process or thread pool; the number of
    worker threads of a Dask cluster; otherwise the number of CPUs.
    """
    if isinstance(executor, InProcessExecutor):
        return 1
    workers = getattr(executor, "_max_workers", None)  # set by ProcessPoolExecutor and ThreadPoolExecutor
    if workers:
        return int(workers)
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return os.cpu_count() or 1
