"""Shared fixtures: run backend-agnostic tests on NumPy, array_api_strict and (with a GPU) CuPy.

``backend`` activates one backend for the duration of a test:

- "numpy": the default backend.
- "strict": array_api_strict on the fake device "device1", so any NumPy-only call or any
  hidden host transfer inside the package raises.
- "cupy": marked ``gpu``; skipped when CuPy or a GPU is missing.

Gradient checks use ``backend64`` (the same, in float64).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

import pytest

import coursepkg as cp

os.environ.setdefault("MPLBACKEND", "Agg")


def _retry_when_the_kernel_dies_starting(start: Callable, attempts: int = 3) -> Callable:
    """Wrap jupyter_client's ``start_new_kernel`` so that a kernel dying while it starts is started again.

    Two test workers starting kernels at the same moment can be given the same free TCP port; the
    second kernel then dies before it answers ("Kernel died before replying to kernel_info"), which
    says nothing about the notebook.
    """

    @functools.wraps(start)
    def start_with_retries(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as error:
                if attempt == attempts or "Kernel died" not in str(error):
                    raise
                time.sleep(attempt)

    return start_with_retries


try:
    import nbval.kernel
except ImportError:  # nbval is a dev dependency; without it no notebook is collected anyway
    pass
else:
    nbval.kernel.start_new_kernel = _retry_when_the_kernel_dies_starting(nbval.kernel.start_new_kernel)

# Fixture notebooks (some deliberately broken, for the grader's tests) are data, not tests:
# keep nbval from executing them.
collect_ignore_glob = ["fixtures/*"]

BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("array_api_strict", id="strict"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


def _activate(name: str, dtype: str) -> cp.Backend:
    if name == "cupy" and not cp.gpu_available():
        pytest.skip("CuPy backend: no CuPy or no usable GPU on this machine")
    device = "device1" if name == "array_api_strict" else None
    return cp.set_backend(name, seed=0, device=device, dtype=dtype)


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest):
    """The active backend (float32) for this test; reset afterwards."""
    yield _activate(request.param, "float32")
    cp.reset_backend()


@pytest.fixture(params=BACKEND_PARAMS)
def backend64(request: pytest.FixtureRequest):
    """The active backend in float64 (for gradient checks); reset afterwards."""
    yield _activate(request.param, "float64")
    cp.reset_backend()


@pytest.fixture(autouse=True)
def _fresh_backend():
    """Every test starts on the default NumPy backend with seed 0."""
    cp.reset_backend()
    yield
    cp.reset_backend()
