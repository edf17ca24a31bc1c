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

Views are a NumPy/CuPy guarantee but not an array-API one, so on other backends (and whenever a
parameter has no gradient, or parameters differ in dtype or step count) the optimizer takes the
plain per-parameter path. Both paths give the same numbers (tested).
"""

from __future__ import annotations

import math
from typing import Any

from coursepkg.backend import _library_of

VIEW_LIBRARIES = ("numpy", "cupy")


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
        xp = params[0].data.__array_namespace__()
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
        xp = flat.__array_namespace__()
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
