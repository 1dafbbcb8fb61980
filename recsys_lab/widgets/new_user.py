"""Become a new user (notebook 12): rate a few movies and let the models serve you.

Type a title (the list suggests the most-rated movies; any exact MovieLens title works),
pick a rating, press *rate it*. Your ratings form a tiny ratings frame for a user id nobody
has; :class:`recsys_lab.widgets.recommendation_explorer.RecommendationExplorer` listens to
it and serves you.

**Fast: folded in, not refitted.** Give the explorer ``new_user.serve(models)`` instead of the
fitted models: every model that can fold a user in (MF, ItemKNN, the content models, hybrids of
them: :meth:`recsys_lab.models.base.Recommender.fold_in`) then answers for you from your
ratings alone, in milliseconds, the fitted model unchanged; a model that cannot is refitted on
the ratings plus yours, and the message line says so while it works.

Pure pieces: :func:`add_rating` (validated rating in, new frame out), :func:`fold_in_or_refit`.
"""
from __future__ import annotations

import html
import math
import numbers

import ipywidgets as W
import pandas as pd

from ..data.schema import ITEM, MOVIELENS_SCALE, RATING, USER, RatingScale
from ..models.base import Recommender
from ..models.hybrid import clone, fit_quietly
from .common import Explorer, InputError, check_movies, message_box, require, show_message


def new_user_id(ratings: pd.DataFrame) -> int:
    """One more than the largest (integer) user id in ``ratings``: an id nobody has."""
    users = pd.to_numeric(ratings[USER], errors="coerce")
    require(users.notna().all(), "user ids are not all numbers; pass user=... explicitly")
    return int(users.max()) + 1


def find_movie(movies: pd.DataFrame, title_or_item) -> int:
    """Raw item id of a movie given by id or exact title (case and outer spaces ignored)."""
    if isinstance(title_or_item, str):
        text = title_or_item.strip().lower()
        require(text != "", "Type a movie title first.")
        titles = movies["title"].astype(str).str.lower()  # a missing title (NaN) matches nothing typed
        hits = movies.loc[(titles == text) & movies["title"].notna(), ITEM]
        if len(hits) == 0:
            near = movies.loc[titles.str.contains(text, regex=False) & movies["title"].notna(), "title"].head(3)
            hint = f" Did you mean: {'; '.join(near)}?" if len(near) else ""
            raise InputError(f"No movie is titled {title_or_item.strip()!r}.{hint}")
        return int(hits.iloc[0])
    require(isinstance(title_or_item, numbers.Number) and not isinstance(title_or_item, bool),
            f"Give a movie title (text) or a movie id (a number), not {title_or_item!r}.")
    require(title_or_item in set(movies[ITEM]), f"No movie has id {title_or_item!r}.")
    return int(title_or_item)


def add_rating(current: pd.DataFrame, movies: pd.DataFrame, title_or_item, rating: float,
               user: int, scale: RatingScale = MOVIELENS_SCALE) -> pd.DataFrame:
    """``current`` (``user, item, rating``) with one more rating; re-rating a movie replaces it.

    Raises :class:`InputError` for an unknown movie, or a rating that is not a number or is off ``scale``.
    """
    item = find_movie(movies, title_or_item)
    given = rating
    try:
        rating = math.nan if isinstance(rating, bool) else float(rating)
    except (TypeError, ValueError):
        rating = math.nan  # not a number: refused below, quoting what was given
    steps = (rating - scale.low) / scale.step if scale.step else 0.0
    require(scale.low <= rating <= scale.high and (scale.step is None or abs(steps - round(steps)) < 1e-9),
            f"A rating must lie in {scale.low}..{scale.high}" + (f" in steps of {scale.step}" if scale.step else "")
            + f"; got {given!r}.")
    kept = current[current[ITEM] != item]
    row = pd.DataFrame({USER: [user], ITEM: [item], RATING: [float(rating)]})
    return pd.concat([kept, row], ignore_index=True) if len(kept) else row


def fold_in_or_refit(model: Recommender, user, notify=None):
    """A function ``ratings -> model`` for a recommendation explorer, serving new ``user`` fast.

    Called with ratings that hold no row of ``user`` it returns the fitted ``model`` itself; with
    rows of ``user`` it returns ``model.fold_in(those rows)`` (a
    :class:`~recsys_lab.models.base.FoldedUser`: no refit) when the model can fold a user in, else
    a refitted copy of ``model`` on all the ratings, after calling ``notify(text)`` to say so.
    A rating the model refuses (e.g. a movie it does not know) raises :class:`InputError`.
    """
    require(isinstance(model, Recommender), f"give a fitted kit model, not {type(model).__name__}")
    foldable = model.can_fold_in()

    def serve(ratings: pd.DataFrame):
        mine = ratings[ratings[USER] == user]
        if len(mine) == 0:
            return model
        if foldable:
            try:
                return model.fold_in(mine[[USER, ITEM, RATING]], user=user)
            except ValueError as err:
                raise InputError(f"{type(model).__name__}: {err}") from None
        if notify is not None:
            notify(f"refitting {type(model).__name__} on the ratings plus yours (it cannot fold a new "
                   f"user in); this takes a few seconds…")
        return fit_quietly(clone(model), ratings)

    return serve


class NewUserRatings(Explorer):
    """Controls: ``title`` (Combobox), ``rating`` (FloatSlider), buttons ``add``, ``undo``, ``clear``.

    ``ratings`` holds the new user's ratings; functions passed to :meth:`on_change` are called
    with it after every change.
    """

    def __init__(self, movies: pd.DataFrame, ratings: pd.DataFrame, user: int | None = None,
                 n_suggestions: int = 1000):
        check_movies(movies)
        self.movies = movies
        self.user = new_user_id(ratings) if user is None else user
        popular = ratings[ITEM].value_counts().index[:n_suggestions]
        titles = movies.loc[movies[ITEM].isin(popular), "title"]
        self.title = W.Combobox(placeholder="type a movie title", options=sorted(titles), ensure_option=False,
                                description="movie", layout=W.Layout(width="420px"))
        self.rating = W.FloatSlider(value=4.0, min=0.5, max=5.0, step=0.5, description="rating",
                                    continuous_update=False)
        self.add = W.Button(description="rate it", button_style="primary")
        self.undo = W.Button(description="remove last")
        self.clear = W.Button(description="clear all")
        self.message = message_box()
        self.table = W.HTML()
        self.ratings = pd.DataFrame({USER: pd.Series(dtype="int64"), ITEM: pd.Series(dtype="int64"),
                                     RATING: pd.Series(dtype="float64")})
        self._listeners = []
        self.add.on_click(lambda _b: self.rate(self.title.value, self.rating.value))
        self.undo.on_click(lambda _b: self.remove_last())
        self.clear.on_click(lambda _b: self.reset())
        self.widget = W.VBox([W.HTML(f"<b>You are user {self.user}.</b> Rate a few movies:"),
                              W.HBox([self.title, self.rating, self.add, self.undo, self.clear]),
                              self.message, self.table])
        self._render()

    def serve(self, models: dict) -> dict:
        """``{name: fold_in_or_refit(model, self.user, ...)}``: give this to the recommendation
        explorer so it folds you into every model that can, and says when one must refit."""
        notify = lambda text: show_message(self.message, text, "info")
        return {name: fold_in_or_refit(model, self.user, notify) for name, model in models.items()}

    def on_change(self, listener) -> None:
        """Call ``listener(ratings)`` after every change of the new user's ratings."""
        self._listeners.append(listener)

    def rate(self, title_or_item, rating: float) -> bool:
        """Add (or replace) one rating; a bad title or rating shows a message. True if it was added."""
        try:
            self.ratings = add_rating(self.ratings, self.movies, title_or_item, rating, self.user)
        except InputError as err:
            show_message(self.message, str(err))
            return False
        show_message(self.message, "")
        self._changed()
        return True

    def remove_last(self) -> None:
        if len(self.ratings) == 0:
            show_message(self.message, "Nothing to remove: you have not rated any movie yet.", "warning")
            return
        self.ratings = self.ratings.iloc[:-1].reset_index(drop=True)
        show_message(self.message, "")
        self._changed()

    def reset(self) -> None:
        self.ratings = self.ratings.iloc[:0]
        show_message(self.message, "")
        self._changed()

    def _changed(self) -> None:
        self._render()
        for listener in self._listeners:
            listener(self.ratings)

    def _render(self) -> None:
        if len(self.ratings) == 0:
            self.table.value = "<i>no ratings yet</i>"
            return
        titles = self.movies.set_index(ITEM)["title"]
        rows = "".join(f"<tr><td>{html.escape(str(titles.get(i, i)))}</td><td>{r:.1f}</td></tr>"
                       for i, r in zip(self.ratings[ITEM], self.ratings[RATING]))
        self.table.value = f"<table><tr><th>movie</th><th>your rating</th></tr>{rows}</table>"
