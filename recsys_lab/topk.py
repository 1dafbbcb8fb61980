"""One total order for every ranking the kit makes (used from notebook 07 on).

Every top-k list, neighbour list and ranked position in the kit, whether ``recommend``,
item-kNN's kept neighbours, ``similar_items``, leave-one-out ranks or a widget's table,
orders by the same key:

1. the score **rounded to** ``TIE_DECIMALS`` (9) decimal places, larger first;
2. then the **position** (item or user index in the model's id map, i.e. ascending raw id),
   smaller first.

Why round first: two scores that are equal on paper can differ in their last bit when a
different CPU, BLAS build or thread count sums them in another order (float64 carries about 16
significant digits). Compared raw, such a pair is ordered by that noise, and a neighbour list
or a top-10 changes from one machine to the next. Rounded to 1e-9, far above float64 noise and
far below any difference that means something, they tie, and the position decides. Selection
never goes through ``argpartition`` or ``torch.topk``, whose choice among tied values depends on
the algorithm and the CPU.

All functions are pure: arrays in, positions out.
"""
from __future__ import annotations

import numpy as np

#: Scores are compared rounded to this many decimal places (absolute precision 1e-9).
TIE_DECIMALS = 9


def tie_key(scores) -> np.ndarray:
    """``scores`` as float64 rounded to ``TIE_DECIMALS`` places: what rankings compare.

    ``-inf`` / ``inf`` stay as they are; shape like ``scores``.
    """
    return np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)


def order(scores, positions=None) -> np.ndarray:
    """Indices into ``scores`` (shape ``(n,)``) from best to worst.

    Best = larger rounded score, then smaller ``positions[j]`` (default: ``j`` itself).
    """
    key = tie_key(scores)
    pos = np.arange(len(key)) if positions is None else np.asarray(positions)
    if pos.shape != key.shape:
        raise ValueError(f"positions must have the shape of scores {key.shape}, got {pos.shape}")
    return np.lexsort((pos, -key))


def top_k(scores, k, positions=None) -> np.ndarray:
    """The first ``k`` indices of :func:`order` (fewer when ``len(scores) < k``)."""
    return order(scores, positions)[: int(k)]


def top_k_candidates(scores, candidates, k) -> np.ndarray:
    """The ``k`` best item positions among ``candidates`` (bool mask over ``scores``), best first."""
    pos = np.flatnonzero(candidates)
    return pos[top_k(np.asarray(scores)[pos], k, pos)]


def grouped_order(groups, scores, positions) -> tuple[np.ndarray, np.ndarray]:
    """Rank entries within their group: ``(order, rank)``.

    ``groups``, ``scores``, ``positions``: shape ``(n,)``, one entry each (e.g. the row, the
    similarity and the column of a sparse matrix entry). ``order`` sorts the entries by group
    ascending, then by the ranking key within the group; ``rank[j]`` is the 0-based place of the
    entry ``order[j]`` within its group. Keep ``rank < k`` for each group's top ``k``.
    """
    groups = np.asarray(groups)
    idx = np.lexsort((np.asarray(positions), -tie_key(scores), groups))
    g = groups[idx]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1] if len(g) else np.zeros(0, dtype=np.int64)
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return idx, rank


def ranked_above(scores, positions, target: int) -> np.ndarray:
    """For each candidate (``positions`` with their ``scores``): does it rank above item ``target``?

    ``target`` must be one of ``positions``; the same rule as :func:`order`, so the number of
    ``True`` is ``target``'s 0-based place in the ranked list.
    """
    key, positions = tie_key(scores), np.asarray(positions)
    mine = key[np.flatnonzero(positions == target)[0]]
    return (key > mine) | ((key == mine) & (positions < target))


def top_k_rows(scores, k, exclude=None) -> np.ndarray:
    """Row-wise top ``k`` of a score matrix, by the same key as :func:`order`: batch scoring.

    ``scores``: shape ``(n_rows, n_items)`` (e.g. users x items of a matrix-product model);
    ``exclude``: ``None``, or a bool array / scipy sparse matrix of the same shape whose true
    (nonzero) entries are never chosen (e.g. the items each user has already seen). Returns an int
    array ``(n_rows, min(k, n_items))`` of column positions, best first; ``-1`` pads a row with
    fewer than ``k`` allowed columns. Row ``u`` equals ``top_k_candidates(scores[u], ~exclude[u], k)``.

    How, without letting ``argpartition`` choose among ties: ``np.partition`` only finds each
    row's ``k``-th best rounded score (a value, the same whichever tied entry holds it); every
    entry at or above it is then ranked by the key, so only ties *at* that value cost extra work.
    """
    key = np.array(tie_key(scores), dtype=np.float64, copy=True)
    if key.ndim != 2:
        raise ValueError(f"scores must be a 2-d (rows x items) array, got shape {key.shape}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    if np.isnan(key).any():
        r, c = np.argwhere(np.isnan(key))[0]
        raise ValueError(f"scores hold NaN (first at row {r}, column {c}): a ranking needs numbers")
    if exclude is not None:
        if getattr(exclude, "shape", None) != key.shape:
            raise ValueError(f"exclude must have the shape of scores {key.shape}, got {getattr(exclude, 'shape', None)}")
        if hasattr(exclude, "tocoo"):
            coo = exclude.tocoo()
            hit = coo.data != 0
            key[coo.row[hit], coo.col[hit]] = -np.inf
        else:
            key[np.asarray(exclude, dtype=bool)] = -np.inf
    n_rows, n_items = key.shape
    k = min(int(k), n_items)
    if n_rows == 0 or k == 0:
        return np.zeros((n_rows, k), dtype=np.int64)
    kth = np.partition(key, n_items - k, axis=1)[:, n_items - k]   # each row's k-th largest key
    rows, cols = np.nonzero(key >= kth[:, None])
    idx, rank = grouped_order(rows, key[rows, cols], cols)
    keep = rank < k
    out = np.full((n_rows, k), -1, dtype=np.int64)
    chosen_rows, chosen_cols = rows[idx][keep], cols[idx][keep]
    allowed = np.isfinite(key[chosen_rows, chosen_cols]) | (key[chosen_rows, chosen_cols] > 0)
    out[chosen_rows[allowed], rank[keep][allowed]] = chosen_cols[allowed]
    return out
