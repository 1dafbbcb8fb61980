"""Train/test splits that never leak a test rating into training (notebooks 05, 06, 13).

All splits take a tidy ratings frame (``user``, ``item``, ``rating`` [, ``timestamp``])
and return ``(train, test)`` frames that partition its rows. Randomness comes only
from ``seed``, and the order of the input rows never matters: every split first puts the rows
in canonical order (by user, then item; a stable sort, so MovieLens' file order is kept) and
returns both parts in that order. Which split answers which question:

- :func:`random_split` / :func:`kfold_split`: "how well does the model fill in a
  missing rating?" (the classic rating-prediction protocol);
- :func:`temporal_split`: "how well does it predict each user's *future*?" (per user,
  the latest ratings are held out, so nothing from the future trains the model);
- :func:`leave_one_out`: one held-out item per user, for top-N ranking metrics;
- :func:`global_temporal_split`: "how well does it predict what happens *after today*?" One
  cut-off time for everybody: train is everything before it, test everything from it on. The
  per-user splits above keep each user's own future out of training, but not *other* users'
  future (:func:`future_leakage` measures how much of it they let in); only a global cut-off
  is what a deployed recommender faces.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd

from .schema import ITEM, TIMESTAMP, USER


def _canonical(ratings: pd.DataFrame) -> pd.DataFrame:
    """``ratings`` sorted by (user, item), stably: the same rows give the same frame in any order."""
    keys = [c for c in (USER, ITEM, TIMESTAMP) if c in ratings]
    if len(keys) < 2:
        return ratings.reset_index(drop=True)
    return ratings.sort_values(keys, kind="stable").reset_index(drop=True)


def _check_fraction(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0):
    """Hold out a uniformly random ``test_fraction`` of the rows."""
    _check_fraction("test_fraction", test_fraction)
    ratings = _canonical(ratings)
    rng = np.random.default_rng(seed)
    n_test = int(round(len(ratings) * test_fraction))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[rng.permutation(len(ratings))[:n_test]] = True
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def kfold_split(ratings: pd.DataFrame, n_folds: int = 5, seed: int = 0) -> Iterator:
    """Yield ``n_folds`` ``(train, test)`` pairs; every row is in exactly one test fold."""
    if n_folds < 2 or n_folds > len(ratings):
        raise ValueError(f"n_folds must lie in [2, {len(ratings)}], got {n_folds}")
    ratings = _canonical(ratings)
    fold = np.random.default_rng(seed).permutation(len(ratings)) % n_folds
    for f in range(n_folds):
        yield (ratings[fold != f].reset_index(drop=True), ratings[fold == f].reset_index(drop=True))


def _rank_within_user(ratings: pd.DataFrame, order_by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its 0-based rank within its user (by ``order_by``, ties by row order, which is
    item order in a canonical frame) and the user's count."""
    order = np.lexsort((np.arange(len(ratings)), order_by, ratings[USER].to_numpy()))
    users_sorted = ratings[USER].to_numpy()[order]
    starts = np.r_[0, np.flatnonzero(users_sorted[1:] != users_sorted[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    rank = np.empty(len(ratings), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, counts)
    count = np.empty(len(ratings), dtype=np.int64)
    count[order] = np.repeat(counts, counts)
    return rank, count


def temporal_split(ratings: pd.DataFrame, test_fraction: float | None = None,
                   test_n: int | None = None, min_train: int = 1):
    """Per user, hold out the latest ratings: the last ``test_fraction`` of them
    (default 0.2), or the last ``test_n``.

    At least ``min_train`` ratings of every user stay in train, so users keep a history.
    Ties in time are broken by item id. Needs a ``timestamp`` column.
    """
    if TIMESTAMP not in ratings:
        raise ValueError(f"temporal_split needs a {TIMESTAMP!r} column; found {list(ratings.columns)}")
    if test_fraction is not None and test_n is not None:
        raise ValueError("give exactly one of test_fraction or test_n, not both")
    if test_fraction is None and test_n is None:
        test_fraction = 0.2
    ratings = _canonical(ratings)
    rank, count = _rank_within_user(ratings, ratings[TIMESTAMP].to_numpy())
    if test_n is not None:
        if test_n < 1:
            raise ValueError(f"test_n must be >= 1, got {test_n}")
        n_test = np.full(len(ratings), test_n)
    else:
        _check_fraction("test_fraction", test_fraction)
        n_test = np.round(count * test_fraction).astype(np.int64)
    n_test = np.clip(n_test, 0, np.maximum(count - min_train, 0))
    is_test = rank >= count - n_test
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def leave_one_out(ratings: pd.DataFrame, by: str = "timestamp", seed: int = 0, min_train: int = 1):
    """Hold out one rating per user: the latest (``by="timestamp"``) or a random one (``by="random"``).

    Users with ``min_train`` ratings or fewer keep them all in train. Ties in time: the larger
    item id is the one held out.
    """
    ratings = _canonical(ratings)
    if by == "timestamp":
        if TIMESTAMP not in ratings:
            raise ValueError(f"by='timestamp' needs a {TIMESTAMP!r} column; use by='random'")
        key = ratings[TIMESTAMP].to_numpy()
    elif by == "random":
        key = np.random.default_rng(seed).random(len(ratings))
    else:
        raise ValueError(f"by must be 'timestamp' or 'random', got {by!r}")
    rank, count = _rank_within_user(ratings, key)
    is_test = (rank == count - 1) & (count > min_train)
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def global_temporal_split(ratings: pd.DataFrame, test_fraction: float = 0.2, cutoff=None):
    """One cut-off time for all users: train = ratings before it, test = ratings at or after it.

    ``cutoff`` (a timestamp in the frame's units) defaults to the earliest timestamp such that
    at most ``1 - test_fraction`` of the rows come before it (rows tied at the cut-off all go to
    test, so the test share can be slightly above ``test_fraction``). Test users and items need
    not appear in train: new users and new items are part of what a global split tests.
    Returns ``(train, test)``, both in canonical (user, item) order.
    """
    if TIMESTAMP not in ratings:
        raise ValueError(f"global_temporal_split needs a {TIMESTAMP!r} column; found {list(ratings.columns)}")
    ratings = _canonical(ratings)
    times = ratings[TIMESTAMP].to_numpy()
    if cutoff is None:
        _check_fraction("test_fraction", test_fraction)
        n_train = int(round(len(ratings) * (1 - test_fraction)))
        cutoff = np.sort(times)[min(n_train, len(times) - 1)]
    is_test = times >= cutoff
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def future_leakage(train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """Per test user: the share of *all* training interactions newer than the user's first test one.

    0 for every user means no training interaction comes from anyone's future (a global
    temporal split); a per-user split shows 0 for the user's own history but lets other users'
    later ratings in. Indexed by user, values in [0, 1].
    """
    for name, frame in (("train", train), ("test", test)):
        if TIMESTAMP not in frame:
            raise ValueError(f"future_leakage needs a {TIMESTAMP!r} column in {name}")
    train_times = np.sort(train[TIMESTAMP].to_numpy())
    first_test = test.groupby(USER)[TIMESTAMP].min()
    newer = len(train_times) - np.searchsorted(train_times, first_test.to_numpy(), side="right")
    return pd.Series(newer / max(len(train_times), 1), index=first_test.index, name="future_share")


COURSE_SEED = 0
COURSE_TEST_FRACTION = 0.2
COURSE_VALIDATION_FRACTION = 0.2


class CourseSplit(tuple):
    """``(train, test)`` plus ``fit`` and ``validation``, the two parts of ``train``.

    Unpacks as ``train, test = course_split(r)``; ``.fit`` / ``.validation`` are for tuning
    (choose settings on ``validation`` after fitting on ``fit``, then refit on ``train``)."""

    def __new__(cls, train, test, fit, validation):
        self = super().__new__(cls, (train, test))
        self.train, self.test, self.fit, self.validation = train, test, fit, validation
        return self


def course_split(ratings: pd.DataFrame) -> CourseSplit:
    """The one rating-prediction split every notebook that compares models uses (07-13, the
    benchmark), so numbers from different notebooks come from the same test set.

    ``test``: a random ``COURSE_TEST_FRACTION`` (0.2) of the rows, seed ``COURSE_SEED`` (0);
    ``validation``: a random 0.2 of the rest, seed 1; ``fit``: what remains (64% of the rows).
    Identical to ``random_split(ratings, 0.2, seed=0)`` followed by
    ``random_split(train, 0.2, seed=1)``."""
    train, test = random_split(ratings, COURSE_TEST_FRACTION, seed=COURSE_SEED)
    fit, validation = random_split(train, COURSE_VALIDATION_FRACTION, seed=COURSE_SEED + 1)
    return CourseSplit(train, test, fit, validation)


def keep_frequent_items(train: pd.DataFrame, test: pd.DataFrame, min_ratings: int):
    """Restrict both parts to the movies with at least ``min_ratings`` ratings **in train**.

    A smaller catalogue makes a notebook faster; choosing it by counts over the whole log would
    let the test ratings decide which movies are candidates (a movie with 15 training and 5 test
    ratings would pass a threshold of 20 only thanks to its future). Counting in ``train`` alone
    keeps the choice to what was known at training time. Returns ``(train, test)`` in canonical
    order; users whose every training rating is dropped leave train (their test rows stay, and
    the models answer them with their fallback)."""
    if int(min_ratings) != min_ratings or min_ratings < 1:
        raise ValueError(f"min_ratings must be a whole number >= 1, got {min_ratings!r}")
    counts = train[ITEM].value_counts()
    keep = counts.index[counts >= min_ratings]
    train_kept = train[train[ITEM].isin(keep)]
    test_kept = test[test[ITEM].isin(keep)]
    return _canonical(train_kept), _canonical(test_kept)


class ColdStartSplit(NamedTuple):
    """Notebook 12's simulated cold start: ``train`` and three test sets, plus who is new.

    ``new_items`` / ``new_users``: sorted raw ids; every rating of a new item is in
    ``test_new_items`` (restricted to users known in train), a new user keeps only their first
    ``n_given`` ratings (by time, then item id) in train and the rest is ``test_new_users``; the other
    users' ratings are split at random into train and ``test_warm``."""
    train: pd.DataFrame
    test_warm: pd.DataFrame
    test_new_users: pd.DataFrame
    test_new_items: pd.DataFrame
    new_users: np.ndarray
    new_items: np.ndarray


def cold_start_split(ratings: pd.DataFrame, n_new_items: int = 150, min_item_ratings: int = 10,
                     n_new_users: int = 100, n_given: int = 5, warm_test_fraction: float = 0.2,
                     seed: int = 0) -> ColdStartSplit:
    """Simulate both cold starts (notebook 12, section 2; the benchmark that tunes its models).

    1. ``n_new_items`` movies drawn among those with at least ``min_item_ratings`` ratings lose all
       their ratings to ``test_new_items``;
    2. ``n_new_users`` users drawn among those with at least ``4 * n_given`` remaining ratings keep
       only their first ``n_given`` (by timestamp, ties by item id) in train; the rest is ``test_new_users``;
    3. everybody else's ratings are split by ``random_split(.., warm_test_fraction, seed)``.

    One ``numpy.random.default_rng(seed)`` draws the movies, then the users. Each new user's and
    movie's *own* future is kept out of train; other users' future is not (``future_leakage``)."""
    _check_fraction("warm_test_fraction", warm_test_fraction)
    for name, value in (("n_new_items", n_new_items), ("n_new_users", n_new_users), ("n_given", n_given),
                        ("min_item_ratings", min_item_ratings)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if TIMESTAMP not in ratings:
        raise ValueError(f"cold_start_split needs a {TIMESTAMP!r} column (a new user keeps their *first* ratings)")
    ratings = _canonical(ratings)
    rng = np.random.default_rng(seed)
    counts = ratings[ITEM].value_counts()
    eligible_items = np.sort(counts.index[counts >= min_item_ratings])
    if len(eligible_items) < n_new_items:
        raise ValueError(f"only {len(eligible_items)} movies have >= {min_item_ratings} ratings; "
                         f"n_new_items={n_new_items} is too many")
    new_items = np.sort(rng.choice(eligible_items, n_new_items, replace=False))
    test_new_items = ratings[ratings[ITEM].isin(new_items)]
    rest = ratings[~ratings[ITEM].isin(new_items)]
    per_user = rest[USER].value_counts()
    eligible_users = np.sort(per_user.index[per_user >= 4 * n_given])
    if len(eligible_users) < n_new_users:
        raise ValueError(f"only {len(eligible_users)} users keep >= {4 * n_given} ratings; "
                         f"n_new_users={n_new_users} is too many")
    new_users = np.sort(rng.choice(eligible_users, n_new_users, replace=False))
    theirs = rest[rest[USER].isin(new_users)].sort_values([USER, TIMESTAMP, ITEM], kind="stable")
    given = theirs.groupby(USER).cumcount() < n_given
    train_warm, test_warm = random_split(rest[~rest[USER].isin(new_users)], warm_test_fraction, seed=seed)
    train = _canonical(pd.concat([train_warm, theirs[given]], ignore_index=True))
    test_new_items = test_new_items[test_new_items[USER].isin(train[USER])]
    return ColdStartSplit(train, test_warm, _canonical(theirs[~given]), _canonical(test_new_items),
                          new_users, new_items)
