"""Similarity explorer (notebooks 07 and 08): how alike are the users, or the movies, you pick?

Pick users (by id) or movies (type part of a title, add the matches you want); choose the
measure, the minimum overlap and the shrinkage; the heatmap of their pairwise similarities
is redrawn, and a table lists the nearest neighbours (among *all* users or movies) of the
one you focus on. Each number comes from :func:`recsys_lab.similarity.similarity_matrix`.

Pure pieces: :func:`find_movies` (title search), :func:`compute_similarities` (validated
settings in, matrices and neighbour table out) and :func:`draw_similarities` (draws a result
into an axes); ``SimilarityExplorer.redraw()`` is what a control change runs.
"""
from __future__ import annotations

import html
import time

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..data.dataset import RatingData
from ..data.schema import ITEM, USER
from ..plotting import figure_to_png
from ..similarity import MEASURES, similarity_matrix
from ..topk import top_k
from .common import Explorer, InputError, check_movies, message_box, require, show_message

#: Movies shown when the explorer opens: two sagas, two animations and some classics.
DEFAULT_MOVIES = (1, 3114, 260, 1196, 2571, 296, 318, 356, 593, 2959)
MAX_SELECTED = 30


def find_movies(movies: pd.DataFrame, text: str, ratings: pd.DataFrame | None = None,
                limit: int = 20) -> pd.DataFrame:
    """Movies whose title contains ``text`` (case-insensitive), most-rated first when ``ratings`` is given.

    Returns a frame (``item``, ``title``, ``n_ratings``) of at most ``limit`` rows.
    """
    text = (text or "").strip()
    require(len(text) >= 2, "Type at least 2 letters of a title to search.")
    found = movies[movies["title"].str.contains(text, case=False, regex=False, na=False)][[ITEM, "title"]]
    counts = ratings[ITEM].value_counts() if ratings is not None else pd.Series(dtype=int)
    found = found.assign(n_ratings=found[ITEM].map(counts).fillna(0).astype(int))
    return found.sort_values(["n_ratings", ITEM], ascending=[False, True]).head(limit).reset_index(drop=True)


def compute_similarities(data: RatingData, kind: str, selected, similarity: str = "pearson",
                         min_overlap: int = 1, shrinkage: float = 0.0, focus=None, n_neighbours: int = 10,
                         labels: dict | None = None) -> dict:
    """Pairwise similarities among ``selected`` raw ids and the neighbours of ``focus``.

    ``kind`` is ``"users"`` (rows of the user x item matrix) or ``"movies"`` (rows of its
    transpose). Returns ``{"kind", "ids", "labels", "similarity", "overlap", "focus",
    "neighbours"}``: ``similarity`` / ``overlap`` have shape ``(m, m)`` for the ``m`` selected
    ids; ``neighbours`` is a frame (id, label, similarity, overlap) of the ``n_neighbours`` rows
    most similar to ``focus`` among all rows. ``labels`` maps raw ids to display names.
    Raises :class:`InputError` naming the problem for impossible settings.
    """
    require(kind in ("users", "movies"), f"kind must be 'users' or 'movies', got {kind!r}.")
    require(similarity in MEASURES, f"Unknown measure {similarity!r}; choose from {', '.join(MEASURES)}.")
    require(min_overlap is not None and int(min_overlap) == min_overlap and min_overlap >= 1,
            f"The minimum overlap must be a whole number >= 1, got {min_overlap!r}.")
    require(shrinkage is not None and np.isfinite(shrinkage) and shrinkage >= 0,
            f"Shrinkage must be a number >= 0, got {shrinkage!r}.")
    ids = list(dict.fromkeys(selected))
    require(len(ids) >= 2, f"Pick at least 2 {kind} to compare (you have {len(ids)}).")
    require(len(ids) <= MAX_SELECTED, f"Pick at most {MAX_SELECTED} {kind} (you have {len(ids)}).")
    id_map = data.users if kind == "users" else data.items
    pos = id_map.to_index(np.asarray(ids), missing="minus1")
    unknown = [i for i, p in zip(ids, pos) if p < 0]
    hint = (f"user ids run from {id_map.ids[0]} to {id_map.ids[-1]}" if kind == "users"
            else "pick movies from the search results")
    require(not unknown, f"No ratings for {kind[:-1]} id(s) {unknown[:5]}; {hint}.")
    matrix = data.to_csr() if kind == "users" else data.to_csr().T.tocsr()
    settings = dict(similarity=similarity, min_overlap=int(min_overlap), shrinkage=float(shrinkage))
    sim, overlap = similarity_matrix(matrix, rows=pos, others=pos, return_overlap=True, **settings)
    labels = labels or {}
    names = [labels.get(i, f"user {i}" if kind == "users" else f"movie {i}") for i in ids]
    focus = ids[0] if focus is None else focus
    require(focus in ids, f"The focus {focus!r} is not among the picked {kind}.")
    f = int(pos[ids.index(focus)])
    row, row_overlap = similarity_matrix(matrix, rows=[f], return_overlap=True, **settings)
    row, row_overlap = row[0], row_overlap[0]
    row[f] = -np.inf  # not your own neighbour
    order = top_k(row, n_neighbours)
    order = order[np.isfinite(row[order])]
    raw = id_map.to_raw(order)
    neighbours = pd.DataFrame({USER if kind == "users" else ITEM: raw,
                               "name": [labels.get(i, f"user {i}" if kind == "users" else f"movie {i}")
                                        for i in raw],
                               "similarity": row[order], "overlap": row_overlap[order].astype(int)})
    return {"kind": kind, "ids": ids, "labels": names, "similarity": sim, "overlap": overlap,
            "focus": focus, "focus_label": names[ids.index(focus)], "neighbours": neighbours,
            "settings": settings}


class SimilarityDrawing:
    """Heatmap axes whose image, colour bar and cell labels are kept between redraws (faster)."""

    def __init__(self, ax):
        self.ax = ax
        self.image = ax.imshow(np.zeros((2, 2)), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        self.colorbar = ax.figure.colorbar(self.image, ax=ax, label="similarity", fraction=0.046, pad=0.04)
        self.cells = []

    def update(self, result: dict) -> None:
        s, sim = result["settings"], result["similarity"].astype(float)
        np.fill_diagonal(sim, np.nan)  # each with itself says nothing: left blank
        m = len(sim)
        short = [name if len(name) <= 28 else name[:26] + "…" for name in result["labels"]]
        low = 0.0 if s["similarity"] in ("jaccard", "msd", "cosine", "cosine_naive") else -1.0
        self.image.set_data(sim)
        self.image.set_extent((-0.5, m - 0.5, m - 0.5, -0.5))
        self.image.set_cmap("viridis" if low == 0 else "RdBu_r")
        self.image.set_clim(low, 1.0)
        self.ax.set_xticks(range(m), labels=short, rotation=45, ha="right", fontsize=8)
        self.ax.set_yticks(range(m), labels=short, fontsize=8)
        self.ax.set_xlim(-0.5, m - 0.5)
        self.ax.set_ylim(m - 0.5, -0.5)
        while len(self.cells) < m * m and m <= 15:
            self.cells.append(self.ax.text(0, 0, "", ha="center", va="center", fontsize=7))
        for n, cell in enumerate(self.cells):
            r, c = divmod(n, m) if m <= 15 else (m, m)
            cell.set_visible(r < m)
            if r < m:
                value = sim[r, c]
                strong = (value - low) / (1.0 - low) < 0.35 if low == 0 else abs(value) > 0.6
                cell.set_position((c, r))
                cell.set_text("" if np.isnan(value) else f"{value:.2f}")
                cell.set_color("white" if strong else "black")
        self.ax.set_title(f"{s['similarity']} similarity of {m} {result['kind']}\n"
                          f"(min overlap {s['min_overlap']}, shrinkage {s['shrinkage']:g})")


def draw_similarities(ax, result: dict) -> SimilarityDrawing:
    """Draw a :func:`compute_similarities` result as a heatmap into ``ax`` (for a static figure)."""
    drawing = SimilarityDrawing(ax)
    drawing.update(result)
    return drawing


def neighbour_table_html(result: dict) -> str:
    """The neighbour table of a result as HTML (what the explorer shows under the heatmap)."""
    table = result["neighbours"].assign(similarity=result["neighbours"]["similarity"].round(3))
    head = f"<b>Nearest {result['kind']} to {html.escape(str(result['focus_label']))}</b>"
    return head + table.to_html(index=False, escape=True)


class SimilarityExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it.

    ``ratings``: tidy frame (user, item, rating); ``movies``: the MovieLens movies table.
    """

    def __init__(self, ratings: pd.DataFrame, movies: pd.DataFrame, kind: str = "movies",
                 users=(1, 2, 3, 4, 5, 6, 7, 8), movie_ids=DEFAULT_MOVIES, similarity: str = "pearson",
                 min_overlap: int = 5, shrinkage: float = 0.0):
        check_movies(movies)
        self.data = RatingData(ratings)
        self.ratings, self.movies = ratings, movies
        self.titles = dict(zip(movies[ITEM], movies["title"]))
        self.result, self.last_redraw_seconds = None, None
        style = {"description_width": "110px"}
        self.kind = W.ToggleButtons(options=["users", "movies"], value=kind, description="compare")
        self.users = W.Text(value=", ".join(map(str, users)), description="user ids", style=style,
                            continuous_update=False, layout=W.Layout(width="420px"))
        self.search = W.Text(value="", placeholder="part of a title, e.g. star wars", description="find movie",
                             style=style, continuous_update=False, layout=W.Layout(width="420px"))
        self.matches = W.SelectMultiple(options=[], rows=5, description="matches", style=style,
                                        layout=W.Layout(width="520px"))
        self.add = W.Button(description="add selected", icon="plus")
        self.chosen = W.SelectMultiple(options=[(self.titles.get(i, str(i)), i) for i in movie_ids],
                                       rows=6, description="chosen movies", style=style,
                                       layout=W.Layout(width="520px"))
        self.remove = W.Button(description="remove selected", icon="minus")
        self.similarity = W.Dropdown(options=list(MEASURES), value=similarity, description="measure")
        self.min_overlap = W.IntSlider(value=min_overlap, min=1, max=50, description="min overlap",
                                       continuous_update=False)
        self.shrinkage = W.FloatSlider(value=shrinkage, min=0.0, max=200.0, step=5.0, description="shrinkage",
                                       continuous_update=False)
        self.focus = W.Dropdown(options=[], description="neighbours of", style=style)
        self.message = message_box()
        self.image = W.Image(format="png")
        self.table = W.HTML()
        self.figure = Figure(figsize=(7.5, 6.0), dpi=72)
        self.drawing = SimilarityDrawing(self.figure.add_axes((0.30, 0.27, 0.55, 0.62)))
        self.search.observe(lambda _c: self.find(), names="value")
        self.add.on_click(lambda _b: self.add_matches())
        self.remove.on_click(lambda _b: self.remove_chosen())
        for control in (self.kind, self.users, self.similarity, self.min_overlap, self.shrinkage):
            control.observe(self._on_change, names="value")
        self.focus.observe(self._on_change, names="value")
        self.movie_box = W.VBox([self.search, W.HBox([self.matches, self.add]),
                                 W.HBox([self.chosen, self.remove])])
        self.widget = W.VBox([self.kind, self.users, self.movie_box,
                              W.HBox([self.similarity, self.min_overlap, self.shrinkage]), self.focus,
                              self.message, W.HBox([self.image, self.table])])
        self._hold = False
        self.redraw()

    # ----- choosing what to compare ----------------------------------------------------
    def selected(self) -> list:
        """Raw ids currently picked (users parsed from the text box, or the chosen movies)."""
        if self.kind.value == "movies":
            return [value for _, value in self.chosen.options]
        parts = [p.strip() for p in self.users.value.replace(";", ",").split(",") if p.strip()]
        bad = [p for p in parts if not p.lstrip("-").isdigit()]
        if bad:
            raise InputError(f"User ids must be whole numbers separated by commas; {bad[0]!r} is not.")
        return [int(p) for p in parts]

    def find(self) -> None:
        """Fill the match list from the search box."""
        try:
            found = find_movies(self.movies, self.search.value, self.ratings)
        except InputError as err:
            show_message(self.message, str(err), "info")
            return
        self.matches.options = [(f"{t} ({n} ratings)", i) for i, t, n in found.itertuples(index=False)]
        show_message(self.message, "" if len(found) else f"No title contains {self.search.value!r}.", "info")

    def add_matches(self) -> None:
        """Add the highlighted matches to the chosen movies and redraw."""
        have = [v for _, v in self.chosen.options]
        new = [i for i in self.matches.value if i not in have]
        self.chosen.options = list(self.chosen.options) + [(self.titles.get(i, str(i)), i) for i in new]
        self.redraw()

    def remove_chosen(self) -> None:
        """Remove the highlighted chosen movies and redraw."""
        drop = set(self.chosen.value)
        self.chosen.options = [(t, i) for t, i in self.chosen.options if i not in drop]
        self.redraw()

    # ----- drawing ----------------------------------------------------------------------
    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on impossible settings."""
        t0 = time.perf_counter()
        movies = self.kind.value == "movies"
        self.movie_box.layout.display = "" if movies else "none"
        self.users.layout.display = "none" if movies else ""
        try:
            ids = self.selected()
            focus = self.focus.value if self.focus.value in ids else (ids[0] if ids else None)
            labels = self.titles if movies else None
            self.result = compute_similarities(self.data, self.kind.value, ids, self.similarity.value,
                                               self.min_overlap.value, self.shrinkage.value, focus,
                                               labels=labels)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        show_message(self.message, "")
        options = list(zip(self.result["labels"], self.result["ids"]))
        if list(self.focus.options) != options:
            with self.quietly():
                self.focus.options = options
                self.focus.value = self.result["focus"]
        self.drawing.update(self.result)
        self.image.value = figure_to_png(self.figure)
        self.table.value = neighbour_table_html(self.result)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
