"""Top-movies explorer: the first widget of the course (notebook 00).

Move the "at least N ratings" slider and the damping slider and watch the list of
best-rated movies change: with few ratings, a mean is luck; damping shrinks it.
"""
from __future__ import annotations

import ipywidgets as W
import pandas as pd
from IPython.display import display

from ..data.summary import top_rated
from .common import Explorer, InputError, message_box, require, show_message


class TopMoviesExplorer(Explorer):
    """Controls: ``min_ratings`` (IntSlider), ``damping`` (FloatSlider), ``n`` (BoundedIntText)."""

    def __init__(self, ratings: pd.DataFrame, movies: pd.DataFrame):
        self.ratings, self.movies = ratings, movies
        self.min_ratings = W.IntSlider(value=1, min=1, max=200, description="at least N ratings",
                                       style={"description_width": "initial"}, continuous_update=False)
        self.damping = W.FloatSlider(value=0.0, min=0.0, max=50.0, step=1.0, description="damping m",
                                     continuous_update=False)
        self.n = W.BoundedIntText(value=10, min=1, max=50, description="show top")
        self.message = message_box()
        self.output = W.Output()
        self.table: pd.DataFrame | None = None
        for control in (self.min_ratings, self.damping, self.n):
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.min_ratings, self.damping, self.n]), self.message, self.output])
        self._hold = False
        self.redraw()

    def redraw(self) -> None:
        """Recompute the table from the controls; a bad combination shows a message."""
        try:
            require(self.n.value >= 1, "show at least one movie")
            table = top_rated(self.ratings, self.movies, self.min_ratings.value, self.n.value,
                              self.damping.value)
            require(len(table) > 0, f"no movie has {self.min_ratings.value} or more ratings; "
                                    f"lower the slider")
        except (InputError, ValueError) as err:
            show_message(self.message, str(err))
            return
        show_message(self.message, "")
        self.table = table
        with self.output:
            self.output.clear_output(wait=True)
            display(table.style.hide(axis="index").format({"score": "{:.3f}"}))
