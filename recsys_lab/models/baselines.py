"""Strong simple baselines every fancier model must beat (notebooks 00, 13).

- :class:`GlobalMean`: every rating is predicted as the training mean ``mu``.
- :class:`BiasBaseline`: ``r_ui ~ mu + b_u + b_i`` with regularised biases, fitted by
  alternating least squares (as in Koren, 2010, and Surprise's ``BaselineOnly``).
- :class:`MostPopular`: ranks items by how many users rated them; not a rating model.
- :class:`RecentPopular`: the same, counting only the latest ``n_recent`` training interactions
  (notebook 15): what is popular *now*, not over the whole log.
"""
from __future__ import annotations

import numpy as np

from ..data.dataset import RatingData
from ..data.schema import TIMESTAMP
from .base import Recommender
from .sequence_data import timestamp_key   # the one timestamp rule of the sequence models
from .torch_data import _whole


class BiasFallback:
    """Cold start for models with ``global_mean_``, ``user_bias_``, ``item_bias_``, ``rating_range_``.

    An unknown user or item contributes a bias of 0: a new user gets ``mu + b_i`` (and the
    ranking of the best-liked items), a new item ``mu + b_u``, both unknown ``mu``; clipped.
    """

    def _predict_fallback(self, u, i):
        b_u = np.where(u >= 0, self.user_bias_[np.maximum(u, 0)], 0.0)
        b_i = np.where(i >= 0, self.item_bias_[np.maximum(i, 0)], 0.0)
        return np.clip(self.global_mean_ + b_u + b_i, *self.rating_range_)

    def _score_unknown_user(self):
        return self.global_mean_ + self.item_bias_

    def _bias_terms(self, user, item, interaction: str | None = None) -> dict:
        """``global_mean``, ``user_bias``, ``item_bias`` (0 when unknown), optionally the factor term
        ``p_u . q_i`` under the name ``interaction``, and the (clipped) ``prediction``."""
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        parts = {"global_mean": self.global_mean_,
                 "user_bias": float(self.user_bias_[u]) if u >= 0 else 0.0,
                 "item_bias": float(self.item_bias_[i]) if i >= 0 else 0.0}
        if interaction is not None:
            known = u >= 0 and i >= 0
            parts[interaction] = float(self.user_factors_[u] @ self.item_factors_[i]) if known else 0.0
        parts["prediction"] = float(self.predict([user], [item])[0])
        return parts


class GlobalMean(Recommender):
    """Predicts the training mean for every pair; its ranking is all ties (by item position)."""

    def _fit(self, data: RatingData) -> None:
        self.global_mean_ = float(data.values.mean())

    def _predict_known(self, u, i):
        return np.full(len(u), self.global_mean_)

    _predict_fallback = _predict_known

    def _score_unknown_user(self):
        return np.full(self.data_.n_items, self.global_mean_)

    def explain(self, user, item) -> dict:
        return {"global_mean": self.global_mean_, "prediction": self.global_mean_}


class BiasBaseline(BiasFallback, Recommender):
    """``r_ui ~ mu + b_u + b_i``, biases shrunk towards 0 by ``reg_user`` and ``reg_item``.

    Each of ``epochs`` alternating steps solves exactly for one set of biases given the other:

        b_i = sum_{u in R(i)} (r_ui - mu - b_u) / (reg_item + |R(i)|)
        b_u = sum_{i in R(u)} (r_ui - mu - b_i) / (reg_user + |R(u)|)

    Unknown users or items get a bias of 0 (so a new user gets ``mu + b_i``). Predictions are
    clipped to the range of training ratings.
    """

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, epochs: int = 10,
                 unknown: str = "fallback"):
        super().__init__(unknown)
        self.reg_user, self.reg_item, self.epochs = reg_user, reg_item, epochs

    def _fit(self, data: RatingData) -> None:
        if self.reg_user < 0 or self.reg_item < 0:
            raise ValueError(f"reg_user and reg_item must be >= 0, got {self.reg_user}, {self.reg_item}")
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise ValueError(f"epochs must be a positive whole number, got {self.epochs!r}")
        u, i, r = data.user_index, data.item_index, data.values
        mu = r.mean()
        n_u = np.bincount(u, minlength=data.n_users)
        n_i = np.bincount(i, minlength=data.n_items)
        b_u, b_i = np.zeros(data.n_users), np.zeros(data.n_items)
        for _ in range(int(self.epochs)):
            b_i = np.bincount(i, r - mu - b_u[u], data.n_items) / (self.reg_item + n_i)
            b_u = np.bincount(u, r - mu - b_i[i], data.n_users) / (self.reg_user + n_u)
        self.global_mean_, self.user_bias_, self.item_bias_ = float(mu), b_u, b_i
        self.rating_range_ = (float(r.min()), float(r.max()))

    def _predict_known(self, u, i):
        return np.clip(self.global_mean_ + self.user_bias_[u] + self.item_bias_[i], *self.rating_range_)


    def _score_user(self, u):
        # Unclipped, so items above the top of the scale still rank by their bias.
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_

    def _score_users(self, us):
        return (self.global_mean_ + self.user_bias_[us])[:, None] + self.item_bias_[None, :]

    def explain(self, user, item) -> dict:
        """The three terms of the prediction (0 for an unknown user or item)."""
        return self._bias_terms(user, item)


class MostPopular(Recommender):
    """Scores every item by its number of training ratings, the same list for every user.

    ``predict`` returns those counts (not ratings); an unknown item scores 0. Strong on ranking
    metrics, blind to taste: the baseline a personalised model has to beat.
    """

    def _fit(self, data: RatingData) -> None:
        self.counts_ = np.bincount(data.item_index, minlength=data.n_items).astype(np.float64)

    def _predict_known(self, u, i):
        return self.counts_[i]

    def _predict_fallback(self, u, i):
        return np.where(i >= 0, self.counts_[np.maximum(i, 0)], 0.0)

    def _score_user(self, u):
        return self.counts_

    def _score_users(self, us):
        return np.tile(np.asarray(self.counts_, dtype=np.float64), (len(us), 1))

    def _score_unknown_user(self):
        return self.counts_

    def explain(self, user, item) -> dict:
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        return {"n_ratings": int(self.counts_[i]) if i >= 0 else 0}


class RecentPopular(MostPopular):
    """Popularity *now*: items ranked by their number of interactions among the latest ``n_recent``
    training interactions (by timestamp; rows of the same second ordered by user, then item id).

    ``score(i) = recent(i) + all_time(i) / (n_ratings + 1)``: the all-time count, scaled below 1,
    only orders items with the same recent count (e.g. the many absent from the window).
    ``n_recent`` at least the number of training rows gives :class:`MostPopular`'s order. The window
    ends at the latest training interaction, so it is "recent" for a global cut-off; under a per-user
    split it reaches into other users' future (notebook 15). Needs a ``timestamp`` column.
    ``predict`` returns those scores; an unknown item scores 0. Fitted: ``recent_counts_``,
    ``all_counts_``, ``window_start_`` (the earliest timestamp inside the window).
    """

    def __init__(self, n_recent: int = 5000, unknown: str = "fallback"):
        super().__init__(unknown)
        self.n_recent = n_recent

    def _fit(self, data: RatingData) -> None:
        _whole("n_recent", self.n_recent)
        times = timestamp_key(data.ratings)
        order = np.lexsort((data.item_index, data.user_index, times))   # oldest first, ties by user, item
        latest = order[-int(self.n_recent):]
        self.all_counts_ = np.bincount(data.item_index, minlength=data.n_items).astype(np.float64)
        self.recent_counts_ = np.bincount(data.item_index[latest], minlength=data.n_items).astype(np.float64)
        self.window_start_ = data.ratings[TIMESTAMP].to_numpy()[latest[0]]
        self.counts_ = self.recent_counts_ + self.all_counts_ / (len(times) + 1)

    def explain(self, user, item) -> dict:
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        return {"recent": int(self.recent_counts_[i]) if i >= 0 else 0,
                "all_time": int(self.all_counts_[i]) if i >= 0 else 0}
