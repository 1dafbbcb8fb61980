"""The "what next?" explorer of notebook 15: type a few movies in order, see each sequence model's
next-movie list side by side, and SASRec's attention over the history as the explanation.

A thin layer over the kit: the lists are each model's ``recommend_next(history, k)`` (the models
are fitted already and never change), the explanation is ``SASRec.attention(history)``. The pure
pieces, :func:`parse_history`, :func:`next_lists` and :func:`history_attention`, are what the tests
check; the explorer only validates its inputs, calls them and draws.
"""
from __future__ import annotations

import re

import ipywidgets as W
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..data.schema import ITEM
from ..plotting import figure_to_png
from .attention_explorer import short_title
from .common import Explorer, InputError, check_movies, message_box, require, show_message

MAX_HISTORY = 20
MAX_K = 10


def _known(models: dict) -> set:
    """The raw movie ids every model knows (a history may use only those)."""
    sets = [set(int(i) for i in m.data_.items.ids) for m in models.values()]
    return set.intersection(*sets) if sets else set()


def check_models(models) -> None:
    """A non-empty dict name -> fitted model with ``recommend_next`` (a sequence model). Raises InputError."""
    require(isinstance(models, dict) and len(models) > 0,
            f"models must be a non-empty dict of name -> fitted sequence model, got {type(models).__name__}")
    for name, model in models.items():
        require(isinstance(name, str), f"model names must be text, got {name!r}")
        require(callable(getattr(model, "recommend_next", None)),
                f"{name}: {type(model).__name__} has no recommend_next(history); give sequence models "
                f"(SASRec, GRU4Rec, ItemTransitions)")
        require(hasattr(model, "data_"), f"{name}: the model is not fitted yet: call .fit(ratings) first")


def parse_history(text, known: set, max_length: int = MAX_HISTORY) -> list[int]:
    """Movie ids, oldest first, from ``text`` like ``"260, 1196, 1210"`` (commas or spaces).

    Refused with an :class:`InputError` naming the entry: an empty history, an entry that is not a
    whole number, a movie the models do not know, a movie twice, more than ``max_length`` movies."""
    require(isinstance(text, str), f"the history must be text (movie ids, oldest first), got {type(text).__name__}")
    entries = [e for e in re.split(r"[,\s]+", text.strip()) if e]
    require(entries, "the history is empty: type a few movie ids, oldest first, e.g. 260, 1196")
    require(len(entries) <= max_length, f"the history has {len(entries)} movies; at most {max_length} count, "
                                        f"type the latest {max_length}")
    ids = []
    for pos, entry in enumerate(entries, 1):
        require(re.fullmatch(r"\d+", entry) is not None,
                f"entry {pos} of the history, {entry!r}, is not a movie id (a whole number)")
        item = int(entry)
        require(item in known, f"entry {pos} of the history, movie {item}, is not in the models' catalogue "
                               f"(the movies they were trained on)")
        if item in ids:
            raise InputError(f"movie {item} appears twice in the history (entries {ids.index(item) + 1} and {pos}); "
                             f"each movie once")
        ids.append(item)
    return ids


def next_lists(models: dict, history: list[int], k: int, titles: pd.Series) -> pd.DataFrame:
    """Each model's top-``k`` next movies after ``history``, titles side by side; rows ranked 1..k."""
    lists = {name: [titles.get(int(i), str(i)) for i in model.recommend_next(history, k=k).item]
             for name, model in models.items()}
    return pd.DataFrame(lists, index=pd.RangeIndex(1, k + 1, name="rank"))


def history_attention(model, history: list[int]) -> np.ndarray:
    """The last block's attention of the last position over the used history, mean over heads: ``(n,)``,
    summing to 1, in history order (``n = min(len(history), max_length)``)."""
    return model.attention(history)[-1].mean(axis=0)


class NextMovieExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it.

    ``models``: name -> fitted sequence model (``recommend_next``); ``movies``:
    ``load_movielens().movies``; ``history``: movie ids, oldest first; ``explain``: a fitted
    :class:`~recsys_lab.models.SASRec` whose attention explains the history (optional)."""

    def __init__(self, models: dict, movies, history=(260, 1196), k: int = 5, explain=None):
        check_models(models)
        check_movies(movies)
        require(not isinstance(k, (bool, np.bool_)) and isinstance(k, (int, np.integer)) and 1 <= k <= MAX_K,
                f"k must be a whole number in [1, {MAX_K}], got {k!r}")
        require(explain is None or callable(getattr(explain, "attention", None)),
                f"explain must be a fitted SASRec (it has attention(history)) or None, got {type(explain).__name__}")
        require(isinstance(history, (list, tuple, np.ndarray, pd.Series)) and np.ndim(history) == 1,
                f"history must be a list of movie ids, oldest first, got {type(history).__name__}")
        self.models, self.explain = models, explain
        self.titles = movies.set_index(ITEM)["title"]
        self.known = _known(models) & set(int(i) for i in movies[ITEM])
        parse_history(", ".join(str(i) for i in history), self.known)          # refuse a bad start at once
        self.result, self._hold = None, True
        style = {"description_width": "140px"}
        self.history = W.Text(value=", ".join(str(int(i)) for i in history), description="history (oldest first)",
                              style=style, layout=W.Layout(width="520px"), continuous_update=False)
        self.k = W.IntSlider(value=int(k), min=1, max=MAX_K, description="k", continuous_update=False)
        self.message, self.table, self.image = message_box(), W.HTML(), W.Image(format="png")
        for w in (self.history, self.k):
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.history, self.k]), self.message, self.table, self.image])
        self._hold = False
        self.redraw()

    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on a bad history."""
        try:
            history = parse_history(self.history.value, self.known)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        lists = next_lists(self.models, history, self.k.value, self.titles)
        self.result = {"history": history, "lists": lists}
        shown = " → ".join(short_title(self.titles.get(i, str(i))) for i in history)
        show_message(self.message, f"after {shown}: each model's next {self.k.value}, the history's movies excluded",
                     "info")
        self.table.value = lists.to_html(escape=True)
        if self.explain is not None:
            weights = history_attention(self.explain, history)
            used = history[-len(weights):]
            self.result["attention"] = weights
            figure = Figure(figsize=(6.5, 0.9 + 0.28 * len(used)), dpi=72)
            ax = figure.subplots()
            ax.barh(range(len(used)), weights, color="tab:blue")
            ax.set_yticks(range(len(used)), [short_title(self.titles.get(i, str(i)), 30) for i in used],
                          fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel("attention of the last position (last block, mean over heads)")
            ax.set_title("why SASRec's list: what its prediction attends to (oldest at the top)", fontsize=9)
            figure.subplots_adjust(left=0.38, right=0.97, bottom=0.3 if len(used) < 4 else 0.15, top=0.85)
            self.image.value = figure_to_png(figure)
        return True
