"""Sampled-versus-full metric explorer (notebook 10): what ranking against m sampled negatives does
to HR@K and NDCG@K, and to the order of the models (Krichene & Rendle, 2020).

Give it each model's full-catalogue leave-one-out ranks (the frames of
:func:`recsys_lab.models.ncf.leave_one_out_ranks`, columns ``rank`` and ``n_candidates``). Choose
the number of sampled negatives ``m``, the list length ``K`` and the metric: the left panel puts
each model's full-catalogue value beside the value the sampled protocol gives it *on average*,
the right panel draws that sampled value as ``m`` grows, and the table underneath ranks the models
both ways and says whether the two orders differ.

Nothing is sampled: the sampled value is the exact expectation over the draws
(:func:`recsys_lab.models.ncf.expected_sampled_metrics`, a hypergeometric law), so the picture is
a function of the ranks alone. Pure pieces: :func:`protocol_table` and :func:`sampled_curve`
(validated settings in, frames out) and :func:`draw_protocols` (draws them into two axes);
``SampledMetricsExplorer.redraw()`` is what a control change runs.
"""
from __future__ import annotations

import html
import time

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..models.ncf import expected_sampled_metrics, hit_rate_ndcg
from ..plotting import figure_to_png
from .common import Explorer, InputError, message_box, require, show_message

METRICS = {"HR": "hit_rate", "NDCG": "ndcg"}


def check_ranks(ranks) -> dict:
    """``ranks``: a dict ``{model name: frame}`` with integer columns ``rank`` and ``n_candidates``
    (``0 <= rank <= n_candidates``, one row per test user, the same users for every model).
    Returns it as ``{name: (rank array, n_candidates array)}``; raises :class:`InputError` naming
    the model and the column that is wrong."""
    require(isinstance(ranks, dict) and len(ranks) >= 1,
            f"ranks must be a dict {{model name: frame of leave_one_out_ranks}} with at least one model, "
            f"got {type(ranks).__name__}")
    out, n_rows = {}, None
    for name, frame in ranks.items():
        require(isinstance(frame, pd.DataFrame), f"ranks[{name!r}] must be a DataFrame, got {type(frame).__name__}")
        missing = [c for c in ("rank", "n_candidates") if c not in frame.columns]
        require(not missing, f"ranks[{name!r}] lacks column(s) {missing}; leave_one_out_ranks(model, test) "
                             f"returns them (it has {list(frame.columns)})")
        require(len(frame) > 0, f"ranks[{name!r}] is empty: it needs one row per test user")
        r, n = frame["rank"].to_numpy(), frame["n_candidates"].to_numpy()
        for col, v in (("rank", r), ("n_candidates", n)):
            require(np.issubdtype(v.dtype, np.integer), f"ranks[{name!r}], column {col!r}: whole numbers "
                                                        f"needed, got dtype {v.dtype}")
        bad = (r < 0) | (r > n) | (n < 1)
        require(not bad.any(), f"ranks[{name!r}], row {int(np.argmax(bad))}: rank {r[bad][0] if bad.any() else ''} "
                               f"must lie in [0, n_candidates] with n_candidates >= 1")
        n_rows = len(frame) if n_rows is None else n_rows
        require(len(frame) == n_rows, f"ranks[{name!r}] has {len(frame)} rows, the first model {n_rows}: "
                                      "every model must be ranked on the same test users")
        out[str(name)] = (r.astype(np.int64), n.astype(np.int64))
    return out


def _check_settings(n_negatives, k, metric) -> None:
    require(not isinstance(n_negatives, bool) and n_negatives is not None and float(n_negatives).is_integer()
            and n_negatives >= 1, f"the number of sampled negatives must be a whole number >= 1, got {n_negatives!r}")
    require(not isinstance(k, bool) and k is not None and float(k).is_integer() and k >= 1,
            f"K must be a whole number >= 1, got {k!r}")
    require(metric in METRICS, f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def protocol_table(ranks, n_negatives: int = 100, k: int = 10, metric: str = "NDCG") -> pd.DataFrame:
    """One row per model: ``full`` (the metric over the full catalogue), ``sampled`` (its expected
    value with ``n_negatives`` sampled negatives), ``place full`` and ``place sampled`` (1 = best;
    ties share the better place). Rows in the order of ``ranks``."""
    _check_settings(n_negatives, k, metric)
    arrays = check_ranks(ranks)
    key = METRICS[metric]
    rows = {name: {"full": hit_rate_ndcg(r, int(k))[key],
                   "sampled": expected_sampled_metrics(r, n, int(n_negatives), int(k))[key]}
            for name, (r, n) in arrays.items()}
    table = pd.DataFrame(rows).T
    for col in ("full", "sampled"):
        table[f"place {col}"] = table[col].round(9).rank(ascending=False, method="min").astype(int)
    return table


def order_changes(table: pd.DataFrame) -> bool:
    """Whether the two protocols order the models differently (some pair swaps)."""
    return bool((table["place full"] != table["place sampled"]).any())


def sampled_curve(ranks, negatives, k: int = 10, metric: str = "NDCG") -> pd.DataFrame:
    """The expected sampled metric of every model for each number of negatives in ``negatives``:
    a frame indexed by ``m``, one column per model."""
    negatives = [int(m) for m in negatives]
    require(len(negatives) >= 1, "negatives must list at least one number of sampled negatives")
    arrays = check_ranks(ranks)
    for m in negatives:
        _check_settings(m, k, metric)
    key = METRICS[metric]
    return pd.DataFrame({name: [expected_sampled_metrics(r, n, m, int(k))[key] for m in negatives]
                         for name, (r, n) in arrays.items()}, index=pd.Index(negatives, name="m"))


def default_negatives(max_candidates: int) -> np.ndarray:
    """About 25 log-spaced numbers of negatives from 1 to ``max_candidates - 1``."""
    top = max(int(max_candidates) - 1, 1)
    return np.unique(np.round(np.geomspace(1, top, 25)).astype(int))


def draw_protocols(axes, table: pd.DataFrame, curve: pd.DataFrame, n_negatives: int, k: int,
                   metric: str) -> None:
    """Left: full versus sampled bars per model; right: the sampled value as ``m`` grows."""
    left, right = axes
    left.clear()
    right.clear()
    x = np.arange(len(table))
    left.bar(x - 0.2, table["full"], width=0.4, label="full catalogue")
    left.bar(x + 0.2, table["sampled"], width=0.4, label=f"sampled, m = {n_negatives}")
    left.set_xticks(x, table.index, rotation=30, ha="right", fontsize=8)
    left.set(title=f"{metric}@{k}: full vs sampled (expected)", ylabel=f"{metric}@{k}")
    left.legend(fontsize=8)
    for name in curve.columns:
        right.plot(curve.index, curve[name], marker=".", label=name)
    right.axvline(n_negatives, color="grey", linestyle="--", linewidth=1)
    right.set_xscale("log")
    right.set(title=f"sampled {metric}@{k} by number of negatives", xlabel="sampled negatives m (log scale)",
              ylabel=f"expected sampled {metric}@{k}")
    right.legend(fontsize=7)
    right.grid(True, alpha=0.3)


def table_html(table: pd.DataFrame, metric: str, k: int) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{r['full']:.4f}</td><td>{int(r['place full'])}</td>"
                   f"<td>{r['sampled']:.4f}</td><td>{int(r['place sampled'])}</td></tr>"
                   for name, r in table.iterrows())
    verdict = ("the two protocols order these models <b>differently</b>" if order_changes(table)
               else "the two protocols order these models the same way")
    return (f"<table><tr><th>model</th><th>full {metric}@{k}</th><th>place</th><th>sampled</th>"
            f"<th>place</th></tr>{rows}</table><p>{verdict}</p>")


class SampledMetricsExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it.

    ``ranks``: ``{model name: leave_one_out_ranks(model, test)}`` (see :func:`check_ranks`)."""

    def __init__(self, ranks, n_negatives: int = 100, k: int = 10, metric: str = "NDCG"):
        self.arrays = check_ranks(ranks)
        self.ranks = ranks
        self.result, self.last_redraw_seconds = None, None
        max_candidates = int(max(n.max() for _, n in self.arrays.values()))
        self.negatives_grid = default_negatives(max_candidates)
        slider = {"continuous_update": False, "style": {"description_width": "130px"}}
        self.n_negatives = W.IntSlider(value=n_negatives, min=1, max=max(max_candidates - 1, 1),
                                       description="sampled negatives", **slider)
        self.k = W.IntSlider(value=k, min=1, max=50, description="K", **slider)
        self.metric = W.Dropdown(options=list(METRICS), value=metric, description="metric")
        self.message = message_box()
        self.table = W.HTML(value="")
        self.image = W.Image(format="png")
        self.figure = Figure(figsize=(10, 3.9), dpi=72)
        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.3, top=0.9, wspace=0.25)
        for w in (self.n_negatives, self.k, self.metric):
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.metric, self.k]), self.n_negatives, self.message, self.image, self.table])
        self._hold = False
        self.redraw()

    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on impossible settings."""
        t0 = time.perf_counter()
        m, k, metric = self.n_negatives.value, self.k.value, self.metric.value
        try:
            table = protocol_table(self.ranks, m, k, metric)
            curve = sampled_curve(self.ranks, self.negatives_grid, k, metric)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        show_message(self.message, "")
        self.result = {"table": table, "curve": curve, "order_changes": order_changes(table),
                       "n_negatives": m, "k": k, "metric": metric}
        draw_protocols(self.axes, table, curve, m, k, metric)
        self.image.value = figure_to_png(self.figure)
        self.table.value = table_html(table, metric, k)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
