"""The autodiff core: a ``Tensor`` that remembers how it was made, and ``backward()``.

This file is the whole engine, in the spirit of micrograd's ``engine.py`` but vectorized:
a Tensor holds a backend array (``.data``) instead of one number.

How it works
------------
Every differentiable operation is a small :class:`Function` object. When you compute
``c = a * b`` the ``Mul`` function runs its forward pass on the arrays, and ``c`` keeps a
reference to that function (``c._creator``), which keeps references to ``a`` and ``b``.
That chain of references *is* the computation graph.

``loss.backward()`` then

1. sorts the graph topologically (every tensor comes after everything it depends on),
2. walks it in reverse, calling each function's ``backward`` with the gradient of its output,
3. **adds** each returned gradient into the input's ``.grad``.

Gradients accumulate
--------------------
Step 3 adds rather than assigns, because a tensor used twice (``a * a``) must receive the sum
of both contributions. It also means that calling ``backward()`` twice adds the gradients of
both calls: **zero the gradients before each training step** (``optimizer.zero_grad()`` or
``model.zero_grad()``). Forgetting this is the classic bug micrograd's video warns about.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy

from coursepkg.backend import _library_of, get_backend, is_array, namespace_of, to_numpy


class _GradMode(threading.local):
    """Whether operations record the graph; switched off inside ``no_grad()``. One flag per
    thread, so evaluating in one thread never silences training in another."""

    enabled = True


_grad_mode = _GradMode()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations build no graph (faster, less memory): use it for evaluation."""
    previous, _grad_mode.enabled = _grad_mode.enabled, False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def is_grad_enabled() -> bool:
    """False inside a ``no_grad()`` block."""
    return _grad_mode.enabled


class Function:
    """One differentiable operation: a forward pass and its backward pass.

    Subclasses implement ``forward(*arrays, **options) -> array`` and
    ``backward(grad_out) -> tuple`` (one gradient, or None, per tensor input, in order).
    They may store what backward needs on ``self``.
    """

    inputs: tuple[Tensor, ...]
    # True where backward() always returns new arrays that nothing else holds (a layer's weight and
    # bias gradients, made by matrix products and sums): a parameter can then keep its first
    # gradient as it is, without the copy Tensor._accumulate otherwise makes.
    returns_new_gradients: bool = False

    @classmethod
    def apply(cls, *inputs: Tensor, **options: Any) -> Tensor:
        """Run the forward pass on the inputs' arrays and record the op in the graph."""
        arrays = [t.data for t in inputs]
        for array in arrays:  # the common case, all NumPy arrays, needs no closer look
            if type(array) is not numpy.ndarray:
                _check_same_place(cls.__name__, arrays)
                break
        fn = cls()
        out = Tensor._from_array(fn.forward(*arrays, **options))
        if _grad_mode.enabled:
            for t in inputs:
                if t.requires_grad:
                    out.requires_grad = True
                    fn.inputs = inputs
                    out._creator = fn
                    break
        return out

    def forward(self, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad_out: Any) -> tuple[Any, ...]:
        raise NotImplementedError


def _check_same_place(op: str, arrays: list[Any]) -> None:
    """Raise TypeError when the arrays come from different libraries or sit on different devices."""
    first = arrays[0]
    for array in arrays[1:]:
        device_a, device_b = getattr(first, "device", None), getattr(array, "device", None)
        if _library_of(first) != _library_of(array) or (
                device_a is not None and device_b is not None and device_a != device_b):
            raise TypeError(f"{op}: inputs live on different backends or devices "
                            f"({_describe(first)} and {_describe(array)}); move them with .to(...) first.")


def _describe(array: Any) -> str:
    device = getattr(array, "device", None)
    return f"{_library_of(array)} array" + (f" on {device}" if device not in (None, "cpu") else "")


class Tensor:
    """A backend array plus, when ``requires_grad``, the record needed to differentiate it.

    Inputs:
    - data: a backend array, a NumPy array, a list or a number (floats become the backend's
      default dtype, float32 unless changed).
    - requires_grad: whether ``backward()`` should compute ``.grad`` for this tensor.

    Attributes: ``data`` (the array), ``grad`` (an array of the same shape, or None),
    ``shape``, ``dtype``, ``ndim``.
    """

    __slots__ = ("data", "grad", "requires_grad", "_creator", "name", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        elif not is_array(data) or (
                type(data) is numpy.ndarray and get_backend().name != "numpy"):
            data = get_backend().asarray(data)  # lists, numbers, or NumPy data for another backend
        self.data = data
        self.grad: Any = None
        self.requires_grad = requires_grad
        self._creator: Function | None = None
        self.name = name

    @classmethod
    def _from_array(cls, data: Any) -> Tensor:
        """A new graph-free Tensor around a backend array, skipping the input checks of
        ``__init__`` (every op's output goes through here, so it must be cheap)."""
        out = object.__new__(cls)
        out.data, out.grad, out.requires_grad, out._creator, out.name = data, None, False, None, None
        return out

    # ------------------------------------------------------------------ information
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def xp(self) -> Any:
        """The array namespace of this tensor's data (numpy, cupy, array_api_strict)."""
        return namespace_of(self.data)

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{grad})"

    def numpy(self) -> Any:
        """A NumPy copy of the data (an explicit transfer to the host)."""
        return to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        return float(to_numpy(self.data).reshape(-1)[0]) if self.size == 1 else _not_scalar(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # ------------------------------------------------------------------ backward
    def backward(self, grad: Any = None) -> None:
        """Compute d(self)/d(leaf) for every tensor in the graph and **add** it into ``.grad``.

        Inputs:
        - grad: the gradient of some final scalar with respect to ``self`` (same shape as
          ``self``). Optional when ``self`` has one element: it defaults to 1.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad: "
                               "no input had requires_grad=True, or it was computed under no_grad().")
        if grad is None:  # the usual case, loss.backward()
            if self.size != 1:
                raise RuntimeError(f"backward() needs a gradient argument for a non-scalar tensor of shape "
                                   f"{self.shape}; reduce it first (for example .sum() or .mean()).")
            # A fresh 1 of the tensor's shape, made on the device (on CuPy a kernel, not a copy from the
            # host). What xp.ones does, minus NumPy's Python wrapper around it (0.6 us of 0.8 here).
            grad = self.xp.empty(self.data.shape, dtype=self.data.dtype, device=self.data.device)
            grad[...] = 1
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            if isinstance(grad, (int, float)):  # backward(2.0) on a scalar
                grad = grad * self.xp.ones_like(self.data)
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"backward(): the gradient has shape {tuple(grad.shape)} but the tensor has "
                                 f"shape {self.shape}; they must match.")

        if self._creator is None:  # backward() on a leaf
            self._accumulate(grad)
            return
        # Tensors are dictionary keys by identity (Tensor defines no __eq__ or __hash__).
        grads: dict[Tensor, Any] = {self: grad}  # the gradients flowing through the graph
        for node in reversed(_topological_order(self)):
            g = grads.pop(node, None)
            if g is None:
                continue
            fn = node._creator
            for parent, parent_grad in zip(fn.inputs, fn.backward(g)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent._creator is None:  # a leaf: nothing flows further, add into .grad now
                    parent._accumulate(parent_grad, owned=fn.returns_new_gradients)
                else:
                    grads[parent] = grads[parent] + parent_grad if parent in grads else parent_grad

    def _accumulate(self, g: Any, owned: bool = False) -> None:
        """Add ``g`` into ``.grad``. The first time, a copy of ``g`` unless ``owned`` (g is a new array
        nobody else holds): ``g`` may be shared with other leaves or read-only (a broadcast view), and
        optimizers and gradient clipping are allowed to change ``.grad`` in place."""
        if self.grad is not None:
            self.grad = self.grad + g
        else:
            self.grad = g if owned else namespace_of(g).asarray(g, copy=True)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    # ------------------------------------------------------------------ operators (defined in ops)
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.power(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape)

    def transpose(self, *axes: int) -> Tensor:
        return _ops.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:  # noqa: N802  (NumPy's name)
        return _ops.transpose(self, None)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)


def _not_scalar(t: Tensor) -> float:
    raise ValueError(f"item() needs a tensor with one element, got shape {t.shape}")


def _topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor made by an op that ``root`` depends on (leaves excluded: their gradient is
    added into ``.grad`` as it arrives), each after all of its inputs. Iterative depth-first
    search, so a long chain of ops cannot hit Python's recursion limit."""
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in node._creator.inputs:
                if parent.requires_grad and parent._creator is not None and parent not in visited:
                    stack.append((parent, False))
    return order


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a Tensor on the active backend from a list, NumPy array or number."""
    return Tensor(get_backend().asarray(data, dtype=dtype), requires_grad=requires_grad)


from coursepkg import ops as _ops  # noqa: E402  (ops needs Tensor and Function defined above)
