"""recsys_lab/widgets/sampled_metrics.py, headless: the math against the kit and a simulation,
controls drive redraws, bad input gives messages."""
import html
import re

import numpy as np
import pandas as pd
import pytest

from recsys_lab.models.ncf import expected_sampled_metrics, hit_rate_ndcg
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.sampled_metrics import (SampledMetricsExplorer, check_ranks, default_negatives,
                                                order_changes, protocol_table, sampled_curve)

N = 1000


def text(box):
    return html.unescape(re.sub("<[^>]+>", "", box.value))


def frame(ranks, n=N):
    ranks = np.asarray(ranks, dtype=np.int64)
    return pd.DataFrame({"user": np.arange(len(ranks)), "rank": ranks, "n_candidates": np.full(len(ranks), n)})


@pytest.fixture
def ranks():
    """'sharp' puts a quarter of its items at the very top and the rest deep down; 'broad' puts every
    item at rank 40-60: better under sampling (almost always a sampled hit), worse over the catalogue."""
    sharp = np.where(np.arange(200) % 4 == 0, 0, 700)
    broad = np.tile([40, 50, 60, 45], 50)
    return {"sharp": frame(sharp), "broad": frame(broad)}


def test_table_matches_the_kit_functions(ranks):
    t = protocol_table(ranks, n_negatives=100, k=10, metric="HR")
    for name, f in ranks.items():
        assert t.loc[name, "full"] == pytest.approx(hit_rate_ndcg(f["rank"], 10)["hit_rate"])
        assert t.loc[name, "sampled"] == pytest.approx(
            expected_sampled_metrics(f["rank"], f["n_candidates"], 100, 10)["hit_rate"])
    assert t.loc["sharp", "full"] == pytest.approx(0.25) and t.loc["broad", "full"] == 0.0


def test_sampled_value_agrees_with_a_simulation_of_the_draws(ranks):
    """Draw 100 of the 999 other candidates, count those above the item (rank 50): the share of
    draws with fewer than 10 above is the expected sampled HR@10."""
    rng = np.random.default_rng(0)
    sims = [(rng.choice(N - 1, 100, replace=False) < 50).sum() < 10 for _ in range(4000)]
    expected = protocol_table({"one": frame([50])}, 100, 10, "HR").loc["one", "sampled"]
    assert abs(np.mean(sims) - expected) < 0.02


def test_the_order_flips_between_protocols(ranks):
    t = protocol_table(ranks, 100, 10, "NDCG")
    assert t.loc["sharp", "place full"] == 1 and t.loc["broad", "place full"] == 2
    assert t.loc["broad", "place sampled"] == 1 and order_changes(t)
    # with every other candidate sampled, the sampled protocol *is* the full one
    full = protocol_table(ranks, N - 1, 10, "NDCG")
    assert full["sampled"].to_numpy() == pytest.approx(full["full"].to_numpy())
    assert not order_changes(full)


def test_curve_rises_to_one_as_negatives_vanish_and_falls_with_more(ranks):
    curve = sampled_curve(ranks, [1, 10, 100, 999], k=10, metric="HR")
    assert list(curve.index) == [1, 10, 100, 999]
    assert (curve.loc[1] == 1.0).all()                      # with one negative, a top-10 always holds
    assert (np.diff(curve.to_numpy(), axis=0) <= 1e-12).all()
    assert curve.loc[999, "sharp"] == pytest.approx(0.25)


def test_default_negatives_are_log_spaced_and_bounded():
    grid = default_negatives(1000)
    assert grid[0] == 1 and grid[-1] == 999 and (np.diff(grid) > 0).all()


def test_explorer_redraws_on_every_control(ranks):
    ex = SampledMetricsExplorer(ranks, n_negatives=100, k=10, metric="NDCG")
    assert ex.image.value[:4] == b"\x89PNG" and ex.message.value == ""
    assert ex.result["order_changes"] and "differently" in text(ex.table)
    png, table = bytes(ex.image.value), ex.table.value
    ex.n_negatives.value = ex.n_negatives.max                 # every other candidate: same order
    assert bytes(ex.image.value) != png and ex.table.value != table
    assert not ex.result["order_changes"] and "the same way" in text(ex.table)
    ex.metric.value = "HR"
    assert ex.result["metric"] == "HR" and "full HR@10" in ex.table.value
    ex.k.value = 5
    assert ex.result["table"].loc["sharp", "full"] == pytest.approx(0.25)


@pytest.mark.parametrize("bad, match", [
    ({}, "at least one model"),
    ({"a": [1, 2]}, "must be a DataFrame"),
    ({"a": pd.DataFrame({"rank": [1]})}, "lacks column"),
    ({"a": pd.DataFrame({"rank": [5], "n_candidates": [3]})}, "must lie in"),
    ({"a": pd.DataFrame({"rank": [0.5], "n_candidates": [3]})}, "whole numbers"),
    ({"a": frame([1, 2]), "b": frame([1])}, "same test users"),
])
def test_bad_ranks_are_refused_with_a_reason(bad, match):
    with pytest.raises(InputError, match=match):
        check_ranks(bad)


@pytest.mark.parametrize("kw, match", [(dict(n_negatives=0), "whole number >= 1"),
                                       (dict(k=0), "K must be"), (dict(metric="MAP"), "metric must be")])
def test_bad_settings_are_refused(ranks, kw, match):
    with pytest.raises(InputError, match=match):
        protocol_table(ranks, **{"n_negatives": 100, "k": 10, "metric": "NDCG", **kw})


def test_an_impossible_value_shows_a_message_and_keeps_the_picture(ranks):
    ex = SampledMetricsExplorer(ranks)
    png = bytes(ex.image.value)
    ex.ranks = {"a": pd.DataFrame({"rank": [1]})}             # what a broken input would do
    assert ex.redraw() is False and "lacks column" in text(ex.message)
    assert bytes(ex.image.value) == png
