"""Train/test splits that never leak a test rating into training (notebooks 05, 06, 13).

All splits take a tidy ratings frame (``user``, ``item``, ``rating`` [, ``timestamp``])
and return ``(train, test)`` frames that partition its rows. Randomness comes only
from ``seed``. Which split answers which question:

- :func:`random_split` / :func:`kfold_split`: "how well does the model fill in a
  missing rating?" (the classic rating-prediction protocol);
- :func:`temporal_split`: "how well does it predict each user's *future*?" (per user,
  the latest ratings are held out, so nothing from the future trains the model);
- :func:`leave_one_out`: one held-out item per user, for top-N ranking metrics.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from .schema import TIMESTAMP, USER


def _check_fraction(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0):
    """Hold out a uniformly random ``test_fraction`` of the rows."""
    _check_fraction("test_fraction", test_fraction)
    rng = np.random.default_rng(seed)
    n_test = int(round(len(ratings) * test_fraction))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[rng.permutation(len(ratings))[:n_test]] = True
    return ratings[~is_test].reset_index(drop=True), ratings[is_test].reset_index(drop=True)


def kfold_split(ratings: pd.DataFrame, n_folds: int = 5, seed: int = 0) -> Iterator:
    """Yield ``n_folds`` ``(train, test)`` pairs; every row is in exactly one test fold."""
    if n_folds < 2 or n_folds > len(ratings):
        raise ValueError(f"n_folds must lie in [2, {len(ratings)}], got {n_folds}")
    fold = np.random.default_rng(seed).permutation(len(ratings)) % n_folds
    for f in range(n_folds):
        yield (ratings[fold != f].reset_index(drop=True), ratings[fold == f].reset_index(drop=True))


def _rank_within_user(ratings: pd.DataFrame, order_by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: its 0-based rank within its user (by ``order_by``, ties by row order) and the user's count."""
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
    Ties in time are broken by row order. Needs a ``timestamp`` column.
    """
    if TIMESTAMP not in ratings:
        raise ValueError(f"temporal_split needs a {TIMESTAMP!r} column; found {list(ratings.columns)}")
    if test_fraction is not None and test_n is not None:
        raise ValueError("give exactly one of test_fraction or test_n, not both")
    if test_fraction is None and test_n is None:
        test_fraction = 0.2
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

    Users with ``min_train`` ratings or fewer keep them all in train.
    """
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
