"""Pieces every explorer shares: display, batched redraws, the message line and input validation."""
from __future__ import annotations

import html
from contextlib import contextmanager

import ipywidgets as W

from ..data.schema import ITEM, check_columns, check_ids, place


class InputError(ValueError):
    """A control holds a value the explorer cannot use; the message says why and what would work."""


def message_box() -> W.HTML:
    """An empty HTML line where explorers report problems instead of raising."""
    return W.HTML(value="")


def show_message(box: W.HTML, text: str, kind: str = "error") -> None:
    """Write ``text`` into ``box``; ``kind`` is 'error' (red), 'warning' (orange) or 'info'."""
    colour = {"error": "#b00020", "warning": "#b35c00", "info": "#333333"}[kind]
    box.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""


def require(condition: bool, text: str) -> None:
    """Raise :class:`InputError` with ``text`` unless ``condition`` holds."""
    if not condition:
        raise InputError(text)


def check_movies(movies, columns=(ITEM, "title")) -> None:
    """A movies table an explorer can show: a DataFrame with ``columns``, valid item ids and a
    text title per movie (``load_movielens().movies`` is one). Raises :class:`InputError`."""
    try:
        check_columns(movies, {c: c for c in columns}, "movies frame",
                      "load_movielens().movies has the right shape.")
        check_ids(movies[ITEM], ITEM, "movies frame", what="item")
    except (TypeError, ValueError) as err:
        raise InputError(str(err)) from None
    if "title" in columns:
        bad = ~movies["title"].map(lambda t: isinstance(t, str)).to_numpy(dtype=bool)
        if bad.any():
            pos = int(bad.argmax())
            raise InputError(f"movies frame: {place(movies.index, pos)}, column 'title': title "
                             f"{movies['title'].iloc[pos]!r} is not text ({int(bad.sum())} such rows); "
                             f"every movie needs a title")


class Explorer:
    """What the explorers share. ``display(explorer)`` (or leaving it last in a cell) shows
    ``self.widget``. Controls observed with ``_on_change`` call the subclass's ``redraw()``,
    except while the constructor builds them (until it sets ``_hold = False``) or inside
    ``with self.quietly():``, which sets several controls at once without a redraw per control."""

    widget: W.Widget
    _hold = True  # no redraw before the constructor has built every control

    def _on_change(self, _change=None) -> None:
        if not self._hold:
            self.redraw()

    @contextmanager
    def quietly(self):
        held, self._hold = self._hold, True
        try:
            yield
        finally:
            self._hold = held

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
