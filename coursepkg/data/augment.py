"""Data augmentation: random, label-preserving changes to a batch of signals or images.

Shapes: 1-D signals (N, L) or (N, C, L); images (N, H, W) or (N, C, H, W). Axis 0 is always
the example axis; every example gets its own random draw. All functions are pure: they return
a new array and leave the input alone.

Randomness (the ``rng`` and ``seed`` arguments): a ``numpy.random.Generator`` for NumPy arrays,
a :class:`~coursepkg.backend.Backend` (its seeded generator), ``seed=`` for a fresh generator,
or nothing for the active backend's generator. Random numbers are drawn in the array's own
library and device, so augmenting never moves data between host and device.

The operations are written once with the array API (``xp = namespace_of(x)``).
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import is_array, namespace_of
from coursepkg.data import _random


def _check_batch(x: Any, caller: str, min_ndim: int = 2) -> Any:
    if not is_array(x):
        raise TypeError(f"{caller}: x must be an array (NumPy or a backend array), got {type(x).__name__}.")
    if x.ndim < min_ndim:
        raise ValueError(f"{caller}: x must be a batch of shape (N, ...) with at least {min_ndim} dimensions, "
                         f"got shape {tuple(x.shape)}.")
    return namespace_of(x)


def _example_axis_shape(x: Any, values: Any, axis: int | None = None) -> Any:
    """Reshape per-example values (N,) to (N, 1, ..., 1), or put a length-L vector on ``axis``."""
    xp = namespace_of(x)
    shape = [1] * x.ndim
    shape[0 if axis is None else axis] = values.shape[0]
    return xp.reshape(values, tuple(shape))


def _spatial_axis(x: Any, axis: int, caller: str) -> int:
    axis = axis % x.ndim if -x.ndim <= axis < x.ndim else -1
    if axis <= 0:
        raise ValueError(f"{caller}: axis must be a non-batch axis of x (1..{x.ndim - 1} or negative), "
                         f"got {axis} for x of shape {tuple(x.shape)}.")
    return axis


def shift_examples(x: Any, shifts: Any, axis: int = -1, *, zero_fill: bool = False) -> Any:
    """Shift each example along ``axis`` by its own amount: ``out[n, ..., j] = x[n, ..., j - shifts[n]]``.

    A positive shift moves the content towards higher indices. Values pushed past the end come
    back at the start (circular, like ``roll``), or, with ``zero_fill=True``, are dropped and
    the vacated positions become 0.

    Inputs:
    - x: array of shape (N, ...).
    - shifts: int64 array of shape (N,), on x's device.
    - axis: the axis to shift along (not 0).
    - zero_fill: fill with zeros instead of wrapping around.
    Returns: array of the same shape and dtype as x.
    """
    xp = namespace_of(x)
    axis = _spatial_axis(x, axis, "shift_examples")
    length = x.shape[axis]
    positions = _example_axis_shape(x, xp.arange(length, dtype=xp.int64, device=x.device), axis)
    source = positions - _example_axis_shape(x, shifts)  # (N, 1.., L at axis, ..1)
    wrapped = xp.broadcast_to(source % length, x.shape)
    out = xp.take_along_axis(x, wrapped, axis=axis)
    if zero_fill:
        inside = (source >= 0) & (source < length)
        out = out * xp.astype(inside, x.dtype)
    return out


def add_gaussian_noise(x: Any, sigma: float, rng: Any = None, *, seed: int | None = None) -> Any:
    """Add independent Gaussian noise of standard deviation ``sigma`` to every value.

    Inputs:
    - x: floating array of shape (N, ...).
    - sigma: noise standard deviation, >= 0.
    - rng, seed: where the random numbers come from (see the module docstring).
    Returns: x + sigma * noise, same shape and dtype as x.
    """
    _check_batch(x, "add_gaussian_noise", min_ndim=1)
    if sigma < 0:
        raise ValueError(f"add_gaussian_noise: sigma must be >= 0, got {sigma}.")
    source = _random.random_source(x, rng, seed, caller="add_gaussian_noise")
    return x + sigma * _random.normal(source, tuple(x.shape), x.dtype)


def random_shift(x: Any, max_shift: int, rng: Any = None, *, mode: str = "circular", axis: int = -1,
                 seed: int | None = None) -> Any:
    """Shift every example along ``axis`` by a random whole number in [-max_shift, max_shift].

    Inputs:
    - x: array of shape (N, L), (N, C, L), (N, H, W) or (N, C, H, W).
    - max_shift: the largest shift, >= 0.
    - rng, seed: where the random numbers come from (see the module docstring).
    - mode: "circular" (what leaves one end comes back at the other) or "zeros" (zero-filled).
    - axis: the axis to shift along: -1 is time for signals and width for images; -2 is height.
    Returns: array of the same shape and dtype as x; each example's values are a shifted copy.
    """
    caller = "random_shift"
    _check_batch(x, caller)
    if max_shift < 0:
        raise ValueError(f"{caller}: max_shift must be >= 0, got {max_shift}.")
    if mode not in ("circular", "zeros"):
        raise ValueError(f"{caller}: mode must be 'circular' or 'zeros', got {mode!r}.")
    source = _random.random_source(x, rng, seed, caller=caller)
    shifts = _random.integers(source, -max_shift, max_shift, x.shape[0])
    return shift_examples(x, shifts, axis, zero_fill=mode == "zeros")


def random_flip(x: Any, rng: Any = None, *, p: float = 0.5, axis: int = -1, seed: int | None = None) -> Any:
    """Reverse each example along ``axis`` (a horizontal flip for images) with probability ``p``.

    Inputs:
    - x: array of shape (N, L), (N, C, L), (N, H, W) or (N, C, H, W).
    - rng, seed: where the random numbers come from (see the module docstring).
    - p: probability that an example is flipped.
    - axis: the axis to reverse; -1 (width) is a horizontal flip.
    Returns: array of the same shape and dtype as x.
    """
    caller = "random_flip"
    xp = _check_batch(x, caller)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{caller}: p must be a probability in [0, 1], got {p}.")
    axis = _spatial_axis(x, axis, caller)
    source = _random.random_source(x, rng, seed, caller=caller)
    flip = _random.uniform(source, (x.shape[0],)) < p
    return xp.where(_example_axis_shape(x, flip), xp.flip(x, axis=axis), x)


def random_crop(x: Any, padding: int, rng: Any = None, *, spatial_dims: int = 2, seed: int | None = None) -> Any:
    """Pad every example with ``padding`` zeros on each side, then crop it back to its size at a random place.

    Cropping a window of size L at offset o (0 <= o <= 2 * padding) from the zero-padded signal
    is the same as shifting the signal by padding - o with zero fill, which is how it is computed
    (no padded copy is made). Each spatial axis gets its own random offset.

    Inputs:
    - x: array of shape (N, ..., H, W) with spatial_dims=2 (images), or (N, ..., L) with spatial_dims=1.
    - padding: the number of zeros added on each side, >= 0.
    - rng, seed: where the random numbers come from (see the module docstring).
    - spatial_dims: how many trailing axes are spatial: 2 for images, 1 for signals.
    Returns: array of the same shape and dtype as x.
    """
    caller = "random_crop"
    _check_batch(x, caller, min_ndim=1 + spatial_dims)
    if padding < 0:
        raise ValueError(f"{caller}: padding must be >= 0, got {padding}.")
    if spatial_dims not in (1, 2):
        raise ValueError(f"{caller}: spatial_dims must be 1 (signals) or 2 (images), got {spatial_dims}.")
    source = _random.random_source(x, rng, seed, caller=caller)
    for axis in range(-spatial_dims, 0):
        shifts = _random.integers(source, -padding, padding, x.shape[0])
        x = shift_examples(x, shifts, axis, zero_fill=True)
    return x
