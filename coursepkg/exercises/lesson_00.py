"""Lesson 00, welcome and backends: the graded questions.

Three short exercises that get the mechanics going:

- ``relative_error(a, b)``: the warm-up. It is the measure every check prints ("max relative
  error"), and the lesson notebook shows both a wrong and a right version.
- ``to_device_and_back(x_numpy, backend)``: a host -> device -> host round trip that keeps the
  values, shape and dtype. It is checked on NumPy and on ``array_api_strict`` placed on the fake
  device "device1", whose namespace records every array it creates (a spy), so a function that
  never transfers anything is caught.
- ``softmax_rows(x)``: a backend-agnostic function written with ``xp = cp.namespace_of(x)``,
  checked on NumPy arrays and on ``array_api_strict`` arrays on "device1", where any NumPy-only
  call fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.backend import Backend, dtype_name, is_array, namespace_of, to_numpy
from coursepkg.exercises.question import CheckFailure, describe_inputs, expect, expect_close, register

FAKE_DEVICE = "device1"


# ----------------------------------------------------------------------------- reference solutions
def reference_relative_error(a: Any, b: Any) -> float:
    """max over elements of |a - b| / max(|a|, |b|, 1e-8).

    Inputs: two NumPy arrays of the same shape (or numbers).
    Returns: a Python float (0.0 for empty arrays).
    """
    a, b = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    if a.size == 0:
        return 0.0
    scale = numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(b)), 1e-8)
    return float(numpy.max(numpy.abs(a - b) / scale))


def reference_to_device_and_back(x_numpy: numpy.ndarray, backend: Backend) -> numpy.ndarray:
    """Copy a NumPy array to ``backend``'s device and back to the host.

    Inputs:
    - x_numpy: a NumPy array of any shape and dtype.
    - backend: a :class:`~coursepkg.backend.Backend`.
    Returns: a NumPy array with the values, shape and dtype of ``x_numpy``.
    """
    dtype = getattr(backend.xp, x_numpy.dtype.name)  # the same dtype, as the backend's library names it
    on_device = backend.asarray(x_numpy, dtype=dtype)
    return backend.to_numpy(on_device)


def reference_softmax_rows(x: Any) -> Any:
    """softmax of every row of ``x``, on any array-API library.

    Inputs: x of shape (N, C), a floating array of NumPy, CuPy or array_api_strict.
    Returns: an array of shape (N, C) of the same library, device and dtype; every row sums to 1.
    """
    xp = namespace_of(x)
    shifted = x - xp.max(x, axis=1, keepdims=True)  # the largest entry of each row becomes 0: no overflow
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- planted wrong answers
def _relerr_signed(a, b):
    a, b = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    return float(numpy.max((a - b) / numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(b)), 1e-8)))


def _relerr_over_b(a, b):
    a, b = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    return float(numpy.max(numpy.abs(a - b) / numpy.maximum(numpy.abs(b), 1e-8)))


def _relerr_no_floor(a, b):
    a, b = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        return float(numpy.max(numpy.abs(a - b) / numpy.maximum(numpy.abs(a), numpy.abs(b))))


def _relerr_mean(a, b):
    a, b = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    return float(numpy.mean(numpy.abs(a - b) / numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(b)), 1e-8)))


def _round_trip_no_transfer(x_numpy, backend):
    return x_numpy


def _round_trip_copy_on_host(x_numpy, backend):
    return numpy.array(x_numpy)


def _round_trip_float64(x_numpy, backend):
    return backend.to_numpy(backend.asarray(x_numpy, dtype=backend.xp.float64))


def _round_trip_default_dtype(x_numpy, backend):
    return backend.to_numpy(backend.asarray(x_numpy))


def _round_trip_transposed(x_numpy, backend):
    dtype = getattr(backend.xp, x_numpy.dtype.name)
    return backend.to_numpy(backend.xp.matrix_transpose(backend.asarray(x_numpy, dtype=dtype))) \
        if x_numpy.ndim >= 2 else reference_to_device_and_back(x_numpy, backend)


def _round_trip_flattened(x_numpy, backend):
    return reference_to_device_and_back(x_numpy, backend).reshape(-1)


def _round_trip_stays_on_device(x_numpy, backend):
    return backend.asarray(x_numpy, dtype=getattr(backend.xp, x_numpy.dtype.name))


def _round_trip_host_device(x_numpy, backend):
    return to_numpy(backend.xp.asarray(x_numpy))  # no device=: lands on the library's default device


def _softmax_numpy_only(x):
    e = numpy.exp(x - numpy.max(x, axis=1, keepdims=True))
    return e / numpy.sum(e, axis=1, keepdims=True)


def _softmax_columns(x):
    xp = namespace_of(x)
    e = xp.exp(x - xp.max(x, axis=0, keepdims=True))
    return e / xp.sum(e, axis=0, keepdims=True)


def _softmax_unshifted(x):
    xp = namespace_of(x)
    with numpy.errstate(over="ignore", invalid="ignore"):
        e = xp.exp(x)
        return e / xp.sum(e, axis=1, keepdims=True)


def _softmax_global_max(x):
    xp = namespace_of(x)
    e = xp.exp(x - xp.max(x))  # one max for the whole array: a row far below it underflows to 0 / 0
    with numpy.errstate(invalid="ignore"):
        return e / xp.sum(e, axis=1, keepdims=True)


def _softmax_in_place(x):
    xp = namespace_of(x)
    x -= xp.max(x, axis=1, keepdims=True)
    e = xp.exp(x)
    return e / xp.sum(e, axis=1, keepdims=True)


# ----------------------------------------------------------------------------- the spy backend
class _RecordingNamespace:
    """An array namespace that behaves like the one it wraps, and keeps every array ``asarray`` made."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace
        self.made: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._namespace, name)

    def asarray(self, *args: Any, **kwargs: Any) -> Any:
        array = self._namespace.asarray(*args, **kwargs)
        self.made.append(array)
        return array


def _spy_backend(dtype: str) -> tuple[Backend, _RecordingNamespace]:
    """array_api_strict on the fake device "device1", with its namespace recording the arrays it makes."""
    backend = Backend("array_api_strict", seed=0, device=FAKE_DEVICE, dtype=dtype)
    spy = _RecordingNamespace(backend.xp)
    backend.xp = spy
    return backend, spy


# ----------------------------------------------------------------------------- the questions
@register(
    id="00.relative_error", lesson="00", points=1, names=("relative_error",),
    reference=(reference_relative_error,),
    mutants={
        "forgot the absolute value of a - b": (_relerr_signed,),
        "divides by |b| only (not symmetric, huge where b = 0)": (_relerr_over_b,),
        "no 1e-8 floor: 0 / 0 where both are zero": (_relerr_no_floor,),
        "mean instead of max": (_relerr_mean,),
    },
    hint="np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-8)), returned as a float.",
)
def check_relative_error(relative_error: Callable, rng: numpy.random.Generator) -> None:
    """The relative error every check reports."""
    cases = [
        (rng.standard_normal(5), rng.standard_normal(5)),
        (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
        (numpy.array([1.0, 0.0]), numpy.array([1.0, 5.0])),  # the largest difference is negative
        (numpy.array([3.0, -2.0, 0.5]), numpy.array([0.0, -2.0, 0.5])),  # b is zero where a is not
        (numpy.array([0.0, 1.0]), numpy.array([0.0, 1.1])),  # both zero: 0, not 0 / 0
        (numpy.array([2.5]), numpy.array([2.5])),
    ]
    x = rng.standard_normal(6)
    cases.append((x, x * (1 + 1e-3 * rng.standard_normal(6))))
    for a, b in cases:
        what = f"relative_error(a, b) with a = {numpy.array2string(a.reshape(-1)[:6], precision=3)}, " \
               f"b = {numpy.array2string(b.reshape(-1)[:6], precision=3)} ({describe_inputs(a=a)})"
        got = relative_error(a.copy(), b.copy())
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise CheckFailure(f"{what} returned {type(got).__name__}; return one number.") from None
        expect_close(value, reference_relative_error(a, b), what=what, rtol=1e-9)


def _call(function: Callable, what: str, *args: Any, hint: str = "") -> Any:
    """Call the learner's function; an exception becomes feedback that names the call."""
    try:
        return function(*args)
    except (NotImplementedError, CheckFailure):
        raise
    except Exception as error:  # noqa: BLE001  (whatever goes wrong is the learner's feedback)
        message = f"{what} raised {type(error).__name__}: {str(error).rstrip('.')}."
        raise CheckFailure(message + (f" {hint}" if hint else "")) from None


@register(
    id="00.to_device_and_back", lesson="00", points=2, names=("to_device_and_back",),
    reference=(reference_to_device_and_back,),
    mutants={
        "returns the input without transferring it": (_round_trip_no_transfer,),
        "copies on the host, never touches the backend": (_round_trip_copy_on_host,),
        "casts to float64": (_round_trip_float64,),
        "lets asarray cast to the backend's default float32": (_round_trip_default_dtype,),
        "transposes the array": (_round_trip_transposed,),
        "flattens the array": (_round_trip_flattened,),
        "forgets to come back: returns the device array": (_round_trip_stays_on_device,),
        "creates the array on the library's default device, not the backend's": (_round_trip_host_device,),
    },
    hint="backend.asarray(x, dtype=getattr(backend.xp, x.dtype.name)) puts it on the device with its own "
         "dtype; backend.to_numpy(...) (or cp.to_numpy) brings it back.",
)
def check_to_device_and_back(to_device_and_back: Callable, rng: numpy.random.Generator) -> None:
    """A host -> device -> host round trip."""
    cases = [  # (backend library, backend default dtype, the array)
        ("numpy", "float32", rng.standard_normal((3, 4)).astype(numpy.float32)),
        ("numpy", "float32", rng.standard_normal(5)),  # float64 on a float32 backend: keep float64
        ("array_api_strict", "float32", rng.standard_normal((2, 3)).astype(numpy.float32)),
        ("array_api_strict", "float32", rng.standard_normal((4, 1, 2))),
        ("array_api_strict", "float64", rng.standard_normal((3, 3)).astype(numpy.float32)),
        ("array_api_strict", "float32", rng.integers(-5, 5, size=(2, 5))),
        ("array_api_strict", "float32", numpy.array([1.5])),
    ]
    for library, default_dtype, x in cases:
        if library == "numpy":
            backend, spy = Backend("numpy", seed=0, dtype=default_dtype), None
            where = f"the NumPy backend (default dtype {default_dtype})"
        else:
            backend, spy = _spy_backend(default_dtype)
            where = f"an array_api_strict backend on device {FAKE_DEVICE!r} (default dtype {default_dtype})"
        what = f"to_device_and_back(x, backend) with {describe_inputs(x=x)} and {where}"
        original = x.copy()
        got = _call(to_device_and_back, what, x, backend,
                    hint="Only the backend's own helpers move arrays (backend.asarray(...) to the device, "
                         "backend.to_numpy(...) back to the host), and dtypes belong to the backend's library: "
                         "getattr(backend.xp, x.dtype.name), not x.dtype.")
        expect(got is not None, f"{what} returned None; did you forget `return`?")
        expect(isinstance(got, numpy.ndarray),
               f"{what} returned {type(got).__module__}.{type(got).__name__}, not a NumPy array: bring the "
               "result back to the host with backend.to_numpy(...) or cp.to_numpy(...).")
        expect(numpy.array_equal(x, original), f"{what} changed its input x; leave it as it was.")
        expect(got.shape == x.shape, f"{what}: expected shape {x.shape}, got {got.shape}; a round trip "
                                     "must not reshape or transpose.")
        expect(got.dtype == x.dtype,
               f"{what}: the dtype changed from {x.dtype} to {got.dtype}. backend.asarray() casts floats to the "
               "backend's default dtype unless you pass dtype=...; the backend's library names the dtype: "
               "getattr(backend.xp, x.dtype.name).")
        expect_close(got, x, what=what, rtol=0, atol=0)
        if spy is None:
            continue
        made = [a for a in spy.made if tuple(a.shape) == x.shape]
        expect(bool(made), f"{what}: no array was created on the backend: the data never left the host. "
                           "Use backend.asarray(x, ...) to copy it to the backend's device.")
        expect(any(str(a.device) == str(backend.device) for a in made),
               f"{what}: the array was created on {made[-1].device}, not on the backend's device "
               f"{backend.device}. backend.asarray(...) puts it on the right device.")
        expect(got is not x and not numpy.shares_memory(got, x),
               f"{what} returned memory shared with its input; it should be the copy that came back.")


def _strict_array(x: numpy.ndarray) -> Any:
    """A NumPy array as an array_api_strict array on the fake device, same dtype."""
    import array_api_strict

    return array_api_strict.asarray(x, dtype=getattr(array_api_strict, x.dtype.name),
                                    device=array_api_strict.Device(FAKE_DEVICE))


STRICT_HINT = ("NumPy-only code (np.exp, np.max, x.max(...), x.sum(...)) cannot work on other array libraries. "
               "Start with xp = cp.namespace_of(x) and use xp.max(x, axis=..., keepdims=True), xp.exp, xp.sum.")


@register(
    id="00.softmax_rows", lesson="00", points=2, names=("softmax_rows",),
    reference=(reference_softmax_rows,),
    mutants={
        "uses numpy directly (np.exp, np.max)": (_softmax_numpy_only,),
        "normalizes columns (axis=0) instead of rows": (_softmax_columns,),
        "no max subtraction: exp overflows for large inputs": (_softmax_unshifted,),
        "subtracts one max for the whole array instead of one per row": (_softmax_global_max,),
        "subtracts the max in place, changing the caller's x": (_softmax_in_place,),
    },
    hint="xp = cp.namespace_of(x); e = xp.exp(x - xp.max(x, axis=1, keepdims=True)); "
         "return e / xp.sum(e, axis=1, keepdims=True).",
)
def check_softmax_rows(softmax_rows: Callable, rng: numpy.random.Generator) -> None:
    """softmax of each row, written once for every array library."""
    big = rng.standard_normal((3, 4)) + numpy.array([[1000.0], [-1000.0], [0.0]])
    cases = [
        ("numpy", rng.standard_normal((4, 3))),
        ("numpy", rng.standard_normal((1, 5))),
        ("numpy", 3 * rng.standard_normal((6, 2)).astype(numpy.float32)),
        ("numpy", big),
        ("numpy", numpy.array([[0.0, -2000.0], [-2000.0, -1990.0]])),
        ("array_api_strict", rng.standard_normal((3, 5)).astype(numpy.float32)),
        ("array_api_strict", big),
    ]
    for library, host in cases:
        x = host.copy() if library == "numpy" else _strict_array(host)
        where = "a NumPy array" if library == "numpy" else f"an array_api_strict array on device {FAKE_DEVICE!r}"
        what = f"softmax_rows(x) with {describe_inputs(x=host)} ({where})"
        large = float(numpy.max(numpy.abs(host))) > 100
        hint = ("Inputs of size 1000 overflow exp(): subtract each row's maximum first (softmax does not change "
                "when a constant is added to a row)." if large else "")
        got = _call(softmax_rows, what, x, hint=STRICT_HINT if library != "numpy" else hint)
        expect(got is not None, f"{what} returned None; did you forget `return`?")
        expect(numpy.array_equal(to_numpy(x), host),
               f"{what} changed its input x (an in-place update such as x -= ...); compute a new array.")
        if library != "numpy":
            expect(is_array(got) and namespace_of(got) is namespace_of(x),
                   f"{what} returned {type(got).__module__}.{type(got).__name__}; the result must come from "
                   "the input's own library. " + STRICT_HINT)
            expect(got.device == x.device, f"{what} returned an array on {got.device}, not on the input's "
                                           f"device {x.device}.")
            expect(dtype_name(got.dtype) == host.dtype.name,
                   f"{what}: the result has dtype {dtype_name(got.dtype)}; keep the input's {host.dtype.name}.")
        expected = reference_softmax_rows(host.astype(numpy.float64))
        tolerance = 1e-5 if host.dtype == numpy.float32 else 1e-9
        expect_close(got, expected, what=what, rtol=tolerance, atol=1e-12, hint=hint)
