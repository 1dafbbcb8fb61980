"""Drive JupyterLab in headless Chromium the way a learner does: open, run all, move a control.

Used by the browser tests (see conftest.py for the server and the browser). Selectors were
measured on JupyterLab 4.6 with ipywidgets 8.1 (see /work/shared/notes/jupyter-testing.md).
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KERNEL_IDLE = "Python 3 (ipykernel) | Idle"
TRACEBACK = "Traceback (most recent call last)"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]

# User settings written into the server's private JUPYTER_CONFIG_DIR: no news toast, no
# autosave (the copy is thrown away anyway), every cell in the DOM (no virtual scrolling).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


# ---------------------------------------------------------------- the server
@dataclass
class Lab:
    """A running JupyterLab server: where it listens and what it serves."""
    base: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels_of(self, notebook: str) -> None:
        """Stop the kernel of ``notebook`` so finished pages do not keep kernels alive."""
        for session in self.api("GET", "sessions"):
            if session["path"].endswith(notebook):
                self.api("DELETE", f"sessions/{session['id']}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_jupyter_env(home: Path, base_env: dict[str, str]) -> dict[str, str]:
    """Environment for a lab server that reads and writes nothing of the user's Jupyter set-up.

    The kernel inherits it: MPLBACKEND must be the inline backend (never Agg), or plots vanish.
    """
    env = {k: v for k, v in base_env.items() if not k.startswith(("JUPYTER", "JPY_"))}
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime", "IPYTHONDIR": "ipython"}
    for name, sub in dirs.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    settings = home / "config" / "lab" / "user-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def start_lab(command: list[str], cwd: Path, env: dict[str, str], root: Path, log: Path,
              port: int, token: str, timeout: float = 90) -> Lab:
    """Start ``command`` (a ``jupyter lab`` command line) and wait until its API answers."""
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n{log.read_text()}")
        try:
            lab.api("GET", "status")
            return lab
        except OSError:
            time.sleep(0.3)
    stop_lab(lab)
    raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()}")


def stop_lab(lab: Lab) -> None:
    """Stop the server we started, by its own process handle."""
    lab.process.terminate()
    try:
        lab.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=10)


def copy_notebooks(source: Path, target: Path) -> Path:
    """Serve a copy: running notebooks in Lab dirties them, the committed files stay untouched."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
                    dirs_exist_ok=True)
    return target


# ---------------------------------------------------------------- the page
def menu(page, top: str, item: str) -> None:
    """Click menu ``top`` then its entry labelled exactly ``item`` (acts on the current tab)."""
    page.locator(".lm-MenuBar-item", has_text=top).click()
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$"))
    page.locator(".lm-Menu-item", has=label).first.click()


# Where a notebook's Run All stands, read from its execution prompts ("[ ]:", "[*]:", "[7]:").
_RUN_STATE = """panel => {
    const root = document.querySelector(panel);
    if (!root) return {state: 'error', text: 'the notebook tab disappeared'};
    const errors = [...root.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent).filter(t => t.includes('Traceback'));
    if (errors.length) return {state: 'error', text: errors[0].slice(0, 3000)};
    const prompts = [...root.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
    const done = prompts.filter(t => /^\\[\\d+\\]:?$/.test(t)).length;
    if (prompts.length && done === prompts.length) return {state: 'done'};
    return null;
}"""
_STARTED = """panel => [...(document.querySelector(panel)?.querySelectorAll('.jp-CodeCell .jp-InputPrompt') ?? [])]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


@dataclass
class NotebookTab:
    """A notebook open in a tab of the Lab page; ``panel`` is its part of the page."""
    page: object
    name: str
    panel_id: str

    @property
    def selector(self) -> str:
        return f"#{self.panel_id}"

    @property
    def panel(self):
        return self.page.locator(self.selector)

    def activate(self) -> None:
        self.page.locator(f'.lm-TabBar-tab[data-id="{self.panel_id}"]').click()
        self.page.locator(f"{self.selector}:not(.lm-mod-hidden)").wait_for()

    def start_run_all(self) -> None:
        """Clear every output, expand collapsed (solution) cells, click Run All Cells.

        A hidden input shows no execution count, hence the expanding. A Run All sent while the
        kernel session is still connecting can be lost: it is sent again, up to 3 times.
        """
        menu(self.page, "Edit", "Clear Outputs of All Cells")
        menu(self.page, "View", "Expand All Code")
        for _attempt in range(3):
            menu(self.page, "Run", "Run All Cells")
            try:
                self.page.wait_for_function(_STARTED, arg=self.selector, timeout=15_000)
                return
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError; try again
                continue
        raise AssertionError(f"{self.name}: Run All Cells never started a cell (3 attempts)")

    def wait_until_run(self, timeout_ms: int = 240_000) -> None:
        """Wait until every code cell has an execution count; fail on the first traceback."""
        result = self.page.wait_for_function(_RUN_STATE, arg=self.selector, timeout=timeout_ms).json_value()
        assert result["state"] == "done", f"{self.name}: a cell failed while running:\n{result['text']}"
        self.page.get_by_text(KERNEL_IDLE).wait_for(timeout=timeout_ms)


class LabApp:
    """One JupyterLab page for the whole session; notebooks open in it as tabs.

    Loading the Lab application costs far more than opening a notebook inside it, so the page
    is kept. While one notebook is checked, the next one can already run in a second tab
    (``prefetch``): the two kernels share the machine's cores. After a failed test the page is
    thrown away (and its kernels shut down), so no dialog or tab leaks into the next test.
    """

    def __init__(self, browser, lab: Lab, timeout_ms: int = 90_000):
        self.browser, self.lab, self.timeout_ms = browser, lab, timeout_ms
        self.page = None
        self.running: dict[str, NotebookTab] = {}

    def _load(self):
        page = new_page(self.browser)
        page.goto(f"{self.lab.base}/lab/workspaces/browser-tests?token={self.lab.token}")
        page.locator(".jp-DirListing-item").first.wait_for(timeout=self.timeout_ms)
        self.page = page

    def open(self, notebook: str) -> NotebookTab:
        """Open ``notebook`` (a path under the served root) in a new tab; wait for its kernel."""
        if self.page is None:
            self._load()
        page = self.page
        menu(page, "File", "Open from Path…")
        path_box = page.locator(".jp-Dialog input")
        path_box.fill(notebook)
        path_box.press("Enter")
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=notebook)
        tab.wait_for(timeout=self.timeout_ms)
        opened = NotebookTab(page, notebook, tab.get_attribute("data-id"))
        opened.panel.locator(".jp-Notebook").wait_for(timeout=self.timeout_ms)
        # The toolbar's execution indicator says idle too early; the status bar text is reliable.
        page.get_by_text(KERNEL_IDLE).wait_for(timeout=self.timeout_ms)
        return opened

    def start(self, notebook: str) -> NotebookTab:
        """Open ``notebook`` and start Run All, unless it is already running."""
        if notebook not in self.running:
            tab = self.open(notebook)
            tab.start_run_all()
            self.running[notebook] = tab
        return self.running[notebook]

    def close(self, tab: NotebookTab, reset: bool = False) -> None:
        """Close the tab and shut its kernel down; ``reset`` drops the page (after a failure)."""
        self.running.pop(tab.name, None)
        try:
            if not reset:
                tab.activate()
                menu(self.page, "File", "Close and Shut Down Notebook…")
                self.page.locator(".jp-Dialog button", has_text="Ok").click(timeout=10_000)
                tab.panel.wait_for(state="detached", timeout=20_000)
        except Exception:  # noqa: BLE001 - any trouble closing: start the next test on a new page
            reset = True
        finally:
            self.lab.shut_down_kernels_of(tab.name)
        if reset:
            self.reset()

    def reset(self) -> None:
        """Drop the page and every kernel it started; the next notebook loads a fresh page."""
        for name in [*self.running, *(s["path"] for s in self.lab.api("GET", "sessions"))]:
            self.lab.shut_down_kernels_of(name)
        self.running.clear()
        if self.page is not None:
            self.page.context.close()
            self.page = None

    @contextmanager
    def notebook(self, notebook: str, screenshot: Path, prefetch: str | None = None):
        """``with app.notebook(name, png) as tab:`` -- the notebook, run; always screenshot and close.

        ``prefetch`` names the notebook the next test will check: it starts running now.
        """
        tab, failed = None, True
        try:
            tab = self.start(notebook)
            if prefetch:
                try:
                    self.start(prefetch)
                except Exception:  # noqa: BLE001 - not this test's problem: the next test retries
                    self.page.keyboard.press("Escape")  # and reports it
                    self.lab.shut_down_kernels_of(prefetch)
            self.page.errors.clear()
            tab.activate()
            tab.wait_until_run()
            yield tab
            failed = False
        finally:
            if self.page is not None:
                self.page.screenshot(path=screenshot)
            if tab is not None:
                self.close(tab, reset=failed)
            else:
                self.reset()


def new_page(browser):
    """A page in a fresh 1400 x 1000 context; JavaScript errors collect in ``page.errors``."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def error_dialogs(page) -> list[str]:
    return page.locator(".jp-Dialog").all_inner_texts()
