"""Pieces every explorer shares: the message line and input validation."""
from __future__ import annotations

import html

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
