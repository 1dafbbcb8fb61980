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
