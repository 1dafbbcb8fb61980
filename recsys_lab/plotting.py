"""Plot helpers shared by all notebooks: one function per kind of plot.

Every helper labels its axes (with units), sets a title and a legend where there is
more than one series, and returns the matplotlib ``Axes`` so a notebook can add to it.
Pass ``ax=`` to draw into an existing figure (widgets do this on every redraw).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax=None, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_histogram(values, bins=20, title="", xlabel="value", ylabel="count", ax=None):
    """Histogram of a 1-D array of values."""
    ax = _axes(ax)
    ax.hist(np.asarray(values), bins=bins, color="tab:blue", edgecolor="white")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def plot_curves(curves: dict, title="", xlabel="step", ylabel="value", logy=False, ax=None):
    """Line plot of named series: ``curves = {"train loss": [...], "validation loss": [...]}``."""
    ax = _axes(ax)
    for name, ys in curves.items():
        ax.plot(np.arange(1, len(ys) + 1), ys, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    return ax


def figure_to_png(fig, dpi: int | None = None) -> bytes:
    """Render a matplotlib figure to PNG bytes (what the explorers put in an ``ipywidgets.Image``).

    Explorers build their figures with ``matplotlib.figure.Figure`` rather than ``pyplot``, so
    nothing is displayed twice and the figure can be redrawn from a background thread.
    """
    import io

    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if type(fig.canvas) is FigureCanvasBase:  # a bare Figure: give it an Agg canvas, which keeps
        FigureCanvasAgg(fig)                  # its renderer between redraws (faster)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})  # fast encode, bigger bytes
    return buf.getvalue()


def plot_training_curves(history, metric: str | None = None, axes=None, title: str = ""):
    """Training and validation loss per epoch (left) and one metric or the learning rate (right).

    ``history`` is a :class:`recsys_lab.training.History` (or anything with ``train_loss``,
    ``val_loss``, ``metrics``, ``lr`` and ``best_epoch``). ``metric`` names an entry of
    ``history.metrics``; ``None`` takes the first one, or the learning rate when there is none.
    A dotted line marks the best validation epoch. Returns the two axes.
    """
    new_figure = axes is None
    if new_figure:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss, ax_right = axes
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax_loss.plot(epochs, history.train_loss, label="train loss", color="tab:blue")
    if len(history.val_loss):
        ax_loss.plot(np.arange(1, len(history.val_loss) + 1), history.val_loss, label="validation loss",
                     color="tab:orange")
    if getattr(history, "best_epoch", None):
        ax_loss.axvline(history.best_epoch, color="grey", linestyle=":", label=f"best epoch ({history.best_epoch})")
    ax_loss.set(title=title or "Loss per epoch", xlabel="epoch", ylabel="loss")
    ax_loss.legend(loc="upper right")
    if metric is None and history.metrics:
        metric = next(iter(history.metrics))
    if metric is not None:
        if metric not in history.metrics:
            raise ValueError(f"metric {metric!r} is not in the history; it has {sorted(history.metrics) or 'none'}.")
        values = history.metrics[metric]
        ax_right.plot(np.arange(1, len(values) + 1), values, color="tab:green", label=f"validation {metric}")
        ax_right.set(title=f"Validation {metric}", xlabel="epoch", ylabel=metric)
    else:
        lr = history.lr[: len(history.train_loss)]
        ax_right.plot(np.arange(1, len(lr) + 1), lr, color="tab:purple", label="learning rate")
        ax_right.set(title="Learning rate", xlabel="epoch", ylabel="learning rate")
    if new_figure:
        fig.tight_layout()
    return ax_loss, ax_right


def plot_intervals(labels, estimates, lows, highs, title="", xlabel="value", highlight=None, ax=None):
    """Horizontal dots with error bars: one row per label, ``estimate`` within ``[low, high]``.

    For confidence intervals of a metric per model (notebook 13). Rows are drawn top to bottom
    in the given order; ``highlight`` (a label) is drawn in orange.
    """
    n = len(labels)
    ax = _axes(ax, figsize=(8, 0.4 * n + 1.2))
    est, low, high = (np.asarray(v, dtype=float) for v in (estimates, lows, highs))
    y = np.arange(n)[::-1]
    for row, lab in enumerate(labels):
        color = "tab:orange" if lab == highlight else "tab:blue"
        ax.errorbar(est[row], y[row], xerr=[[est[row] - low[row]], [high[row] - est[row]]], fmt="o",
                    color=color, capsize=3)
    ax.set_yticks(y, labels)
    ax.set(title=title, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    return ax
