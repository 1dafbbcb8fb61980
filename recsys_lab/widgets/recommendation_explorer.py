"""Recommendation explorer (notebooks 11 and 12): several models' top-k side by side.

Pick an existing user, or *the new user* you create by rating movies
(:class:`~recsys_lab.widgets.new_user.NewUserRatings`); choose models and ``k``. Each model's
list shows titles, genres, scores and the model's own explanation, with the list's
**diversity** (intra-list diversity of the genre vectors, 0 = all alike) and **novelty**
(mean self-information ``-log2 p(i)`` in bits, ``p(i)`` = share of users who rated ``i``).

Models are given as fitted kit models, or as functions ``ratings -> fitted model``. For the
new user, a model that can fold a user in (``model.can_fold_in()``: MF, ItemKNN, the content
models and their hybrids) answers from the new ratings alone, without refitting (``model.fold_in``);
any other is fitted again on the ratings plus the new user's (a copy, see
:func:`recsys_lab.models.hybrid.clone`; your fitted models are not touched).

Pure pieces: :func:`recommendation_lists` (models and a user in, one :class:`RecList` per model
out), :func:`lists_html` and :func:`draw_comparison` (a static figure for the notebook).
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..data.schema import ITEM, USER
from ..features import ItemFeatures, genre_features
from ..metrics import intra_list_diversity, novelty, popularity_from_ratings
from ..models.base import Recommender
from ..models.hybrid import clone, explanation_text, fit_quietly
from .common import Explorer, InputError, check_movies, message_box, require, show_message


@dataclass
class RecList:
    """One model's list for one user: ``table`` (rank, item, title, genres, score, why),
    ``diversity`` and ``novelty`` (NaN when undefined), ``n_unrated`` (items without any rating,
    left out of novelty) and ``seconds`` (time of the ``recommend`` call; varies between runs)."""

    model: str
    table: pd.DataFrame
    diversity: float
    novelty: float
    n_unrated: int
    seconds: float


def list_diversity(items, genres: ItemFeatures) -> float:
    """Intra-list diversity of ``items`` on genre vectors; items without genres are left out."""
    items = list(items)
    items = [i for i, n in zip(items, genres.rows(items).getnnz(axis=1)) if n > 0]
    if len(items) < 2:
        return float("nan")
    return intra_list_diversity(items, genres.to_frame(items))


def list_novelty(items, popularity: pd.Series) -> tuple[float, int]:
    """Mean ``-log2 p(i)`` (:func:`~recsys_lab.metrics.novelty`) over the items with a popularity,
    and how many had none."""
    known = [i for i in items if i in popularity.index]
    return novelty([known], popularity), len(items) - len(known)


def recommendation_lists(models: dict, user, k: int, movies: pd.DataFrame, genres: ItemFeatures | None = None,
                         popularity: pd.Series | None = None, ratings: pd.DataFrame | None = None,
                         explain: bool = True) -> dict:
    """Top-``k`` of every fitted model in ``models`` (name -> model) for raw ``user``.

    ``genres`` (default: :func:`genre_features` of ``movies``) gives diversity; ``popularity``
    (default: :func:`popularity_from_ratings` of ``ratings``) gives novelty. Returns
    ``{name: RecList}`` in the order of ``models``. Raises :class:`InputError` for bad settings.
    """
    require(len(models) > 0, "Choose at least one model.")
    require(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= 100,
            f"k must be a whole number in 1..100, got {k!r}.")
    genres = genre_features(movies) if genres is None else genres
    if popularity is None:
        require(ratings is not None, "pass popularity=... or ratings=... to measure novelty")
        popularity = popularity_from_ratings(ratings)
    info = movies.set_index(ITEM)
    titles = lambda ids: [info["title"].get(i, f"<item {i}>") for i in ids]
    out = {}
    for name, model in models.items():
        start = time.perf_counter()
        try:
            recs = model.recommend(user, k=int(k))
        except KeyError as err:
            raise InputError(f"{name} cannot recommend for user {user!r}: {err}") from None
        seconds = time.perf_counter() - start
        items = recs[ITEM].tolist()
        why = [explanation_text(model, user, i, titles) if explain else "" for i in items]
        table = pd.DataFrame({"rank": np.arange(1, len(items) + 1), ITEM: items, "title": titles(items),
                              "genres": [", ".join(info["genres"].get(i, [])) for i in items],
                              "score": recs["score"].to_numpy(), "why": why})
        bits, n_unrated = list_novelty(items, popularity)
        out[name] = RecList(name, table, list_diversity(items, genres), bits, n_unrated, seconds)
    return out


def comparison_table(lists: dict) -> pd.DataFrame:
    """One row per model: diversity, novelty (bits) and the number of unrated (new) items listed."""
    return pd.DataFrame([{"model": r.model, "diversity": r.diversity, "novelty_bits": r.novelty,
                          "new_items": r.n_unrated} for r in lists.values()])


def lists_html(lists: dict) -> str:
    """The lists side by side as HTML (one column per model)."""
    columns = []
    for rec in lists.values():
        rows = "".join(
            f"<tr><td>{r['rank']}</td><td><b>{html.escape(str(r['title']))}</b><br>"
            f"<small>{html.escape(r['genres'])}</small></td><td>{r['score']:.3f}</td>"
            f"<td><small>{html.escape(r['why'])}</small></td></tr>" for _, r in rec.table.iterrows())
        footer = (f"diversity {rec.diversity:.2f} · novelty {rec.novelty:.1f} bits"
                  + (f" · {rec.n_unrated} new item(s)" if rec.n_unrated else "")
                  + f" · {rec.seconds * 1000:.0f} ms")
        columns.append(f'<div style="flex:1;min-width:280px;margin-right:12px"><h4>{html.escape(rec.model)}</h4>'
                       f'<table><tr><th>#</th><th>movie</th><th>score</th><th>why</th></tr>{rows}</table>'
                       f'<p><small>{footer}</small></p></div>')
    return f'<div style="display:flex;flex-wrap:wrap">{"".join(columns)}</div>'


def draw_comparison(lists: dict, fig: Figure | None = None) -> Figure:
    """Bar charts of each list's diversity and novelty (a static version of the explorer)."""
    table = comparison_table(lists)
    fig = fig if fig is not None else Figure(figsize=(10, 3.6))
    fig.clear()
    left, right = fig.subplots(1, 2)
    y = np.arange(len(table))
    left.barh(y, table["diversity"].fillna(0), color="tab:blue")
    left.set(yticks=y, yticklabels=table["model"], xlim=(0, 1), xlabel="intra-list diversity of genres (0-1)",
             title="How different are the movies in each list?")
    right.barh(y, table["novelty_bits"].fillna(0), color="tab:orange")
    right.set(yticks=y, yticklabels=[""] * len(y), xlabel="novelty (bits, higher = less popular)",
              title="How unknown are they?")
    for ax in (left, right):
        ax.invert_yaxis()
    fig.tight_layout()
    return fig


class RecommendationExplorer(Explorer):
    """Controls: ``mode`` (existing / new user), ``user`` (Dropdown), ``models`` (SelectMultiple),
    ``k`` (IntSlider). ``lists`` holds the last result (see :func:`recommendation_lists`)."""

    def __init__(self, models: dict, ratings: pd.DataFrame, movies: pd.DataFrame, new_user=None,
                 genres: ItemFeatures | None = None, user=None, k: int = 5, selected=None):
        require(len(models) > 0, "give at least one model")
        check_movies(movies, (ITEM, "title", "genres"))
        self.ratings, self.movies, self.new_user = ratings, movies, new_user
        self.genres = genre_features(movies) if genres is None else genres
        self.popularity = popularity_from_ratings(ratings)
        self._given, self._fitted, self._new_cache = dict(models), {}, {}
        users = sorted(ratings[USER].unique())
        self.mode = W.ToggleButtons(options=["existing user"] + (["new user"] if new_user else []),
                                    value="existing user")
        self.user = W.Dropdown(options=users, value=users[0] if user is None else user, description="user")
        self.k = W.IntSlider(value=k, min=1, max=20, description="k", continuous_update=False)
        names = list(models)
        self.models = W.SelectMultiple(options=names, value=tuple(selected or names[:3]), rows=min(len(names), 8),
                                       description="models")
        self.message = message_box()
        self.output = W.HTML()
        self.lists: dict = {}
        for control in (self.mode, self.user, self.k, self.models):
            control.observe(self._on_change, names="value")
        parts = [W.HBox([self.mode, self.user, self.k]), self.models, self.message, self.output]
        if new_user is not None:
            new_user.on_change(lambda _ratings: self.redraw() if self.mode.value == "new user" else None)
            parts.insert(0, new_user.widget)
        self.widget = W.VBox(parts)
        self._hold = False
        self.redraw()

    def _model(self, name: str) -> Recommender:
        if name not in self._fitted:
            given = self._given[name]
            self._fitted[name] = given if isinstance(given, Recommender) else given(self.ratings)
        return self._fitted[name]

    def _new_user_model(self, name: str) -> Recommender:
        extra = self.new_user.ratings
        key = (name, tuple(map(tuple, extra.itertuples(index=False))))
        if key not in self._new_cache:
            data = pd.concat([self.ratings[extra.columns.tolist()], extra], ignore_index=True)
            given = self._given[name]
            self._new_cache = {k: v for k, v in self._new_cache.items() if k[1] == key[1]}
            if isinstance(given, Recommender) and given.can_fold_in():     # no refit: solve for the new user alone
                try:
                    self._new_cache[key] = given.fold_in(extra, user=self.new_user.user)
                except ValueError as err:
                    raise InputError(f"{name}: {err}") from None
            elif isinstance(given, Recommender):
                self._new_cache[key] = fit_quietly(clone(given), data)
            else:
                self._new_cache[key] = given(data)
        return self._new_cache[key]

    def redraw(self) -> None:
        """Recompute the lists from the controls; a bad combination shows a message instead."""
        self.user.disabled = self.mode.value == "new user"  # the new user replaces the chosen one
        try:
            chosen = list(self.models.value)
            require(len(chosen) > 0, "Choose at least one model (ctrl/cmd-click to pick several).")
            start = time.perf_counter()
            if self.mode.value == "new user":
                require(len(self.new_user.ratings) > 0, "Rate at least one movie above to become the new user.")
                user, models = self.new_user.user, {n: self._new_user_model(n) for n in chosen}
            else:
                user, models = self.user.value, {n: self._model(n) for n in chosen}
            fit_seconds = time.perf_counter() - start
            lists = recommendation_lists(models, user, int(self.k.value), self.movies, self.genres, self.popularity)
        except InputError as err:
            show_message(self.message, str(err))
            return
        self.lists = lists
        note = f"served for you in {fit_seconds:.2f} s" if self.mode.value == "new user" else ""
        show_message(self.message, note, "info")
        self.output.value = lists_html(lists)
