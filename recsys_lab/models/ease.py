"""EASE: a shallow linear auto-encoder with a closed-form solution (Steck, 2019; notebook 13).

EASE learns one item-to-item weight matrix ``B`` (``n_items x n_items``) from the binary
user x item matrix ``X`` (1 where the user rated the item, whatever the stars):

    minimise  ||X - X B||_F^2 + reg * ||B||_F^2   subject to  diag(B) = 0.

The zero diagonal forbids the trivial answer ``B = I`` (an item predicting itself). The
problem has a closed form: with ``P = (X^T X + reg * I)^{-1}``,

    B = I - P diag(1 / diag(P)),   i.e.  B_ij = -P_ij / P_jj  (i != j),  B_jj = 0.

Column ``j`` of ``B`` is exactly the ridge regression of item ``j``'s column of ``X`` on all
the other items' columns, so ``B_ij`` reads "how much having item ``i`` predicts item ``j``"
(negative for items that rarely go together). A user's score for every item is their row
of ``X`` times ``B``: ``s_u = x_u B``, shape ``(n_items,)``.

EASE is a *ranking* model: its scores are not ratings. ``X^T X + reg * I`` is symmetric
positive definite, so ``P`` comes from its Cholesky factor (half the arithmetic of a general
inverse). Cost: ``O(n_items^3)`` time, on one thread: LAPACK's blocked factorisations take
another path with more threads, which changes the last bits of ``B``, and the kit's results must
not depend on the machine's thread count. Memory: two dense ``n_items^2`` float64 arrays at a
time (the Gram matrix and its factor, then the factor and ``P``), 0.9 GB each for 10 677 items.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..data.dataset import RatingData
from ..data.schema import ITEM
from ..network import one_thread
from ..topk import order as ranked
from .base import Recommender


def ease_weights(X, reg: float) -> np.ndarray:
    """Closed-form EASE weights for a binary matrix ``X`` of shape ``(n_users, n_items)``.

    Returns ``B`` of shape ``(n_items, n_items)``, float64, with a zero diagonal:
    ``P = (X^T X + reg I)^{-1}``, ``B = I - P diag(1 / diag(P))``.
    ``X`` may be a scipy.sparse matrix or a dense array; ``reg`` must be > 0.
    ``P`` is computed from the Cholesky factor on one thread, so ``B`` is the same bit for bit
    whatever the number of threads.
    """
    if not reg > 0:
        raise ValueError(f"reg must be > 0 (it makes X^T X + reg*I invertible), got {reg!r}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (users x items), got shape {X.shape}")
    gram = X.T @ X                                    # (n_items, n_items), co-occurrence counts
    gram = gram.toarray() if sp.issparse(gram) else np.array(gram, dtype=np.float64)
    gram = gram.astype(np.float64, copy=False)
    gram[np.diag_indices_from(gram)] += reg
    with one_thread():  # also sets MKL's threads, which torch's LAPACK calls use
        factor, info = torch.linalg.cholesky_ex(torch.from_numpy(gram))
        del gram                                      # keep two n_items^2 arrays at most
        if int(info) != 0:
            raise ValueError(f"X^T X + reg*I is not numerically positive definite (reg={reg!r}); "
                             f"use a larger reg")
        P = torch.cholesky_inverse(factor).numpy()
        del factor
    P /= -np.diag(P)                                  # column j divided by -P_jj
    np.fill_diagonal(P, 0.0)
    return P


class EASE(Recommender):
    """Embarrassingly Shallow Auto-Encoder: ``score(u, j) = sum_{i in I(u)} B_ij``.

    ``reg`` is the L2 penalty ``lambda`` (Steck used a few hundred on MovieLens-20M; smaller
    data sets often want less). Ratings are binarised: every rated item counts as 1.

    Unknown users and items: ``predict`` returns 0.0 for them (an empty history, or an item
    with no column of ``B``, sums no weight); ``recommend`` for an unknown user falls back to
    item popularity. ``explain(user, item)`` lists the user's items that push ``item`` up or
    down, with their weights ``B_ij``.
    """

    def __init__(self, reg: float = 250.0, unknown: str = "fallback"):
        super().__init__(unknown)
        self.reg = reg

    def _fit(self, data: RatingData) -> None:
        self.weights_ = ease_weights(self.seen_, float(self.reg))

    def _predict_known(self, u, i):
        out = np.empty(len(u), dtype=np.float64)
        order = np.argsort(u, kind="stable")
        users, starts = np.unique(u[order], return_index=True)
        bounds = np.r_[starts, len(order)]
        for j, user in enumerate(users):            # one pass per distinct user, not per pair
            rows = order[bounds[j]:bounds[j + 1]]
            out[rows] = self.weights_[self._seen_items(user)][:, i[rows]].sum(axis=0)
        return out

    def _predict_fallback(self, u, i):
        return np.zeros(len(u))

    def _score_user(self, u):
        return self.weights_[self._seen_items(u)].sum(axis=0)

    def _score_users(self, us):
        """Rows ``us`` of X B: each user's seen items' weight rows, summed (one sparse product)."""
        return np.asarray(self.seen_[us] @ self.weights_, dtype=np.float64)

    def explain(self, user, item) -> pd.DataFrame:
        """The user's rated items with their weight towards ``item`` (``B_ij``), largest effect first.

        The weights sum to the score ``predict(user, item)``. Columns ``item``, ``weight``.
        """
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        j = int(self.data_.items.to_index([item], missing="minus1")[0])
        if u < 0 or j < 0:
            raise KeyError(f"EASE was not fitted on user {user!r} / item {item!r}: nothing to explain")
        hist = self._seen_items(u)
        weights = self.weights_[hist, j]
        order = ranked(np.abs(weights), hist)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(hist[order]), "weight": weights[order]})
