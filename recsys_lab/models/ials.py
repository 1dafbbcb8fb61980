"""iALS: confidence-weighted matrix factorization for implicit feedback, by alternating least
squares (Hu, Koren & Volinsky 2008; notebook 10, the benchmark).

Implicit data says who watched what, never what they disliked. iALS treats **every** pair as data:
the preference ``p_ui`` is 1 for an observed pair and 0 otherwise, and the confidence in it is
``c_ui = 1 + alpha`` for an observed pair and 1 for the rest. It minimises

    sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (sum_u ||x_u||^2 + sum_i ||y_i||^2)

over user vectors ``x_u`` and item vectors ``y_i`` (``n_factors`` each). The sum runs over all
``n_users * n_items`` pairs, yet nothing is sampled: with the items fixed, the user's part is a
ridge regression with a closed form,

    x_u = (Y^T Y + alpha * sum_{i in I(u)} y_i y_i^T + reg I)^{-1} (1 + alpha) sum_{i in I(u)} y_i,

because the unobserved pairs (``p = 0``, ``c = 1``) contribute only ``Y^T Y``, the same ``k x k``
matrix for every user. Items are solved the same way with the users fixed; one *iteration* is
both solves. Each solve is a batch of ``k x k`` positive definite systems, factored by Cholesky,
in float64 on one thread (so the factors do not depend on the thread count).

The scores ``x_u . y_i`` rank items; they are not ratings (``predict`` returns them as they are).
Ratings are binarised: every rated item counts as observed, whatever the stars.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ..data.dataset import RatingData
from ..network import one_thread
from .base import Recommender

#: Floats of per-pair outer products held at once while building a block of Gram matrices.
_BLOCK_FLOATS = 4_000_000


def als_solve(X, Y, alpha: float, reg: float) -> np.ndarray:
    """One half-step of iALS: every row's vector with the other side's vectors ``Y`` fixed.

    ``X``: binary scipy CSR ``(n_rows, n_cols)`` (1 = observed); ``Y``: ``(n_cols, k)`` float64.
    Returns ``(n_rows, k)``: row ``r`` solves
    ``(Y^T Y + alpha * Y_r^T Y_r + reg I) x = (1 + alpha) Y_r^T 1``, ``Y_r`` the rows of ``Y`` at
    the row's observed columns. Rows are processed in blocks of bounded memory."""
    X = sp.csr_matrix(X)
    Yt = torch.as_tensor(np.ascontiguousarray(Y, dtype=np.float64))
    n_rows, k = X.shape[0], Yt.shape[1]
    out = torch.empty((n_rows, k), dtype=torch.float64)
    with one_thread():
        gram = Yt.T @ Yt + reg * torch.eye(k, dtype=torch.float64)
        indptr, indices = X.indptr, X.indices
        budget = max(1, _BLOCK_FLOATS // max(k * k, 1))
        start = 0
        while start < n_rows:
            stop = int(np.searchsorted(indptr, indptr[start] + budget, side="right")) - 1
            stop = min(max(stop, start + 1), n_rows)                  # at least one row per block
            lo, hi = indptr[start], indptr[stop]
            seg = torch.as_tensor(np.repeat(np.arange(stop - start), np.diff(indptr[start:stop + 1])))
            rows = Yt[torch.as_tensor(indices[lo:hi].astype(np.int64))]          # (nnz, k)
            A = gram.expand(stop - start, k, k).clone()
            A.index_add_(0, seg, alpha * rows[:, :, None] * rows[:, None, :])
            b = torch.zeros((stop - start, k), dtype=torch.float64).index_add_(0, seg, (1.0 + alpha) * rows)
            factor = torch.linalg.cholesky(A)
            out[start:stop] = torch.cholesky_solve(b[:, :, None], factor)[:, :, 0]
            start = stop
    return out.numpy()


def ials_loss(X, U, V, alpha: float, reg: float) -> float:
    """The iALS objective for binary ``X`` (CSR), user vectors ``U`` and item vectors ``V``, computed
    without forming the dense ``n_users x n_items`` matrix:
    ``||U V^T||^2`` over all pairs, corrected on the observed ones, plus the penalty."""
    X = sp.csr_matrix(X).tocoo()
    all_pairs = float(np.sum((U.T @ U) * (V.T @ V)))                    # sum_{u,i} (x_u . y_i)^2
    s = np.einsum("ij,ij->i", U[X.row], V[X.col])                       # scores of observed pairs
    observed = float(np.sum((1 + alpha) * (1 - s) ** 2 - s ** 2))       # replace c=1, p=0 by c=1+alpha, p=1
    return all_pairs + observed + reg * float(np.sum(U ** 2) + np.sum(V ** 2))


class IALS(Recommender):
    """Implicit ALS (Hu et al. 2008) with the kit's interface; ``score(u, i) = x_u . y_i``.

    ``n_factors``: vector size ``k``; ``iterations``: alternating rounds (users, then items);
    ``alpha``: confidence of an observed pair, ``c = 1 + alpha``; ``reg``: L2 penalty; ``seed``:
    the item vectors' start, ``N(0, init_std^2)``. ``loss_`` records the objective after each
    iteration (it never increases: each half-step is an exact minimisation). A new user folds in by
    the same user solve (:meth:`fold_in`), no refit. Unknown users get item popularity.
    """

    def __init__(self, n_factors: int = 64, iterations: int = 15, alpha: float = 10.0, reg: float = 1.0,
                 init_std: float = 0.01, seed: int = 0, unknown: str = "fallback"):
        super().__init__(unknown)
        self.n_factors, self.iterations, self.alpha, self.reg = n_factors, iterations, alpha, reg
        self.init_std, self.seed = init_std, seed

    def _check_params(self) -> None:
        for name in ("n_factors", "iterations"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("alpha", "reg", "init_std"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0 (the extra confidence of an observed pair), got {self.alpha!r}")
        if not self.reg > 0:
            raise ValueError(f"reg must be > 0 (it keeps every system positive definite), got {self.reg!r}")
        if not self.init_std > 0:
            raise ValueError(f"init_std must be > 0, got {self.init_std!r}")

    def _fit(self, data: RatingData) -> None:
        self._check_params()
        X = self.seen_.astype(np.float64)
        Xt = X.T.tocsr()
        gen = torch.Generator().manual_seed(int(self.seed))
        V = (torch.randn((data.n_items, int(self.n_factors)), generator=gen, dtype=torch.float64)
             * float(self.init_std)).numpy()
        losses = []
        for _ in range(int(self.iterations)):
            U = als_solve(X, V, float(self.alpha), float(self.reg))
            V = als_solve(Xt, U, float(self.alpha), float(self.reg))
            losses.append(ials_loss(X, U, V, float(self.alpha), float(self.reg)))
        self.user_factors_, self.item_factors_, self.loss_ = U, V, losses

    def _predict_known(self, u, i):
        return np.einsum("ij,ij->i", self.user_factors_[u], self.item_factors_[i])

    def _predict_fallback(self, u, i):
        return np.zeros(len(u))

    def _score_user(self, u):
        return self.item_factors_ @ self.user_factors_[u]

    def _score_users(self, us):
        return self.user_factors_[us] @ self.item_factors_.T

    # ----- a new user, without refitting -------------------------------------------------
    def _fold_in(self, items, values):
        """The user solve for the new user's items (their stars are ignored: implicit data)."""
        X = sp.csr_matrix((np.ones(len(items)), (np.zeros(len(items), dtype=np.int64), np.asarray(items))),
                          shape=(1, self.data_.n_items))
        return als_solve(X, self.item_factors_, float(self.alpha), float(self.reg))[0]

    def _folded_scores(self, state):
        return self.item_factors_ @ state

    def _folded_predict(self, state, i):
        return self._folded_scores(state)[i]
