"""One update for all parameters at once: the optimizer's fast path on NumPy and CuPy.

A small model has many small parameters, and an optimizer written per parameter (as every
``update`` in this package is, for clarity) pays a few microseconds of Python and library
overhead for each of them on every step: at batch size 8 that is most of the step.

Every update rule here is *elementwise*: each weight moves using only its own gradient and its
own state. So the rule gives the same result whether it runs on each parameter in turn or once
on all of them laid end to end. :class:`FlatParameters` lays them end to end: one contiguous
array holds every parameter, and each ``p.data`` becomes a *view* of its slice (so the model sees
no difference); the state (momentum, running averages) gets the same treatment. A step then copies
the gradients into one flat gradient and calls ``update`` once.

So an optimizer built on NumPy or CuPy *takes over the storage* of its parameters: after
``Adam(model.parameters())`` each ``p.data`` is a new array (a view), and an array you took from
``p.data`` before that is no longer the parameter. From then on every update is in place.

Once per step is not quite what runs on NumPy, though. An update makes about a dozen passes over
the parameters (Adam: scale m, add to it, square the gradient, ...), and for a model of a million
parameters each pass walks 4 MB per array, more than the processor's fastest caches hold. So on
NumPy the flat arrays are cut into pieces of ``PIECE_BYTES`` and ``update`` runs once per piece:
all its passes over one piece, while it sits in the cache, before the next piece. The update is
elementwise, so the pieces give the same numbers. Every ``FLUSH_EVERY`` steps, state values too
small to be normal floats are set to zero (see ``FLUSH_EVERY`` for why). Measured on a
784-256-256-10 MLP (270k parameters, batch 32): the update 20-30% faster in pieces, and 40% faster
than without the flush after 3,000 steps.

Views are a NumPy/CuPy guarantee but not an array-API one, so on other backends (and whenever a
parameter has no gradient, or parameters differ in dtype or step count) the optimizer takes the
plain per-parameter path. Both paths give the same numbers (tested).
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import _library_of, namespace_of

VIEW_LIBRARIES = ("numpy", "cupy")

# NumPy updates run on slices of this many bytes per array (about 5 arrays of this size, the
# parameters, gradient, state and temporaries, then fit in a 1 MB cache). On CuPy one call per
# array is best: the GPU has no such cache to fit and each call costs a kernel launch.
PIECE_BYTES = 128 * 1024

# Every FLUSH_EVERY steps on NumPy, state values too small to be normal floats are set to zero.
# Where a gradient stays zero (a dead ReLU unit, say), Adam's m shrinks by 0.9 per step until,
# after some 800 steps, it falls below float32's smallest normal number, 1.2e-38, and gets stuck
# there: 0.9 x (the smallest subnormal) rounds back to itself. Processors compute with such
# "subnormal" numbers 10-100x slower than with normal ones. Measured on the 784-256-256-10 MLP at
# batch 32: after 4,000 steps 26,000 of m's 270,000 numbers were subnormal and Adam's update took
# 3.3x as long as at step 250. Zero instead of 1e-38 changes no weight by a visible amount.
FLUSH_EVERY = 50


class _FlatTensor:
    """Stands in for a Parameter in ``update(p, grad, state)``: only ``.data`` is read."""

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = data


class FlatParameters:
    """Every parameter (and every state array) as a slice of one contiguous array.

    Inputs:
    - params: the optimizer's parameters (all with the same dtype, on NumPy or CuPy).
    - states: the optimizer's per-parameter state dicts; their arrays are moved into flat
      buffers too, and replaced by views.
    """

    def __init__(self, params: list[Any], states: list[dict[str, Any]]) -> None:
        xp = namespace_of(params[0].data)
        self.params = params
        self.shapes = [tuple(p.data.shape) for p in params]
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.flat = _FlatTensor(xp.concat([xp.reshape(p.data, (-1,)) for p in params]))
        self.views = self._split(self.flat.data)
        for p, view in zip(params, self.views):
            p.data = view
        self.grad = xp.empty_like(self.flat.data)
        self.grad_views = self._split(self.grad)
        self.state: dict[str, Any] = {"step": states[0].get("step", 0)}
        for key, value in states[0].items():
            if hasattr(value, "shape"):
                self.state[key] = xp.concat([xp.reshape(s[key], (-1,)) for s in states])
        self.states = states
        self._shared: set[str] = set()
        self.share_state()
        self.updates = 0  # how many steps ran on these flat arrays

    @staticmethod
    def usable(params: list[Any], states: list[dict[str, Any]]) -> bool:
        """Whether the flat path applies: views guaranteed, one dtype, equal state layout."""
        first = params[0].data
        if _library_of(first) not in VIEW_LIBRARIES:
            return False
        keys = set(states[0])
        return all(p.data.dtype == first.dtype and type(p.data) is type(first) and set(s) == keys
                   and s.get("step", 0) == states[0].get("step", 0) for p, s in zip(params, states))

    def _split(self, flat: Any) -> list[Any]:
        xp = namespace_of(flat)
        views, start = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            views.append(xp.reshape(flat[start:start + size], shape))
            start += size
        return views

    def gather_gradients(self) -> bool:
        """Copy every gradient into the flat gradient. Returns False (the flat gradient is then
        meaningless) when a parameter has no gradient or one of another shape, or when someone
        replaced its ``p.data`` (load_state_dict, .to(), assignment) so that it is no longer a view."""
        for p, view, grad_view in zip(self.params, self.views, self.grad_views):
            if p.data is not view or p.grad is None or p.grad.shape != view.shape:
                return False
            grad_view[...] = p.grad
        return True

    def step(self, update: Any) -> None:
        """One optimizer step on the flat arrays: ``update(p, grad, state)`` on every piece (see
        :meth:`pieces`), then the step count and the parameters' state dicts brought up to date.
        Call :meth:`gather_gradients` first."""
        self.state["step"] += 1
        for p, grad, state in self.pieces():
            update(p, grad, state)
        self.updates += 1
        if self.updates % FLUSH_EVERY == 0 and _library_of(self.flat.data) == "numpy":
            self.flush_subnormal_state()
        self.share_state()

    def pieces(self) -> list[tuple[_FlatTensor, Any, dict[str, Any]]]:
        """The arguments of ``update(p, grad, state)`` for each piece of the flat arrays.

        One piece, the whole arrays, on CuPy, on the first update (which may create state arrays:
        ``update`` then makes them whole) and when they fit in one piece; on NumPy after that,
        slices of ``PIECE_BYTES``.
        Returns a list of (parameters, gradient, state) with the state's arrays sliced alike.
        """
        flat = self.flat.data
        step = max(1, PIECE_BYTES // flat.itemsize)
        if self.updates == 0 or flat.shape[0] <= step or _library_of(flat) != "numpy":
            return [(self.flat, self.grad, self.state)]
        out = []
        for start in range(0, flat.shape[0], step):
            piece = slice(start, start + step)
            state = {key: value if key == "step" else value[piece] for key, value in self.state.items()}
            out.append((_FlatTensor(flat[piece]), self.grad[piece], state))
        return out

    def flush_subnormal_state(self) -> None:
        """Set every state value too small to be a normal float (below ``finfo.smallest_normal``,
        about 1e-38 in float32) to zero. See ``FLUSH_EVERY`` for why."""
        for key, value in self.state.items():
            if key != "step":
                xp = namespace_of(value)
                value[xp.abs(value) < xp.finfo(value.dtype).smallest_normal] = 0

    def share_state(self) -> None:
        """Point each parameter's state dict at its slice of the flat state (new arrays only)."""
        if self.state["step"]:
            for s in self.states:
                s["step"] = self.state["step"]
        for key, value in self.state.items():
            if key != "step" and key not in self._shared:
                for s, view in zip(self.states, self._split(value)):
                    s[key] = view
                self._shared.add(key)
