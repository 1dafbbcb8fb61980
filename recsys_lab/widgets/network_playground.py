"""Network playground (notebook 02 · Layers and forward propagation).

In the spirit of an in-browser neural-network playground: pick a 2-D toy problem
(:mod:`recsys_lab.toy_data`), the number of hidden units, the activation, the learning
rate and the L2 penalty ``reg``, press *Train*, and watch the decision boundary and the
loss curve being redrawn every few steps while a :class:`~recsys_lab.network.FullBatchTrainer`
runs plain gradient descent. *Stop* ends the run; a diverging run stops by itself and says so.

Live training runs as an ``asyncio`` task on the kernel's event loop: between two redraws
it yields, so the kernel can handle a click on *Stop*. Without a running loop (a test, a
script) :meth:`NetworkPlayground.start` trains synchronously instead. Tests can also drive
it step by step with :meth:`~NetworkPlayground.step` and :meth:`~NetworkPlayground.redraw`,
which is also what a benchmark should time. :func:`draw_playground` is the pure drawing
function a notebook uses for a deterministic static figure.
"""
from __future__ import annotations

import asyncio
import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..activations import ELEMENTWISE
from ..network import FullBatchTrainer, predict_grid
from ..plotting import figure_to_png
from ..toy_data import TOY_DATASETS, make_toy
from .common import Explorer, InputError, message_box, require, show_message

MAX_HIDDEN = 256
CLASS_COLOURS = np.array([[0.85, 0.37, 0.01, 1.0], [0.11, 0.47, 0.71, 1.0]])  # orange = 0, blue = 1
#: Background: predicted probability of class 1, orange (0) through white (0.5) to blue (1).
PROBABILITY_CMAP = LinearSegmentedColormap.from_list("class01", [CLASS_COLOURS[0], "white", CLASS_COLOURS[1]])


class PlaygroundFigure:
    """Decision boundary (left) and loss curve (right), built once on ``axes``; :meth:`update` moves data."""

    def __init__(self, axes, resolution: int = 50):
        self.ax_data, self.ax_loss = axes
        self.resolution = resolution
        self.image = self.ax_data.imshow(np.full((2, 2), 0.5), origin="lower", cmap=PROBABILITY_CMAP,
                                         vmin=0, vmax=1, alpha=0.45, aspect="auto",
                                         interpolation="bilinear")
        self.points = self.ax_data.scatter(np.empty((0, 2))[:, 0], np.empty((0, 2))[:, 1], s=14,
                                           edgecolors="white", linewidths=0.4)
        handles = [Line2D([], [], ls="", marker="o", color=CLASS_COLOURS[k], label=f"class {k}")
                   for k in (0, 1)] + [Line2D([], [], color="k", lw=1.2, label="boundary p = 0.5")]
        self.ax_data.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.8)
        self.contour = None
        self.ax_data.set(xlabel="feature x1", ylabel="feature x2")
        self.loss_line = self.ax_loss.plot([], [], color="tab:red", lw=1.5)[0]
        self.ax_loss.set(xlabel="gradient step", ylabel="training loss (cross-entropy + penalty)",
                         title="loss curve")
        self.ax_loss.grid(alpha=0.3)
        self._data = None  # the tensor the points show (a reference: an id() can be reused)

    def update(self, trainer: FullBatchTrainer) -> None:
        """Redraw for the trainer's current model, data and history."""
        X = trainer.X.numpy()
        if self._data is not trainer.X:              # the points change only on a reset
            self.points.set_offsets(X)
            self.points.set_facecolors(CLASS_COLOURS[trainer.y.numpy().astype(int)])
            self._data = trainer.X
        x1, x2, p = predict_grid(trainer.model, X, resolution=self.resolution)
        extent = (float(x1[0]), float(x1[-1]), float(x2[0]), float(x2[-1]))
        self.image.set_data(p)
        self.image.set_extent(extent)
        if self.contour is not None:
            self.contour.remove()
            self.contour = None
        if p.min() < 0.5 < p.max():
            self.contour = self.ax_data.contour(x1, x2, p, levels=[0.5], colors="k", linewidths=1.2)
        self.ax_data.set(xlim=extent[:2], ylim=extent[2:])
        acc = trainer.history["accuracy"][-1] if trainer.history["accuracy"] else trainer.accuracy()
        self.ax_data.set_title(f"decision boundary (p = 0.5), accuracy {acc:.1%}")

        loss = trainer.history["loss"]
        steps = np.arange(1, len(loss) + 1)
        self.loss_line.set_data(steps, loss)
        self.ax_loss.set_xlim(0, max(10, len(loss)))
        top = max(loss) if loss else 1.0
        self.ax_loss.set_ylim(0, 1.05 * top if math.isfinite(top) and top > 0 else 1.0)
        last = f"{loss[-1]:.4f}" if loss else "—"
        self.ax_loss.set_title(f"loss curve: step {len(loss)}, loss {last}")


def draw_playground(trainer: FullBatchTrainer, axes=None, resolution: int = 50) -> PlaygroundFigure:
    """Draw ``trainer``'s decision boundary and loss curve (a new pyplot figure if ``axes`` is None)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    view = PlaygroundFigure(axes, resolution)
    view.update(trainer)
    return view


class NetworkPlayground(Explorer):
    """The interactive playground. Controls are attributes (``dataset``, ``noise``, ``n_points``,
    ``seed``, ``n_hidden``, ``activation``, ``learning_rate``, ``reg``, ``steps_per_redraw``,
    ``max_steps``) and buttons (``train_button``, ``stop_button``, ``step_button``,
    ``reset_button``); ``trainer`` is the current :class:`FullBatchTrainer` (``None`` while a
    setting is invalid), ``status`` the text of the status line."""

    def __init__(self, dataset: str = "moons", noise: float = 0.1, n_points: int = 200,
                 n_hidden: int = 8, activation: str = "tanh", learning_rate: float = 0.5,
                 reg: float = 0.0, steps_per_redraw: int = 10, max_steps: int = 1000, seed: int = 0):
        wide = dict(style={"description_width": "120px"}, layout=W.Layout(width="290px"))
        self.dataset = W.Dropdown(options=TOY_DATASETS, value=dataset, description="problem", **wide)
        self.noise = W.FloatSlider(value=noise, min=0.0, max=0.5, step=0.01, description="noise",
                                   continuous_update=False, **wide)
        self.n_points = W.IntSlider(value=n_points, min=20, max=1000, step=10, description="points",
                                    continuous_update=False, **wide)
        self.seed = W.IntText(value=seed, description="seed", **wide)
        self.n_hidden = W.IntText(value=n_hidden, description="hidden units", **wide)
        self.activation = W.Dropdown(options=ELEMENTWISE, value=activation, description="activation", **wide)
        self.learning_rate = W.FloatText(value=learning_rate, description="learning rate", **wide)
        self.reg = W.FloatText(value=reg, description="reg (L2)", **wide)
        self.steps_per_redraw = W.IntSlider(value=steps_per_redraw, min=1, max=200,
                                            description="steps per redraw", **wide)
        self.max_steps = W.IntText(value=max_steps, description="max steps", **wide)
        self.train_button = W.Button(description="Train", icon="play", button_style="success")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.step_button = W.Button(description="Step", icon="step-forward")
        self.reset_button = W.Button(description="Reset", icon="refresh")
        self.message = message_box()
        self.status_line = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width="100%", max_width="900px"))
        self.figure = Figure(figsize=(11, 4.2), dpi=72)
        self.figure.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.9, wspace=0.22)
        self.view = PlaygroundFigure(self.figure.subplots(1, 2))
        self.trainer = None
        self.status = ""
        self._running = False
        self._run_id = 0
        self._task = None

        for control in (self.dataset, self.noise, self.n_points, self.seed, self.n_hidden, self.activation):
            control.observe(self.reset, names="value")
        for control in (self.learning_rate, self.reg):
            control.observe(self._apply_rates, names="value")
        self.train_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(self.reset)
        data_box = W.VBox([W.HTML("<b>Data</b>"), self.dataset, self.noise, self.n_points, self.seed])
        net_box = W.VBox([W.HTML("<b>Network and training</b>"), self.n_hidden, self.activation,
                          self.learning_rate, self.reg, self.steps_per_redraw, self.max_steps])
        buttons = W.HBox([self.train_button, self.stop_button, self.step_button, self.reset_button])
        self.widget = W.VBox([W.HBox([data_box, net_box]), buttons, self.status_line, self.message,
                              self.image])
        self.reset()

    # ---- validation -----------------------------------------------------------------------
    def _rates(self) -> dict:
        lr, reg = float(self.learning_rate.value), float(self.reg.value)
        require(math.isfinite(lr) and lr > 0, f"The learning rate must be a number > 0 (try 0.1 to 1);"
                f" got {lr:g}.")
        require(math.isfinite(reg) and reg >= 0, f"reg (L2 penalty) must be >= 0 (0 means no penalty);"
                f" got {reg:g}.")
        return {"learning_rate": lr, "reg": reg}

    def settings(self) -> dict:
        """All control values, validated; raises :class:`InputError` saying what to change."""
        h = int(self.n_hidden.value)
        require(1 <= h <= MAX_HIDDEN, f"The network needs between 1 and {MAX_HIDDEN} hidden units;"
                f" got {h}.")
        require(int(self.max_steps.value) >= 1, f"max steps must be at least 1; got {self.max_steps.value}.")
        require(int(self.seed.value) >= 0, f"The seed must be a whole number >= 0; got {self.seed.value}.")
        return {"dataset": self.dataset.value, "noise": float(self.noise.value),
                "n_points": int(self.n_points.value), "seed": int(self.seed.value), "n_hidden": h,
                "activation": self.activation.value, **self._rates()}

    def _fail(self, err: Exception) -> None:
        self.stop(quiet=True)
        show_message(self.message, str(err))
        self._set_status("waiting for valid settings")

    def _set_status(self, text: str) -> None:
        self.status = text
        self.status_line.value = f"<b>Status:</b> {text}"

    # ---- actions ----------------------------------------------------------------------------
    def reset(self, change=None) -> bool:
        """New data and a freshly initialised network from the current settings; returns success."""
        self.stop(quiet=True)
        try:
            s = self.settings()
        except InputError as err:
            self.trainer = None
            self._fail(err)
            return False
        X, y = make_toy(s["dataset"], n=s["n_points"], noise=s["noise"], seed=s["seed"])
        self.trainer = FullBatchTrainer(X, y, s["n_hidden"], s["activation"], s["learning_rate"],
                                        s["reg"], seed=s["seed"])
        show_message(self.message, "")
        self._set_status(f"ready: {s['dataset']}, {s['n_hidden']} hidden units, {s['activation']}")
        self.redraw()
        return True

    def _apply_rates(self, change=None) -> bool:
        """Learning rate and reg apply to the running network without a reset (as in the playground)."""
        try:
            rates = self._rates()
        except InputError as err:
            self._fail(err)
            return False
        if self.trainer is None:
            return self.reset()
        self.trainer.learning_rate, self.trainer.reg = rates["learning_rate"], rates["reg"]
        show_message(self.message, "")
        return True

    def _ready(self) -> bool:
        """True if a trainer exists, the settings are valid and the run has not diverged."""
        if self.trainer is None and not self.reset():
            return False
        if not self._apply_rates():
            return False
        if self.trainer.status == "diverged":
            show_message(self.message, self.trainer.message + " Press Reset to start again.", kind="warning")
            return False
        return True

    def step(self, n_steps: int | None = None) -> bool:
        """Take ``n_steps`` (default: *steps per redraw*) gradient steps and redraw; returns success."""
        if not self._ready():
            return False
        status = self.trainer.step(n_steps if n_steps is not None else int(self.steps_per_redraw.value))
        self.redraw()
        if status == "diverged":
            self.stop(quiet=True)
            show_message(self.message, self.trainer.message + " Press Reset to start again.", kind="warning")
            self._set_status(f"diverged after {self.trainer.steps} steps")
            return False
        self._set_status(self.trainer.message)
        return True

    def redraw(self) -> None:
        """Redraw the boundary and the loss curve from the current trainer into the image."""
        if self.trainer is None:
            return
        self.view.update(self.trainer)
        self.image.value = figure_to_png(self.figure)

    def _chunk(self) -> int:
        """Steps until the next redraw, never past *max steps*."""
        return max(1, min(int(self.steps_per_redraw.value), int(self.max_steps.value) - self.trainer.steps))

    def _done(self) -> bool:
        return (not self._running or self.trainer is None or self.trainer.status != "ready"
                or self.trainer.steps >= int(self.max_steps.value))

    def _finish_run(self) -> None:
        if self._running and self.trainer is not None and self.trainer.status == "ready":
            self._set_status(f"finished: reached max steps ({self.trainer.steps}); "
                             + self.trainer.message)
        self._running = False
        self.train_button.disabled, self.stop_button.disabled = False, True

    def start(self) -> bool:
        """Train live until *max steps*, *Stop*, or divergence; returns whether a run started."""
        if self._running or not self._ready():
            return False
        if int(self.max_steps.value) < 1:
            show_message(self.message, f"max steps must be at least 1; got {self.max_steps.value}.")
            return False
        if self.trainer.steps >= int(self.max_steps.value):
            show_message(self.message, f"Already at max steps ({self.trainer.steps}): raise max steps"
                         " or press Reset.", kind="warning")
            return False
        self._running, self._run_id = True, self._run_id + 1
        self.train_button.disabled, self.stop_button.disabled = True, False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script or a test): train right here
            while not self._done() and self.step(self._chunk()):
                pass
            self._finish_run()
            return True
        self._task = loop.create_task(self._train_live(self._run_id))
        return True

    async def _train_live(self, run_id: int) -> None:
        while run_id == self._run_id and not self._done() and self.step(self._chunk()):
            await asyncio.sleep(0.001)  # let the kernel handle a click on Stop between redraws
        if run_id == self._run_id:
            self._finish_run()

    def stop(self, quiet: bool = False) -> None:
        """End a live run after the current redraw (the *Stop* button)."""
        was_running = self._running
        self._running, self._run_id = False, self._run_id + 1
        self.train_button.disabled, self.stop_button.disabled = False, True
        if was_running and not quiet and self.trainer is not None:
            self._set_status(f"stopped at step {self.trainer.steps}; " + self.trainer.message)
