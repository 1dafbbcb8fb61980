"""Activation explorer (notebook 01 · The neuron and activation functions).

Pick one or more activations, the weights ``w1, w2`` and bias ``b`` of a neuron and a
probe input ``x``. Left: the one-input neuron ``a(x) = f(w1·x + b)`` (solid) and its
derivative ``da/dx = w1·f'(w1·x + b)`` (dashed). Right: the output of the two-input neuron
``f(w1·x1 + w2·x2 + b)`` over the plane, for the first chosen activation, with the line
``z = 0`` and the weight vector. A table gives the numbers at the probe ``x``.

:func:`activation_readout` and :func:`draw_activation_explorer` are the pure parts: a
notebook calls them directly for a deterministic static figure; :class:`ActivationExplorer`
only validates the controls and calls them. Its :meth:`~ActivationExplorer.redraw` is what
a benchmark should time.
"""
from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..activations import ELEMENTWISE, get_activation, neuron_surface
from ..plotting import figure_to_png
from .common import Explorer, InputError, message_box, require, show_message

COLOURS = dict(zip(ELEMENTWISE, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:gray")))
X_RANGE = (-5.0, 5.0)
SURFACE_LIM = 3.0
#: Fixed colour scales for the bounded activations, so colours mean the same at every setting.
OUTPUT_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _affine(terms, b: float) -> str:
    """Readable ``w1·x1 − 2·x2 + 0.5`` from ``[(w1, "x1"), ...]`` and ``b`` (no ``+ -``)."""
    text = ""
    for i, (w, name) in enumerate(terms):
        sign = ("-" if w < 0 else "") if i == 0 else (" − " if w < 0 else " + ")
        text += f"{sign}{abs(w):g}·{name}"
    return text + (f" − {abs(b):g}" if b < 0 else f" + {b:g}")


def activation_readout(names, w1: float, b: float, x: float) -> list:
    """For each activation: ``z = w1·x + b``, ``a = f(z)`` and ``da/dx = w1·f'(z)``, rounded to 4 places."""
    z = w1 * x + b
    rows = []
    for name in names:
        f, f_grad = get_activation(name)
        rows.append({"activation": name, "z": round(z, 4), "a": round(float(f(z)), 4),
                     "da/dx": round(float(w1 * f_grad(z)), 4)})
    return rows


class ActivationFigure:
    """The two panels, built once on ``axes = (ax_curve, ax_surface)``; :meth:`update` only moves data.

    Updating existing artists instead of clearing and re-plotting keeps a slider move cheap.
    """

    def __init__(self, axes, resolution: int = 61):
        self.ax_curve, self.ax_surf = axes
        self.resolution = resolution
        ax = self.ax_curve
        self.xs = np.linspace(*X_RANGE, 201)
        self.lines = {}
        for name in ELEMENTWISE:
            colour = COLOURS[name]
            self.lines[name] = (ax.plot([], [], color=colour, lw=2, label=f"{name}: a")[0],
                                ax.plot([], [], color=colour, lw=1.3, ls="--", label=f"{name}: da/dx")[0])
        self.probe = ax.axvline(0.0, color="0.3", lw=0.8, ls=":")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set(xlim=X_RANGE, ylim=(-2.2, 3.2), xlabel="input x",
               ylabel="output a (solid), slope da/dx (dashed)")
        lim = SURFACE_LIM
        self.image = self.ax_surf.imshow(np.zeros((resolution, resolution)), origin="lower",
                                         extent=(-lim, lim, -lim, lim), cmap="RdBu_r", aspect="equal",
                                         interpolation="bilinear")
        self.boundary = self.ax_surf.plot([], [], color="k", lw=1.5, label="z = 0")[0]
        self.arrow = self.ax_surf.annotate("", xy=(0, 0), xytext=(0, 0),
                                           arrowprops=dict(arrowstyle="->", color="k", lw=1.5))
        self.ax_surf.legend(fontsize=7, loc="lower left")
        self.ax_surf.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="input x1", ylabel="input x2")
        self.ax_surf.figure.colorbar(self.image, ax=self.ax_surf, label="neuron output a")
        self._legend_names = None

    def update(self, names, w1: float, w2: float, b: float, x: float) -> None:
        """Redraw for activations ``names`` (non-empty), weights, bias and probe ``x``."""
        if not names:
            raise ValueError("choose at least one activation.")
        names = tuple(names)
        for name, (line_a, line_d) in self.lines.items():
            visible = name in names
            line_a.set_visible(visible)
            line_d.set_visible(visible)
            if visible:
                f, f_grad = get_activation(name)
                z = w1 * self.xs + b
                line_a.set_data(self.xs, f(z))
                line_d.set_data(self.xs, w1 * f_grad(z))
        if names != self._legend_names:
            handles = [self.lines[n][0] for n in names]
            self.ax_curve.legend(handles=handles, labels=list(names), fontsize=7, loc="upper left")
            self._legend_names = names
        self.probe.set_xdata([x, x])
        self.ax_curve.set_title(f"one input: a = f({_affine([(w1, 'x')], b)})  (probe x = {x:g})")

        name = names[0]
        _, _, a = neuron_surface([w1, w2], b, name, lim=SURFACE_LIM, resolution=self.resolution)
        self.image.set_data(a)
        lo, hi = OUTPUT_RANGE.get(name, (float(a.min()), float(a.max())))
        self.image.set_clim(lo, hi if hi > lo else lo + 1e-6)   # a flat surface still gets a colour
        if w1 != 0 or w2 != 0:
            # the line w1·x1 + w2·x2 + b = 0 (z = 0), and the unit weight vector from its point nearest 0
            t = np.array([-2 * SURFACE_LIM, 2 * SURFACE_LIM])
            norm2 = w1 * w1 + w2 * w2
            px, py = -b * w1 / norm2, -b * w2 / norm2
            self.boundary.set_data(px - w2 * t, py + w1 * t)
            scale = 1.0 / math.sqrt(norm2)
            self.arrow.xy, self.arrow.xyann = (px + w1 * scale, py + w2 * scale), (px, py)
        self.boundary.set_visible(w1 != 0 or w2 != 0)
        self.arrow.set_visible(w1 != 0 or w2 != 0)
        self.ax_surf.set_title(f"two inputs, {name}: a = f({_affine([(w1, 'x1'), (w2, 'x2')], b)})")


def draw_activation_explorer(names, w1: float, w2: float, b: float, x: float, axes=None,
                             resolution: int = 61):
    """Draw both panels into ``axes = (ax_curve, ax_surface)`` (a new pyplot figure if ``None``).

    The same drawing the explorer shows; returns the :class:`ActivationFigure`.
    """
    if not names:
        raise ValueError("choose at least one activation.")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    view = ActivationFigure(axes, resolution)
    view.update(names, w1, w2, b, x)
    return view


class ActivationExplorer(Explorer):
    """The interactive explorer. Display it in a notebook cell; the controls are attributes
    (``activations``, ``w1``, ``w2``, ``b``, ``x``) so a test can set ``.value`` directly."""

    def __init__(self, activations=("sigmoid", "tanh", "relu"), w1: float = 1.0, w2: float = 1.0,
                 b: float = 0.0, x: float = 1.0):
        slider = dict(min=-5.0, max=5.0, step=0.1, continuous_update=True,
                      style={"description_width": "60px"}, layout=W.Layout(width="300px"))
        self.activations = W.SelectMultiple(options=ELEMENTWISE, value=tuple(activations),
                                            description="activations", rows=len(ELEMENTWISE))
        self.w1 = W.FloatSlider(value=w1, description="w1", **slider)
        self.w2 = W.FloatSlider(value=w2, description="w2", **slider)
        self.b = W.FloatSlider(value=b, description="bias b", **slider)
        self.x = W.FloatSlider(value=x, description="probe x", **slider)
        self.message = message_box()
        self.readout = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width="100%", max_width="900px"))
        self.figure = Figure(figsize=(11, 4.2), dpi=72)
        self.figure.subplots_adjust(left=0.06, right=0.97, bottom=0.13, top=0.9, wspace=0.22)
        self.view = ActivationFigure(self.figure.subplots(1, 2))
        for control in (self.activations, self.w1, self.w2, self.b, self.x):
            control.observe(self._on_change, names="value")
        hint = W.HTML("<small>Ctrl/Cmd-click to compare several activations.</small>")
        self.widget = W.VBox([
            W.HBox([W.VBox([self.activations, hint]), W.VBox([self.w1, self.w2, self.b, self.x])]),
            self.message, self.image, self.readout])
        self._hold = False
        self.redraw()

    def settings(self) -> dict:
        """The controls' values, validated; raises :class:`InputError` saying what to change."""
        names = tuple(self.activations.value)
        require(len(names) > 0, "Choose at least one activation in the list (Ctrl/Cmd-click to add more).")
        values = {k: float(getattr(self, k).value) for k in ("w1", "w2", "b", "x")}
        for key, value in values.items():
            require(math.isfinite(value), f"{key} must be a finite number, got {value}.")
        return {"names": names, **values}

    def redraw(self) -> bool:
        """Validate, redraw the figure and the table; on bad input show a message instead. Returns success."""
        try:
            s = self.settings()
        except InputError as err:
            show_message(self.message, str(err))
            return False
        self.view.update(s["names"], s["w1"], s["w2"], s["b"], s["x"])
        self.image.value = figure_to_png(self.figure)
        rows = activation_readout(s["names"], s["w1"], s["b"], s["x"])
        cells = "".join(f"<tr><td>{r['activation']}</td><td>{r['z']:.4f}</td><td>{r['a']:.4f}</td>"
                        f"<td>{r['da/dx']:.4f}</td></tr>" for r in rows)
        self.readout.value = ("<table><tr><th>activation</th><th>z = w1·x + b</th><th>a = f(z)</th>"
                              f"<th>da/dx</th></tr>{cells}</table>")
        if s["w1"] == 0 and s["w2"] == 0:
            show_message(self.message, "Both weights are 0: the neuron ignores its inputs and always"
                         f" outputs f(b) = f({s['b']:g}).", kind="warning")
        else:
            show_message(self.message, "")
        return True
