"""Describing a rating set in a few numbers (notebooks 00, 06)."""
from __future__ import annotations

import pandas as pd

from .schema import ITEM, RATING, USER


def describe_ratings(ratings: pd.DataFrame) -> dict:
    """Counts, density and rating statistics of a tidy ratings frame.

    ``density`` is the fraction of the user x item matrix that holds a rating;
    ``sparsity = 1 - density``.
    """
    n_users, n_items = ratings[USER].nunique(), ratings[ITEM].nunique()
    per_user = ratings.groupby(USER).size()
    density = len(ratings) / (n_users * n_items) if len(ratings) else 0.0
    return {
        "ratings": len(ratings), "users": n_users, "items": n_items,
        "density": density, "sparsity": 1 - density,
        "mean_rating": float(ratings[RATING].mean()),
        "median_ratings_per_user": float(per_user.median()),
        "min_ratings_per_user": int(per_user.min()),
    }


def top_rated(ratings: pd.DataFrame, movies: pd.DataFrame, min_ratings: int = 50,
              n: int = 10, damping: float = 0.0) -> pd.DataFrame:
    """The ``n`` items with the highest mean rating among those with at least ``min_ratings``.

    With ``damping = m > 0`` the mean is shrunk towards the global mean as if each item had
    ``m`` extra ratings at the global mean: ``(sum + m * mu) / (count + m)``. Ties break by item id.
    """
    if min_ratings < 1 or n < 1 or damping < 0:
        raise ValueError(f"need min_ratings >= 1, n >= 1, damping >= 0; "
                         f"got {min_ratings}, {n}, {damping}")
    mu = ratings[RATING].mean()
    stats = ratings.groupby(ITEM)[RATING].agg(["count", "sum"])
    stats["score"] = (stats["sum"] + damping * mu) / (stats["count"] + damping)
    stats = stats[stats["count"] >= min_ratings].reset_index()
    stats = stats.sort_values(["score", ITEM], ascending=[False, True]).head(n)
    out = stats.merge(movies[[ITEM, "title"]], on=ITEM, how="left")
    return out[[ITEM, "title", "count", "score"]].reset_index(drop=True)
