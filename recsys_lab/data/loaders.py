"""Reading rating data safely: any CSV or DataFrame, and the shipped MovieLens set (notebooks 00, 06).

:func:`load_ratings` is strict on purpose. A recommender trained on a file read with
the wrong delimiter, a stray text value or a duplicated rating gives wrong answers
without complaint, so every problem stops the load with a message naming the
source, the line (or row label), the column, the value and what would be right.
Rows are removed only on request (``duplicates="last"`` or ``"mean"``), and every
removal is counted in a :class:`LoadReport` and announced with a warning.
The checks themselves live in :mod:`recsys_lab.data.schema`; :class:`recsys_lab.data.RatingData`
(so every model's ``fit``) runs the same ones on the frames it is given.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import (ITEM, MOVIELENS_SCALE, RATING, TIMESTAMP, USER, RatingScale, check_columns, check_ids,
                     check_scale, check_unique_pairs, numeric_column)

_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "::": "'::'"}


class DataWarning(UserWarning):
    """Rows were changed or removed on request; the message says how many and why."""


@dataclass
class LoadReport:
    """What :func:`load_ratings` read and what it changed (kept in ``frame.attrs["load_report"]``)."""

    source: str
    rows_read: int
    rows_kept: int
    duplicates_found: int = 0
    duplicate_policy: str = "error"

    @property
    def rows_removed(self) -> int:
        return self.rows_read - self.rows_kept


def _read_csv(path: Path, sep: str, encoding: str) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line} has bytes that are not valid {encoding} "
            f"({raw[err.start:err.start + 4]!r} at byte {err.start}); "
            f"save the file as UTF-8 or pass the right encoding=...") from None
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; expected a header line and rating rows")
    return pd.read_csv(io.StringIO(text), sep=sep, engine="python" if len(sep) > 1 else "c",
                       dtype=str, keep_default_na=False, na_values=[""])


def _check_delimiter(frame: pd.DataFrame, name: str, sep: str) -> None:
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for other, label in _SEPARATORS.items():
        if other != sep and other in header:
            raise ValueError(
                f"{name}: every line was read as one column {header!r}; the file looks "
                f"{label}-separated, so pass sep={other!r}")


def load_ratings(source, columns: dict | None = None, scale: RatingScale | None = MOVIELENS_SCALE,
                 duplicates: str = "error", sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """Read and validate ratings from a CSV path or a DataFrame.

    Parameters
    ----------
    source : path or DataFrame
    columns : mapping from the kit's names to the source's, e.g.
        ``{"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp"}``.
        ``timestamp`` is optional; the default mapping is the identity.
    scale : the allowed rating range (and grid, if ``scale.step`` is set); ``None`` skips the check.
    duplicates : what to do when a (user, item) pair occurs more than once:
        ``"error"`` (default), ``"last"`` (keep the last row) or ``"mean"`` (average the ratings,
        keep the latest timestamp). Any removal is reported.

    Returns
    -------
    DataFrame with columns ``user``, ``item``, ``rating`` (float64) and ``timestamp`` (int64) when
    mapped; ``frame.attrs["load_report"]`` is the :class:`LoadReport`.
    """
    if duplicates not in ("error", "last", "mean"):
        raise ValueError(f"duplicates must be 'error', 'last' or 'mean', got {duplicates!r}")
    mapping = {USER: USER, ITEM: ITEM, RATING: RATING}
    mapping.update(columns or {})
    unknown_keys = set(mapping) - {USER, ITEM, RATING, TIMESTAMP}
    if unknown_keys:
        raise ValueError(f"columns mapping has unknown key(s) {sorted(unknown_keys)}; "
                         f"use the kit's names {[USER, ITEM, RATING, TIMESTAMP]}")

    is_file = not isinstance(source, pd.DataFrame)
    if is_file:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no such file")
        frame = _read_csv(path, sep, encoding)
        _check_delimiter(frame, name, sep)
    else:
        name, frame = "DataFrame", source

    check_columns(frame, mapping, name, "Pass columns={...} to map them.")
    if len(frame) == 0:
        raise ValueError(f"{name}: no rating rows (only a header)")

    out = pd.DataFrame({kit: frame[src] for kit, src in mapping.items()})
    for kit in (USER, ITEM):
        check_ids(out[kit], mapping[kit], name, is_file, kit)
        if is_file:  # ids that are whole numbers become integers, as in MovieLens
            as_num = pd.to_numeric(out[kit], errors="coerce")
            if as_num.notna().all() and (as_num == np.floor(as_num)).all():
                out[kit] = as_num.astype(np.int64)

    out[RATING] = numeric_column(out[RATING], mapping[RATING], name, is_file, "rating")
    if TIMESTAMP in mapping:
        out[TIMESTAMP] = numeric_column(out[TIMESTAMP], mapping[TIMESTAMP], name, is_file,
                                        "timestamp").astype(np.int64)
    if scale is not None:
        check_scale(out[RATING], scale, mapping[RATING], name, is_file)

    rows_read = len(out)
    if duplicates == "error":
        check_unique_pairs(out[USER], out[ITEM], name, is_file,
                           "Pass duplicates='last' or 'mean' to merge them.")
    n_dup = int(out.duplicated([USER, ITEM], keep="first").sum())
    if n_dup and duplicates == "last":
        out = out.drop_duplicates([USER, ITEM], keep="last")
    elif n_dup:
        agg = {RATING: "mean"}
        if TIMESTAMP in out:
            agg[TIMESTAMP] = "max"
        out = out.groupby([USER, ITEM], as_index=False, sort=False).agg(agg)
    out = out.reset_index(drop=True)
    report = LoadReport(name, rows_read, len(out), n_dup, duplicates)
    if n_dup:
        warnings.warn(f"{name}: {n_dup} duplicate rating row(s) merged with duplicates="
                      f"{duplicates!r}; {report.rows_kept} of {rows_read} rows kept",
                      DataWarning, stacklevel=2)
    out.attrs["load_report"] = report
    return out


def default_data_dir() -> Path:
    """``datasets/`` of the repository (or ``$RECSYS_LAB_DATA`` when set)."""
    env = os.environ.get("RECSYS_LAB_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "datasets"


@dataclass
class MovieLens:
    """The four tidy tables of a MovieLens data set."""

    ratings: pd.DataFrame  # user, item, rating, timestamp
    movies: pd.DataFrame   # item, title, year, genres (list of str)
    tags: pd.DataFrame     # user, item, tag, timestamp
    links: pd.DataFrame    # item, imdb_id, tmdb_id

    def titles(self, items) -> list[str]:
        """Titles of raw item ids, in order; unknown ids give ``'<unknown item ID>'``."""
        lookup = self.movies.set_index(ITEM)["title"]
        return [lookup.get(i, f"<unknown item {i}>") for i in items]


_YEAR = re.compile(r"\((\d{4})(?:[-–]\d{0,4})?\)\s*$")


def load_movielens(path=None) -> MovieLens:
    """Load ml-latest-small (shipped in ``datasets/``; no download ever happens).

    ``path`` is the folder holding ``ratings.csv``, ``movies.csv``, ``tags.csv`` and ``links.csv``.
    """
    folder = Path(path) if path is not None else default_data_dir() / "ml-latest-small"
    if not (folder / "ratings.csv").is_file():
        raise FileNotFoundError(f"{folder}: no ratings.csv here; expected the MovieLens folder "
                                f"shipped in the repository's datasets/ (or set RECSYS_LAB_DATA)")
    ratings = load_ratings(folder / "ratings.csv", columns={
        USER: "userId", ITEM: "movieId", RATING: "rating", TIMESTAMP: "timestamp"})
    raw = pd.read_csv(folder / "movies.csv", dtype={"movieId": np.int64, "title": str, "genres": str})
    movies = pd.DataFrame({
        ITEM: raw["movieId"],
        "title": raw["title"].str.strip(),
        "year": raw["title"].str.strip().str.extract(_YEAR, expand=False).astype("Int64"),
        "genres": [[] if g == "(no genres listed)" else g.split("|") for g in raw["genres"]],
    })
    tags = pd.read_csv(folder / "tags.csv").rename(columns={"userId": USER, "movieId": ITEM})
    links = pd.read_csv(folder / "links.csv", dtype={"imdbId": str}).rename(
        columns={"movieId": ITEM, "imdbId": "imdb_id", "tmdbId": "tmdb_id"})
    links["tmdb_id"] = links["tmdb_id"].astype("Int64")
    return MovieLens(ratings, movies, tags[[USER, ITEM, "tag", TIMESTAMP]], links)
