"""Which array library does the work: NumPy, CuPy, or (in tests) ``array_api_strict``.

Every numerical routine in ``coursepkg`` is written once, against an *array namespace*
called ``xp`` (``numpy``, ``cupy`` or ``array_api_strict``), following the Python array API
standard. This module is the only place that knows those library names.

A :class:`Backend` bundles together

- ``xp``: the array namespace,
- ``device``: where new arrays live,
- ``rng``: a seeded random generator that is native to the backend,
- the default floating dtype (``float32``; gradient checks use ``float64``),
- the few helpers the standard lacks (``scatter_add``, ``synchronize``, ``to_numpy``).

Code that is handed an array finds its library with :func:`namespace_of` (the standard's
``x.__array_namespace__()`` does not exist on CuPy's arrays).

There is exactly one piece of global state in the package: the *active* backend. It is
explicit (``set_backend``), scoped (``use_backend``) and resettable (``reset_backend``).

Choosing a backend::

    import coursepkg as cp
    cp.set_backend("numpy", seed=0)      # the default
    cp.set_backend("cupy")               # a clear error if no GPU is usable
    cp.set_backend("auto")               # CuPy if a GPU works, NumPy otherwise

or set the environment variable ``COURSEPKG_BACKEND`` to ``numpy``, ``cupy`` or ``auto``
before importing the package.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy

BACKEND_NAMES = ("numpy", "cupy", "array_api_strict")
ENV_VARIABLE = "COURSEPKG_BACKEND"


class BackendError(RuntimeError):
    """Raised when a backend is requested that cannot be used on this machine."""


class Backend:
    """An array library, a device and a seeded random generator, bundled together.

    Inputs:
    - name: "numpy", "cupy" or "array_api_strict".
    - seed: seed of the backend's random generator (an int, or None for fresh entropy).
    - device: where arrays live; None for the library's default device. For
      array_api_strict, a fake device name such as "device1" catches hidden host transfers.
    - dtype: default floating dtype name, "float32" or "float64".
    """

    def __init__(self, name: str = "numpy", seed: int | None = 0, device: Any = None,
                 dtype: str = "float32") -> None:
        if name not in BACKEND_NAMES:
            raise ValueError(f"Unknown backend {name!r}; choose one of {BACKEND_NAMES} or 'auto'.")
        self.name = name
        self.xp = _import_namespace(name)
        if name == "array_api_strict" and isinstance(device, str):
            device = self.xp.Device(device)
        self.device = device
        self.default_dtype = getattr(self.xp, dtype)
        self.seed(seed)

    def __repr__(self) -> str:
        return f"Backend({self.name!r}, device={self.device!r}, dtype={self.default_dtype})"

    # ------------------------------------------------------------------ arrays
    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Put ``data`` (a list, a NumPy array or a scalar) on this backend's device.

        Floating input becomes ``default_dtype`` unless ``dtype`` is given; integers and
        booleans keep their kind. This is an explicit host-to-device transfer.
        """
        if dtype is not None and self.name == "array_api_strict" and not isinstance(dtype, type(self.xp.float32)):
            dtype = getattr(self.xp, dtype_name(numpy.dtype(dtype)))  # a NumPy dtype named for this backend
        if isinstance(data, (numpy.ndarray, numpy.generic)) or not is_array(data):
            host = numpy.asarray(data)
            if dtype is None and host.dtype.kind == "f":
                dtype = self.default_dtype
            if dtype is not None and self.name != "array_api_strict":
                host = host.astype(dtype, copy=False)
            if self.name == "numpy":
                return host
            if self.name == "cupy":
                import cupy
                with cupy.cuda.Device(self.device) if self.device is not None else _null():
                    return cupy.asarray(host)
            return self.xp.asarray(host, dtype=dtype, device=self.device)
        if _library_of(data) != self.name:
            raise BackendError(
                f"Got an array from {_library_of(data)!r} but the active backend is {self.name!r}; "
                "move it with to_numpy() and backend.asarray() first.")
        return data if dtype is None else self.xp.astype(data, dtype)

    def zeros(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """An array of zeros of the given shape, on this backend's device."""
        return self.xp.zeros(shape, dtype=dtype or self.default_dtype, **self._on_device())

    def ones(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """An array of ones of the given shape, on this backend's device."""
        return self.xp.ones(shape, dtype=dtype or self.default_dtype, **self._on_device())

    def arange(self, n: int, dtype: Any = None) -> Any:
        """The integers 0..n-1 on this backend's device."""
        return self.xp.arange(n, dtype=dtype or self.xp.int64, **self._on_device())

    def _on_device(self) -> dict:
        return {} if self.name != "array_api_strict" or self.device is None else {"device": self.device}

    # ------------------------------------------------------------------ random
    def seed(self, seed: int | None) -> None:
        """Reset the backend's random generator to ``seed``."""
        self.seed_value = seed
        if self.name == "cupy":
            import cupy
            self.rng = cupy.random.default_rng(seed)
        else:  # array_api_strict has no random module: draw on the host, then transfer
            self.rng = numpy.random.default_rng(seed)

    def _from_rng(self, host_or_device: Any, dtype: Any) -> Any:
        if self.name == "array_api_strict":
            return self.xp.asarray(numpy.asarray(host_or_device), dtype=dtype, device=self.device)
        return host_or_device.astype(dtype, copy=False)

    def randn(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Standard normal samples of the given shape (default dtype unless given)."""
        return self._from_rng(self.rng.standard_normal(shape), dtype or self.default_dtype)

    def rand(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Uniform samples in [0, 1) of the given shape."""
        return self._from_rng(self.rng.random(shape), dtype or self.default_dtype)

    def uniform(self, low: float, high: float, shape: tuple[int, ...], dtype: Any = None) -> Any:
        """Uniform samples in [low, high) of the given shape."""
        return self._from_rng(self.rng.uniform(low, high, shape), dtype or self.default_dtype)

    def permutation(self, n: int) -> Any:
        """A random permutation of 0..n-1 as an int64 array on the device."""
        if self.name == "cupy":  # CuPy's Generator has no permutation: sort n random keys instead
            return self._from_rng(self.xp.argsort(self.rng.random(n)), self.xp.int64)
        return self._from_rng(self.rng.permutation(n), self.xp.int64)

    # ------------------------------------------------------------------ helpers outside the standard
    def to_numpy(self, x: Any) -> numpy.ndarray:
        """Copy an array to the host as a NumPy array (for plotting and printing)."""
        return to_numpy(x)

    def scatter_add(self, target: Any, indices: Any, values: Any) -> Any:
        """``target[indices[i]] += values[i]`` for every i, with repeated indices summed.

        Inputs:
        - target: array of shape (V, *rest), updated in place and returned.
        - indices: int array of shape (M,), values in [0, V).
        - values: array of shape (M, *rest).
        Returns: target.
        """
        if self.name == "numpy":
            numpy.add.at(target, indices, values)
        elif self.name == "cupy":
            import cupy
            cupy.add.at(target, indices, values)
        else:  # the standard has no scatter: a one-hot matrix product does the same sum
            from coursepkg.functional.onehot import sum_rows_by_index  # functional imports this module

            target += sum_rows_by_index(values, indices, target.shape[0])
        return target

    def synchronize(self) -> None:
        """Wait until queued device work is done (a no-op on the CPU). Call it before timing."""
        if self.name == "cupy":
            import cupy
            cupy.cuda.get_current_stream().synchronize()


@contextlib.contextmanager
def _null() -> Iterator[None]:
    yield


def _import_namespace(name: str) -> ModuleType:
    if name == "numpy":
        return numpy
    if name == "array_api_strict":
        import array_api_strict
        return array_api_strict
    _import_cupy()
    return _cupy_namespace()


def _cupy_namespace() -> ModuleType:
    """CuPy's array-API namespace: CuPy itself, with the standard's spellings and ``device=``
    arguments added by ``array_api_compat`` (its arrays are plain ``cupy.ndarray``)."""
    import array_api_compat.cupy
    return array_api_compat.cupy


def _import_cupy() -> ModuleType:
    """Import CuPy and prove that a GPU answers, or explain exactly why not."""
    try:
        import cupy
    except ImportError as error:
        raise BackendError(
            "The 'cupy' backend needs the CuPy package, which is not installed "
            f"({error}). Install it with `pip install -e \".[gpu]\"` on a machine with an "
            "NVIDIA GPU, or use set_backend('numpy') (or 'auto', which falls back to NumPy)."
        ) from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count == 0:
            raise BackendError("CuPy is installed but CUDA reports no GPU on this machine.")
        cupy.zeros(1).sum().item()  # compiles and runs a kernel: catches driver mismatches
    except BackendError:
        raise
    except Exception as error:  # CUDA driver / runtime errors have many types
        raise BackendError(
            f"CuPy is installed but no GPU could be used: {type(error).__name__}: {error}. "
            "Check `nvidia-smi` and that the CUDA driver matches CuPy's build, or use "
            "set_backend('numpy') (or 'auto')."
        ) from error
    return cupy


_NAMESPACE_OF_TYPE: dict[type, ModuleType] = {}


def namespace_of(array: Any) -> ModuleType:
    """The array library (``xp``) that ``array`` belongs to: ``numpy``, ``cupy`` or ``array_api_strict``.

    The array API standard spells this ``array.__array_namespace__()``, but CuPy's arrays do not
    have that method (CuPy 14), so the package asks here instead. For CuPy the answer is
    ``array_api_compat.cupy``: CuPy with the standard's names (the backend's ``xp`` is the same).
    The answer is remembered per array type, which also makes this about 5x quicker than the
    method (it runs a dozen times a step).

    Inputs:
    - array: an array (or scalar) of NumPy, CuPy or array_api_strict.
    Returns: that library's array-API module, whose functions take and return such arrays.
    Raises TypeError for anything else (a list, a Python number, a Tensor).
    """
    try:
        return _NAMESPACE_OF_TYPE[type(array)]
    except KeyError:
        return _learn_namespace(array)


def _learn_namespace(array: Any) -> ModuleType:
    if _library_of(array) == "cupy":  # CuPy's arrays have no __array_namespace__ method
        namespace = _cupy_namespace()
    elif hasattr(array, "__array_namespace__"):
        namespace = array.__array_namespace__()
    else:
        raise TypeError(f"Expected an array of NumPy, CuPy or array_api_strict, got {type(array).__name__}"
                        f"{' (use tensor.data for its array)' if hasattr(array, 'requires_grad') else ''}.")
    _NAMESPACE_OF_TYPE[type(array)] = namespace
    return namespace


def is_array(value: Any) -> bool:
    """True for an array or scalar of NumPy, CuPy or array_api_strict; False for lists, numbers, Tensors."""
    try:
        namespace_of(value)
    except TypeError:
        return False
    return True


def _library_of(array: Any) -> str:
    module = type(array).__module__.split(".")[0]
    return {"numpy": "numpy", "cupy": "cupy", "array_api_strict": "array_api_strict"}.get(module, module)


def to_numpy(x: Any) -> numpy.ndarray:
    """Copy any backend array (or a Tensor, or a scalar) to the host as a NumPy array.

    This is the one explicit device-to-host transfer in the package; use it for plotting.
    """
    x = getattr(x, "data", x) if hasattr(x, "grad") else x  # a Tensor: take its array
    library = _library_of(x)
    if library == "cupy":
        return x.get()
    if library == "array_api_strict":
        import array_api_strict
        return numpy.asarray(x.to_device(array_api_strict.Device("CPU_DEVICE")))
    return numpy.asarray(x)


def dtype_name(dtype: Any) -> str:
    """The plain name of a dtype from any backend, such as ``"float32"``."""
    return str(dtype).rsplit(".", 1)[-1].strip("'>")


# ---------------------------------------------------------------------- the active backend
def _backend_from_environment() -> Backend:
    requested = os.environ.get(ENV_VARIABLE, "numpy").strip().lower() or "numpy"
    return make_backend(requested)


def make_backend(name: str = "numpy", seed: int | None = 0, device: Any = None,
                 dtype: str = "float32") -> Backend:
    """Create a backend by name; ``"auto"`` means CuPy if a GPU works, else NumPy (with a message)."""
    if name == "auto":
        try:
            return Backend("cupy", seed=seed, device=device, dtype=dtype)
        except BackendError as error:
            warnings.warn(f"coursepkg: no usable GPU, so the NumPy backend is used. ({error})", stacklevel=2)
            return Backend("numpy", seed=seed, dtype=dtype)
    return Backend(name, seed=seed, device=device, dtype=dtype)


_ACTIVE: Backend = _backend_from_environment()


def get_backend() -> Backend:
    """The active backend."""
    return _ACTIVE


def set_backend(name: str | Backend = "numpy", seed: int | None = 0, device: Any = None,
                dtype: str = "float32") -> Backend:
    """Make a backend active for the whole session and return it.

    Inputs:
    - name: "numpy", "cupy", "array_api_strict", "auto", or a Backend object.
    - seed, device, dtype: as in :class:`Backend`.
    """
    global _ACTIVE
    _ACTIVE = name if isinstance(name, Backend) else make_backend(name, seed=seed, device=device, dtype=dtype)
    return _ACTIVE


def reset_backend() -> Backend:
    """Go back to the backend chosen by the environment (NumPy, seed 0, float32 by default)."""
    return set_backend(_backend_from_environment())


@contextlib.contextmanager
def use_backend(name: str | Backend = "numpy", seed: int | None = 0, device: Any = None,
                dtype: str = "float32") -> Iterator[Backend]:
    """Activate a backend inside a ``with`` block, and restore the previous one after it."""
    previous = _ACTIVE
    try:
        yield set_backend(name, seed=seed, device=device, dtype=dtype)
    finally:
        set_backend(previous)


def seed(value: int | None) -> None:
    """Seed the active backend's random generator."""
    _ACTIVE.seed(value)


def gpu_available() -> bool:
    """True when CuPy is installed and a GPU answers."""
    try:
        _import_cupy()
        return True
    except BackendError:
        return False
