"""One JupyterLab server and one headless Chromium for all browser tests.

The server runs from this Python environment on 127.0.0.1 (free port, token set) over a
temporary copy of notebooks/, with private Jupyter config/data/runtime dirs; Chromium is
Debian's /usr/bin/chromium driven by Playwright (no browser is ever downloaded).
Deselect locally with ``pytest -m "not browser"``.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helpers import under any --import-mode
from lab_driver import (CHROMIUM, CHROMIUM_ARGS, LabApp, copy_notebooks, free_port,
                        private_jupyter_env, start_lab, stop_lab)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
INSTALL_HINT = ("install it with `apt-get update && apt-get install -y chromium` and "
                "`pip install -e '.[test]'` (make test does both), or deselect with -m 'not browser'")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium (slow)")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.txt").unlink(missing_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def jupyter_home(tmp_path_factory) -> dict[str, str]:
    """Environment for lab servers: private Jupyter dirs, inline matplotlib backend."""
    return private_jupyter_env(tmp_path_factory.mktemp("jupyter-home"), dict(os.environ))


@pytest.fixture(scope="session")
def lab(tmp_path_factory, jupyter_home):
    """JupyterLab from this environment, serving a throw-away copy of notebooks/."""
    root = copy_notebooks(ROOT / "notebooks", tmp_path_factory.mktemp("lab-notebooks"))
    port, token = free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [str(jupyter), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    log = tmp_path_factory.mktemp("lab-log") / "lab.log"
    server = start_lab(command, cwd=root, env=jupyter_home, root=root, log=log, port=port, token=token)
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched by Playwright from its system path."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the playwright package is missing: {INSTALL_HINT}")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def lab_app(browser, lab) -> LabApp:
    """One JupyterLab page for the session; notebooks open in it one at a time."""
    return LabApp(browser, lab)
