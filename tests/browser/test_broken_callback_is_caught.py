"""Test of the test: the browser check fails when an explorer's callback is broken.

A throw-away notebook shows working and deliberately broken explorers side by side:
- three top-movies explorers (the welcome notebook's row, pointed at each): a working one,
  one whose callback raises outside its Output (the learner sees nothing change), and one
  whose callback raises inside it (the learner sees a traceback);
- two minimal plot explorers (a slider redrawing a W.Image): a working one, and one whose
  callback re-sends the old picture, so the <img> gets a new URL but the same pixels.
Each working one must pass and each broken one must fail, with the same short patience.
"""
from __future__ import annotations

from dataclasses import replace

import nbformat
import pytest

from explorers import EXPLORERS, Explorer, Slider, check_explorer, explorer_cell

NOTEBOOK = "zz_broken_callback.ipynb"
WELCOME_ROW = next(e for e in EXPLORERS if e.cell == "TopMoviesExplorer(")
PATIENCE_S = 5

CELLS = [
    "%matplotlib inline\n"
    "import io\n"
    "import ipywidgets as W\n"
    "import numpy as np\n"
    "from IPython.display import display\n"
    "from matplotlib.figure import Figure\n"
    "from recsys_lab.data import load_movielens\n"
    "from recsys_lab.widgets.top_movies import TopMoviesExplorer\n"
    "ml = load_movielens()",

    "class SilentlyBroken(TopMoviesExplorer):\n"
    "    def redraw(self):  # draws once, then every callback raises outside the Output\n"
    "        if self.table is not None:\n"
    "            raise RuntimeError('deliberately broken widget callback')\n"
    "        super().redraw()\n"
    "\n"
    "class LoudlyBroken(TopMoviesExplorer):\n"
    "    def redraw(self):  # draws once, then every callback raises inside the Output\n"
    "        if self.table is not None:\n"
    "            with self.output:  # the Output shows the traceback and swallows the error\n"
    "                raise RuntimeError('deliberately broken widget callback')\n"
    "            return\n"
    "        super().redraw()",

    "class SinePlot:\n"
    "    def __init__(self):\n"
    "        self.frequency = W.IntSlider(value=1, min=1, max=5, description='frequency')\n"
    "        self.image = W.Image(format='png')\n"
    "        self.frequency.observe(lambda _change: self.update(), names='value')\n"
    "        self.update()\n"
    "    def update(self):\n"
    "        fig = Figure(figsize=(4, 2), dpi=50)\n"
    "        x = np.linspace(0, 1, 200)\n"
    "        fig.subplots().plot(x, np.sin(2 * np.pi * self.frequency.value * x))\n"
    "        buffer = io.BytesIO()\n"
    "        fig.savefig(buffer, format='png')\n"
    "        self.image.value = buffer.getvalue()\n"
    "    def _ipython_display_(self):\n"
    "        display(W.VBox([self.frequency, self.image]))\n"
    "\n"
    "class StalePlot(SinePlot):\n"
    "    def update(self):  # draws once, then re-sends the same picture: new <img> URL, same pixels\n"
    "        if self.image.value:\n"
    "            picture, self.image.value = self.image.value, b''\n"
    "            self.image.value = picture\n"
    "        else:\n"
    "            super().update()",

    "working = TopMoviesExplorer(ml.ratings, ml.movies)\nworking",
    "silent = SilentlyBroken(ml.ratings, ml.movies)\nsilent",
    "loud = LoudlyBroken(ml.ratings, ml.movies)\nloud",
    "fresh_plot = SinePlot()\nfresh_plot",
    "stale_plot = StalePlot()\nstale_plot",
]


def write_broken_notebook(path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, path)


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_check_catches_a_broken_callback(lab, lab_app, artifacts):
    write_broken_notebook(lab.root / NOTEBOOK)
    with lab_app.notebook(NOTEBOOK, artifacts / "broken_callback.png") as tab:
        top_movies = replace(WELCOME_ROW, notebook=NOTEBOOK)
        check_explorer(tab.panel, replace(top_movies, cell="working = "), PATIENCE_S)
        with pytest.raises(AssertionError, match="did not change within"):
            check_explorer(tab.panel, replace(top_movies, cell="silent = "), PATIENCE_S)
        with pytest.raises(AssertionError, match="a traceback appeared"):
            check_explorer(tab.panel, replace(top_movies, cell="loud = "), PATIENCE_S)

        plot = Explorer(NOTEBOOK, "fresh_plot = ", Slider("frequency"), "image")
        check_explorer(tab.panel, plot, PATIENCE_S)
        stale_image = explorer_cell(tab.panel, "stale_plot = ").locator(".jp-OutputArea img")
        url_before = stale_image.get_attribute("src")
        with pytest.raises(AssertionError, match="did not change within"):
            check_explorer(tab.panel, replace(plot, cell="stale_plot = "), PATIENCE_S)
        assert stale_image.get_attribute("src") != url_before, "the stale plot should get a new URL"
