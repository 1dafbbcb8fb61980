"""Raw ids <-> matrix positions, and the rating matrix itself (notebooks 00, 06).

A recommender works on integer positions (row ``u`` of the rating matrix) but the
learner thinks in MovieLens ids and titles. :class:`IdMap` translates both ways;
:class:`RatingData` bundles a tidy ratings frame with its two maps and builds the
user x item matrix as ``scipy.sparse`` CSR or a dense ``torch`` tensor.

``RatingData`` is where every model's ``fit`` turns a frame into numbers, so it is where bad
input is refused (:func:`recsys_lab.data.schema.check_ratings_frame`, the checks ``load_ratings``
runs too). :func:`query_ids` and :func:`query_id` check the ids given to ``predict`` and
``recommend``.
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .schema import ITEM, RATING, USER, RatingScale, check_ratings_frame, place, plain


class IdMap:
    """A fixed, ordered set of raw ids; position ``i`` holds raw id ``ids[i]``.

    Ids are kept in sorted order so the same set of ids always gives the same
    positions, whatever the order of the rows they came from.
    """

    def __init__(self, ids):
        self.ids = np.sort(pd.unique(np.asarray(ids)))
        self._index = pd.Index(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, raw) -> bool:
        return raw in self._index

    def __repr__(self) -> str:
        return f"IdMap({len(self)} ids)"

    def to_index(self, raw, missing: str = "error") -> np.ndarray:
        """Positions of raw ids, shape like ``raw``.

        ``missing="error"`` raises ``KeyError`` naming the unknown ids;
        ``missing="minus1"`` returns -1 for them (models use this for cold start).
        """
        raw_arr = np.asarray(raw)
        pos = self._index.get_indexer(raw_arr.ravel()).reshape(raw_arr.shape)
        if missing == "error" and (pos < 0).any():
            unknown = raw_arr.ravel()[(pos < 0).ravel()]
            raise KeyError(f"{len(unknown)} unknown id(s), first ones: {unknown[:5].tolist()}")
        if missing not in ("error", "minus1"):
            raise ValueError(f"missing must be 'error' or 'minus1', got {missing!r}")
        return pos

    def to_raw(self, index) -> np.ndarray:
        """Raw ids at positions ``index`` (array-like of ints)."""
        index = np.asarray(index)
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise IndexError(f"positions must lie in [0, {len(self)}), got {index.min()}..{index.max()}")
        return self.ids[index]


class RatingData:
    """Ratings plus the user and item maps they are indexed by.

    ``ratings`` is a tidy frame with columns ``user``, ``item``, ``rating`` (raw ids), checked on
    the way in: a missing column, no rows, a missing or malformed id, a rating that is missing,
    not a number or infinite, or a repeated (user, item) pair raise ``ValueError`` naming the row
    label, column and value; with ``scale`` given, ratings off it are refused too (without one,
    any finite rating is accepted: synthetic scales and implicit 1s are ratings as well).
    Pass ``users`` / ``items`` maps to index a test split with the train split's maps;
    rows whose ids are not in a given map raise ``KeyError``. Rows are kept in canonical order
    (by user position, then item position), so the input's row order never changes a result.
    """

    def __init__(self, ratings: pd.DataFrame, users: IdMap | None = None,
                 items: IdMap | None = None, scale: RatingScale | None = None):
        values = check_ratings_frame(ratings, scale=scale)
        self.users = users if users is not None else IdMap(ratings[USER])
        self.items = items if items is not None else IdMap(ratings[ITEM])
        self.user_index = _positions(self.users, ratings[USER], USER)
        self.item_index = _positions(self.items, ratings[ITEM], ITEM)
        if ratings[RATING].dtype != np.float64:  # e.g. text "4.5" or integers: keep the checked floats
            ratings = ratings.assign(**{RATING: values})
        values = values.to_numpy()
        # Canonical row order, (user, item) positions ascending: every sum over the ratings, every
        # batch order, is then the same whatever order the input rows came in.
        order = np.lexsort((self.item_index, self.user_index))
        if (np.diff(order) < 0).any():
            ratings, values = ratings.iloc[order], values[order]
            self.user_index, self.item_index = self.user_index[order], self.item_index[order]
        self.ratings = ratings.reset_index(drop=True)
        self.scale = scale
        self.values = values

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return len(self.ratings)

    def __repr__(self) -> str:
        return (f"RatingData({len(self)} ratings, {self.n_users} users, {self.n_items} items, "
                f"density {self.density:.4%})")

    @property
    def density(self) -> float:
        """Fraction of the user x item matrix that holds a rating."""
        return len(self) / (self.n_users * self.n_items) if len(self) else 0.0

    def to_csr(self, binary: bool = False) -> sp.csr_matrix:
        """User x item matrix, shape ``(n_users, n_items)``; absent ratings are not stored."""
        data = np.ones(len(self)) if binary else self.values
        return sp.csr_matrix((data, (self.user_index, self.item_index)),
                             shape=(self.n_users, self.n_items))

    def to_dense(self, fill: float = float("nan")):
        """Dense ``torch.float32`` tensor ``(n_users, n_items)``; absent ratings are ``fill``."""
        import torch

        dense = torch.full((self.n_users, self.n_items), fill, dtype=torch.float32)
        dense[torch.tensor(self.user_index), torch.tensor(self.item_index)] = torch.tensor(
            self.values, dtype=torch.float32)
        return dense


def _positions(id_map: IdMap, column: pd.Series, what: str) -> np.ndarray:
    """Positions of a ratings column's ids in ``id_map``; ``KeyError`` naming the first unknown row."""
    pos = id_map.to_index(column.to_numpy(), missing="minus1")
    unknown = pos < 0
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise KeyError(f"ratings frame: {place(column.index, first)}, column {what!r}: {what} id "
                       f"{plain(column.iloc[first])!r} is not in the given {what}s map "
                       f"({int(unknown.sum())} such rows); index a split with maps that hold its ids "
                       f"(e.g. the maps of all ratings), or drop those rows")
    return pos


def _id_problem(value) -> str | None:
    """Why ``value`` cannot be a raw id, or ``None`` if it can."""
    if isinstance(value, (bool, np.bool_)):
        return "a bool"
    if isinstance(value, (str, numbers.Number)):
        return "missing" if pd.isna(value) else None
    return "missing" if value is None else f"a {type(value).__name__}"


def query_ids(values, what: str = "users") -> np.ndarray:
    """Raw ids given to ``predict`` as a 1-D array (a scalar becomes one id).

    Raises ``ValueError`` for a 2-D or ragged input and for an id that is missing (NaN, None)
    or not a number or a string, naming its position.
    """
    try:
        arr = np.atleast_1d(np.asarray(values))
    except ValueError:
        raise ValueError(f"{what} must be a 1-D array of raw ids, got a ragged nest of lists") from None
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of raw ids (one per pair), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(arr))
    elif arr.dtype == object:
        bad = [j for j, value in enumerate(arr) if _id_problem(value)]
    elif arr.dtype.kind == "b":
        bad = np.arange(len(arr))
    else:
        return arr
    if len(bad):
        j = int(bad[0])
        value = plain(arr[j])
        problem = _id_problem(value) or "missing"
        raise ValueError(f"{what}[{j}] is {value!r}, which is {problem}; every id must be a number or "
                         f"a string ({len(bad)} such position(s))")
    return arr


def query_id(value, what: str = "user"):
    """One raw id given to ``recommend``; ``ValueError`` for a list, a missing id or a non-id."""
    if np.ndim(value) != 0 or isinstance(value, (set, frozenset, dict)):
        raise ValueError(f"{what} must be one raw {what} id (a number or a string), got "
                         f"{type(value).__name__} {value!r}; call once per {what}")
    problem = _id_problem(plain(value))
    if problem:
        raise ValueError(f"{what} must be one raw {what} id (a number or a string), got {value!r}, "
                         f"which is {problem}")
    return plain(value)
