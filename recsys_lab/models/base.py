"""The one interface every recommender of the kit shares (notebook 00; used from 07 on).

    model = SomeModel(hyper=...)      # __init__ only stores hyper-parameters
    model.fit(ratings)                # tidy frame (user, item, rating) or RatingData; returns model
    model.predict(users, items)       # arrays of raw ids, equal length -> np.ndarray of scores
    model.recommend(user, k=10)       # DataFrame (item, score), best first, seen items excluded
    model.explain(user, item)         # where the model allows it: why this score

Unknown users and items (cold start) are handled on purpose, by the ``unknown``
setting every model takes:

- ``"fallback"`` (default): the model answers with its documented fallback (a
  baseline score for ``predict``, a non-personalised list for ``recommend``);
- ``"error"``: a ``KeyError`` names the unknown ids.

``recommend`` orders by score rounded to 1e-9, then by item position (ascending raw id):
the kit's one tie rule (:mod:`recsys_lab.topk`), so a ranking never rests on float noise.
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from ..data.dataset import RatingData, query_id, query_ids
from ..data.schema import ITEM
from ..topk import top_k_candidates


class Recommender:
    """Base class: subclasses implement ``_fit``, ``_predict_known`` and ``_score_user``.

    Optional overrides: ``_predict_fallback`` (unknown pairs) and ``_score_unknown_user``.
    """

    def __init__(self, unknown: str = "fallback"):
        self.unknown = unknown

    # ----- parameters ---------------------------------------------------------------
    def get_params(self) -> dict:
        """Hyper-parameters as passed to ``__init__`` (``type(m)(**m.get_params())`` clones m)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----- fitting ------------------------------------------------------------------
    def _check_unknown(self) -> None:
        if self.unknown not in ("fallback", "error"):
            raise ValueError(f"unknown must be 'fallback' or 'error', got {self.unknown!r}")

    def fit(self, ratings) -> "Recommender":
        """Learn from ``ratings`` (forgetting any earlier fit); returns ``self``.

        Bad ratings are refused by :class:`RatingData` before anything changes; if fitting fails
        later (e.g. training diverges), the model is put back as it was before the call.
        """
        self._check_unknown()
        data = ratings if isinstance(ratings, RatingData) else RatingData(ratings)
        before = dict(self.__dict__)  # _fit only assigns attributes, so a shallow copy restores
        try:
            self.data_ = data
            self.seen_ = data.to_csr(binary=True)
            self._fit(data)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit(self, data: RatingData) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call .fit(ratings) first")

    # ----- scoring ------------------------------------------------------------------
    def predict(self, users, items) -> np.ndarray:
        """Scores of (user, item) pairs given as equal-length arrays of raw ids, shape ``(n,)``."""
        self._check_fitted()
        users, items = query_ids(users, "users"), query_ids(items, "items")  # 1-D, no missing ids
        if users.shape != items.shape:
            raise ValueError(f"users and items must be 1-D arrays of equal length, "
                             f"got shapes {users.shape} and {items.shape}")
        u = self.data_.users.to_index(users, missing="minus1")
        i = self.data_.items.to_index(items, missing="minus1")
        known = (u >= 0) & (i >= 0)
        if not known.all() and self.unknown == "error":
            bad_u, bad_i = users[u < 0], items[i < 0]
            raise KeyError(f"{type(self).__name__} was not fitted on user(s) {list(bad_u[:5])} "
                           f"/ item(s) {list(bad_i[:5])}; use unknown='fallback' to score them")
        out = np.empty(len(users), dtype=np.float64)
        if known.any():
            out[known] = self._predict_known(u[known], i[known])
        if not known.all():
            out[~known] = self._predict_fallback(u[~known], i[~known])
        return out

    def _predict_known(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _predict_fallback(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Scores for pairs where ``u`` or ``i`` is -1 (unknown). Default: the training mean."""
        return np.full(len(u), self.data_.values.mean())

    def _score_user(self, u: int) -> np.ndarray:
        """Scores of every known item for known user position ``u``, shape ``(n_items,)``."""
        return self._predict_known(np.full(self.data_.n_items, u), np.arange(self.data_.n_items))

    def _score_unknown_user(self) -> np.ndarray:
        """Scores of every item for a user the model has never seen. Default: item popularity."""
        return np.asarray(self.seen_.sum(axis=0)).ravel().astype(np.float64)

    # ----- ranking ------------------------------------------------------------------
    def _seen_items(self, u: int) -> np.ndarray:
        """Positions of the items known user position ``u`` interacted with in training."""
        return self.seen_.indices[self.seen_.indptr[u]:self.seen_.indptr[u + 1]]

    def _user_scores(self, u: int) -> np.ndarray:
        """Every item's ranking score (float64) for user position ``u``; -1 is an unknown user."""
        return np.asarray(self._score_user(u) if u >= 0 else self._score_unknown_user(), dtype=np.float64)

    def _candidate_scores(self, u: int, exclude_seen: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """What ``recommend`` ranks for user position ``u`` (-1: unknown): every item's score
        and which items are candidates (a finite score, not seen when ``exclude_seen``)."""
        scores = self._user_scores(u)
        candidates = np.isfinite(scores)
        if exclude_seen and u >= 0:
            candidates[self._seen_items(u)] = False
        return scores, candidates

    def recommend(self, user, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items for raw user id ``user`` as a frame (``item``, ``score``), best first.

        With ``exclude_seen`` the items the user rated in training are not candidates. May return
        fewer than ``k`` rows when fewer candidates exist.
        """
        self._check_fitted()
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.integer, np.floating)) \
                or not np.isfinite(k) or int(k) != k or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        k = int(k)
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise ValueError(f"exclude_seen must be True or False, got {exclude_seen!r}")
        user = query_id(user, "user")
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        if u < 0 and self.unknown == "error":
            raise KeyError(f"{type(self).__name__} was not fitted on user {user!r}; "
                           f"use unknown='fallback' for a non-personalised list")
        scores, candidates = self._candidate_scores(u, exclude_seen)
        order = top_k_candidates(scores, candidates, k)  # the kit's one tie rule (recsys_lab.topk)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(order), "score": scores[order]})

    def explain(self, user, item):
        """Why the model scores ``item`` for ``user``; not every model can say."""
        raise NotImplementedError(f"{type(self).__name__} does not explain its scores")
