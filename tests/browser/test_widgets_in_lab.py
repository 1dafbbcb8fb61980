"""Every explorer, in JupyterLab, in a real browser: run the notebook, move a control, see a change.

The table of explorers is in explorers.py; one Lab page for all, one tab (one kernel) per notebook;
the next notebook already runs in a second tab while one is checked. A screenshot of
each notebook, taken at its last explorer, lands in test-artifacts/browser/.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from explorers import EXPLORERS, check_explorer
from lab_driver import error_dialogs

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted({explorer.notebook for explorer in EXPLORERS})


def _code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _explorer_classes() -> set[str]:
    """Classes in recsys_lab/widgets/ that build a widget for the learner (the Explorer subclasses)."""
    import importlib
    import pkgutil

    import recsys_lab.widgets as package
    from recsys_lab.widgets.common import Explorer

    names = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"recsys_lab.widgets.{info.name}")
        names |= {name for name, cls in vars(module).items()
                  if isinstance(cls, type) and issubclass(cls, Explorer) and cls is not Explorer
                  and cls.__module__ == module.__name__}
    return names


def test_explorer_classes_are_found():
    assert {"TopMoviesExplorer"} <= _explorer_classes()


def test_every_explorer_in_a_notebook_has_a_row():
    """A notebook cell that builds an explorer must be in the table, or the browser never sees it."""
    classes = _explorer_classes()
    missing = []
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        markers = [e.cell for e in EXPLORERS if e.notebook == notebook.name]
        for source in _code_cells(notebook):
            built = [name for name in classes if re.search(rf"\b{name}\(", source)]
            if built and not any(marker in source for marker in markers):
                missing.append(f"{notebook.name}: {', '.join(sorted(built))}")
    assert not missing, f"explorers without a row in tests/browser/explorers.py: {missing}"


@pytest.mark.parametrize("explorer", EXPLORERS, ids=str)
def test_each_row_points_at_one_code_cell(explorer):
    sources = _code_cells(ROOT / "notebooks" / explorer.notebook)
    assert sum(explorer.cell in source for source in sources) == 1


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_explorers_respond_in_lab(lab_app, artifacts, notebook, request):
    queue = [item.callspec.params["notebook"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_explorers_respond_in_lab"]
    position = queue.index(notebook)
    following = queue[position + 1] if position + 1 < len(queue) else None  # starts running now
    started = time.monotonic()
    with lab_app.notebook(notebook, artifacts / f"{Path(notebook).stem}.png", prefetch=following) as tab:
        ran = time.monotonic()
        for explorer in [e for e in EXPLORERS if e.notebook == notebook]:
            check_explorer(tab.panel, explorer)
        dialogs, errors = error_dialogs(tab.page), tab.page.errors
        assert not dialogs, f"error dialog in {notebook}: {dialogs}"
        assert not errors, f"JavaScript errors in {notebook}: {errors}"
        with open(artifacts / "timings.txt", "a") as log:
            log.write(f"{notebook}: open and run {ran - started:.1f} s (next one running alongside), "
                      f"explorers {time.monotonic() - ran:.1f} s\n")
