"""The course as a learner sees it: JupyterLab in a real (headless) browser.

A kernel run by nbval cannot see what goes wrong on the learner's screen: a widget that shows
"Error displaying widget: model not found" (front end and kernel disagree on ipywidgets), a
progress bar printed as raw text, a figure that never appears (``MPLBACKEND=Agg`` inherited by
the kernel). These tests open notebooks in JupyterLab, run them through the menus and the
keyboard, and assert on the page itself:

- no cell shows an error or anything on stderr (the red boxes a learner takes for errors);
- every widget is drawn as a widget, and moving a slider re-runs its function;
- tqdm progress bars (plain ``tqdm.auto`` and the course's ``fit`` bars) are widgets;
- every cell ending in ``plt.show()`` at top level shows an image;
- an exercise typed into the browser gets the right verdict from its check cell.

Screenshots land in ``test-artifacts/jupyterlab`` (or ``$COURSE_ARTIFACTS/jupyterlab``).
Fixtures (the server, the browser) are in this folder's conftest.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
KERNEL_TIMEOUT_MS = 120_000  # a kernel start, or a whole lesson on a busy 2-core machine
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
IMAGE = '.jp-OutputArea-output[data-mime-type="image/png"] img'
LESSON_00 = "notebooks/00_welcome_and_backends.ipynb"
LESSON_02 = "notebooks/02_gradient_descent.ipynb"
EXERCISES_02 = "exercises/02_gradient_descent.ipynb"

# The notebook this test writes itself, so that progress bars, a slider and a plot are tested
# even while the lessons that use them are being written.
SMOKE_CELLS = [
    "import ipywidgets as widgets\nimport matplotlib\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
    "from tqdm.auto import tqdm\n\nfrom coursepkg.train import TrainingProgress\n\n"
    "print('matplotlib backend:', matplotlib.get_backend())",
    "total = 0\nfor i in tqdm(range(30), desc='counting'):\n    total += i\nprint('total', total)",
    "bar = TrainingProgress(epochs=2, batches_per_epoch=4)  # the bars coursepkg.train.fit shows\n"
    "for epoch in (1, 2):\n    bar.start_epoch(epoch)\n    for _ in range(4):\n        bar.end_batch(0.5)\n"
    "    bar.end_epoch({'loss': 0.5})\nbar.close()",
    "def show_square(n):\n    print(f'n = {n}, n squared = {n * n}')\n\n\n"
    "widgets.interact(show_square, n=widgets.IntSlider(value=3, min=0, max=10, description='n'));",
    "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot(np.arange(10) ** 2)\nax.set_title('a parabola')\nplt.show()",
]

# True when the kernel of the notebook on screen exists and is idle.
KERNEL_IDLE_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const session = panel && panel.sessionContext && panel.sessionContext.session;
  return Boolean(session && session.kernel && session.kernel.status === 'idle');
}"""

# True when a "Run All" is over: kernel idle, no cell waiting ([*]), and every non-empty code
# cell numbered, or an error stopped the run (the cells after it stay unnumbered).
RUN_ALL_DONE_JS = """(stderrSelector) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const session = panel.sessionContext.session;
  if (!session || !session.kernel || session.kernel.status !== 'idle') return false;
  const prompts = [...panel.node.querySelectorAll('.jp-CodeCell')]
    .filter(cell => cell.querySelector('.cm-content').textContent.trim() !== '')
    .map(cell => cell.querySelector('.jp-InputPrompt').textContent);
  if (prompts.some(text => text.includes('*'))) return false;
  return prompts.every(text => /\\[\\d+\\]/.test(text)) || panel.node.querySelector(stderrSelector) !== null;
}"""


# --------------------------------------------------------------------------------------- helpers
def screenshot(lab, target, name: str) -> None:
    """Save a screenshot of a page or an element as ``<lab.artifacts>/<name>.png``."""
    target.screenshot(path=str(lab.artifacts / f"{name}.png"))


def screenshot_whole_notebook(lab, page, name: str) -> None:
    """Grow the window to the notebook's height (up to 16000 px) and take one screenshot of it all."""
    height = page.evaluate("""() => {
      const notebook = window.jupyterapp.shell.currentWidget.content.node;
      return Math.max(...[notebook, ...notebook.querySelectorAll('.jp-WindowedPanel-outer, .jp-WindowedPanel-inner')]
        .map(node => node.scrollHeight));
    }""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 200, 16_000)})
    page.evaluate("""() => {
      const notebook = window.jupyterapp.shell.currentWidget.content;
      notebook.activeCellIndex = 0;
      const scrollers = [notebook.node, ...notebook.node.querySelectorAll('.jp-WindowedPanel-outer')];
      scrollers.forEach(node => { node.scrollTop = 0; });
    }""")
    page.wait_for_timeout(1000)
    screenshot(lab, page, name)
    page.set_viewport_size(size)


def open_notebook(page, lab, path: str) -> nbformat.NotebookNode:
    """Open ``path`` in JupyterLab, wait for its kernel; return the notebook as stored on disk."""
    notebook = nbformat.read(lab.root / path, as_version=4)
    page.goto(lab.notebook_url(path))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=KERNEL_TIMEOUT_MS)
    assert cells(page).count() == len(notebook.cells), f"{path}: JupyterLab shows a different number of cells"
    return notebook


def cells(page):
    return page.locator(".jp-NotebookPanel .jp-Cell")


def run_all_cells(page) -> None:
    """Run > Run All Cells, as a learner would, and wait until the run is over."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('li[data-command="runmenu:run-all"]').click()
    page.wait_for_function(RUN_ALL_DONE_JS, arg=STDERR, timeout=KERNEL_TIMEOUT_MS, polling=500)


def run_cell(page, index: int) -> None:
    """Click into cell ``index``, press Shift+Enter, wait until it has run."""
    cell = cells(page).nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """([node, before]) => /\\[\\d+\\]/.test(node.textContent) && node.textContent !== before""",
        arg=[prompt.element_handle(), before], timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=KERNEL_TIMEOUT_MS)


def type_into_cell(page, index: int, code: str) -> None:
    """Replace the text of cell ``index`` by ``code``, through the editor (select all, paste)."""
    cells(page).nth(index).locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)
    source = page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model"
                           ".sharedModel.getSource()", index)
    assert source == code, f"the editor holds {source!r} instead of what was typed"


def stderr_outputs(page) -> list[str]:
    """The text of every error or stderr output on the page (tracebacks included)."""
    return page.locator(STDERR).all_inner_texts()


def assert_no_errors(page, path: str) -> None:
    shown = stderr_outputs(page)
    assert not shown, f"{path}: {len(shown)} cell output(s) show an error or stderr:\n" + "\n---\n".join(shown)
    text = page.locator(".jp-NotebookPanel .jp-Notebook").inner_text()
    assert "Error displaying widget" not in text, f"{path}: a widget failed to render (kernel and front end disagree?)"


def assert_no_text_widgets(page, path: str) -> None:
    """A widget the front end cannot draw falls back to its text repr, such as 'IntSlider(value=3)'."""
    plain = page.locator('.jp-OutputArea-output[data-mime-type="text/plain"]').all_inner_texts()
    fallbacks = [text for text in plain if re.search(r"\b\w*(Slider|Progress|Box|interactive)\(", text)]
    assert not fallbacks, f"{path}: widgets shown as text instead of widgets: {fallbacks}"


def assert_images_where_shown(page, notebook: nbformat.NotebookNode, path: str) -> int:
    """Every code cell with a top-level ``plt.show()`` displays a non-empty image; returns their count."""
    checked = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and re.search(r"^plt\.show\(\)", cell.source, re.MULTILINE):
            image = cells(page).nth(index).locator(IMAGE).first
            assert image.count() == 1, f"{path}: cell {index} calls plt.show() but shows no image"
            assert image.is_visible() and image.evaluate("img => img.naturalWidth") > 50, \
                f"{path}: the image of cell {index} is empty or hidden"
            checked += 1
    return checked


def move_slider(page, interact, presses: int = 1) -> None:
    """Focus the last slider of an interact widget and press the right arrow key ``presses`` times."""
    handle = interact.locator(".noUi-handle").last
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def check_interacts(lab, page, notebook: nbformat.NotebookNode, path: str, name: str) -> int:
    """Every cell calling ``interact`` shows sliders; moving one redraws its output. Returns the count."""
    from playwright.sync_api import expect

    checked = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not re.search(r"\binteract(ive)?\(", cell.source):
            continue
        interact = cells(page).nth(index).locator(".widget-interact")
        expect(interact, f"{path}: cell {index} shows no interact widget").to_be_visible()
        expect(interact.locator(".widget-slider").first).to_be_visible()
        readout = interact.locator(".widget-readout").last
        output = interact.locator(".widget-output")
        value_before, output_before = readout.inner_text(), output.inner_html()
        move_slider(page, interact)
        expect(readout, f"{path}: cell {index}: the slider did not move").not_to_have_text(value_before)
        page.wait_for_function("([node, before]) => node.innerHTML !== before",
                               arg=[output.element_handle(), output_before], timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=KERNEL_TIMEOUT_MS)  # the function has run to its end
        if "plt.show()" in cell.source:
            expect(output.locator(IMAGE), f"{path}: cell {index}: no figure after the slider moved").to_be_visible()
        screenshot(lab, cells(page).nth(index), f"{name}-cell{index:02d}-slider-moved")
        checked += 1
    return checked


def check_lesson(page, lab, path: str, name: str) -> tuple[int, int]:
    """Open a lesson, run all cells, check what the learner sees. Returns (figures, interacts) checked."""
    notebook = open_notebook(page, lab, path)
    run_all_cells(page)
    screenshot(lab, page, f"{name}-after-run-all")
    assert_no_errors(page, path)
    assert_no_text_widgets(page, path)
    figures = assert_images_where_shown(page, notebook, path)
    interacts = check_interacts(lab, page, notebook, path, name)
    assert_no_errors(page, path)  # moving the sliders re-ran code: still nothing red
    screenshot_whole_notebook(lab, page, f"{name}-whole-notebook")
    return figures, interacts


def solution_source(lesson: str, function: str) -> str:
    """The solution of ``function`` from ``solutions/<lesson>``, without the solution markers."""
    notebook = nbformat.read(REPO / "solutions" / lesson, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and f"def {function}(" in cell.source:
            lines = [line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line]
            return "\n".join(lines)
    raise LookupError(f"solutions/{lesson} has no cell defining {function}")


def index_of(notebook: nbformat.NotebookNode, text: str) -> int:
    """Index of the first code cell whose source contains ``text``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and text in cell.source:
            return index
    raise LookupError(f"no code cell contains {text!r}")


# ----------------------------------------------------------------------------------------- tests
def test_widgets_progress_bars_and_plots_render(page, lab):
    """A small notebook of our own: tqdm bars, fit's bars, a slider and a figure, all as a learner sees them."""
    from playwright.sync_api import expect

    path = "browser_smoke.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in SMOKE_CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, lab.root / path)

    open_notebook(page, lab, path)
    run_all_cells(page)
    screenshot(lab, page, "smoke-after-run-all")
    assert_no_errors(page, path)
    assert_no_text_widgets(page, path)

    backend = cells(page).nth(0).locator(".jp-OutputArea-output").inner_text()
    assert "matplotlib_inline" in backend, f"the kernel's matplotlib backend is not inline: {backend!r}"

    for index, expected_text in [(1, "30/30"), (2, "2/2")]:  # tqdm.auto, then TrainingProgress
        bar = cells(page).nth(index).locator(".widget-hprogress .progress-bar")
        expect(bar, f"cell {index}: the progress bar is not a widget").to_be_visible()
        expect(cells(page).nth(index).locator(".widget-hbox").first).to_contain_text(expected_text)
        screenshot(lab, cells(page).nth(index), f"smoke-progress-bar-cell{index}")
    expect(cells(page).nth(2).locator(".widget-hbox").first).to_contain_text("loss=0.5")

    interact = cells(page).nth(3).locator(".widget-interact")
    expect(interact.locator(".widget-slider")).to_be_visible()
    output = interact.locator(".widget-output")
    expect(output).to_contain_text("n = 3, n squared = 9")
    screenshot(lab, cells(page).nth(3), "smoke-slider-before")
    move_slider(page, interact, presses=2)
    expect(interact.locator(".widget-readout")).to_have_text("5")
    expect(output).to_contain_text("n = 5, n squared = 25")
    screenshot(lab, cells(page).nth(3), "smoke-slider-after")

    assert assert_images_where_shown(page, notebook, path) == 1
    screenshot(lab, cells(page).nth(4), "smoke-figure")
    assert_no_errors(page, path)


def test_lesson_00_runs_in_jupyterlab(page, lab):
    if not (lab.root / LESSON_00).exists():
        pytest.skip(f"{LESSON_00} does not exist yet: nothing to open")
    check_lesson(page, lab, LESSON_00, "lesson00")


def test_lesson_02_runs_in_jupyterlab(page, lab):
    figures, interacts = check_lesson(page, lab, LESSON_02, "lesson02")
    assert figures >= 1 and interacts >= 1, "lesson 02 should show figures and sliders"


def test_exercise_filled_in_through_the_browser(page, lab):
    """Exercise 1 of lesson 02: untouched, wrong, then right; the check cell says so each time."""
    notebook = open_notebook(page, lab, EXERCISES_02)
    imports = index_of(notebook, "from coursepkg.exercises import")
    exercise = index_of(notebook, "def mse_loss_and_grad(")
    check_cell = index_of(notebook, 'check("02.mse"')
    verdict = cells(page).nth(check_cell).locator(".jp-OutputArea-output")

    wrong = ("def mse_loss_and_grad(w, b, X, y):\n"
             "    residual = X @ w + b - y\n"
             "    return np.mean(residual**2), X.T @ residual / len(y), 2 * np.mean(residual)  # dw: forgot the 2")
    attempts = [("untouched", None, "NOT ATTEMPTED"), ("wrong", wrong, "FAILED"),
                ("solution", solution_source("02_gradient_descent.ipynb", "mse_loss_and_grad"), "PASSED")]
    run_cell(page, imports)
    for name, code, expected in attempts:
        if code is not None:
            type_into_cell(page, exercise, code)
        run_cell(page, exercise)
        run_cell(page, check_cell)
        text = verdict.inner_text()
        screenshot(lab, cells(page).nth(check_cell), f"exercise02-verdict-{name}")
        assert "[02.mse]" in text and expected in text, f"{name} answer: expected {expected}, the check says {text!r}"
        assert not stderr_outputs(page), f"{name} answer: an error is shown: {stderr_outputs(page)}"
    screenshot(lab, page, "exercise02-after-check")
