"""Where the random numbers of shuffling and augmentation come from.

Why this module exists: :mod:`coursepkg.data.batches` and :mod:`coursepkg.data.augment` both
draw random numbers *for* an array ``x``, and they must come out in ``x``'s own library and on
its device, so that shuffling or augmenting never moves data between host and device. The rule,
in order:

1. ``seed=`` given: a fresh generator seeded with it (NumPy's for NumPy arrays, otherwise one
   of the active backend's kind);
2. ``rng=`` given: a ``numpy.random.Generator`` (only for NumPy arrays) or a
   :class:`~coursepkg.backend.Backend` (its seeded generator; ``x`` must live on it);
3. neither: the active backend's generator (``get_backend()``).
"""

from __future__ import annotations

from typing import Any

import numpy

from coursepkg.backend import Backend, BackendError, dtype_name, get_backend, namespace_of

RandomSource = numpy.random.Generator | Backend


def random_source(like: Any, rng: Any = None, seed: int | None = None, *, caller: str) -> RandomSource:
    """The generator to draw from for the array ``like`` (see the module docstring).

    Inputs:
    - like: the array the random numbers are for (their library and device follow it).
    - rng: None, a numpy.random.Generator or a Backend.
    - seed: None or an int; a fresh generator seeded with it.
    - caller: the public function's name, for error messages.
    Returns: a numpy.random.Generator (for NumPy arrays) or a Backend.
    """
    if seed is not None:
        if rng is not None:
            raise ValueError(f"{caller}: pass either seed= or rng=, not both.")
        if isinstance(like, numpy.ndarray):
            return numpy.random.default_rng(seed)
        active = get_backend()
        rng = Backend(active.name, seed=seed, device=active.device, dtype=dtype_name(active.default_dtype))
    if rng is None:
        rng = get_backend()
    if isinstance(rng, numpy.random.Generator):
        if not isinstance(like, numpy.ndarray):
            raise BackendError(
                f"{caller}: a numpy.random.Generator can only draw for NumPy arrays, but got a "
                f"{type(like).__module__}.{type(like).__name__}. Pass rng=None (the active backend's "
                "generator), a Backend, or seed=.")
        return rng
    if isinstance(rng, Backend):
        if namespace_of(like) is not rng.xp:
            raise BackendError(
                f"{caller}: the array is from {type(like).__module__.split('.')[0]!r} but the random "
                f"generator belongs to the {rng.name!r} backend. Move the data to the backend first "
                "(data.to_backend(dataset) or backend.asarray(x)), or, for NumPy data, pass seed= or a "
                "numpy.random.Generator.")
        return rng
    raise TypeError(f"{caller}: rng must be None, a numpy.random.Generator or a Backend, got {type(rng).__name__}.")


def uniform(source: RandomSource, shape: tuple[int, ...]) -> Any:
    """Float64 samples in [0, 1) of the given shape, in the source's library and device."""
    if isinstance(source, numpy.random.Generator):
        return source.random(shape)
    return source.rand(shape, dtype=source.xp.float64)


def normal(source: RandomSource, shape: tuple[int, ...], dtype: Any) -> Any:
    """Standard normal samples of the given shape and dtype, in the source's library and device."""
    if isinstance(source, numpy.random.Generator):
        return source.standard_normal(shape).astype(dtype, copy=False)
    return source.randn(shape, dtype=dtype)


def permutation(source: RandomSource, n: int) -> Any:
    """A random order of 0..n-1 (int64), in the source's library and device."""
    return source.permutation(n)


def integers(source: RandomSource, low: int, high: int, n: int) -> Any:
    """``n`` random integers in [low, high] (both included), int64, in the source's library and device."""
    u = uniform(source, (n,))
    xp = namespace_of(u)
    return xp.astype(xp.floor(u * (high - low + 1)), xp.int64) + low
