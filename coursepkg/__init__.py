"""coursepkg: the companion library of the course *Neural Network Training, from scratch to GPU*.

Read it bottom-up, in the order the lessons build it:

- :mod:`coursepkg.backend`: NumPy, CuPy or array_api_strict, the device, the seeded generator.
- :mod:`coursepkg.functional`: forward/backward pairs on raw arrays (lesson 03).
- :mod:`coursepkg.tensor` and :mod:`coursepkg.ops`: reverse-mode autodiff (lesson 04).
- :mod:`coursepkg.gradcheck`: finite-difference gradient checks (lesson 02 on).
- :mod:`coursepkg.nn`: modules, layers, losses, initialization.
- :mod:`coursepkg.optim`: optimizers, schedules, gradient clipping, L2 penalty (lesson 07-08).
- :mod:`coursepkg.data`, :mod:`coursepkg.metrics`: datasets, splits, scalers, batches; metrics.
- :mod:`coursepkg.train`: ``fit``, callbacks, checkpoints (lesson 06).
- :mod:`coursepkg.search`: grid, random and Bayesian hyperparameter search (lesson 10).
- :mod:`coursepkg.exercises`: graded questions, checks, release and grading.
- :mod:`coursepkg.viz`: plots and widgets for the notebooks (imported on demand).
- :mod:`coursepkg.memory`: keep freed memory for reuse (applied on import; page faults cost time).
"""

from coursepkg import data, functional, memory, metrics, nn, ops, optim, train
from coursepkg.backend import (
    Backend,
    BackendError,
    get_backend,
    gpu_available,
    namespace_of,
    reset_backend,
    seed,
    set_backend,
    to_numpy,
    use_backend,
)
from coursepkg.gradcheck import check_gradients, numerical_gradient, relative_error
from coursepkg.tensor import Tensor, no_grad, tensor

__version__ = "0.1.0"

memory.keep_freed_memory()  # see coursepkg.memory; COURSEPKG_KEEP_FREED_MEMORY=0 turns it off

__all__ = [
    "Backend", "BackendError", "Tensor", "check_gradients", "data", "functional", "get_backend", "gpu_available",
    "memory", "metrics", "namespace_of", "nn", "no_grad", "numerical_gradient", "ops", "optim", "relative_error",
    "reset_backend", "search", "seed", "set_backend", "tensor", "to_numpy", "train", "use_backend",
]


def __getattr__(name: str):  # noqa: ANN202
    """``coursepkg.search`` is imported on first use: it needs SciPy, which takes most of a second."""
    if name == "search":
        import importlib

        return importlib.import_module("coursepkg.search")
    raise AttributeError(f"module 'coursepkg' has no attribute {name!r}")
