"""Optimizer playground (notebook 04): optimizers racing on a 2-D loss surface.

Pick a surface, tick optimizers, set each one's learning rate and its main extra
hyper-parameter, a start point, a number of steps and optional gradient noise; the
trajectories are drawn over the surface's contours, next to loss against step.

Pure pieces, usable without widgets: :func:`compute_trajectories` (validated settings in,
:class:`~recsys_lab.surfaces.Trajectory` per optimizer out) and :func:`draw_playground`
(draws them into two axes). ``OptimizerPlayground.redraw()`` is what a control change runs;
the benchmark times it.
"""
from __future__ import annotations

import time

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..optimizers import OPTIMIZER_NAMES
from ..plotting import figure_to_png
from ..surfaces import SURFACES, get_surface, run_trajectory
from .common import Explorer, InputError, message_box, require, show_message

#: One colour per optimizer, the same in every figure of notebook 04.
COLORS = {"sgd": "tab:blue", "momentum": "tab:orange", "nesterov": "tab:green", "adagrad": "tab:red",
          "rmsprop": "tab:purple", "adam": "tab:brown", "adamw": "tab:pink"}

#: The one extra hyper-parameter each optimizer shows a slider for: (name, default, min, max, step).
EXTRA = {"momentum": ("momentum", 0.9, 0.0, 0.99, 0.01), "nesterov": ("momentum", 0.9, 0.0, 0.99, 0.01),
         "rmsprop": ("alpha", 0.99, 0.5, 0.999, 0.001), "adam": ("beta1", 0.9, 0.0, 0.99, 0.01),
         "adamw": ("weight_decay", 0.01, 0.0, 0.5, 0.01)}


def _hyper(name: str, learning_rate: float, extra: float | None) -> dict:
    """Kit hyper-parameters for optimizer ``name`` from the playground's two numbers."""
    hyper = {"learning_rate": float(learning_rate)}
    if name in EXTRA and extra is not None:
        key = EXTRA[name][0]
        if key == "beta1":
            hyper["betas"] = (float(extra), 0.999)
        else:
            hyper[key] = float(extra)
    return hyper


def compute_trajectories(surface, settings: dict, start, steps: int, grad_noise: float = 0.0,
                         seed: int = 0, cache: dict | None = None) -> dict:
    """Run every optimizer of ``settings`` (``{name: {"learning_rate": ..., "momentum": ...}}``) on ``surface``.

    Raises :class:`InputError` (a ``ValueError``) naming the problem for impossible input: no
    optimizer, a learning rate <= 0, a start point outside the plotted window, fewer than one
    step. Returns ``{name: Trajectory}`` in the order of ``settings``. ``cache`` (a dict) keeps
    results between calls so moving one slider recomputes one trajectory only.
    """
    surface = get_surface(surface)
    require(len(settings) > 0, "Pick at least one optimizer (tick its box).")
    for name, hyper in settings.items():
        require(name in OPTIMIZER_NAMES, f"Unknown optimizer {name!r}; choose from {', '.join(OPTIMIZER_NAMES)}.")
        lr = hyper.get("learning_rate")
        require(lr is not None and np.isfinite(lr) and lr > 0,
                f"The learning rate of {name} must be a number > 0, got {lr!r}.")
    x0, y0 = (float(v) for v in start)
    (xa, xb), (ya, yb) = surface.xlim, surface.ylim
    require(np.isfinite(x0) and np.isfinite(y0) and xa <= x0 <= xb and ya <= y0 <= yb,
            f"The start point ({x0:g}, {y0:g}) is outside the plotted region: pick x in [{xa}, {xb}] "
            f"and y in [{ya}, {yb}].")
    require(int(steps) == steps and steps >= 1, f"steps must be a whole number >= 1, got {steps!r}.")
    require(np.isfinite(grad_noise) and grad_noise >= 0, f"gradient noise must be >= 0, got {grad_noise!r}.")
    out = {}
    for name, hyper in settings.items():
        key = (surface.name, name, tuple(sorted((k, str(v)) for k, v in hyper.items())), x0, y0, int(steps),
               float(grad_noise), seed)
        if cache is not None and key in cache:
            out[name] = cache[key]
            continue
        try:
            out[name] = run_trajectory(name, hyper, surface, (x0, y0), int(steps), grad_noise, seed)
        except ValueError as err:              # e.g. nesterov with momentum 0
            raise InputError(f"{name}: {err}") from None
        if cache is not None:
            if len(cache) > 256:
                cache.clear()
            cache[key] = out[name]
    return out


class PlaygroundDrawing:
    """Two axes kept between redraws: contours of a surface with trajectories (left), loss per step (right).

    One legend (on the map) serves both panels: each optimizer has the same colour in both.

    Artists are created once and only their data change on :meth:`update` (re-creating axes and
    ticks on every redraw would cost more than everything else together); the filled contours
    are redrawn only when the surface changes.
    """

    def __init__(self, axes, levels: int = 18):
        self.ax_map, self.ax_loss = axes
        self.levels, self.surface_name, self._contours, self._minima = levels, None, None, None
        self.lines = {}
        self.start_marker, = self.ax_map.plot([], [], marker="s", color="white", markeredgecolor="black",
                                              linestyle="none", label="start", zorder=5)
        self.ax_loss.set(xlabel="step", ylabel="log10 f(x, y)   (f = 0 at the minimum)", title="Loss against step")
        self.ax_loss.grid(True, alpha=0.3)
        self.ax_map.set(xlabel="x", ylabel="y")

    def _set_surface(self, surface) -> None:
        if self._contours is not None:
            self._contours.remove()
            self._minima.remove()
        X, Y, Z = surface.grid(100)
        self._contours = self.ax_map.contourf(X, Y, np.log10(Z + 1e-3), levels=self.levels, cmap="Blues_r",
                                              alpha=0.85, zorder=0)
        mins = np.array(surface.minima)
        self._minima, = self.ax_map.plot(mins[:, 0], mins[:, 1], marker="*", color="gold", markersize=14,
                                         markeredgecolor="black", linestyle="none", zorder=4)
        self.ax_map.set(xlim=surface.xlim, ylim=surface.ylim, title=surface.title)
        self.surface_name = surface.name

    def _artists(self, name):
        if name not in self.lines:
            c = COLORS.get(name, "black")
            path, = self.ax_map.plot([], [], color=c, linewidth=1.6, zorder=3)
            end, = self.ax_map.plot([], [], color=c, markersize=6, linestyle="none", zorder=5)
            loss, = self.ax_loss.plot([], [], color=c)
            self.lines[name] = (path, end, loss)
        return self.lines[name]

    def update(self, surface, trajectories: dict) -> None:
        surface = get_surface(surface)
        if surface.name != self.surface_name:
            self._set_surface(surface)
        for name, (path, end, loss) in self.lines.items():
            for artist in (path, end, loss):
                artist.set_visible(name in trajectories)
        handles = []
        for name, tr in trajectories.items():
            path, end, loss = self._artists(name)
            path.set_data(tr.positions[:, 0], tr.positions[:, 1])
            path.set_label(name + (" (diverged)" if tr.diverged else ""))
            end.set_data([tr.positions[-1, 0]], [tr.positions[-1, 1]])
            end.set_marker("x" if tr.diverged else "o")
            # log10 on a linear axis: the same picture as a log scale, drawn several times faster
            loss.set_data(np.arange(len(tr.losses)), np.log10(np.maximum(tr.losses, 1e-16)))
            loss.set_label(name)
            handles.append(path)
        if trajectories:
            first = next(iter(trajectories.values()))
            self.start_marker.set_data([first.positions[0, 0]], [first.positions[0, 1]])
            longest = max(len(t.losses) for t in trajectories.values())
            top = max(np.log10(max(t.losses[0], 1e-16)) for t in trajectories.values()) + 1.5
            bottom = min(np.log10(max(t.losses.min(), 1e-16)) for t in trajectories.values()) - 0.5
            self.ax_loss.set_xlim(0, max(longest - 1, 1))
            self.ax_loss.set_ylim(bottom, top)     # a diverging run leaves through the top, the others stay readable
            self.ax_map.legend(handles=handles + [self.start_marker], loc="lower right", fontsize=8)
        self.start_marker.set_visible(bool(trajectories))


def draw_playground(axes, surface, trajectories: dict) -> PlaygroundDrawing:
    """Contours of ``surface`` with each trajectory (left) and log10 of the loss against step (right).

    The static version of the playground's picture, for notebooks:
    ``fig, axes = plt.subplots(1, 2, figsize=(11, 4)); draw_playground(axes, "rosenbrock", trajectories)``.
    """
    drawing = PlaygroundDrawing(axes)
    drawing.update(surface, trajectories)
    return drawing


class OptimizerPlayground(Explorer):
    """The interactive explorer. ``display(OptimizerPlayground())`` or just leave it last in a cell."""

    def __init__(self, surface: str = "quadratic", optimizers=("sgd", "momentum", "adam"), steps: int | None = None,
                 grad_noise: float = 0.0, seed: int = 0):
        s = get_surface(surface)
        self.seed, self._cache = seed, {}
        self.trajectories: dict = {}
        self.last_redraw_seconds = None
        self.surface = W.Dropdown(options=list(SURFACES), value=s.name, description="surface")
        self.steps = W.IntSlider(value=steps or s.steps, min=5, max=1000, step=5, description="steps",
                                 continuous_update=False)
        self.start_x = W.FloatText(value=s.start[0], description="start x", layout=W.Layout(width="180px"))
        self.start_y = W.FloatText(value=s.start[1], description="start y", layout=W.Layout(width="180px"))
        self.grad_noise = W.FloatSlider(value=grad_noise, min=0.0, max=5.0, step=0.1, continuous_update=False,
                                        description="grad noise", tooltip="imitates mini-batch gradients")
        self.use, self.lr, self.extra, rows = {}, {}, {}, []
        for name in OPTIMIZER_NAMES:
            self.use[name] = W.Checkbox(value=name in optimizers, description=name, indent=False,
                                        layout=W.Layout(width="100px"))
            self.lr[name] = W.FloatLogSlider(value=s.learning_rates[name], base=10, min=-5, max=1, step=0.1,
                                             description="learning rate", readout_format=".1e",
                                             continuous_update=False)
            row = [self.use[name], self.lr[name]]
            if name in EXTRA:
                key, default, lo, hi, step = EXTRA[name]
                self.extra[name] = W.FloatSlider(value=default, min=lo, max=hi, step=step, description=key,
                                                 continuous_update=False, readout_format=".3g")
                row.append(self.extra[name])
            rows.append(W.HBox(row))
        self.message = message_box()
        self.image = W.Image(format="png")
        self.figure = Figure(figsize=(10.5, 4.2), dpi=72)
        self.axes = self.figure.subplots(1, 2)
        self.drawing = PlaygroundDrawing(self.axes)
        self.figure.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.91, wspace=0.22)
        self.surface.observe(self._on_surface, names="value")
        for w in [self.steps, self.start_x, self.start_y, self.grad_noise, *self.use.values(),
                  *self.lr.values(), *self.extra.values()]:
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.surface, self.steps, self.grad_noise]),
                              W.HBox([self.start_x, self.start_y]), *rows, self.message, self.image])
        self._hold = False
        self.redraw()

    # ----- reading the controls ----------------------------------------------------------
    def settings(self) -> dict:
        """``{name: hyper-parameters}`` for every ticked optimizer."""
        return {n: _hyper(n, self.lr[n].value, self.extra[n].value if n in self.extra else None)
                for n in OPTIMIZER_NAMES if self.use[n].value}

    # ----- reacting ----------------------------------------------------------------------
    def _on_surface(self, change) -> None:
        s = get_surface(change["new"])
        with self.quietly():                  # set several controls, redraw once
            self.start_x.value, self.start_y.value = s.start
            self.steps.value = s.steps
            for name in OPTIMIZER_NAMES:
                self.lr[name].value = s.learning_rates[name]
        self.redraw()

    def redraw(self) -> bool:
        """Recompute (cached) trajectories and redraw; returns ``False`` and shows a message on bad input."""
        t0 = time.perf_counter()
        try:
            self.trajectories = compute_trajectories(
                self.surface.value, self.settings(), (self.start_x.value, self.start_y.value),
                self.steps.value, self.grad_noise.value, self.seed, self._cache)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        diverged = [t.message for t in self.trajectories.values() if t.diverged]
        show_message(self.message, " ".join(diverged), "warning")
        self.drawing.update(self.surface.value, self.trajectories)
        self.image.value = figure_to_png(self.figure)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
