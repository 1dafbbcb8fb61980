"""Which explorer each notebook shows, which control to move, and what must change.

Adding a notebook's explorer to the browser tests is one row in ``EXPLORERS``. A row names
the notebook, a piece of text unique to the explorer's code cell, the control a learner moves
(found by its label, as the learner finds it), and what must change on screen: the ``"text"``
(by default of the explorer's Output widget) or the plot ``"image"`` (the bytes behind every
<img> in the cell's output, not just its URL). After the change, no traceback and no red
message may be on screen. ``test_every_explorer_in_a_notebook_has_a_row`` fails when a
notebook shows an explorer that has no row here.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from lab_driver import TRACEBACK


def _exactly(text: str) -> re.Pattern:
    return re.compile(rf"^[\s\u200b]*{re.escape(text)}[\s\u200b]*$")  # ipywidgets pads with U+200B


# ---------------------------------------------------------------- controls
@dataclass(frozen=True)
class Slider:
    """An ipywidgets slider found by its description; ``keys`` are pressed on its handle."""
    label: str
    keys: tuple[str, ...] = ("ArrowRight",)

    def locate(self, cell):
        return cell.locator(".widget-slider", has=cell.page.locator(".widget-label",
                                                                   has_text=_exactly(self.label)))

    def value(self, control):
        return control.locator(".widget-readout").first.inner_text()

    def act(self, control, cell):
        handle = control.locator(".noUi-handle").first
        handle.focus()
        for key in self.keys:
            handle.press(key)

    def __str__(self):
        return f"slider '{self.label}' + {'/'.join(self.keys)}"


@dataclass(frozen=True)
class Dropdown:
    """An ipywidgets Dropdown found by its description; ``option`` is the label to pick."""
    label: str
    option: str

    def locate(self, cell):
        return cell.locator(".widget-dropdown", has=cell.page.locator(".widget-label",
                                                                     has_text=_exactly(self.label)))

    def value(self, control):
        return control.locator("select").input_value()

    def act(self, control, cell):
        control.locator("select").select_option(label=self.option)

    def __str__(self):
        return f"dropdown '{self.label}' -> {self.option!r}"


@dataclass(frozen=True)
class TextBox:
    """A Text/IntText/FloatText box found by its description; ``text`` is typed, then Enter."""
    label: str
    text: str

    def locate(self, cell):
        return cell.locator(".widget-text", has=cell.page.locator(".widget-label",
                                                                 has_text=_exactly(self.label)))

    def value(self, control):
        return control.locator("input").input_value()

    def act(self, control, cell):
        box = control.locator("input")
        box.fill(self.text)
        box.press("Enter")

    def __str__(self):
        return f"text box '{self.label}' <- {self.text!r}"


@dataclass(frozen=True)
class Button:
    """A Button (or ToggleButton) found by its text; it is clicked."""
    text: str

    def locate(self, cell):
        return cell.locator("button", has_text=_exactly(self.text))

    def value(self, control):
        return None  # a button has no value to watch; only the output can prove the click

    def act(self, control, cell):
        control.click()

    def __str__(self):
        return f"button '{self.text}'"


@dataclass(frozen=True)
class Steps:
    """Several controls used one after the other (type a title, then click "rate it")."""
    steps: tuple

    def locate(self, cell):
        return self.steps[0].locate(cell)

    def value(self, control):
        return None  # the steps' own values may not change (a button); the output must

    def act(self, control, cell):
        for step in self.steps:
            step.act(step.locate(cell), cell)

    def __str__(self):
        return ", then ".join(str(step) for step in self.steps)


@dataclass(frozen=True)
class RerunThenClick:
    """Run the explorer's cell again (Ctrl+Enter in it), then click ``text`` once it is enabled.

    For live displays whose button only works while something runs (the Stop of training curves).
    """
    text: str

    def locate(self, cell):
        return cell.locator("button", has_text=_exactly(self.text))

    def value(self, control):
        return None

    def act(self, control, cell):
        cell.locator(".jp-InputArea-editor").click()
        cell.page.keyboard.press("Control+Enter")
        try:
            control.click(timeout=20_000)  # waits until enabled; a lost race is retried by the row
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError
            pass

    def __str__(self):
        return f"re-run the cell, then button '{self.text}'"


@dataclass(frozen=True)
class Checkbox:
    """An ipywidgets Checkbox found by its description; it is clicked (ticked or unticked)."""
    label: str

    def locate(self, cell):
        return cell.locator(".widget-checkbox", has=cell.page.locator(".widget-label-basic",
                                                                     has_text=_exactly(self.label)))

    def value(self, control):
        return control.locator("input[type=checkbox]").is_checked()

    def act(self, control, cell):
        control.locator("input[type=checkbox]").click()

    def __str__(self):
        return f"checkbox '{self.label}'"


# ---------------------------------------------------------------- the table
@dataclass(frozen=True)
class Explorer:
    notebook: str
    cell: str            # text found only in the explorer's code cell, e.g. "TopMoviesExplorer("
    control: object      # Slider / Dropdown / TextBox / Button / Checkbox / Steps / RerunThenClick
    watch: str           # "text": the printed output changes; "image": the plot's pixels change
    area: str = ""       # selector of the result inside the cell's outputs; default by watch
    expect: str = ""     # text the changed result must contain (for "text")
    attempts: int = 1    # tries of the action, for actions that race a running computation

    @property
    def result_area(self) -> str:
        return self.area or {"text": ".widget-output", "image": "img"}[self.watch]

    def __str__(self):
        return f"{self.notebook} {self.cell!r} ({self.control})"


EXPLORERS = [
    Explorer("00_welcome.ipynb", "TopMoviesExplorer(", Slider("at least N ratings"), "text"),
    Explorer("01_neuron_activations.ipynb", "ActivationExplorer(", Slider("bias b"), "image"),
    Explorer("02_layers_forward.ipynb", "NetworkPlayground(", Button("Step"), "image"),
    Explorer("04_optimizers_schedules.ipynb", "OptimizerPlayground(", Dropdown("surface", "rosenbrock"), "image"),
    Explorer("04_optimizers_schedules.ipynb", "ScheduleExplorer(", Slider("steps"), "image"),
    Explorer("05_training_generalization.ipynb", "TrainingCurves(", RerunThenClick("Stop"), "text",
             area=".widget-html", expect="stopped by request", attempts=4),
    Explorer("06_rating_data.ipynb", "SplitExplorer(", Dropdown("protocol", "random"), "image"),
    Explorer("07_user_based_cf.ipynb", "SimilarityExplorer(", TextBox("user ids", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"),
             "image"),
    Explorer("08_item_based_cf.ipynb", "SimilarityExplorer(", Dropdown("measure", "pearson"), "image"),
    Explorer("09_matrix_factorization.ipynb", "TrainingCurves(", RerunThenClick("Stop"), "text",
             area=".widget-html", expect="stopped by request", attempts=4),
    Explorer("10_neural_cf.ipynb", "SampledMetricsExplorer(", Slider("sampled negatives"), "image"),
    Explorer("11_content_based.ipynb", "RecommendationExplorer(", Slider("k"), "text", area=".widget-html"),
    Explorer("12_hybrids_cold_start.ipynb", "RecommendationExplorer(",
             Steps((TextBox("movie", "Toy Story (1995)"), Button("rate it"))), "text", area=".widget-html",
             expect="your rating"),
    Explorer("12_hybrids_cold_start.ipynb", "RecommendationExplorer(", Button("new user"), "text",
             area=".widget-html", expect="served for you"),
    Explorer("14_attention.ipynb", "AttentionExplorer(", Checkbox("causal mask"), "image"),
    Explorer("15_sequences.ipynb", "NextMovieExplorer(", TextBox("history (oldest first)", "2571, 4993, 5952"), "text",
             area=".widget-html", expect="Lord of the Rings"),
]


# ---------------------------------------------------------------- the check
def explorer_cell(panel, marker: str):
    """The code cell of the notebook ``panel`` (a Locator) whose source contains ``marker``."""
    editor = panel.page.locator(".jp-InputArea-editor", has_text=marker)
    return panel.locator(".jp-Notebook .jp-CodeCell", has=editor)


# The bytes behind each <img> (data: or blob: URL), hashed: a new URL alone proves nothing.
_IMAGE_HASHES = """async areas => Promise.all(areas
    .flatMap(a => a.tagName === 'IMG' ? [a] : [...a.querySelectorAll('img')])
    .map(async img => {
        try {
            const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
            let h = 2166136261;
            for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
            return bytes.length ? `${bytes.length}:${h}` : '';
        } catch (e) { return ''; }  // a blob URL revoked mid-redraw: not ready yet
    }))"""


def _snapshot(cell, explorer: Explorer) -> tuple[str, ...]:
    if explorer.watch == "text":
        area = cell.locator(f".jp-OutputArea {explorer.result_area}")
        return tuple(t.strip() for t in area.all_inner_texts() if t.strip())
    if explorer.watch == "image":
        areas = cell.locator(f".jp-OutputArea {explorer.result_area}")
        return tuple(areas.evaluate_all(_IMAGE_HASHES))
    raise ValueError(f"watch must be 'text' or 'image', got {explorer.watch!r}")


def _shown(snapshot: tuple[str, ...]) -> bool:
    """Something is on screen and every image has loaded."""
    return bool(snapshot) and all(snapshot)


def _poll(page, probe, until, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if until(value) or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)


def check_explorer(panel, explorer: Explorer, timeout_s: float = 30.0):
    """Move the row's control in a run notebook (``panel``: its tab's Locator); assert what the
    learner sees changes, cleanly.

    Raises AssertionError naming the row when the explorer is missing, the control does not
    move, the watched output stays the same, or a traceback / red message appears.
    Returns the explorer's cell (for a screenshot).
    """
    page = panel.page
    cell = explorer_cell(panel, explorer.cell)
    count = cell.count()
    assert count == 1, f"{explorer}: expected one code cell containing {explorer.cell!r}, found {count}"
    control = explorer.control.locate(cell)
    try:
        control.first.wait_for(timeout=timeout_s * 1000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError
        raise AssertionError(f"{explorer}: the control never appeared within {timeout_s:.0f} s") from None
    assert control.count() == 1, f"{explorer}: {control.count()} controls match {explorer.control}"
    control.scroll_into_view_if_needed()

    before = _poll(page, lambda: _snapshot(cell, explorer), _shown, timeout_s)
    assert _shown(before), f"{explorer}: the explorer showed no {explorer.watch} before the change"
    def changed(snapshot):
        return _shown(snapshot) and snapshot != before and explorer.expect in " ".join(snapshot)

    for _attempt in range(explorer.attempts):
        old_value = explorer.control.value(control)
        explorer.control.act(control, cell)
        if old_value is not None:
            new_value = _poll(page, lambda: explorer.control.value(control), lambda v: v != old_value, 5)
            assert new_value != old_value, f"{explorer}: the control itself did not move (still {old_value!r})"
        after = _poll(page, lambda: _snapshot(cell, explorer), changed, timeout_s / explorer.attempts)
        if changed(after):
            break
    expecting = f" to show {explorer.expect!r}" if explorer.expect else ""
    assert changed(after), (
        f"{explorer}: the {explorer.watch} the learner sees did not change{expecting} within "
        f"{timeout_s:.0f} s after {explorer.control} ({explorer.attempts} attempt(s)); it shows "
        f"{' | '.join(after)[:300]!r}")
    outputs = " ".join(cell.locator(".jp-OutputArea").all_inner_texts())
    assert TRACEBACK not in outputs, f"{explorer}: a traceback appeared in the explorer:\n{outputs[:2000]}"
    red = cell.locator('.jp-OutputArea [style*="b00020"]').all_inner_texts()
    assert not any(t.strip() for t in red), f"{explorer}: the explorer shows an error message: {red}"
    return cell
