"""Reading pages: execute the lesson notebooks and write them as HTML (``coursepkg html``)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Page:
    """One notebook turned into ``html``; ``errors`` lists the cells that raised (empty when clean)."""

    notebook: Path
    html: Path
    errors: list[str] = field(default_factory=list)


def notebook_to_html(notebook: str | Path, out_dir: str | Path, timeout: float = 600,
                     kernel_name: str = "python3") -> Page:
    """Execute ``notebook`` in a fresh kernel (in its own folder) and write ``out_dir/<name>.html``.

    A cell that raises does not stop the run: its traceback is on the page and in ``Page.errors``.
    """
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook, out_dir = Path(notebook), Path(out_dir)
    node = nbformat.read(notebook, as_version=4)
    # Without MPLBACKEND the kernel uses the inline backend; an inherited MPLBACKEND=Agg (as in
    # CI) would make every plt.show() draw nothing and the pages would have no figures.
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    NotebookClient(node, timeout=int(timeout), kernel_name=kernel_name, allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent.resolve())}}).execute(env=env)
    errors = [f"cell {number}: {output.get('ename', 'Error')}: {output.get('evalue', '')}"
              for number, cell in enumerate(node.cells, start=1) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    body, _ = HTMLExporter().from_notebook_node(node, resources={"metadata": {"name": notebook.stem}})
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / f"{notebook.stem}.html"
    page.write_text(body, encoding="utf-8")
    return Page(notebook, page, errors)


def notebooks_to_html(notebook_dir: str | Path, out_dir: str | Path, timeout: float = 600) -> list[Page]:
    """Turn every ``*.ipynb`` of ``notebook_dir`` into ``out_dir/<name>.html``, plus an ``index.html``.

    Returns: one :class:`Page` per notebook, in file-name order.
    """
    notebook_dir, out_dir = Path(notebook_dir), Path(out_dir)
    if not notebook_dir.is_dir():
        raise FileNotFoundError(f"no notebook folder at {notebook_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [notebook_to_html(path, out_dir, timeout) for path in sorted(notebook_dir.glob("*.ipynb"))]
    links = "".join(f'<li><a href="{html.escape(page.html.name)}">{html.escape(page.notebook.stem)}</a></li>'
                    for page in pages)
    (out_dir / "index.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lessons</title></head>"
        f"<body><h1>Lessons</h1><ul>{links}</ul></body></html>\n", encoding="utf-8")
    return pages
