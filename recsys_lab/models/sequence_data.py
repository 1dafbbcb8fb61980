"""Interactions as time-ordered sequences, left-padded batches of them (notebook 15).

Each user's training interactions, ordered by ``timestamp`` and then by item id (the documented
tie key: two items rated in the same second come in ascending id order), form that user's
sequence. A model sees at most the last ``max_length`` items of a sequence; shorter ones are
**left**-padded with the padding index ``n_items`` (one past the last item position), so the
latest item is always at position ``L - 1`` (the convention of
:func:`recsys_lab.attention.padding_mask`).

Training (as in SASRec): the input is a sequence without its last item, the target at every
position is the item that came next. For a user with sequence ``s_1 .. s_n`` and ``L = max_length``:
inputs ``s_{n-L} .. s_{n-1}``, targets ``s_{n-L+1} .. s_n`` (fewer when ``n - 1 < L``). Items
older than that are not used. A user with one interaction has no transition to learn from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..data.dataset import RatingData
from ..data.schema import TIMESTAMP, numeric_column
from .torch_data import _Batches


def timestamp_key(ratings: pd.DataFrame, name: str = "ratings frame") -> np.ndarray:
    """The ``timestamp`` column of ``ratings`` as a sort key, shape ``(n,)``: int64 for integer
    or datetime columns (datetimes as nanoseconds), float64 for other numbers.

    Refused, naming the row label and value: a missing column, a missing, non-numeric or
    infinite timestamp."""
    if TIMESTAMP not in ratings.columns:
        raise ValueError(f"{name}: no {TIMESTAMP!r} column (found {list(ratings.columns)}); a sequence "
                         f"model orders each user's interactions by time: give a {TIMESTAMP!r} column of "
                         f"numbers (e.g. seconds since 1970) or datetimes")
    column = ratings[TIMESTAMP]
    if pd.api.types.is_datetime64_any_dtype(column):               # as int64 nanoseconds; NaT -> NaN
        ns = pd.Series(column.to_numpy(dtype="datetime64[ns]").view(np.int64), index=column.index)
        column = ns.where(column.notna()) if column.isna().any() else ns
    values = numeric_column(column, TIMESTAMP, name, what="timestamp")   # refuses missing / text / inf
    numeric = pd.to_numeric(column)
    return numeric.to_numpy(dtype=np.int64) if pd.api.types.is_integer_dtype(numeric) else values.to_numpy()


def user_sequences(data: RatingData) -> tuple[np.ndarray, np.ndarray]:
    """Every user's training sequence: ``(items, indptr)``.

    ``items[indptr[u]:indptr[u + 1]]`` are the item positions of user position ``u``, oldest
    first (by timestamp, then item position = ascending raw id); ``items``: ``(n_ratings,)``,
    ``indptr``: ``(n_users + 1,)``. Does not depend on the order of the rows of ``data``."""
    order = np.lexsort((data.item_index, timestamp_key(data.ratings), data.user_index))
    counts = np.bincount(data.user_index, minlength=data.n_users)
    return data.item_index[order].astype(np.int64), np.r_[0, np.cumsum(counts)].astype(np.int64)


def left_padded(items: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_length: int,
                pad: int) -> np.ndarray:
    """Rows ``items[max(start, end - L):end]`` right-aligned in an ``(n_rows, L)`` int64 array
    filled with ``pad`` on the left (``L = max_length``; ``starts``, ``ends``: ``(n_rows,)``)."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    lengths = np.clip(ends - starts, 0, max_length)
    out = np.full((len(ends), max_length), pad, dtype=np.int64)
    rows = np.repeat(np.arange(len(ends)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # 0.. within row
    out[rows, max_length - lengths[rows] + offset] = items[ends[rows] - lengths[rows] + offset]
    return out


class SequenceBatches(_Batches):
    """Shuffled mini-batches of training sequences: ``(inputs, targets)``, or ``(inputs, targets,
    negatives)`` with ``n_negatives=1``.

    ``inputs``, ``targets``, ``negatives``: long ``(B, L)``; ``targets`` is ``pad`` where
    ``inputs`` is padding. A negative is drawn uniformly from the items other than the
    position's target, afresh every epoch from the epoch's seeded ``torch.Generator``.
    ``B`` counts users (those with at least two interactions), ``batch_size`` per batch.
    """

    def __init__(self, items: np.ndarray, indptr: np.ndarray, n_items: int, max_length: int,
                 batch_size: int = 128, n_negatives: int = 0, seed: int = 0, shuffle: bool = True,
                 device="cpu"):
        users = np.flatnonzero(np.diff(indptr) >= 2)
        if len(users) == 0:
            raise ValueError("no user has two or more interactions: a sequence model learns from "
                             "transitions (an item, then the next one)")
        starts, ends = indptr[users], indptr[users + 1]
        self.inputs = torch.from_numpy(left_padded(items, starts, ends - 1, max_length, n_items))
        self.targets = torch.from_numpy(left_padded(items, starts + 1, ends, max_length, n_items))
        self.n_items, self.n_negatives = int(n_items), int(n_negatives)
        super().__init__(len(users), batch_size, seed, shuffle, device)

    def __iter__(self):
        gen, order = self._start_epoch()
        inputs, targets = self.inputs.to(self.device), self.targets.to(self.device)
        negatives = None
        if self.n_negatives:                      # r in 0..n_items-2, shifted past the target
            r = torch.randint(0, self.n_items - 1, self.targets.shape, generator=gen)
            negatives = (r + (r >= self.targets)).to(self.device)
        for idx in self._slices(order):
            yield (inputs[idx], targets[idx]) if negatives is None else (inputs[idx], targets[idx], negatives[idx])
