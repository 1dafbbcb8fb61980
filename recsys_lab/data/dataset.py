"""Raw ids <-> matrix positions, and the rating matrix itself (notebooks 00, 06).

A recommender works on integer positions (row ``u`` of the rating matrix) but the
learner thinks in MovieLens ids and titles. :class:`IdMap` translates both ways;
:class:`RatingData` bundles a tidy ratings frame with its two maps and builds the
user x item matrix as ``scipy.sparse`` CSR or a dense ``torch`` tensor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .schema import ITEM, RATING, RATING_COLUMNS, USER, RatingScale


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

    ``ratings`` is a tidy frame with columns ``user``, ``item``, ``rating`` (raw ids).
    Pass ``users`` / ``items`` maps to index a test split with the train split's maps;
    rows whose ids are not in a given map raise ``KeyError``.
    """

    def __init__(self, ratings: pd.DataFrame, users: IdMap | None = None,
                 items: IdMap | None = None, scale: RatingScale | None = None):
        missing = [c for c in RATING_COLUMNS if c not in ratings.columns]
        if missing:
            raise ValueError(f"ratings frame lacks column(s) {missing}; it has {list(ratings.columns)}")
        self.ratings = ratings.reset_index(drop=True)
        self.users = users if users is not None else IdMap(ratings[USER])
        self.items = items if items is not None else IdMap(ratings[ITEM])
        self.scale = scale
        self.user_index = self.users.to_index(self.ratings[USER].to_numpy())
        self.item_index = self.items.to_index(self.ratings[ITEM].to_numpy())
        self.values = self.ratings[RATING].to_numpy(dtype=np.float64)

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
