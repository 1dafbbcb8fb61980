"""Schedule explorer (notebook 04): the learning rate a schedule gives at every step, next to torch's.

Choose a schedule and its settings; the curve is redrawn, with ``torch.optim.lr_scheduler``'s
values on top as dots and the largest difference between the two written underneath.
Reduce-on-plateau has no formula of the step: it reacts to a metric, so the explorer feeds it
a made-up validation loss that improves and then stalls (drawn on a second axis).

Pure pieces: :func:`compute_schedule` (validated settings in, rates out) and
:func:`draw_schedule` (draws the result into an axes); ``ScheduleExplorer.redraw()`` is what
a control change runs.
"""
from __future__ import annotations

import time

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..plotting import figure_to_png
from ..schedules import SCHEDULE_NAMES, schedule_values, torch_schedule_values
from .common import Explorer, InputError, message_box, require, show_message

#: Which settings each schedule uses (``total_steps`` is always ``steps - 1``: the last step is the end).
PARAMS = {"constant": (), "step": ("step_size", "gamma"), "exponential": ("gamma",), "cosine": ("min_lr",),
          "warmup_cosine": ("warmup_steps", "start_factor", "min_lr"),
          "reduce_on_plateau": ("factor", "patience", "cooldown", "min_lr")}

#: A value of ``gamma`` that gives a readable curve for each schedule that uses it.
GAMMA_DEFAULT = {"step": 0.5, "exponential": 0.97}


def plateau_metric(steps: int, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """A made-up validation loss, shape ``(steps,)``: ``0.3 + 0.7 e^{-t/12}`` plus seeded noise.

    It improves quickly, then stalls around 0.3: what reduce-on-plateau is built for.
    """
    t = np.arange(steps)
    return 0.3 + 0.7 * np.exp(-t / 12) + np.random.default_rng(seed).normal(scale=noise, size=steps)


def compute_schedule(name: str, steps: int, learning_rate: float, params: dict, compare: bool = True,
                     seed: int = 0) -> dict:
    """Rates of schedule ``name`` over ``steps`` steps (and torch's, if ``compare``).

    ``params`` may hold more settings than the schedule uses (see :data:`PARAMS`); the others are
    ignored. Returns ``{"name", "values", "torch_values", "max_difference", "metric"}``; the arrays
    have shape ``(steps,)`` (``torch_values``/``metric`` are ``None`` when not used). Raises
    :class:`InputError` naming the problem for impossible settings.
    """
    require(name in SCHEDULE_NAMES, f"Unknown schedule {name!r}; choose from {', '.join(SCHEDULE_NAMES)}.")
    require(learning_rate is not None and np.isfinite(learning_rate) and learning_rate > 0,
            f"The learning rate must be a number > 0, got {learning_rate!r}.")
    require(int(steps) == steps and steps >= 2, f"steps must be a whole number >= 2, got {steps!r}.")
    kwargs = {k: params[k] for k in PARAMS[name]}
    if "min_lr" in kwargs:
        require(np.isfinite(kwargs["min_lr"]) and 0 <= kwargs["min_lr"] <= learning_rate,
                f"min_lr must be between 0 and the learning rate ({learning_rate:g}), got {kwargs['min_lr']!r}.")
    if name in ("cosine", "warmup_cosine"):
        kwargs["total_steps"] = int(steps) - 1
    if name == "warmup_cosine":
        require(kwargs["warmup_steps"] < steps - 1,
                f"warm-up ({kwargs['warmup_steps']} steps) must end before the last step ({steps - 1}).")
    metric = plateau_metric(int(steps), seed) if name == "reduce_on_plateau" else None
    try:
        values = schedule_values(name, int(steps), float(learning_rate), metrics=metric, **kwargs)
        theirs = torch_schedule_values(name, int(steps), float(learning_rate), metrics=metric, **kwargs) \
            if compare else None
    except ValueError as err:
        raise InputError(str(err)) from None
    diff = float(np.abs(values - theirs).max()) if compare else None
    return {"name": name, "values": values, "torch_values": theirs, "max_difference": diff, "metric": metric}


class ScheduleDrawing:
    """One axes (rate per step) plus a twin axes for the plateau metric, artists kept between redraws."""

    def __init__(self, ax):
        self.ax = ax
        self.twin = ax.twinx()
        self.ours, = ax.plot([], [], color="tab:blue", linewidth=2, label="recsys_lab")
        self.theirs, = ax.plot([], [], linestyle="none", marker="o", markersize=3.5, color="tab:orange",
                               label="torch.optim.lr_scheduler")
        self.metric, = self.twin.plot([], [], color="tab:grey", alpha=0.7, label="validation loss (made up)")
        ax.set(xlabel="step", ylabel="learning rate")
        self.twin.set_ylabel("validation loss")
        ax.grid(True, alpha=0.3)

    def update(self, result: dict) -> None:
        steps = np.arange(len(result["values"]))
        self.ours.set_data(steps, result["values"])
        every = max(1, len(steps) // 40)                         # a dot every few steps keeps the line visible
        if result["torch_values"] is not None:
            self.theirs.set_data(steps[::every], result["torch_values"][::every])
        self.theirs.set_visible(result["torch_values"] is not None)
        plateau = result["metric"] is not None
        self.twin.set_visible(plateau)
        if plateau:
            self.metric.set_data(steps, result["metric"])
            self.twin.set_ylim(0, max(1.05, float(result["metric"].max()) * 1.05))
        self.ax.set_xlim(0, max(len(steps) - 1, 1))
        self.ax.set_ylim(0, float(result["values"].max()) * 1.08)
        title = result["name"].replace("_", " ")
        if result["max_difference"] is not None:
            title += f"   (largest difference from torch: {result['max_difference']:.1e})"
        self.ax.set_title(title)
        handles = [self.ours] + ([self.theirs] if result["torch_values"] is not None else []) + \
            ([self.metric] if plateau else [])
        self.ax.legend(handles=handles, loc="upper right", fontsize=8)


def draw_schedule(ax, result: dict) -> ScheduleDrawing:
    """Draw a :func:`compute_schedule` result into ``ax`` (the explorer's picture, for a static figure)."""
    drawing = ScheduleDrawing(ax)
    drawing.update(result)
    return drawing


class ScheduleExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it."""

    def __init__(self, schedule: str = "warmup_cosine", steps: int = 100, learning_rate: float = 0.1,
                 compare: bool = True, seed: int = 0):
        self.seed, self.result, self.last_redraw_seconds = seed, None, None
        slider = {"continuous_update": False, "style": {"description_width": "90px"}}
        self.schedule = W.Dropdown(options=list(SCHEDULE_NAMES), value=schedule, description="schedule")
        self.learning_rate = W.FloatText(value=learning_rate, description="learning rate",
                                         layout=W.Layout(width="200px"))
        self.steps = W.IntSlider(value=steps, min=10, max=500, step=5, description="steps", **slider)
        self.compare = W.Checkbox(value=compare, description="compare with torch", indent=False)
        self.controls = {
            "step_size": W.IntSlider(value=20, min=1, max=200, description="step_size", **slider),
            "gamma": W.FloatSlider(value=GAMMA_DEFAULT.get(schedule, 0.5), min=0.5, max=1.0, step=0.005,
                                   readout_format=".3f", description="gamma", **slider),
            "warmup_steps": W.IntSlider(value=10, min=0, max=200, description="warmup_steps", **slider),
            "start_factor": W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="start_factor",
                                          **slider),
            "min_lr": W.FloatText(value=0.0, description="min_lr", layout=W.Layout(width="200px")),
            "factor": W.FloatSlider(value=0.5, min=0.05, max=0.95, step=0.05, description="factor", **slider),
            "patience": W.IntSlider(value=5, min=0, max=30, description="patience", **slider),
            "cooldown": W.IntSlider(value=0, min=0, max=30, description="cooldown", **slider),
        }
        self.message = message_box()
        self.image = W.Image(format="png")
        self.figure = Figure(figsize=(8.5, 3.8), dpi=72)
        ax = self.figure.subplots()
        self.figure.subplots_adjust(left=0.09, right=0.91, bottom=0.14, top=0.9)
        self.drawing = ScheduleDrawing(ax)
        self.schedule.observe(self._on_schedule, names="value")
        for w in [self.learning_rate, self.steps, self.compare, *self.controls.values()]:
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.schedule, self.learning_rate, self.compare]), self.steps,
                              W.VBox(list(self.controls.values())), self.message, self.image])
        self._show_relevant()
        self._hold = False
        self.redraw()

    def params(self) -> dict:
        """Every setting's current value (``compute_schedule`` picks the ones the schedule uses)."""
        return {k: w.value for k, w in self.controls.items()}

    def _show_relevant(self) -> None:
        used = PARAMS[self.schedule.value]
        for k, w in self.controls.items():
            w.layout.display = "" if k in used else "none"

    def _on_schedule(self, change) -> None:
        with self.quietly():
            if change["new"] in GAMMA_DEFAULT:
                self.controls["gamma"].value = GAMMA_DEFAULT[change["new"]]
            self._show_relevant()
        self.redraw()

    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on impossible settings."""
        t0 = time.perf_counter()
        try:
            self.result = compute_schedule(self.schedule.value, self.steps.value, self.learning_rate.value,
                                           self.params(), self.compare.value, self.seed)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        show_message(self.message, "")
        self.drawing.update(self.result)
        self.image.value = figure_to_png(self.figure)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
