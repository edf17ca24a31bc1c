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

import pytest

import coursepkg as cp

os.environ.setdefault("MPLBACKEND", "Agg")


try:
    import nbval.kernel
except ImportError:  # nbval is a dev dependency; without it no notebook is collected anyway
    pass
else:
    from coursepkg.exercises.kernel import start_kernel_with_retries

    # Two test workers starting kernels at the same moment can be given the same free TCP port, and
    # the second kernel dies before it answers: start it again (this says nothing about the notebook).
    nbval.kernel.start_new_kernel = functools.partial(start_kernel_with_retries, nbval.kernel.start_new_kernel)

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
