"""recsys_lab/widgets/split_explorer.py, headless: the leakage against hand counts on a tiny log,
the kit's splits behind each protocol, controls drive redraws, bad input gives messages."""
import html
import re

import numpy as np
import pandas as pd
import pytest

from recsys_lab.data import future_leakage, global_temporal_split, random_split, temporal_split
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.split_explorer import (PROTOCOLS, SplitExplorer, choose_users, leakage_summary,
                                               split_by_protocol, timeline_points)

DAY = 86400


def text(box):
    return html.unescape(re.sub("<[^>]+>", "", box.value))


@pytest.fixture
def log():
    """Three users rating at different times: user 1 early (days 0-4), user 2 late (days 10-14),
    user 3 across the whole span (days 0, 5, 10, 15, 20)."""
    rows = [(1, i, 4.0, d * DAY) for i, d in enumerate(range(5))]
    rows += [(2, 10 + i, 3.0, d * DAY) for i, d in enumerate(range(10, 15))]
    rows += [(3, 20 + i, 5.0, d * DAY) for i, d in enumerate(range(0, 25, 5))]
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def test_leakage_by_hand_on_leave_one_out(log):
    train, test = split_by_protocol(log, "leave-one-out")
    s = leakage_summary(train, test)
    assert s["own history"] == 0.0 and s["test users"] == 3 and s["test ratings"] == 3
    # user 1 holds out day 4: of the 12 training ratings, user 2's 4 (days 10-13) and user 3's
    # days 5, 10, 15 are newer -> 7/12; user 2 holds out day 14: user 3's day 15 -> 1/12; user 3: 0
    assert s["other users' future"] == pytest.approx((7 / 12 + 1 / 12 + 0) / 3)
    assert s["users with any"] == pytest.approx(2 / 3)
    assert s["other users' future"] == pytest.approx(future_leakage(train, test).mean())


def test_own_history_leak_of_a_random_split_by_hand():
    r = pd.DataFrame({"user": [1] * 10, "item": range(10), "rating": 3.0, "timestamp": np.arange(10) * DAY})
    train, test = split_by_protocol(r, "random", 0.3, seed=0)
    s = leakage_summary(train, test)
    last = train.timestamp.max()
    assert s["own history"] == pytest.approx(float((test.timestamp < last).mean()))
    assert 0 < s["own history"] <= 1


def test_protocols_are_the_kit_splits_and_the_global_one_does_not_leak(log):
    for protocol, kit in (("random", lambda: random_split(log, 0.4, seed=3)),
                          ("per-user temporal", lambda: temporal_split(log, 0.4)),
                          ("global temporal", lambda: global_temporal_split(log, 0.4))):
        got, want = split_by_protocol(log, protocol, 0.4, seed=3), kit()
        for a, b in zip(got, want):
            pd.testing.assert_frame_equal(a, b)
    s = leakage_summary(*split_by_protocol(log, "global temporal", 0.4))
    assert s["own history"] == 0 and s["other users' future"] == 0 and s["users with any"] == 0
    s = leakage_summary(*split_by_protocol(log, "per-user temporal", 0.4))
    assert s["own history"] == 0 and s["other users' future"] > 0


def test_choose_users_by_id_and_by_seed(log):
    assert choose_users(log, "3, 1 1") == [3, 1]
    a, b = choose_users(log, "", seed=5, n=2), choose_users(log, "", seed=5, n=2)
    assert a == b and len(a) == 2 and set(a) <= {1, 2, 3}
    for bad, why in (("1, x", "not a whole number"), ("7", "no rating"), ("1.5", "not a whole number")):
        with pytest.raises(InputError, match=why):
            choose_users(log, bad)
    with pytest.raises(InputError, match="seed"):
        choose_users(log, "", seed=-1)


def test_timeline_points_partition_the_chosen_users(log):
    train, test = split_by_protocol(log, "leave-one-out")
    p = timeline_points(train, test, [3, 1])
    assert list(p.user.unique()) == [3, 1] and len(p) == 10
    assert (p.part == "test").sum() == 2 and p.date.is_monotonic_increasing is False  # rows by user first
    assert p.groupby("user").date.apply(lambda d: d.is_monotonic_increasing).all()


def test_bad_settings_raise_input_errors(log):
    with pytest.raises(InputError, match="protocol"):
        split_by_protocol(log, "k-fold")
    for bad in (0, 1, 1.5, True, "0.2"):
        with pytest.raises(InputError, match="test fraction"):
            split_by_protocol(log, "random", bad)
    with pytest.raises(InputError, match="timestamp"):
        SplitExplorer(log.drop(columns="timestamp"))


def test_explorer_redraws_on_every_control_and_reports_bad_values(log):
    ex = SplitExplorer(log, users="1, 2, 3")
    assert ex.image.value[:4] == b"\x89PNG" and ex.message.value == "" and ex.result["cutoff"] is None
    first = ex.image.value
    ex.protocol.value = "global temporal"
    assert ex.result["cutoff"] is not None and ex.image.value != first
    assert "0.0%" in text(ex.table)
    ex.protocol.value = "per-user temporal"
    n_test = ex.result["summary"]["test ratings"]
    ex.test_fraction.value = 0.4
    assert ex.result["summary"]["test ratings"] > n_test
    ex.users.value = "1, nobody"
    assert "not a whole number" in text(ex.message) and ex.result["users"] == [1, 2, 3]
    ex.users.value = ""
    ex.seed.value = 1
    assert ex.message.value == "" and len(ex.result["users"]) == 3
    ex.seed.value = -2
    assert "seed" in text(ex.message)
    assert set(PROTOCOLS) == {"random", "per-user temporal", "leave-one-out", "global temporal"}
