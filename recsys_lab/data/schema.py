"""Column names and the rating scale every part of the kit agrees on (notebook 00, 06).

Ratings travel through the kit as a tidy :class:`pandas.DataFrame` with one row per
(user, item) pair and the columns below. User and item ids are the *raw* ids of the
data set (MovieLens ``userId`` / ``movieId``); integer positions only appear inside
models and rating matrices, through :class:`recsys_lab.data.IdMap`.
"""
from __future__ import annotations

from dataclasses import dataclass

USER = "user"
ITEM = "item"
RATING = "rating"
TIMESTAMP = "timestamp"
RATING_COLUMNS = (USER, ITEM, RATING)


@dataclass(frozen=True)
class RatingScale:
    """The closed range ``[low, high]`` ratings may take, optionally on a grid of ``step``.

    MovieLens uses 0.5 to 5.0 stars in half-star steps: ``RatingScale(0.5, 5.0, 0.5)``.
    """

    low: float
    high: float
    step: float | None = None

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"RatingScale needs low < high, got low={self.low}, high={self.high}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"RatingScale step must be positive, got {self.step}")

    def clip(self, values):
        """Clip predictions (array-like) into the scale; returns a numpy array."""
        import numpy as np

        return np.clip(np.asarray(values, dtype=float), self.low, self.high)


MOVIELENS_SCALE = RatingScale(0.5, 5.0, 0.5)
