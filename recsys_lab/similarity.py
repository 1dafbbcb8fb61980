"""How alike two users (or two items) are, judged from their ratings (notebooks 07 and 08).

Every measure compares the *rows* of a rating matrix: pass users x items to compare users,
items x users (the transpose) to compare items. A stored entry is an observed rating
(explicit zeros count as observed); an absent entry is unknown. Dense input marks unknown
ratings with NaN. For two rows ``a`` and ``b`` write ``I_ab`` for the columns both rated
(the *co-rated* set, of size ``n_ab``, the *overlap*), ``x_c``/``y_c`` for their ratings.

- ``cosine_naive``: cosine over **all** columns, a missing rating counted as 0 (as if the
  user had hated the movie): ``sum_c x_c y_c / (||x|| ||y||)`` with norms over each row's
  own ratings. The classic shortcut; notebook 07 shows its bias.
- ``cosine``: cosine over co-rated columns only (Surprise's ``cosine``):
  ``sum_{I_ab} x y / sqrt(sum_{I_ab} x^2 * sum_{I_ab} y^2)``.
- ``pearson``: Pearson correlation over co-rated columns, each row centred on its mean
  *over the co-rated columns* (Surprise's ``pearson``).
- ``adjusted_cosine``: cosine over co-rated columns after subtracting each **column's** mean
  (for items x users: each user's mean rating, removing the rater's personal scale;
  Sarwar et al., 2001).
- ``jaccard``: ``n_ab / |I_a u I_b|``, which columns were rated, not how.
- ``msd``: ``1 / (1 + mean_{I_ab} (x - y)^2)``, mean squared difference turned into a
  similarity (Surprise's ``msd``).

Every measure gives 0 (never NaN) for rows without overlap and wherever its denominator
is 0 (e.g. Pearson of a row that rated all its co-rated columns alike); a similarity within
``1e-10`` of 0 is rounding noise and becomes exactly 0. The value of a
row with itself is what the formula gives (1 for a row with ratings, for most measures);
recommenders exclude it. :func:`similarity_matrix` adds a minimum overlap (``min_overlap``)
and shrinkage ``s * n_ab / (n_ab + shrinkage)``; :func:`top_k_neighbours` keeps only the
``k`` most similar rows of each row, built block by block so memory stays small.

All work is a handful of sparse matrix products: with ``B`` the 0/1 pattern of ``X``,
``n = B B^T``, ``sum_{I_ab} x y = (X X^T)_ab``, ``sum_{I_ab} x^2 = (X∘X B^T)_ab``, and so on.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .topk import grouped_order, tie_key

MEASURES = ("cosine_naive", "cosine", "pearson", "adjusted_cosine", "jaccard", "msd")

# Relative size below which a variance (vs. its sum of squares) or a similarity is rounding noise.
_REL_TOL = 1e-10


def as_rating_matrix(ratings) -> sp.csr_matrix:
    """A float64 CSR copy of ``ratings`` whose stored entries are exactly the observed ratings.

    ``ratings``: a ``scipy.sparse`` matrix (every stored entry observed, zeros included), or a
    dense 2-D ``numpy`` array / ``torch`` tensor with NaN for unknown ratings, shape
    ``(n_rows, n_columns)``.
    """
    if sp.issparse(ratings):
        if ratings.ndim != 2:
            raise ValueError(f"ratings must be a 2-D matrix, got {ratings.ndim} dimensions")
        matrix = sp.csr_matrix(ratings, dtype=np.float64, copy=True)
        matrix.sum_duplicates()
        if not np.isfinite(matrix.data).all():
            raise ValueError("ratings holds NaN or infinite stored values; a sparse rating matrix "
                             "must store only observed, finite ratings (leave unknown ones out)")
    else:
        if hasattr(ratings, "detach"):  # a torch tensor
            ratings = ratings.detach().cpu().numpy()
        dense = np.asarray(ratings, dtype=np.float64)
        if dense.ndim != 2:
            raise ValueError(f"ratings must be 2-D (rows x columns), got shape {dense.shape}")
        if np.isinf(dense).any():
            raise ValueError("ratings holds infinite values; mark unknown ratings with NaN")
        rows, cols = np.nonzero(~np.isnan(dense))
        matrix = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    matrix.sort_indices()
    return matrix


def _pattern(x: sp.csr_matrix) -> sp.csr_matrix:
    ones = x.copy()
    ones.data = np.ones_like(ones.data)
    return ones


def _squared(x: sp.csr_matrix) -> sp.csr_matrix:
    sq = x.copy()
    sq.data = sq.data ** 2
    return sq


def _row_means(x: sp.csr_matrix) -> np.ndarray:
    """Mean of each row's stored entries (0 for an empty row), shape ``(n_rows,)``."""
    counts = np.diff(x.indptr)
    sums = np.bincount(np.repeat(np.arange(x.shape[0]), counts), weights=x.data, minlength=x.shape[0])
    return sums / np.maximum(counts, 1)


def _shift(x: sp.csr_matrix, per_entry: np.ndarray) -> sp.csr_matrix:
    out = x.copy()
    out.data = out.data - per_entry  # stored entries stay stored, even when they become 0
    return out


def _prepare(x: sp.csr_matrix, similarity: str) -> sp.csr_matrix:
    """The values a measure works on (same pattern as ``x``)."""
    if similarity == "pearson":
        # Pearson ignores a per-row shift: moving each row's smallest rating to 1 makes every
        # value positive, so no co-rated sum cancels to exactly 0 (see _CoRated).
        counts = np.diff(x.indptr)
        row_min = np.minimum.reduceat(x.data, x.indptr[:-1][counts > 0]) if x.nnz else x.data
        shift = np.zeros(x.shape[0])
        shift[counts > 0] = row_min - 1.0
        return _shift(x, np.repeat(shift, counts))
    if similarity == "adjusted_cosine":
        return _shift(x, _row_means(x.T.tocsr())[x.indices])
    return x


def _pack(real: sp.csr_matrix, imag: sp.csr_matrix) -> sp.csr_matrix:
    """``real + 1j * imag`` for two matrices of the same structure, keeping that structure."""
    return sp.csr_matrix((real.data + 1j * imag.data, real.indices, real.indptr), shape=real.shape)


class _Side:
    """One operand of the products: values, squares, pattern and complex packings of them.

    Two sums that share an operand travel in one complex product: ``(u + i v) @ w`` gives
    ``u @ w`` as its real part and ``v @ w`` as its imaginary part, for about the cost of one
    real product (scipy's sparse product time is mostly index work). The right side is
    transposed once, so every block of rows is multiplied by the same prepared matrices.
    """

    def __init__(self, x: sp.csr_matrix, right: bool):
        x2, ones = _squared(x), _pattern(x)
        parts = {"x": x, "x2": x2, "ones": ones, "x2_ones": _pack(x2, ones), "x_x2": _pack(x, x2)}
        if right:
            parts = {name: m.T.tocsr() for name, m in parts.items()}
        for name, m in parts.items():
            setattr(self, name, m)


class _CoRated:
    """Sums over the co-rated columns of every pair ``(a, b)``, kept on the co-rating pattern.

    ``(X_a∘X_a + i B_a) B_b^T`` has one entry per pair with ``n_ab >= 1``: its imaginary part is
    the overlap ``n_ab`` (never 0 there, so no entry is dropped) and its real part
    ``sum_{I_ab} x^2``. Every other sum is a product with the same operand structure, so its
    entries come out in the same order, unless a sum cancels to exactly 0 and scipy drops it:
    then the rows that lost an entry are matched through a (row, column) -> entry table.
    Working on these 1-D arrays instead of dense blocks skips all the pairs that share nothing.
    """

    def __init__(self, a: _Side, b: _Side):
        self.pattern = a.x2_ones @ b.ones
        self.n, self.sxx = self.pattern.data.imag.copy(), self.pattern.data.real.copy()
        self.rows = np.repeat(np.arange(self.pattern.shape[0]), np.diff(self.pattern.indptr))
        self.cols = self.pattern.indices

    def sum(self, left, right) -> np.ndarray:
        """``sum_{I_ab} left_a right_b`` for every pattern pair (complex if an operand is)."""
        product = left @ right
        if product.nnz == self.pattern.nnz and np.array_equal(product.indices, self.cols):
            return product.data
        return self._align(product)

    def _align(self, product) -> np.ndarray:
        counts, got = np.diff(self.pattern.indptr), np.diff(product.indptr)
        # A row that lost no pair lines up entry for entry: shift its entries by the row offset.
        target = np.arange(product.nnz) + np.repeat(self.pattern.indptr[:-1] - product.indptr[:-1], got)
        lost = np.flatnonzero(got != counts)
        if len(lost):  # the few rows that lost pairs: a (lost row x column) table of entry positions
            table = np.empty((len(lost), self.pattern.shape[1]), dtype=np.int64)
            row, entry = row_entries(self.pattern.indptr, lost)
            table[row, self.cols[entry]] = entry
            row, entry = row_entries(product.indptr, lost)
            target[entry] = table[row, product.indices[entry]]
        out = np.zeros(len(self.n), dtype=product.dtype)  # a dropped sum was exactly 0
        out[target] = product.data
        return out


def row_entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry positions of the given CSR/CSC rows: ``(p, entry)`` with ``p`` indexing ``rows``
    (``rows`` may repeat; row ``rows[p]``'s entries are ``entry[p_mask]`` in storage order)."""
    lengths = indptr[rows + 1] - indptr[rows]
    p = np.repeat(np.arange(len(rows)), lengths)
    return p, np.arange(len(p)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(indptr[rows], lengths)


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _block(a: _Side, b: _Side, similarity: str) -> tuple[_CoRated, np.ndarray]:
    """Similarity of left rows ``a`` with right rows ``b`` on their co-rating pattern.

    Pairs outside the pattern share no column; every measure is 0 there (the naive cosine's
    numerator is a sum over co-rated columns too).
    """
    co = _CoRated(a, b)
    n, sxx = co.n, co.sxx
    if similarity == "cosine_naive":
        norm_a = np.sqrt(np.asarray(a.x2.sum(axis=1)).ravel())
        norm_b = np.sqrt(np.asarray(b.x2.sum(axis=0)).ravel())
        sim = _divide(co.sum(a.x, b.x), norm_a[co.rows] * norm_b[co.cols])
    elif similarity in ("cosine", "adjusted_cosine"):
        syy = co.sum(a.ones, b.x2_ones).real
        sim = _divide(co.sum(a.x, b.x), np.sqrt(sxx * syy))
    elif similarity == "pearson":
        sx = co.sum(a.x, b.ones)
        sy_syy = co.sum(a.ones, b.x_x2)
        sy, syy = sy_syy.real, sy_syy.imag
        var_x = sxx - sx * sx / n
        var_y = syy - sy * sy / n
        var_x[var_x <= _REL_TOL * sxx] = 0.0
        var_y[var_y <= _REL_TOL * syy] = 0.0
        sim = _divide(co.sum(a.x, b.x) - sx * sy / n, np.sqrt(var_x * var_y))
    elif similarity == "jaccard":
        count_a = np.diff(a.ones.indptr).astype(np.float64)
        count_b = np.asarray(b.ones.sum(axis=0), dtype=np.float64).ravel()
        sim = n / (count_a[co.rows] + count_b[co.cols] - n)
    elif similarity == "msd":
        sq_diff = sxx + co.sum(a.ones, b.x2_ones).real - 2 * co.sum(a.x, b.x)
        sim = 1.0 / (1.0 + np.maximum(sq_diff, 0.0) / n)
    else:  # pragma: no cover - checked by the callers
        raise AssertionError(similarity)
    # A similarity within rounding noise of 0 is 0: a pair that truly shares no taste must not
    # become someone's only (full-weight) neighbour through a 1e-17.
    sim[np.abs(sim) < _REL_TOL] = 0.0
    return co, np.clip(sim, -1.0, 1.0)


def check_settings(similarity: str, min_overlap, shrinkage) -> None:
    """Raise ``ValueError`` naming the first impossible similarity setting."""
    if similarity not in MEASURES:
        raise ValueError(f"similarity must be one of {MEASURES}, got {similarity!r}")
    if int(min_overlap) != min_overlap or min_overlap < 1:
        raise ValueError(f"min_overlap must be a whole number >= 1, got {min_overlap!r}")
    if not shrinkage >= 0:
        raise ValueError(f"shrinkage must be >= 0, got {shrinkage!r}")


def _apply_overlap(sim: np.ndarray, n: np.ndarray, min_overlap: int, shrinkage: float) -> np.ndarray:
    if min_overlap > 1:
        sim = np.where(n < min_overlap, 0.0, sim)
    if shrinkage > 0:
        sim = sim * (n / (n + shrinkage))
    return sim


def _rows(selection, n_rows: int, what: str) -> np.ndarray:
    idx = np.arange(n_rows) if selection is None else np.atleast_1d(np.asarray(selection))
    if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n_rows):
        raise ValueError(f"{what} must be row positions in [0, {n_rows}), got {idx[:5].tolist()}...")
    return idx


def similarity_matrix(ratings, similarity: str = "cosine", min_overlap: int = 1,
                      shrinkage: float = 0.0, rows=None, others=None,
                      return_overlap: bool = False):
    """Similarities between rows ``rows`` and rows ``others`` of ``ratings`` (default: all rows).

    Returns a float64 array of shape ``(len(rows), len(others))``; with ``return_overlap``
    also the co-rated counts ``n_ab`` of the same shape. Pairs with ``n_ab < min_overlap``
    get 0; with ``shrinkage = lam > 0`` every similarity is multiplied by ``n_ab / (n_ab + lam)``,
    so a similarity resting on few co-rated columns is pulled towards 0. Column means for
    ``adjusted_cosine`` always come from the whole matrix.
    """
    check_settings(similarity, min_overlap, shrinkage)
    x = _prepare(as_rating_matrix(ratings), similarity)
    left = x[_rows(rows, x.shape[0], "rows")]
    right = x[_rows(others, x.shape[0], "others")]
    co, sim = _block(_Side(left, False), _Side(right, True), similarity)
    dense = np.zeros((left.shape[0], right.shape[0]))
    dense[co.rows, co.cols] = _apply_overlap(sim, co.n, int(min_overlap), float(shrinkage))
    if not return_overlap:
        return dense
    overlap = np.zeros_like(dense)
    overlap[co.rows, co.cols] = co.n
    return dense, overlap


def co_rated_counts(ratings, rows=None, others=None) -> np.ndarray:
    """Overlap ``n_ab``: how many columns rows ``a`` and ``b`` both rated, shape ``(len(rows), len(others))``."""
    x = _pattern(as_rating_matrix(ratings))
    left, right = x[_rows(rows, x.shape[0], "rows")], x[_rows(others, x.shape[0], "others")]
    return (left @ right.T.tocsr()).toarray()


def significance_weighting(sim, overlap, threshold: int = 50) -> np.ndarray:
    """Herlocker et al. (1999): scale ``sim`` by ``min(n_ab, threshold) / threshold``.

    The step-shaped cousin of shrinkage: full trust from ``threshold`` co-rated columns on.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    return np.asarray(sim) * np.minimum(np.asarray(overlap, dtype=np.float64), threshold) / threshold


def cosine_naive(ratings) -> np.ndarray:
    """Cosine over all columns, missing ratings as 0; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "cosine_naive")


def cosine(ratings) -> np.ndarray:
    """Cosine over co-rated columns; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "cosine")


def pearson(ratings) -> np.ndarray:
    """Pearson correlation over co-rated columns; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "pearson")


def adjusted_cosine(ratings) -> np.ndarray:
    """Cosine over co-rated columns of column-mean-centred ratings; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "adjusted_cosine")


def jaccard(ratings) -> np.ndarray:
    """Co-rated count over union count; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "jaccard")


def msd(ratings) -> np.ndarray:
    """``1 / (1 + mean squared difference over co-rated columns)``; ``(n_rows, n_rows)``."""
    return similarity_matrix(ratings, "msd")


def top_k_neighbours(ratings, k: int | None = 40, similarity: str = "cosine", min_overlap: int = 1,
                     min_similarity: float = 0.0, shrinkage: float = 0.0,
                     block_size: int = 1024) -> sp.csr_matrix:
    """For every row, its ``k`` most similar *other* rows with similarity ``> min_similarity``.

    Returns a float32 CSR matrix ``(n_rows, n_rows)``: row ``a`` stores at most ``k`` entries
    ``(b, sim_ab)`` (column indices sorted). ``k=None`` keeps every neighbour above the
    threshold. Rows tied at the cut are chosen by the kit's one tie rule (:mod:`recsys_lab.topk`:
    the float32 similarity rounded to 1e-9, larger first, then the lower row). Rows are processed
    ``block_size`` at a time, so memory grows with ``block_size * n_rows``, not ``n_rows^2``.
    """
    check_settings(similarity, min_overlap, shrinkage)
    if k is not None and (int(k) != k or k < 1):
        raise ValueError(f"k must be a whole number >= 1 or None (keep all), got {k!r}")
    if not min_similarity >= 0:
        raise ValueError(f"min_similarity must be >= 0 (negative similarities never vote), "
                         f"got {min_similarity!r}")
    x = _prepare(as_rating_matrix(ratings), similarity)
    n_rows = x.shape[0]
    right = _Side(x, True)
    counts_out, cols_out, vals_out = [], [], []
    for start in range(0, n_rows, int(block_size)):
        stop = min(start + int(block_size), n_rows)
        co, sim = _block(_Side(x[start:stop], False), right, similarity)
        sim = _apply_overlap(sim, co.n, int(min_overlap), float(shrinkage))
        keep = (sim > min_similarity) & (co.cols != co.rows + start)  # never your own neighbour
        # grouped by row; ranked as stored (float32), so prune(keep) of a longer list picks the same
        rows, cols, sim = co.rows[keep], co.cols[keep], sim[keep].astype(np.float32)
        counts = np.bincount(rows, minlength=stop - start)
        if k is not None and counts.max(initial=0) > k:
            # Rows with more than k candidates keep their k best by the kit's one tie rule
            # (similarity rounded to 1e-9, then lower column): never argpartition's choice.
            # The k-th largest value of a row is the same whichever tied entry argpartition puts
            # there, so a dense partition finds it; only entries at or above it are then ranked.
            crowded = np.flatnonzero(counts > k)
            local = np.full(stop - start, -1)
            local[crowded] = np.arange(len(crowded))
            inside = local[rows] >= 0
            dense = np.zeros((len(crowded), n_rows), dtype=np.float32)
            dense[local[rows[inside]], cols[inside]] = sim[inside]
            at_kth = np.argpartition(-dense, int(k) - 1, axis=1)[:, int(k) - 1:int(k)]
            kth = np.take_along_axis(dense, at_kth, axis=1)[:, 0]
            near = np.flatnonzero(inside)
            near = near[tie_key(sim[near]) >= tie_key(kth[local[rows[near]]])]
            order, rank = grouped_order(rows[near], sim[near], cols[near])
            top = near[order[rank < int(k)]]
            kept = np.sort(np.r_[np.flatnonzero(~inside), top])  # back in row order
            rows, cols, sim = rows[kept], cols[kept], sim[kept]
            counts = np.bincount(rows, minlength=stop - start)
        counts_out.append(counts)
        cols_out.append(cols)
        vals_out.append(sim)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts_out))])
    out = sp.csr_matrix((np.concatenate(vals_out), np.concatenate(cols_out), indptr),
                        shape=(n_rows, n_rows))
    out.sort_indices()
    return out
