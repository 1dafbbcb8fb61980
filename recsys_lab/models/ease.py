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
positive definite, so ``P`` comes from a Cholesky factor: of that ``n_items^2`` matrix
(``O(n_items^3)``), or, when there are fewer users than items, of the ``n_users^2`` matrix
``X X^T + reg * I`` through the Woodbury identity (see :func:`ease_weights`). Every path runs on
one thread: LAPACK's blocked factorisations take another path with more threads, which changes
the last bits of ``B``, and the kit's results must not depend on the machine's thread count.
Memory: the dense ``n_items^2`` result, plus a second one on the Cholesky path (0.9 GB each in
float64 for 10 677 items).
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


SOLVERS = ("auto", "cholesky", "woodbury")
DTYPES = {"float64": np.float64, "float32": np.float32}


def ease_weights(X, reg: float, solver: str = "auto", dtype: str = "float64") -> np.ndarray:
    """Closed-form EASE weights for a binary matrix ``X`` of shape ``(n_users, n_items)``.

    Returns ``B`` of shape ``(n_items, n_items)`` with a zero diagonal:
    ``P = (X^T X + reg I)^{-1}``, ``B = I - P diag(1 / diag(P))``, i.e. ``B_ij = -P_ij / P_jj``.
    ``X`` may be a scipy.sparse matrix or a dense array; ``reg`` must be > 0.

    ``solver`` says how ``P`` is computed (every path on one thread, so ``B`` is the same bit for
    bit whatever the machine's thread count):

    - ``"cholesky"``: factor the ``n_items x n_items`` Gram matrix once and invert through the
      factor (``O(n_items^3)``; half the arithmetic of a general inverse).
    - ``"woodbury"``: the Woodbury identity ``(reg I + X^T X)^{-1} = (I - X^T (reg I + X X^T)^{-1} X)
      / reg`` needs only an ``n_users x n_users`` factorisation and one sparse-times-dense product,
      ``O(n_users^3 + nnz(X) n_items)``: far cheaper when there are fewer users than items (610
      users, 8-9 thousand movies in ml-latest-small). ``B`` does not depend on the ``1 / reg``
      scale of ``P``, so it is left out.
    - ``"auto"`` (default): ``"woodbury"`` when ``n_users < n_items``, else ``"cholesky"``.

    ``dtype``: ``"float64"`` (default) or ``"float32"`` (half the memory and about half the time
    of the Cholesky path, at a cost in accuracy that ``make bench`` measures: bench_ease).
    Memory wall: the result is a dense ``n_items^2`` array and the Cholesky path holds two at a
    time: 2 x 8 x n_items^2 bytes in float64, so 24 GB of memory stops at about 38 000 items
    (about 54 000 in float32); MovieLens-25M's 59 000 movies do not fit.
    """
    if not reg > 0:
        raise ValueError(f"reg must be > 0 (it makes X^T X + reg*I invertible), got {reg!r}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (users x items), got shape {X.shape}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {dtype!r}")
    n_users, n_items = X.shape
    if solver == "auto":
        solver = "woodbury" if n_users < n_items else "cholesky"
    X = sp.csr_matrix(X, dtype=DTYPES[dtype])
    P = (_scaled_inverse_woodbury if solver == "woodbury" else _inverse_cholesky)(X, float(reg))
    P /= -np.diag(P)                                  # column j divided by -P_jj
    np.fill_diagonal(P, 0.0)
    return P


def _inverse_cholesky(X, reg: float) -> np.ndarray:
    """``(X^T X + reg I)^{-1}`` through the Cholesky factor of the Gram matrix (two n_items^2 arrays)."""
    gram = (X.T @ X).toarray()                        # (n_items, n_items), co-occurrence counts
    gram[np.diag_indices_from(gram)] += reg
    with one_thread():  # also sets MKL's threads, which torch's LAPACK calls use
        factor, info = torch.linalg.cholesky_ex(torch.from_numpy(gram))
        del gram                                      # keep two n_items^2 arrays at most
        if int(info) != 0:
            raise ValueError(f"X^T X + reg*I is not numerically positive definite (reg={reg!r}); "
                             f"use a larger reg")
        P = torch.cholesky_inverse(factor).numpy()
    return P


def _scaled_inverse_woodbury(X, reg: float) -> np.ndarray:
    """``reg (X^T X + reg I)^{-1} = I - X^T (reg I + X X^T)^{-1} X`` (Woodbury), one n_items^2 array."""
    kernel = (X @ X.T).toarray()                      # (n_users, n_users)
    kernel[np.diag_indices_from(kernel)] += reg
    with one_thread():
        factor, info = torch.linalg.cholesky_ex(torch.from_numpy(kernel))
        if int(info) != 0:
            raise ValueError(f"X X^T + reg*I is not numerically positive definite (reg={reg!r}); "
                             f"use a larger reg")
        Z = torch.cholesky_solve(torch.from_numpy(X.toarray()), factor).numpy()   # (n_users, n_items)
    P = -np.asarray(X.T @ Z)                          # sparse (n_items, n_users) @ dense: one thread
    P[np.diag_indices_from(P)] += 1.0
    return P


class EASE(Recommender):
    """Embarrassingly Shallow Auto-Encoder: ``score(u, j) = sum_{i in I(u)} B_ij``.

    ``reg`` is the L2 penalty ``lambda`` (Steck used a few hundred on MovieLens-20M; smaller
    data sets often want less). Ratings are binarised: every rated item counts as 1.
    ``solver`` (``"auto"``, ``"cholesky"``, ``"woodbury"``) and ``dtype`` (``"float64"``,
    ``"float32"``): how the weights are computed, see :func:`ease_weights`.

    Unknown users and items: ``predict`` returns 0.0 for them (an empty history, or an item
    with no column of ``B``, sums no weight); ``recommend`` for an unknown user falls back to
    item popularity. ``explain(user, item)`` lists the user's items that push ``item`` up or
    down, with their weights ``B_ij``.
    """

    def __init__(self, reg: float = 250.0, solver: str = "auto", dtype: str = "float64",
                 unknown: str = "fallback"):
        super().__init__(unknown)
        self.reg, self.solver, self.dtype = reg, solver, dtype

    def _fit(self, data: RatingData) -> None:
        self.weights_ = ease_weights(self.seen_, float(self.reg), self.solver, self.dtype)

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
