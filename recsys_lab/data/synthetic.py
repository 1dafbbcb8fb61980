"""Synthetic ratings with a known answer (tests and quick demos; notebooks 06, 09).

Ratings are generated from planted low-rank structure,

    r_ui = mu + b_u + b_i + p_u . q_i + noise,   noise ~ N(0, noise^2),

with item factors drawn around a centroid per genre (so genres carry signal for
content-based models) and items sampled with a Zipf-like popularity skew (so a
long tail appears, as in real data). A correct model must recover the structure:
its test RMSE approaches ``noise``, and the error of "predict the truth" is exactly
the noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import ITEM, RATING, TIMESTAMP, USER, RatingScale


@dataclass
class SyntheticRatings:
    """Generated ratings plus the planted truth; row ``u - 1`` of each array belongs to raw id ``u``."""

    ratings: pd.DataFrame        # user, item, rating, timestamp, true_rating
    user_factors: np.ndarray     # (n_users, n_factors)
    item_factors: np.ndarray     # (n_items, n_factors)
    user_bias: np.ndarray        # (n_users,)
    item_bias: np.ndarray        # (n_items,)
    global_mean: float
    item_genres: pd.DataFrame    # item, genres (list of str)
    noise: float
    scale: RatingScale

    def true_rating(self, users, items) -> np.ndarray:
        """Noise-free rating of raw ids (users 1..n_users, items 1..n_items), clipped to the scale.

        This is the best prediction there is: its RMSE on the ratings is about ``noise``.
        """
        u, i = np.asarray(users) - 1, np.asarray(items) - 1
        return self.scale.clip(self.global_mean + self.user_bias[u] + self.item_bias[i]
                               + np.sum(self.user_factors[u] * self.item_factors[i], axis=-1))


def make_synthetic_ratings(n_users: int = 200, n_items: int = 150, n_factors: int = 3,
                           density: float = 0.1, noise: float = 0.3, n_genres: int = 5,
                           popularity_skew: float = 0.8, factor_scale: float = 0.6,
                           scale: RatingScale = RatingScale(1.0, 5.0), seed: int = 0) -> SyntheticRatings:
    """Generate a seeded rating set with planted factors, genres and popularity skew.

    ``density`` is the expected fraction of the user x item matrix that is rated; every user
    rates at least 3 items. Ratings are clipped to ``scale`` (rarely needed at the defaults).
    User and item raw ids are ``1..n_users`` and ``1..n_items``.
    """
    if n_users < 1 or n_items < 3:
        raise ValueError(f"need n_users >= 1 and n_items >= 3, got {n_users}, {n_items}")
    if not 0 < density <= 1:
        raise ValueError(f"density must lie in (0, 1], got {density}")
    if noise < 0 or n_factors < 1 or n_genres < 1:
        raise ValueError("noise must be >= 0, n_factors and n_genres >= 1")
    rng = np.random.default_rng(seed)
    mid = (scale.low + scale.high) / 2

    genre_names = [f"genre_{g}" for g in range(n_genres)]
    centroids = rng.normal(0, factor_scale, (n_genres, n_factors))
    main_genre = rng.integers(0, n_genres, n_items)
    second = np.where(rng.random(n_items) < 0.3, rng.integers(0, n_genres, n_items), main_genre)
    item_factors = centroids[main_genre] + rng.normal(0, factor_scale / 2, (n_items, n_factors))
    user_factors = rng.normal(0, factor_scale, (n_users, n_factors))
    user_bias = rng.normal(0, 0.3, n_users)
    item_bias = rng.normal(0, 0.3, n_items)
    # Popular items are also liked a little more, as in real catalogues.
    popularity = 1.0 / np.arange(1, n_items + 1) ** popularity_skew
    order = rng.permutation(n_items)
    item_pop = np.empty(n_items)
    item_pop[order] = popularity / popularity.sum()

    per_user = np.maximum(3, rng.binomial(n_items, density, n_users))
    users, items = [], []
    for u in range(n_users):  # sampling without replacement per user; small sizes only
        chosen = rng.choice(n_items, size=min(per_user[u], n_items), replace=False, p=item_pop)
        users.append(np.full(len(chosen), u))
        items.append(chosen)
    u_idx, i_idx = np.concatenate(users), np.concatenate(items)
    truth = mid + user_bias[u_idx] + item_bias[i_idx] + np.sum(user_factors[u_idx] * item_factors[i_idx], 1)
    observed = scale.clip(truth + rng.normal(0, noise, len(truth)))
    frame = pd.DataFrame({USER: u_idx + 1, ITEM: i_idx + 1, RATING: observed,
                          TIMESTAMP: rng.integers(1_000_000_000, 1_600_000_000, len(truth)),
                          "true_rating": scale.clip(truth)})
    genres = pd.DataFrame({ITEM: np.arange(1, n_items + 1),
                           "genres": [sorted({genre_names[a], genre_names[b]})
                                      for a, b in zip(main_genre, second)]})
    return SyntheticRatings(frame, user_factors, item_factors, user_bias, item_bias, float(mid),
                            genres, noise, scale)
