"""Smoke test of the README's "open the course" command (`make lab`), in a real browser.

The exact command line comes from `make -n lab`, so this test follows the Makefile. It runs in
a throw-away folder holding a copy of notebooks/, with the address pinned (127.0.0.1, free port,
token) and the browser it would open replaced by a recorder; Chromium then opens what a
learner's browser would: the welcome notebook.
"""
from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab_driver import KERNEL_IDLE, copy_notebooks, error_dialogs, free_port, new_page, start_lab, stop_lab

ROOT = Path(__file__).resolve().parents[2]
RECORD_URL = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"


def open_the_course_command() -> list[str]:
    """The `jupyter lab ...` line that `make lab` runs (its set-up lines are skipped)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry_run = subprocess.run(["make", "-n", "-s", "lab"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True).stdout
    for line in dry_run.splitlines():
        argv = shlex.split(line)
        if len(argv) > 2 and argv[0].endswith("jupyter") and argv[1] == "lab":
            return argv
    raise AssertionError(f"`make -n lab` runs no `jupyter lab` command:\n{dry_run}")


def test_make_lab_command_opens_the_welcome_notebook():
    argv = open_the_course_command()
    assert argv[-1] == "notebooks/00_welcome.ipynb", argv


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_open_the_course_in_a_browser(browser, jupyter_home, artifacts, tmp_path):
    argv = open_the_course_command()
    jupyter = Path(argv[0]) if Path(argv[0]).is_absolute() else ROOT / argv[0]
    if not jupyter.exists():
        pytest.skip(f"{jupyter} is missing: `make lab` would create it; run `make setup` first")
    copy_notebooks(ROOT / "notebooks", tmp_path / "course" / "notebooks")
    url_file, recorder = tmp_path / "opened-url.txt", tmp_path / "record_url.py"
    recorder.write_text(RECORD_URL)
    port, token = free_port(), secrets.token_hex(16)
    command = [str(jupyter), *argv[1:], "--ServerApp.ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}",
               f"--ServerApp.browser={sys.executable} {recorder} {url_file} %s"]
    lab = start_lab(command, cwd=tmp_path / "course", env=jupyter_home, root=tmp_path / "course",
                    log=tmp_path / "lab.log", port=port, token=token)
    page = None
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert url_file.exists(), f"`make lab` opened no browser:\n{lab.log.read_text()}"

        page = new_page(browser)
        page.goto(url_file.read_text().strip())  # what the learner's browser is sent to
        # The notebook list loads and shows the welcome notebook ...
        page.locator(".jp-DirListing-item", has_text="00_welcome.ipynb").wait_for(timeout=90_000)
        # ... which opens, renders its title, and gets a running kernel.
        page.locator(".jp-Notebook h1", has_text="00 · Welcome to recsys-lab").wait_for(timeout=90_000)
        page.get_by_text(KERNEL_IDLE).wait_for(timeout=90_000)
        page.wait_for_timeout(2_000)  # let late dialogs (kernel errors, widget failures) appear

        dialogs = error_dialogs(page)
        assert not dialogs, f"error dialog on opening the course: {dialogs}"
        notebook_text = page.locator(".jp-Notebook").inner_text()
        assert "Error displaying widget" not in notebook_text
        assert not page.errors, f"JavaScript errors on opening the course: {page.errors}"
    finally:
        if page is not None:
            page.screenshot(path=artifacts / "open_the_course.png")
            page.context.close()
        stop_lab(lab)
