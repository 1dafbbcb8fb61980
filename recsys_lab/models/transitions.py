"""Item-to-item transitions, a first-order Markov chain (notebook 15 · Sequence-aware recommendation).

"People who watched X next watched Y." Each user's training items in time order
(:func:`~.sequence_data.user_sequences`: by timestamp, then item id) give the transitions
``(s_t, s_{t+1})``. Counting them over all users,

    C[i, j] = number of times j came directly after i,
    P(j | i) = C[i, j] / sum_j' C[i, j']     (0 for an item never followed by anything),

and the score of item ``j`` as the next one after a history ``h_1 .. h_n`` reads its last
``n_last`` items, the latest weighing most (``w_m = 1 / (m + 1)`` for the item ``m`` steps back):

    s(j) = sum_{m=0}^{n_last-1} w_m P(j | h_{n-m}) + 1e-6 * count(j) / max count .

With ``n_last=1`` this is the first-order Markov chain. The small popularity term (below 1e-6)
only orders the items the transitions leave tied, e.g. the many never seen after the last item.
An unknown user gets the popularity order (the fallback); ``predict`` returns the same scores.
``recommend(user)`` continues the user's training sequence; ``recommend_next(history)`` any ordered
history of known items; :meth:`ItemTransitions.explain` gives the counts behind a score.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..data.dataset import RatingData
from .base import Recommender
from .sequence_data import timestamp_key, user_sequences
from .sequential import NextItemMixin
from .torch_data import _whole

#: Weight of the popularity tie-break: below any difference of transition scores worth ranking on.
POPULARITY_TIE_BREAK = 1e-6


class ItemTransitions(NextItemMixin, Recommender):
    """First-order Markov chain over items ("who watched X next watched Y"); see the module docstring.

    ``n_last``: how many of the latest items of a history vote (1: the plain Markov chain).
    ``fit(ratings)`` needs a ``timestamp`` column; every row is an interaction.
    Fitted: ``counts_`` (sparse ``(n_items, n_items)``, ``C``), ``transitions_`` (``P``, rows summing
    to 1 or 0), ``popularity_`` (``(n_items,)`` interaction counts).
    """

    implicit_feedback = True

    def __init__(self, n_last: int = 1, unknown: str = "fallback"):
        super().__init__(unknown)
        self.n_last = n_last

    def _fit(self, data: RatingData) -> None:
        _whole("n_last", self.n_last)                     # how many of the latest items vote
        timestamp_key(data.ratings)                       # refuses a missing or bad timestamp column
        self._seq_items, self._seq_indptr = user_sequences(data)
        same_user = np.ones(len(self._seq_items) - 1, dtype=bool) if len(self._seq_items) > 1 else np.zeros(0, bool)
        same_user[self._seq_indptr[1:-1] - 1] = False     # no transition from one user's last item to the next user
        src, dst = self._seq_items[:-1][same_user], self._seq_items[1:][same_user]
        n = data.n_items
        self.counts_ = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
        self.counts_.sum_duplicates()
        out = np.asarray(self.counts_.sum(axis=1)).ravel()
        self.transitions_ = sp.diags(np.divide(1.0, out, out=np.zeros(n), where=out > 0)) @ self.counts_
        self.transitions_ = sp.csr_matrix(self.transitions_)
        self.popularity_ = np.bincount(data.item_index, minlength=n).astype(np.float64)
        self._tie_break = POPULARITY_TIE_BREAK * self.popularity_ / max(self.popularity_.max(), 1.0)

    def _history_matrix(self, items: np.ndarray, indptr: np.ndarray) -> sp.csr_matrix:
        """``H`` ``(n_rows, n_items)``: row ``r`` holds ``w_m`` at the item ``m`` steps before the end of
        ``items[indptr[r]:indptr[r + 1]]``, for ``m < n_last`` (an item met twice adds up)."""
        rows, cols, vals = [], [], []
        lengths = np.diff(indptr)
        for m in range(int(self.n_last)):
            has = lengths > m
            rows.append(np.flatnonzero(has))
            cols.append(items[indptr[1:][has] - 1 - m])
            vals.append(np.full(int(has.sum()), 1.0 / (m + 1)))
        shape = (len(lengths), self.data_.n_items)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape)

    def _scores_after(self, items: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        """Every item's score after each history row, ``(n_rows, n_items)``."""
        return (self._history_matrix(items, indptr) @ self.transitions_).toarray() + self._tie_break

    def _score_users(self, us):
        us = np.asarray(us, dtype=np.int64)
        starts, ends = self._seq_indptr[us], self._seq_indptr[us + 1]
        lengths = ends - starts
        idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(us) else np.zeros(0, np.int64)
        return self._scores_after(self._seq_items[idx], np.r_[0, np.cumsum(lengths)])

    def _score_user(self, u):
        return self._score_users(np.array([u]))[0]

    def _predict_known(self, u, i):
        users, inverse = np.unique(u, return_inverse=True)
        return self._score_users(users)[inverse, i]

    def _score_unknown_user(self):
        return self._tie_break.copy()

    def _predict_fallback(self, u, i):
        return np.where(i >= 0, self._tie_break[np.maximum(i, 0)], 0.0)

    def _fold_in(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The history itself, in the order given (the ratings' values play no part)."""
        return np.asarray(items, dtype=np.int64)

    def _folded_scores(self, state: np.ndarray) -> np.ndarray:
        return self._scores_after(state, np.array([0, len(state)]))[0]

    def explain(self, user, item) -> dict:
        """The user's last ``n_last`` items (latest first), how often ``item`` came right after each
        (``C``), each one's total transitions, and the score."""
        self._check_fitted()
        j = int(self.data_.items.to_index([item], missing="minus1")[0])
        last = self.sequence(user)[::-1][:int(self.n_last)]
        pos = self.data_.items.to_index(last)
        counts = self.counts_[pos, j].toarray().ravel() if j >= 0 else np.zeros(len(pos))
        return {"last_items": last.tolist(), "followed_by_item": counts.astype(int).tolist(),
                "transitions_from": np.asarray(self.counts_[pos].sum(axis=1)).ravel().astype(int).tolist(),
                "score": float(self.predict([user], [item])[0])}
