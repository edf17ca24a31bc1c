"""``Sequential``: a model that is a list of modules applied one after another."""

from __future__ import annotations

from typing import Any

from coursepkg.nn.module import Module


class Sequential(Module):
    """Applies ``layers[0]``, then ``layers[1]``, ... Indexable and iterable.

    Example: ``Sequential(Linear(64, 32), ReLU(), Linear(32, 10))``.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(layer).__name__}, not a Module "
                                "(did you pass a function such as ops.relu instead of ReLU()?).")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):  # noqa: ANN204
        return iter(self.layers)

    def append(self, layer: Module) -> Sequential:
        self.layers.append(layer)
        return self
