"""``Module`` and ``Parameter``: the building blocks every layer and model is made of.

A Module holds Parameters (tensors to train), buffers (arrays to save but not train, such as
batch-norm running statistics) and sub-modules, found automatically from its attributes in the
order they were assigned. It knows whether it is training or evaluating, which changes how
Dropout and BatchNorm behave.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from coursepkg.backend import Backend, dtype_name, get_backend, to_numpy
from coursepkg.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: ``requires_grad`` is True.

    The data is copied, so training (which updates parameters in place) never changes the
    array it was created from.
    """

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None) -> None:
        super().__init__(data, requires_grad=True, name=name)
        self.data = self.xp.asarray(self.data, copy=True)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class of all layers and models: subclasses define ``__init__`` and ``forward``.

    Example::

        class TwoLayer(Module):
            def __init__(self):
                super().__init__()
                self.hidden = Linear(4, 8)
                self.out = Linear(8, 3)

            def forward(self, x):
                return self.out(relu(self.hidden(x)))
    """

    def __init__(self) -> None:
        self.training = True
        self._buffers: dict[str, Any] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ finding parts
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules, in the order they were assigned (lists of modules included)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every Parameter with a dotted name such as ``"layers.0.weight"``.

        A parameter shared by two layers (tied weights) comes once, under its first name, so an
        optimizer updates it once.
        """
        seen: set[int] = set()
        for name, p in self._all_named_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _all_named_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._all_named_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        """Every Parameter, in a stable order (the optimizers' order)."""
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep an array that is saved in ``state_dict`` but not trained."""
        self._buffers[name] = array

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for name, array in self._buffers.items():
            yield prefix + name, array
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    def num_parameters(self) -> int:
        """The number of trainable numbers in the model."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics). Returns self."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout is the identity, BatchNorm uses running statistics)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------ saving and moving
    def state_dict(self) -> dict[str, Any]:
        """Parameters and buffers by dotted name, as backend arrays (not copies)."""
        state = {name: p.data for name, p in self.named_parameters()}
        state.update(dict(self.named_buffers()))
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers, checking names and shapes.

        Arrays may come from any backend (for example NumPy arrays read from a checkpoint);
        they are converted to the active backend explicitly.

        Raises KeyError naming missing or unexpected entries (when ``strict``), and ValueError
        naming the parameter and both shapes on a shape mismatch.
        """
        own = self.state_dict()
        if strict:
            missing = sorted(set(own) - set(state))
            unexpected = sorted(set(state) - set(own))
            if missing or unexpected:
                raise KeyError(f"{type(self).__name__}.load_state_dict: missing entries {missing}, "
                               f"unexpected entries {unexpected}.")
        backend = get_backend()
        params = dict(self.named_parameters())
        for name, array in state.items():
            if name not in own:
                continue
            if tuple(array.shape) != tuple(own[name].shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict: '{name}' has shape "
                                 f"{tuple(own[name].shape)} in the model but {tuple(array.shape)} in the state.")
            value = backend.xp.asarray(backend.asarray(to_numpy(array), dtype=own[name].dtype), copy=True)
            if name in params:
                params[name].data = value
            else:
                self._set_buffer(name, value)

    def _set_buffer(self, dotted: str, value: Any) -> None:
        owner_name, _, key = dotted.rpartition(".")
        dict(self.named_modules())[owner_name]._buffers[key] = value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module inside it, with dotted names."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def to(self, backend: Backend | None = None) -> Module:
        """Move every parameter and buffer to ``backend`` (default: the active one). Returns self."""
        backend = backend or get_backend()
        for p in self.parameters():
            p.data = backend.asarray(to_numpy(p.data), dtype=_same_dtype(backend, p.data))
            p.grad = None
        for module in self.modules():
            for name, array in module._buffers.items():
                module._buffers[name] = backend.asarray(to_numpy(array), dtype=_same_dtype(backend, array))
        return self

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        inner = "\n".join(f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children)
        return f"{type(self).__name__}(\n{inner}\n)"

    def extra_repr(self) -> str:
        return ""


def _same_dtype(backend: Backend, array: Any) -> Any:
    """The dtype on ``backend`` with the same name as ``array``'s dtype (float32 stays float32)."""
    return getattr(backend.xp, dtype_name(array.dtype))
