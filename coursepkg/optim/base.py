"""``Optimizer``: the base class every optimizer shares.

An optimizer holds a list of parameters and, for each of them, a little *state* (a momentum
buffer, running averages of the gradient...). One training step is always::

    optimizer.zero_grad()   # forget the previous step's gradients
    loss = loss_fn(model(x), y)
    loss.backward()         # fill p.grad for every parameter
    optimizer.step()        # update every p.data in place, using p.grad

Subclasses only write ``update(p, grad, state)``: how one parameter moves given its gradient.

Two rules every update follows:

- **In place.** ``p.data`` is changed where it lives (``p.data -= ...``), with ``xp``
  operations, so no parameter is copied and nothing leaves the device.
- **Gradients are read, never written.** ``p.grad`` may be the very same array as another
  tensor's gradient (autodiff hands the same array to both inputs of an addition), so an
  update works on a new array when it must change the gradient (weight decay, for example).

A parameter whose ``grad`` is None (it did not take part in the loss, or it is frozen) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from coursepkg.backend import get_backend, namespace_of, to_numpy
from coursepkg.optim.flat import FlatParameters


class Optimizer:
    """Base class: a list of parameters, a learning rate, and per-parameter state.

    Inputs:
    - params: the parameters to train: ``model.parameters()``, any iterable of Parameters
      (or Tensors with ``requires_grad``), or a Module.
    - lr: the learning rate (a positive float). Schedules change ``optimizer.lr`` as training goes.

    Attributes:
    - params: the list of parameters, in order.
    - lr: the current learning rate.
    - state: one dict per parameter (``state[i]`` belongs to ``params[i]``): arrays of the
      parameter's shape and the count ``"step"`` of updates it received. Read it freely; to
      change it, use :meth:`load_state_dict` (on NumPy/CuPy the arrays are views of one flat
      buffer, see :mod:`coursepkg.optim.flat`, and a new array put in a dict is not seen).
    - hyperparameters: class attribute, the names saved in ``state_dict`` besides the state.
    """

    hyperparameters: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Any] | Any, lr: float) -> None:
        if hasattr(params, "parameters"):  # a Module
            params = params.parameters()
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got an empty list of parameters (did the model define any?).")
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not hasattr(p, "data") or not hasattr(p, "grad"):
                raise TypeError(f"{name}: params[{i}] is a {type(p).__name__}, not a Parameter or Tensor.")
            if id(p) in seen:
                raise ValueError(f"{name}: params[{i}] is the same parameter as params[{seen[id(p)]}]; "
                                 "it would be updated twice per step.")
            seen[id(p)] = i
        if not lr > 0:
            raise ValueError(f"{name}: the learning rate lr must be positive, got {lr}.")
        self.lr = float(lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._flat: FlatParameters | None = None
        self._flatten()

    def __repr__(self) -> str:
        settings = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"

    # ------------------------------------------------------------------ the training step
    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set it to None) before the next ``backward()``."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        if self._flat_step():
            return
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if tuple(p.grad.shape) != tuple(p.data.shape):
                raise ValueError(f"{type(self).__name__}.step: a parameter of shape {tuple(p.data.shape)} "
                                 f"has a gradient of shape {tuple(p.grad.shape)}.")
            state["step"] = state.get("step", 0) + 1
            self.update(p, p.grad, state)

    def _flat_step(self) -> bool:
        """One ``update`` over all parameters laid end to end (see :mod:`coursepkg.optim.flat`).

        Returns False, having changed nothing, when that fast path does not apply.
        """
        flat = self._flat
        if flat is None or flat.states is not self.state or not flat.gather_gradients():
            if any(p.grad is None for p in self.params):
                self._flat = None  # the per-parameter path skips those; rebuild when all have one
                return False
            flat = self._flatten()  # anew: the parameters or the state were replaced
            if flat is None or not flat.gather_gradients():
                return False
        flat.step(self.update)
        return True

    def _flatten(self) -> FlatParameters | None:
        """Lay parameters and state end to end, where views make that possible."""
        usable = FlatParameters.usable(self.params, self.state)
        self._flat = FlatParameters(self.params, self.state) if usable else None
        return self._flat

    def update(self, p: Any, grad: Any, state: dict[str, Any]) -> None:
        """Move one parameter: change ``p.data`` in place using ``grad`` and ``state``.

        Inputs:
        - p: the Parameter; ``p.data`` has shape S.
        - grad: its gradient, shape S (read only: never modify it in place).
        - state: this parameter's dict; ``state["step"]`` is t = 1 on the first update.
        """
        raise NotImplementedError(f"{type(self).__name__} must define update(p, grad, state).")

    @staticmethod
    def buffer(state: dict[str, Any], name: str, p: Any) -> Any:
        """``state[name]``, created as zeros shaped like ``p.data`` on first use."""
        if name not in state:
            state[name] = namespace_of(p.data).zeros_like(p.data)
        return state[name]

    # ------------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: hyperparameters and state, as one flat dict.

        Returns a dict whose values are plain Python numbers (or tuples of numbers) and backend
        arrays, for example ``{"lr": 0.001, "betas": (0.9, 0.999), "state.0.step": 5,
        "state.0.exp_avg": array}``. Arrays are the optimizer's own (not copies);
        :func:`coursepkg.train.save_checkpoint` writes them to disk.
        """
        out: dict[str, Any] = {name: getattr(self, name) for name in self.hyperparameters}
        for i, state in enumerate(self.state):
            for key, value in state.items():
                out[f"state.{i}.{key}"] = value
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        Arrays may come from any backend (NumPy arrays read from a checkpoint, say): they are
        copied (never shared) to the active backend with the dtype of their parameter.
        Raises ValueError naming the entry when it belongs to no parameter or its shape does
        not match; nothing is changed then.
        """
        name = type(self).__name__
        backend = get_backend()
        new_state: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in state_dict.items():
            if not key.startswith("state."):
                continue
            _, index, entry = key.split(".", 2)
            i = int(index)
            if i >= len(self.params):
                raise ValueError(f"{name}.load_state_dict: '{key}' belongs to parameter {i}, but this optimizer "
                                 f"has only {len(self.params)} parameters (was it built for another model?).")
            p = self.params[i]
            if entry == "step":
                new_state[i][entry] = int(value)
            elif hasattr(value, "shape"):
                if tuple(value.shape) != tuple(p.data.shape):
                    raise ValueError(f"{name}.load_state_dict: '{key}' has shape {tuple(value.shape)} but "
                                     f"parameter {i} has shape {tuple(p.data.shape)}.")
                new_state[i][entry] = _fresh_copy(backend.asarray(to_numpy(value), dtype=p.data.dtype))
            else:
                new_state[i][entry] = value
        for key in self.hyperparameters:
            if key in state_dict:
                value = state_dict[key]
                setattr(self, key, tuple(value) if isinstance(value, (list, tuple)) else value)
        self.state = new_state


def _fresh_copy(array: Any) -> Any:
    """A copy that shares no memory with ``array``: the state is then updated in place safely,
    even when ``array`` is still used elsewhere (another optimizer's state, say)."""
    copy = namespace_of(array).empty_like(array)
    copy[...] = array
    return copy
