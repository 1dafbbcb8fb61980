"""Column names, the rating scale, and the checks every ratings frame passes (notebooks 00, 06).

Ratings travel through the kit as a tidy :class:`pandas.DataFrame` with one row per
(user, item) pair and the columns below. User and item ids are the *raw* ids of the
data set (MovieLens ``userId`` / ``movieId``); integer positions only appear inside
models and rating matrices, through :class:`recsys_lab.data.IdMap`.

The checks below are the one definition of a valid ratings frame. :func:`recsys_lab.data.load_ratings`
runs them on a file or frame it reads, and :class:`recsys_lab.data.RatingData` (so every model's
``fit``) runs :func:`check_ratings_frame` on the frame it is given. A bad value stops with a message
naming the source, the row label (or file line), the column, the value and what would be right.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
        return np.clip(np.asarray(values, dtype=float), self.low, self.high)


MOVIELENS_SCALE = RatingScale(0.5, 5.0, 0.5)


# ----------------------------------------------------------------------------------------
# Checks shared by load_ratings and RatingData. ``name`` is the source ("ratings.csv",
# "ratings frame"); ``is_file`` makes places read "line 7" (1-based, header = line 1)
# instead of "row 5" (the frame's index label).
# ----------------------------------------------------------------------------------------

def plain(value):
    """numpy scalars print as ``np.float64(6.0)``; messages show plain ``6.0``."""
    return value.item() if isinstance(value, np.generic) else value


def place(index: pd.Index, pos: int, is_file: bool = False) -> str:
    """Where the row at 0-based position ``pos`` is: ``"line 7"`` in a file (line 1 is the header),
    ``"row 'a'"`` (its index label) in a frame, plus ``"(position 5)"`` when labels repeat."""
    if is_file:
        return f"line {pos + 2}"
    label = f"row {plain(index[pos])!r}"
    return label if index.is_unique else f"{label} (position {pos})"


def _first(mask, values: pd.Series, is_file: bool):
    """Place and value of the first row where ``mask`` holds."""
    pos = int(np.flatnonzero(np.asarray(mask))[0])
    return place(values.index, pos, is_file), plain(values.iloc[pos])


def check_columns(frame: pd.DataFrame, mapping: dict, name: str, hint: str) -> None:
    """Every source column of ``mapping`` (kit name -> source name) is in ``frame``, exactly once."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame with columns {list(mapping.values())}, "
                        f"got {type(frame).__name__}")
    found = list(map(str, frame.columns))
    missing = [repr(src) + (f" (for {kit})" if src != kit else "") for kit, src in mapping.items()
               if src not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; found {found}. {hint}")
    twice = [src for src in mapping.values() if list(frame.columns).count(src) > 1]
    if twice:
        raise ValueError(f"{name}: column {twice[0]!r} appears more than once; keep one of them")


def _id_kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "a bool"
    if isinstance(value, numbers.Number):
        return "a number"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def check_ids(values: pd.Series, src: str, name: str, is_file: bool = False, what: str = USER) -> None:
    """Ids of one column: none missing, each a number or a string, not numbers and text mixed."""
    missing = values.isna().to_numpy()
    if missing.any():
        at, value = _first(missing, values, is_file)
        raise ValueError(f"{name}: {at}, column {src!r}: missing {what} id {value!r} "
                         f"({int(missing.sum())} such rows); every row needs one (fill it in or drop those rows)")
    if pd.api.types.is_bool_dtype(values.dtype):
        at, value = _first(np.ones(len(values), dtype=bool), values, is_file)
        raise ValueError(f"{name}: {at}, column {src!r}: {what} id {value!r} is a bool; "
                         f"an id must be a number or a string")
    if values.dtype != object:
        return
    kinds = values.map(_id_kind)
    odd = ~kinds.isin(["a number", "text"]).to_numpy()
    if odd.any():
        at, value = _first(odd, values, is_file)
        raise ValueError(f"{name}: {at}, column {src!r}: {what} id {value!r} is "
                         f"{kinds.loc[odd].iloc[0]}; an id must be a number or a string")
    mixed = (kinds != kinds.iloc[0]).to_numpy()
    if mixed.any():
        at, value = _first(mixed, values, is_file)
        first_value = plain(values.iloc[0])
        raise ValueError(f"{name}: {at}, column {src!r}: {what} id {value!r} is "
                         f"{kinds.loc[mixed].iloc[0]} but {place(values.index, 0, is_file)} holds "
                         f"{kinds.iloc[0]} ({first_value!r}); use one kind of id per column, "
                         f"e.g. frame[{src!r}].astype(str)")


def numeric_column(values: pd.Series, src: str, name: str, is_file: bool = False,
                   what: str = RATING) -> pd.Series:
    """``values`` as float64; stops at the first value that is missing, not a number or infinite."""
    numeric = pd.to_numeric(values, errors="coerce")
    as_float = numeric.astype(np.float64)
    bad = ~np.isfinite(as_float.to_numpy())
    if bad.any():
        at, value = _first(bad, values, is_file)
        pos = int(np.flatnonzero(bad)[0])
        kind = ("missing" if pd.isna(value) else "not a number" if np.isnan(as_float.iloc[pos])
                else "not finite")
        raise ValueError(f"{name}: {at}, column {src!r}: {what} {value!r} is {kind} "
                         f"({int(bad.sum())} such rows); every {what} must be a finite number")
    return as_float


def check_scale(ratings: pd.Series, scale: RatingScale, src: str, name: str, is_file: bool = False) -> None:
    """Every rating lies in ``scale`` (and on its grid when ``scale.step`` is set)."""
    out = (ratings < scale.low) | (ratings > scale.high)
    if scale.step is not None:
        steps = (ratings - scale.low) / scale.step
        out |= ~np.isclose(steps, np.round(steps))
    if out.any():
        at, value = _first(out.to_numpy(), ratings, is_file)
        grid = f" in steps of {scale.step}" if scale.step else ""
        raise ValueError(f"{name}: {at}, column {src!r}: rating {value!r} is outside "
                         f"the scale {scale.low}..{scale.high}{grid} ({int(out.sum())} such rows); "
                         f"pass the right scale=RatingScale(...)")


def check_unique_pairs(users: pd.Series, items: pd.Series, name: str, is_file: bool, hint: str) -> None:
    """No (user, item) pair occurs twice; the message names the first pair and up to three of its rows."""
    pairs = pd.DataFrame({USER: users.to_numpy(), ITEM: items.to_numpy()})
    repeated = pairs.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    pos = int(np.flatnonzero(repeated)[0])
    user, item = plain(users.iloc[pos]), plain(items.iloc[pos])
    first = pairs.iloc[pos]
    same = np.flatnonzero(((pairs[USER] == first[USER]) & (pairs[ITEM] == first[ITEM])).to_numpy())
    at = " and ".join(place(users.index, int(p), is_file) for p in same[:3])
    raise ValueError(f"{name}: {int(repeated.sum())} duplicate (user, item) pair(s); the first is user "
                     f"{user!r}, item {item!r} at {at}. {hint}")


def check_ratings_frame(ratings: pd.DataFrame, name: str = "ratings frame",
                        scale: RatingScale | None = None) -> pd.Series:
    """Check a tidy ratings frame (``user``, ``item``, ``rating``); return its ratings as float64.

    Refused: a missing column, no rows, a missing / bool / list-like id, numbers and text mixed in
    one id column, a rating that is missing, not a number or infinite, a (user, item) pair twice,
    and, only when ``scale`` is given, a rating off the scale. Without a scale any finite rating
    is accepted: models are also fitted on synthetic scales and on implicit 1s.
    """
    check_columns(ratings, {c: c for c in RATING_COLUMNS}, name,
                  "A ratings frame has columns 'user', 'item' and 'rating'; "
                  "load_ratings(source, columns={...}) renames others.")
    if len(ratings) == 0:
        raise ValueError(f"{name}: no rating rows (0 rows); give at least one (user, item, rating) row")
    for column in (USER, ITEM):
        check_ids(ratings[column], column, name, False, column)
    values = numeric_column(ratings[RATING], RATING, name, False, RATING)
    if scale is not None:
        check_scale(values, scale, RATING, name, False)
    check_unique_pairs(ratings[USER], ratings[ITEM], name, False,
                       "Merge them first, e.g. load_ratings(frame, duplicates='mean', scale=None), "
                       "or keep one row per pair.")
    return values
