"""Showing a verdict or a grade table once, in a notebook or in a terminal.

``check(...)`` and ``grade_here(...)`` display their result *and* return it. In a notebook, a
returned object that ends a cell is displayed again by IPython, so the learner would see every
verdict twice. :class:`ShownOnce` remembers in which cell it was shown and skips that echo; the
same object asked for again in a later cell (``verdict`` on its own line) is shown normally.
"""

from __future__ import annotations

from typing import Any


def _ipython() -> Any:
    """The running IPython shell, or None in a plain Python process."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


class ShownOnce:
    """Mixin for result objects with ``__str__`` (terminal) and ``_repr_html_`` (notebook)."""

    _shown_in_cell: int | None = None

    def _repr_html_(self) -> str:
        raise NotImplementedError

    def _mimebundle(self) -> dict[str, str]:
        return {"text/plain": str(self), "text/html": self._repr_html_()}

    def _ipython_display_(self) -> None:
        shell = _ipython()
        if shell is not None and self._shown_in_cell == shell.execution_count:
            self._shown_in_cell = None  # the cell's echo of what show() displayed already
            return
        from IPython.display import display

        display(self._mimebundle(), raw=True)


def show(result: ShownOnce) -> None:
    """Display ``result`` now: HTML and text in IPython, the text table with ``print`` elsewhere."""
    shell = _ipython()
    if shell is None:
        print(result)
        return
    from IPython.display import display

    display(result._mimebundle(), raw=True)
    result._shown_in_cell = shell.execution_count
