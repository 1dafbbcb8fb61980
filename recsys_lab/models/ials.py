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
    the row's observed columns.

    How: rows are sorted by their number of observed columns and taken in blocks of similar
    counts; a block's ``Y_r`` are gathered into one zero-padded ``(rows, n_max, k)`` tensor, so
    all its ``Y_r^T Y_r`` are one batched matrix product, and all its systems one batched Cholesky
    solve. Memory per block stays under ``_BLOCK_FLOATS`` floats."""
    X = sp.csr_matrix(X)
    n_rows, n_cols = X.shape
    k = Y.shape[1]
    padded_Y = torch.zeros((n_cols + 1, k), dtype=torch.float64)    # row n_cols: zeros, for the padding
    padded_Y[:n_cols] = torch.as_tensor(np.asarray(Y, dtype=np.float64))
    out = torch.zeros((n_rows, k), dtype=torch.float64)
    counts = np.diff(X.indptr)
    order = np.argsort(counts, kind="stable")                      # fewest observed columns first
    with one_thread():
        gram = padded_Y[:n_cols].T @ padded_Y[:n_cols] + reg * torch.eye(k, dtype=torch.float64)
        start = 0
        while start < n_rows:
            n_max = max(int(counts[order[start]]), 1)
            rows_fit = max(1, _BLOCK_FLOATS // (k * max(n_max, k)))
            stop = start + 1
            while stop < n_rows and stop - start < rows_fit and \
                    (stop - start + 1) * k * max(int(counts[order[stop]]), k) <= _BLOCK_FLOATS:
                stop += 1
            block = order[start:stop]
            n_max = max(int(counts[block].max()), 1)
            index = np.full((len(block), n_max), n_cols, dtype=np.int64)
            for j, r in enumerate(block):                           # gather each row's columns
                cols = X.indices[X.indptr[r]:X.indptr[r + 1]]
                index[j, :len(cols)] = cols
            Yr = padded_Y[torch.as_tensor(index)]                   # (rows, n_max, k), zero-padded
            A = gram + alpha * torch.bmm(Yr.transpose(1, 2), Yr)
            b = (1.0 + alpha) * Yr.sum(dim=1)
            factor = torch.linalg.cholesky(A)
            out[torch.as_tensor(block)] = torch.cholesky_solve(b[:, :, None], factor)[:, :, 0]
            start = stop
    return out.numpy()


def als_solve_cg(X, Y, alpha: float, reg: float, start, steps: int = 3, dtype="float64") -> np.ndarray:
    """The same half-step by ``steps`` conjugate-gradient iterations per row, from ``start``
    (Takacs et al. 2011; implicit's default solver). Never forms a ``k x k`` system per row: a
    product ``A_r v = (Y^T Y + reg I) v + alpha Y_r^T (Y_r v)`` costs one pass over the observed
    pairs, for all rows at once. Each step lowers every row's quadratic objective, so a few steps
    suffice when warm-started at the previous iteration's vectors; ``steps >= k`` reaches the exact
    solve up to rounding. With ``alpha == 0`` every pair has confidence 1, the observed term is
    exactly zero and is skipped (same result, a fraction of the work). ``start``: ``(n_rows, k)``;
    ``dtype``: ``"float64"`` or ``"float32"`` (half the memory traffic; rounding ~1e-7 per step).
    Returns ``(n_rows, k)`` in ``dtype``."""
    dtype = np.dtype(dtype)
    X = sp.csr_matrix(X).astype(dtype)
    Y = np.asarray(Y, dtype=dtype)
    counts = np.diff(X.indptr)
    Y_obs = Y[X.indices] if alpha else None                           # (nnz, k): y_i of each observed pair
    with one_thread():
        # Y^T Y by torch on one thread: numpy's matmul goes to OpenBLAS, whose float32 (and some float64)
        # products change in the last bits with its thread count, and CG amplifies them
        Yt = torch.as_tensor(Y)
        G = Yt.T @ Yt + torch.as_tensor(np.asarray(reg, dtype) * np.eye(Y.shape[1], dtype=dtype))

        def times_A(V):
            out = (torch.as_tensor(V) @ G).numpy()
            if alpha:                                                  # y_i . v_r per observed pair, then sum_i
                t = np.einsum("nk,nk->n", Y_obs, np.repeat(V, counts, axis=0))
                out = out + dtype.type(alpha) * (sp.csr_matrix((t, X.indices, X.indptr), shape=X.shape) @ Y)
            return out

        b = dtype.type(1.0 + alpha) * (X @ Y)
        x = np.array(start, dtype=dtype, copy=True)
        r = b - times_A(x)
        p = r.copy()
        rs = np.einsum("rk,rk->r", r, r)
        for _ in range(int(steps)):
            Ap = times_A(p)
            pAp = np.einsum("rk,rk->r", p, Ap)
            step = np.divide(rs, pAp, out=np.zeros_like(rs), where=pAp > 0)
            x += step[:, None] * p
            r -= step[:, None] * Ap
            rs_new = np.einsum("rk,rk->r", r, r)
            p = r + np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)[:, None] * p
            rs = rs_new
    return x


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
    ``alpha``: confidence of an observed pair, ``c = 1 + alpha``; ``reg``: L2 penalty; ``solver``:
    ``"cg"`` (``cg_steps`` conjugate-gradient steps per half-step, warm-started, as implicit does) or
    ``"cholesky"`` (the exact solve, slower); ``dtype``: ``"float64"`` or ``"float32"`` for the CG
    solver's arithmetic and the stored factors (float32 is about twice as fast when ``alpha > 0``, its
    rounding, amplified by the iterations, moves scores by up to ~0.5% of the largest on the
    leaderboard's split: ``bench_ials`` measures what that does to the lists; Cholesky always solves
    in float64); ``seed``: the vectors'
    start, ``N(0, init_std^2)``.
    With ``track_loss``, ``loss_`` records the objective after each iteration (it never increases:
    each half-step lowers every row's part of it, exactly with Cholesky, by CG steps otherwise);
    computing it costs about as much as an iteration, so it is off by default (``loss_`` is empty). A new user folds in by
    the same user solve (:meth:`fold_in`), no refit. Unknown users get item popularity.
    """

    def __init__(self, n_factors: int = 64, iterations: int = 15, alpha: float = 10.0, reg: float = 1.0,
                 solver: str = "cg", cg_steps: int = 3, init_std: float = 0.01, seed: int = 0,
                 track_loss: bool = False, dtype: str = "float64", unknown: str = "fallback"):
        super().__init__(unknown)
        self.n_factors, self.iterations, self.alpha, self.reg = n_factors, iterations, alpha, reg
        self.solver, self.cg_steps, self.init_std, self.seed = solver, cg_steps, init_std, seed
        self.track_loss, self.dtype = track_loss, dtype

    def _check_params(self) -> None:
        if self.solver not in ("cg", "cholesky"):
            raise ValueError(f"solver must be 'cg' or 'cholesky', got {self.solver!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        for name in ("n_factors", "iterations", "cg_steps"):
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
        k, alpha, reg = int(self.n_factors), float(self.alpha), float(self.reg)
        U = (torch.randn((data.n_users, k), generator=gen, dtype=torch.float64) * float(self.init_std)).numpy()
        V = (torch.randn((data.n_items, k), generator=gen, dtype=torch.float64) * float(self.init_std)).numpy()
        losses = []
        for _ in range(int(self.iterations)):
            if self.solver == "cholesky":
                U = als_solve(X, V, alpha, reg)
                V = als_solve(Xt, U, alpha, reg)
            else:
                U = als_solve_cg(X, V, alpha, reg, U, int(self.cg_steps), self.dtype)
                V = als_solve_cg(Xt, U, alpha, reg, V, int(self.cg_steps), self.dtype)
            if self.track_loss:
                losses.append(ials_loss(X, U, V, alpha, reg))
        self.user_factors_, self.item_factors_, self.loss_ = U.astype(self.dtype), V.astype(self.dtype), losses

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
        return als_solve(X, self.item_factors_, float(self.alpha), float(self.reg))[0]   # exact, one row

    def _folded_scores(self, state):
        return self.item_factors_ @ state

    def _folded_predict(self, state, i):
        return self._folded_scores(state)[i]
