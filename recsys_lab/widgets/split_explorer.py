"""Split explorer (notebook 06): each evaluation protocol drawn on a timeline, with its leakage.

Choose a protocol (random split, per-user temporal split, leave-one-out, global temporal split),
the test fraction and a handful of users (typed ids, or a sample drawn with a seed). The plot puts
each chosen user on a row and every rating of theirs at its date, training ratings as blue dots
and held-out ones as red crosses; the global split's cut-off is a vertical line. Beside it, the
protocol's leakage over *all* test users, measured by :func:`recsys_lab.data.future_leakage`:

- **own history**: the share of test ratings older than the same user's latest training rating
  (the user's own future trains the model);
- **other users' future**: per test user, the share of all training ratings newer than the
  user's first test rating, averaged over test users (and the share of test users with any).

Pure pieces: :func:`split_by_protocol`, :func:`leakage_summary`, :func:`choose_users`,
:func:`timeline_points` (frames in, frames out) and :func:`draw_timeline` (draws into an axis);
``SplitExplorer.redraw()`` is what a control change runs.
"""
from __future__ import annotations

import html
import time

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..data import future_leakage, global_temporal_split, leave_one_out, random_split, temporal_split
from ..data.schema import ITEM, TIMESTAMP, USER
from ..plotting import figure_to_png
from .common import Explorer, InputError, message_box, require, show_message

PROTOCOLS = ("random", "per-user temporal", "leave-one-out", "global temporal")
MAX_USERS = 12
FUTURE = "other users' future"


def check_ratings(ratings) -> None:
    """A ratings frame with ``user``, ``item`` and ``timestamp`` columns and at least one row."""
    require(isinstance(ratings, pd.DataFrame), f"ratings must be a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in (USER, ITEM, TIMESTAMP) if c not in ratings.columns]
    require(not missing, f"ratings lacks column(s) {missing} (it has {list(ratings.columns)}); "
                         f"load_movielens().ratings has the right shape")
    require(len(ratings) > 0, "ratings is empty: the explorer needs rated movies to split")


def _check_protocol(protocol, test_fraction) -> None:
    require(protocol in PROTOCOLS, f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    require(not isinstance(test_fraction, bool) and isinstance(test_fraction, (int, float, np.floating))
            and 0 < test_fraction < 1, f"the test fraction must lie strictly between 0 and 1, got {test_fraction!r}")


def split_by_protocol(ratings: pd.DataFrame, protocol: str, test_fraction: float = 0.2, seed: int = 0):
    """``(train, test)`` of the kit's split for ``protocol`` (one of :data:`PROTOCOLS`).
    ``test_fraction`` is ignored by leave-one-out (one rating per user); ``seed`` is used by the
    random split only."""
    _check_protocol(protocol, test_fraction)
    check_ratings(ratings)
    if protocol == "random":
        return random_split(ratings, float(test_fraction), seed=int(seed))
    if protocol == "per-user temporal":
        return temporal_split(ratings, float(test_fraction))
    if protocol == "leave-one-out":
        return leave_one_out(ratings)
    return global_temporal_split(ratings, float(test_fraction))


def leakage_summary(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The two leakages of a split, over all its test users (values in [0, 1]):

    ``own history``: share of test ratings older than the same user's latest training rating;
    ``other users' future``: mean over test users of :func:`future_leakage` (share of all
    training ratings newer than the user's first test rating); ``users with any``: share of test
    users for whom that is above 0; plus ``test users`` and ``test ratings`` (counts)."""
    require(len(test) > 0, "the split holds out no rating: raise the test fraction")
    last_train = train.groupby(USER)[TIMESTAMP].max().reindex(test[USER]).to_numpy()
    own = float(np.mean(test[TIMESTAMP].to_numpy() < last_train))  # NaN (user not in train) is not older
    future = future_leakage(train, test)
    return {"own history": own, FUTURE: float(future.mean()),
            "users with any": float((future > 0).mean()), "test users": int(len(future)),
            "test ratings": int(len(test))}


def choose_users(ratings: pd.DataFrame, user_text: str = "", seed: int = 0, n: int = 6) -> list:
    """The users to draw: the ids typed in ``user_text`` (comma- or space-separated), or, when it is
    blank, ``n`` users drawn without replacement with ``seed``. Raises :class:`InputError` naming
    an id that is not a whole number or not in the data, or too many ids (more than MAX_USERS)."""
    known = np.sort(ratings[USER].unique())
    text = (user_text or "").replace(",", " ").split()
    if not text:
        require(not isinstance(seed, bool) and isinstance(seed, (int, np.integer)) and seed >= 0,
                f"the sample seed must be a whole number >= 0, got {seed!r}")
        rng = np.random.default_rng(int(seed))
        return sorted(int(u) for u in rng.choice(known, size=min(n, len(known)), replace=False))
    users = []
    for token in text:
        require(token.lstrip("-").isdigit(), f"user id {token!r} is not a whole number; type ids like 1, 15, 414")
        require(int(token) in set(known.tolist()), f"user {token} has no rating in the data "
                                                   f"(ids run from {known[0]} to {known[-1]})")
        if int(token) not in users:
            users.append(int(token))
    require(len(users) <= MAX_USERS, f"{len(users)} users is too many to draw; give at most {MAX_USERS}")
    return users


def timeline_points(train: pd.DataFrame, test: pd.DataFrame, users) -> pd.DataFrame:
    """One row per rating of ``users``: ``user``, ``date`` (datetime), ``part`` ('train' or 'test'),
    in the order of ``users``, then by date."""
    parts = [train[train[USER].isin(users)].assign(part="train"), test[test[USER].isin(users)].assign(part="test")]
    points = pd.concat(parts, ignore_index=True)
    points["date"] = pd.to_datetime(points[TIMESTAMP], unit="s")
    points["row"] = points[USER].map({u: i for i, u in enumerate(users)})
    return points.sort_values(["row", "date"], kind="stable")[[USER, "date", "part", "row"]].reset_index(drop=True)


def draw_timeline(ax, points: pd.DataFrame, users, protocol: str, cutoff=None) -> None:
    """Each user a row, each rating a mark at its date (train: blue dot, test: red cross);
    ``cutoff`` (a datetime) draws the global split's line."""
    ax.clear()
    for part, style in (("train", dict(marker="o", color="tab:blue", s=14, alpha=0.6, label="training rating")),
                        ("test", dict(marker="x", color="tab:red", s=30, label="held-out rating"))):
        p = points[points["part"] == part]
        ax.scatter(p["date"], p["row"], **style)
    if cutoff is not None:
        ax.axvline(cutoff, color="tab:green", linestyle="--", linewidth=1.5, label=f"cut-off {cutoff:%Y-%m-%d}")
    ax.set_yticks(range(len(users)), [f"user {u}" for u in users])
    ax.set_ylim(len(users) - 0.5, -0.5)
    ax.set(title=f"{protocol} split: when each user's ratings were given", xlabel="date of the rating",
           ylabel="user")
    ax.legend(loc="upper left", fontsize=8, bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="x", alpha=0.3)


def summary_html(summary: dict, protocol: str) -> str:
    return (f"<table><tr><th>{html.escape(protocol)} split, all test users</th><th></th></tr>"
            f"<tr><td>test ratings / test users</td><td>{summary['test ratings']:,} / {summary['test users']:,}</td></tr>"
            f"<tr><td>own history: test ratings older than the user's last training rating</td>"
            f"<td>{summary['own history']:.1%}</td></tr>"
            f"<tr><td>other users' future: mean share of training ratings newer than a test user's first test rating</td>"
            f"<td>{summary[FUTURE]:.1%}</td></tr>"
            f"<tr><td>test users with any training rating from their future</td>"
            f"<td>{summary['users with any']:.1%}</td></tr></table>")


class SplitExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it.

    ``ratings``: a tidy ratings frame with timestamps (``load_movielens().ratings``)."""

    def __init__(self, ratings, protocol: str = "random", test_fraction: float = 0.2, users: str = "",
                 seed: int = 0, split_seed: int = 0):
        check_ratings(ratings)
        self.ratings, self.split_seed = ratings, split_seed
        self.result, self.last_redraw_seconds = None, None
        style = {"description_width": "110px"}
        self.protocol = W.Dropdown(options=list(PROTOCOLS), value=protocol, description="protocol", style=style)
        self.test_fraction = W.FloatSlider(value=test_fraction, min=0.05, max=0.5, step=0.05, description="test fraction",
                                           continuous_update=False, readout_format=".2f", style=style)
        self.users = W.Text(value=users, description="user ids", placeholder="blank: a sample", style=style,
                            continuous_update=False)
        self.seed = W.IntText(value=seed, description="sample seed", style=style)
        self.message = message_box()
        self.table = W.HTML(value="")
        self.image = W.Image(format="png")
        self.figure = Figure(figsize=(10, 3.8), dpi=72)
        self.ax = self.figure.subplots()
        self.figure.subplots_adjust(left=0.1, right=0.78, bottom=0.15, top=0.9)
        for w in (self.protocol, self.test_fraction, self.users, self.seed):
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.protocol, self.test_fraction]), W.HBox([self.users, self.seed]),
                              self.message, self.image, self.table])
        self._hold = False
        self.redraw()

    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on impossible settings."""
        t0 = time.perf_counter()
        protocol, fraction = self.protocol.value, self.test_fraction.value
        try:
            users = choose_users(self.ratings, self.users.value, self.seed.value)
            train, test = split_by_protocol(self.ratings, protocol, fraction, self.split_seed)
            summary = leakage_summary(train, test)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        show_message(self.message, "")
        cutoff = pd.to_datetime(test[TIMESTAMP].min(), unit="s") if protocol == "global temporal" else None
        points = timeline_points(train, test, users)
        self.result = {"protocol": protocol, "test_fraction": fraction, "users": users, "points": points,
                       "summary": summary, "cutoff": cutoff}
        draw_timeline(self.ax, points, users, protocol, cutoff)
        self.image.value = figure_to_png(self.figure)
        self.table.value = summary_html(summary, protocol)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
