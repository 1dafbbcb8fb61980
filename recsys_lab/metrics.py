"""Evaluation metrics: rating error, top-K ranking quality, and beyond accuracy (notebook 13).

Used from notebook 00 on; notebook 13 derives each formula. All functions are pure.

**Rating error** compares predicted with true ratings: :func:`rmse`, :func:`mae`.

**Ranking metrics** score one user's ordered list at a time, as ``f(recommended, relevant, k)``:

- ``recommended``: item ids, best first (a list, array, Series, or the frame ``recommend``
  returns, whose ``item`` column is used). It may hold fewer than ``k`` items, when the
  model had fewer than ``k`` candidates; only its first ``k`` items count.
- ``relevant``: the user's relevant item ids (any collection; order and repeats ignored).
- Write ``L_k`` for the first ``k`` recommended items, ``rel(r) = 1`` if the item at rank
  ``r`` (1-based) is relevant, else 0, ``R`` for the relevant set, ``hits = sum_r rel(r)``.
- A user with no relevant items gets ``NaN`` from every ranking metric: there is nothing to
  find, so the user is not a success or a failure. Averages skip them and
  :func:`recsys_lab.evaluation.evaluate_ranking` reports how many were skipped.

**Ties.** The metrics never re-sort ``recommended``: the order you pass is the ranking.
The kit's models break score ties by item position (ascending raw id), so their lists,
and hence the metrics, are deterministic; but two items with equal scores in the other
order would give different precision/nDCG/AP values at a cut-off between them.

**Beyond accuracy** looks at many lists at once: :func:`catalog_coverage`,
:func:`novelty`, :func:`popularity_bias` (ARP), and :func:`intra_list_diversity` for one
list. :func:`popularity_from_ratings` gives the item popularity they expect.
"""
from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from .data.schema import ITEM, USER

# --------------------------------------------------------------------------------------
# rating error
# --------------------------------------------------------------------------------------


def _paired_ratings(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must hold numbers, got {values!r:.80}") from err
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one rating per pair), got shape {arr.shape}")
        arrays.append(arr)
    t, p = arrays
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(t)} and {len(p)}")
    if len(t) == 0:
        raise ValueError("y_true and y_pred are empty: need at least one rating to compare")
    for name, arr in (("y_true", t), ("y_pred", p)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"{name} contains {bad.sum()} NaN/infinite value(s), first at position "
                             f"{np.flatnonzero(bad)[0]}; drop or fill them before scoring")
    return t, p


def rmse(y_true, y_pred) -> float:
    """Root mean squared error: ``sqrt( (1/n) * sum_j (y_true_j - y_pred_j)^2 )``.

    ``y_true``, ``y_pred``: 1-D array-likes of shape ``(n,)``, ``n >= 1``, no NaN.
    Same unit as the ratings (stars); large errors weigh more than in :func:`mae`.
    """
    t, p = _paired_ratings(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error: ``(1/n) * sum_j |y_true_j - y_pred_j|``. Shapes as :func:`rmse`."""
    t, p = _paired_ratings(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


# --------------------------------------------------------------------------------------
# per-user ranking metrics
# --------------------------------------------------------------------------------------


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a whole number >= 1 (the list length cut-off), got {k!r}")
    return int(k)


def _as_item_list(recommended) -> list:
    if isinstance(recommended, pd.DataFrame):
        if ITEM not in recommended.columns:
            raise ValueError(f"a recommended frame needs an {ITEM!r} column, it has "
                             f"{list(recommended.columns)}")
        recommended = recommended[ITEM]
    if isinstance(recommended, (str, bytes)) or np.ndim(recommended) != 1:
        raise ValueError(f"recommended must be a 1-D sequence of item ids, got {recommended!r:.80}")
    return list(recommended)


def _top_k_hits(recommended, relevant, k) -> tuple[np.ndarray, int]:
    """Validate, then return ``rel(r)`` for the first ``min(k, len)`` ranks and ``|R|``."""
    k = _check_k(k)
    items = _as_item_list(recommended)
    if len(set(items)) != len(items):
        seen, dupes = set(), []
        for it in items:
            if it in seen:
                dupes.append(it)
            seen.add(it)
        raise ValueError(f"recommended lists item(s) {dupes[:5]} more than once; a ranking "
                         f"must name each item at most once")
    relevant = set(relevant)
    hits = np.array([it in relevant for it in items[:k]], dtype=np.float64)
    return hits, len(relevant)


def precision_at_k(recommended, relevant, k: int) -> float:
    """Share of the top-``k`` slots holding a relevant item: ``P@k = hits / k``.

    We divide by ``k`` even when fewer than ``k`` items were recommended: an empty slot is a
    slot that did not help the user (a model with 3 candidates, 1 relevant, has P@10 = 0.1).
    NaN when ``relevant`` is empty.
    """
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    return float("nan") if n_rel == 0 else float(hits.sum() / k)


def recall_at_k(recommended, relevant, k: int) -> float:
    """Share of the relevant items found in the top ``k``: ``R@k = hits / |R|``.

    Cannot reach 1 when ``|R| > k``. NaN when ``relevant`` is empty.
    """
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    return float("nan") if n_rel == 0 else float(hits.sum() / n_rel)


def ndcg_at_k(recommended, relevant, k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance.

    ``DCG@k = sum_{r=1}^{min(k, len)} rel(r) / log2(r + 1)``,
    ``IDCG@k = sum_{r=1}^{min(|R|, k)} 1 / log2(r + 1)`` (all relevant items ranked first),
    ``nDCG@k = DCG@k / IDCG@k`` in ``[0, 1]``. NaN when ``relevant`` is empty.
    """
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    if n_rel == 0:
        return float("nan")
    dcg = np.sum(hits / np.log2(np.arange(2, len(hits) + 2)))
    idcg = np.sum(1.0 / np.log2(np.arange(2, min(n_rel, k) + 2)))
    return float(dcg / idcg)


def average_precision_at_k(recommended, relevant, k: int) -> float:
    """Average precision at the ranks of the hits:

    ``AP@k = (1 / min(|R|, k)) * sum_{r=1}^{min(k, len)} P@r * rel(r)``, with ``P@r = hits in
    the first r / r``. The normaliser ``min(|R|, k)`` makes a perfect list score 1 even when
    the user has more than ``k`` relevant items. ``MAP@k`` is the mean of ``AP@k`` over users.
    NaN when ``relevant`` is empty.
    """
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    if n_rel == 0:
        return float("nan")
    precision_at_r = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(np.sum(precision_at_r * hits) / min(n_rel, k))


def hit_rate_at_k(recommended, relevant, k: int) -> float:
    """1.0 if at least one relevant item is in the top ``k``, else 0.0. NaN if ``relevant`` is empty."""
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    return float("nan") if n_rel == 0 else float(hits.any())


def reciprocal_rank(recommended, relevant, k: int) -> float:
    """``1 / rank`` of the first relevant item within the top ``k`` (0.0 if none).

    ``MRR`` is its mean over users. NaN when ``relevant`` is empty.
    """
    hits, n_rel = _top_k_hits(recommended, relevant, k)
    if n_rel == 0:
        return float("nan")
    found = np.flatnonzero(hits)
    return float(1.0 / (found[0] + 1)) if len(found) else 0.0


# --------------------------------------------------------------------------------------
# beyond accuracy
# --------------------------------------------------------------------------------------


def _lists(rec_lists) -> list[list]:
    """Accept a list of lists or a mapping user -> list (the mapping's values are used)."""
    values = rec_lists.values() if isinstance(rec_lists, Mapping) else rec_lists
    return [_as_item_list(lst) for lst in values]


def popularity_from_ratings(ratings: pd.DataFrame) -> pd.Series:
    """Item popularity ``p(i) = |{users who interacted with i}| / |users|`` from a ratings frame.

    Returns a Series indexed by item id with values in ``(0, 1]``; pass it (computed on the
    *training* split) to :func:`novelty` and :func:`popularity_bias`.
    """
    missing = [c for c in (USER, ITEM) if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings frame lacks column(s) {missing}; it has {list(ratings.columns)}")
    if len(ratings) == 0:
        raise ValueError("ratings frame is empty: cannot compute item popularity")
    pairs = ratings[[USER, ITEM]].drop_duplicates()
    return (pairs.groupby(ITEM)[USER].size() / ratings[USER].nunique()).rename("popularity")


def _popularity_of(items: list, item_popularity, what: str) -> np.ndarray:
    if isinstance(item_popularity, Mapping):
        item_popularity = pd.Series(item_popularity, dtype=np.float64)
    if not isinstance(item_popularity, pd.Series):
        raise ValueError(f"item_popularity must be a dict or pandas Series item -> popularity, "
                         f"got {type(item_popularity).__name__}")
    if not item_popularity.index.is_unique:
        raise ValueError("item_popularity has repeated item ids in its index")
    values = item_popularity.reindex(items).to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        bad = [items[j] for j in np.flatnonzero(missing)[:5]]
        raise ValueError(f"{what}: no popularity for recommended item(s) {bad}; item_popularity "
                         f"must cover every recommended item (e.g. popularity_from_ratings(train))")
    return values


def catalog_coverage(rec_lists, n_items: int) -> float:
    """Fraction of the catalogue that appears in at least one list: ``|union_u L_u| / n_items``.

    ``rec_lists``: iterable of item-id lists (or a dict user -> list); ``n_items``: catalogue size.
    """
    if isinstance(n_items, bool) or not isinstance(n_items, Integral) or n_items < 1:
        raise ValueError(f"n_items must be a whole number >= 1 (the catalogue size), got {n_items!r}")
    shown = set().union(*_lists(rec_lists))
    if len(shown) > n_items:
        raise ValueError(f"the lists name {len(shown)} distinct items but n_items={n_items}; "
                         f"n_items must be the size of the whole catalogue")
    return len(shown) / n_items


def novelty(rec_lists, item_popularity) -> float:
    """Mean self-information of recommended items, in bits:

    ``novelty = (1/|U|) * sum_u (1/|L_u|) * sum_{i in L_u} -log2 p(i)`` where ``p(i)`` is the
    fraction of users who interacted with ``i`` (see :func:`popularity_from_ratings`), given as a
    dict or Series item -> p in ``(0, 1]``. Higher means less popular, more surprising items.
    Empty lists are skipped; NaN if every list is empty.
    """
    per_list = []
    for lst in _lists(rec_lists):
        if lst:
            p = _popularity_of(lst, item_popularity, "novelty")
            if ((p <= 0) | (p > 1)).any():
                bad = [lst[j] for j in np.flatnonzero((p <= 0) | (p > 1))[:5]]
                raise ValueError(f"novelty needs popularity p(i) in (0, 1] (a fraction of users), "
                                 f"got values outside it for item(s) {bad}")
            per_list.append(np.mean(-np.log2(p)))
    return float(np.mean(per_list)) if per_list else float("nan")


def popularity_bias(rec_lists, item_popularity) -> float:
    """Average recommendation popularity (ARP):

    ``ARP = (1/|U|) * sum_u (1/|L_u|) * sum_{i in L_u} phi(i)`` with ``phi`` the popularity
    given as a dict or Series item -> value >= 0 (a fraction of users or a count; ARP is in the
    same unit). Higher means the lists lean on popular items. Empty lists are skipped; NaN if
    every list is empty.
    """
    per_list = []
    for lst in _lists(rec_lists):
        if lst:
            phi = _popularity_of(lst, item_popularity, "popularity_bias")
            if (phi < 0).any():
                raise ValueError("popularity_bias needs popularity values >= 0")
            per_list.append(np.mean(phi))
    return float(np.mean(per_list)) if per_list else float("nan")


def intra_list_diversity(rec_list, item_features) -> float:
    """Mean pairwise cosine distance between the items of one list:

    ``ILD(L) = (2 / (n (n-1))) * sum_{a < b} (1 - cos(x_a, x_b))`` with ``x_i`` item ``i``'s
    feature vector and ``n = |L|``. ``item_features``: DataFrame indexed by item id (one row
    of features per item) or dict item -> vector. For non-negative features (e.g. genre
    indicators) ILD is in ``[0, 1]``; 0 means all items alike. NaN for lists shorter than 2.
    """
    items = _as_item_list(rec_list)
    if len(set(items)) != len(items):
        raise ValueError("rec_list names an item more than once; a list must name each item once")
    if len(items) < 2:
        return float("nan")
    if isinstance(item_features, pd.DataFrame):
        if not item_features.index.is_unique:
            raise ValueError("item_features has repeated item ids in its index")
        missing = [it for it in items if it not in item_features.index]
        rows = None if missing else item_features.loc[items].to_numpy(dtype=np.float64)
    elif isinstance(item_features, Mapping):
        missing = [it for it in items if it not in item_features]
        rows = None if missing else np.array([np.asarray(item_features[it], dtype=np.float64)
                                              for it in items])
    else:
        raise ValueError(f"item_features must be a DataFrame indexed by item or a dict "
                         f"item -> vector, got {type(item_features).__name__}")
    if missing:
        raise ValueError(f"item_features has no row for item(s) {missing[:5]}")
    if rows.ndim != 2:
        raise ValueError(f"feature vectors must all have the same length, got array of shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1)
    if (norms == 0).any():
        bad = [items[j] for j in np.flatnonzero(norms == 0)[:5]]
        raise ValueError(f"item(s) {bad} have an all-zero feature vector: cosine is undefined")
    unit = rows / norms[:, None]
    cos = np.clip(unit @ unit.T, -1.0, 1.0)               # (n, n); rounding can step past +-1
    upper = np.triu_indices(len(items), k=1)              # the n (n-1) / 2 pairs a < b
    return float(np.mean(1.0 - cos[upper]))
