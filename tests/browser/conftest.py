"""Fixtures for the browser tests: JupyterLab on loopback, driven by headless Chromium.

- ``lab``: a JupyterLab server (module scope) started from this environment's Python on
  127.0.0.1, a random free port and a random token, serving a temporary copy of the course's
  ``notebooks/`` and ``exercises/`` (outputs stripped, as a learner first sees them). It runs
  with its own config, runtime, data and settings folders, so nothing of the user's Jupyter
  setup leaks in, and fetches nothing from the network (no news, no update check, read-only
  extension manager). ``MPLBACKEND`` is removed from its environment: with ``Agg`` inherited
  by the kernels, ``plt.show()`` would display nothing.
- ``browser``: Debian's Chromium (``/usr/bin/chromium``, or ``$COURSE_CHROMIUM``) launched by
  Playwright with a fresh profile and the flags that keep it off the network.
- ``page``: a new tab; on teardown the tab is closed and every kernel shut down.

Everything is skipped, with the reason, when Chromium or the ``playwright`` package is
missing (``.ci/install-browser.sh`` installs Chromium; ``pip install -e ".[dev]"`` Playwright).
Screenshots and the server log go to ``$COURSE_ARTIFACTS/jupyterlab`` (default
``test-artifacts/jupyterlab`` under the repository root).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
# Headless, and quiet: without the background-networking flags Chromium keeps trying to reach
# Google's servers, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90
# JupyterLab user settings: render every cell (no virtual scrolling, so every output is in the
# page), and never ask about or fetch the Jupyter news feed.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def artifacts_dir() -> Path:
    """Where screenshots and logs go: ``$COURSE_ARTIFACTS/jupyterlab`` or ``test-artifacts/jupyterlab``."""
    base = Path(os.environ.get("COURSE_ARTIFACTS") or REPO / "test-artifacts")
    path = base / "jupyterlab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_browser() -> None:
    """Skip (saying what to install) unless Chromium and Playwright for Python are both there."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (run .ci/install-browser.sh, or "
                    "`apt-get install chromium` on Debian, or point $COURSE_CHROMIUM at a Chromium)")
    pytest.importorskip("playwright.sync_api",
                        reason="browser tests need Playwright for Python (pip install -e '.[dev]'); "
                               "never run `playwright install`: the tests use the system Chromium")


def copy_course(root: Path) -> None:
    """Copy the course notebooks into ``root``, without outputs, as a learner first opens them."""
    for folder in ("notebooks", "exercises"):
        (root / folder).mkdir(parents=True)
        for source in sorted((REPO / folder).glob("*.ipynb")):
            notebook = nbformat.read(source, as_version=4)
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            notebook.metadata.pop("widgets", None)
            nbformat.write(notebook, root / folder / source.name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token, served folder, process and log file."""

    base_url: str
    token: str
    root: Path
    process: subprocess.Popen
    log_path: Path
    artifacts: Path  # where the tests put their screenshots

    def notebook_url(self, path: str) -> str:
        """The URL that opens ``path`` (relative to ``root``) in a fresh workspace."""
        return f"{self.base_url}/lab/tree/{quote(path)}?reset&token={self.token}"

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.base_url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()
            except (OSError, urllib.error.URLError):
                pass
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_lab(root: Path, workdir: Path, artifacts: Path, extra_env: dict[str, str] | None = None) -> LabServer:
    """Start JupyterLab serving ``root``; its config and state live in ``workdir``, its log in ``artifacts``."""
    settings = workdir / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update({
        "JUPYTER_CONFIG_DIR": str(workdir / "config"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "JUPYTER_DATA_DIR": str(workdir / "data"),  # ignore user-level kernelspecs: use this environment's
        "IPYTHONDIR": str(workdir / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    env.update(extra_env or {})
    port, token = free_port(), secrets.token_hex(16)
    log_path = artifacts / "jupyterlab-server.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.allow_root=True",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.disable_check_xsrf=True", "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: lets the tests read the kernel's status
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
    ]
    log = log_path.open("w")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log_path, artifacts)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            server.api("GET", "status")
            return server
        except (OSError, urllib.error.URLError):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"JupyterLab did not start (exit code {process.poll()}):\n"
                                   f"{server.log_tail()}") from None
            time.sleep(0.5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab server serving a fresh copy of the course; stopped after the module."""
    require_browser()
    root = tmp_path_factory.mktemp("lab-root")
    copy_course(root)
    for attempt in range(3):  # the free port may be taken between finding it and binding it
        try:
            server = start_lab(root, tmp_path_factory.mktemp("lab-state"), artifacts_dir())
            break
        except RuntimeError:
            if attempt == 2:
                raise
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium with a fresh profile (a Playwright BrowserContext)."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # the kernel answers slowly on a busy 2-core machine
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        yield context
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Remember each phase's report on the test item, so ``page`` knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, lab, request: pytest.FixtureRequest):
    """A new browser tab. Screenshot on failure; afterwards, close it and shut every kernel down."""
    tab = browser.new_page()
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        tab.screenshot(path=str(artifacts_dir() / f"FAILED-{request.node.name}.png"))
    tab.close()
    lab.shutdown_kernels()
