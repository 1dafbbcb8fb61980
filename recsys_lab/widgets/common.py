"""Pieces every explorer shares: display, batched redraws, the message line and input validation."""
from __future__ import annotations

import html
from contextlib import contextmanager

import ipywidgets as W


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
