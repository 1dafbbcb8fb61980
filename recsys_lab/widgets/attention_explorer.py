"""Attention explorer (notebook 14): each head's attention weights over a user's movies, with and
without the causal mask.

Choose a user and a window of their history (their ratings sorted by time, the sequence notebook
15 will feed SASRec), the number of heads and whether the causal mask is on. Each head's weights
are drawn as a heatmap with the movie titles on both axes: row ``i`` is the query (the movie at
position ``i``), column ``j`` the key it attends to, each row sums to 1. With the causal mask on,
everything above the diagonal is exactly 0 (position ``i`` sees positions ``<= i`` only).

The block is **randomly initialised** (seeded, untrained): item embeddings, a learned positional
embedding and one pre-norm :class:`recsys_lab.attention.TransformerBlock`. So the pattern inside
the allowed triangle says nothing about the movies; what the picture shows is the mechanism — the
shapes, the row sums, what the mask removes and how the remaining weights renormalise.

Pure pieces: :func:`user_window` (frames in, frame out), :class:`ToyEncoder` and
:func:`attention_maps` (a window in, weights ``(heads, L, L)`` out), :func:`short_title` and
:func:`draw_attention` (draws into axes); ``AttentionExplorer.redraw()`` is what a control change runs.
"""
from __future__ import annotations

import time

import ipywidgets as W
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from ..attention import PositionalEmbedding, TransformerBlock, causal_mask
from ..data.schema import ITEM, TIMESTAMP, USER
from ..plotting import figure_to_png
from .common import Explorer, InputError, check_movies, message_box, require, show_message

MAX_LENGTH = 12      # the longest window the heatmaps stay readable at
D_MODEL = 16
HEADS = (1, 2, 4)


def _whole(value, name: str, low: int, high: int | None = None) -> int:
    ok = (not isinstance(value, bool) and isinstance(value, (int, np.integer, float, np.floating))
          and float(value).is_integer() and value >= low and (high is None or value <= high))
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    require(ok, f"{name} must be a whole number {bounds}, got {value!r}")
    return int(value)


def _seed(value) -> int:
    ok = (not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))
          and 0 <= value < 2 ** 63)
    require(ok, f"seed must be a whole number >= 0 (it seeds the untrained block), got {value!r}")
    return int(value)


def check_ratings(ratings) -> None:
    """A ratings frame with ``user``, ``item`` and ``timestamp`` columns, at least one row, and a
    number (not a bool, not missing) in every user, item and timestamp: the sequence is sorted by
    timestamp. Raises :class:`InputError` naming the row, the column and the value."""
    require(isinstance(ratings, pd.DataFrame), f"ratings must be a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in (USER, ITEM, TIMESTAMP) if c not in ratings.columns]
    require(not missing, f"ratings lacks column(s) {missing} (it has {list(ratings.columns)}); "
                         f"load_movielens().ratings has the right shape")
    require(len(ratings) > 0, "ratings is empty: the explorer needs a user's rated movies")
    for column in (USER, ITEM, TIMESTAMP):
        values = ratings[column]
        if pd.api.types.is_bool_dtype(values):
            bad = np.ones(len(values), dtype=bool)
        elif pd.api.types.is_numeric_dtype(values):
            bad = values.isna().to_numpy()
        else:                                  # object columns: look at each value
            bad = ~values.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                              and not isinstance(v, (bool, np.bool_)) and v == v).to_numpy(dtype=bool)
        if bad.any():
            pos = int(bad.argmax())
            value = values.iloc[pos]
            value = value.item() if isinstance(value, np.generic) else value
            require(False, f"ratings: row {ratings.index[pos]!r}, column '{column}': {value!r} is not a "
                           f"number ({int(bad.sum())} such rows); every rating needs a numeric {column}")


def check_catalogue(ratings: pd.DataFrame, movies: pd.DataFrame) -> None:
    """Every movie the ratings hold is in the movies frame (the heatmaps are labelled by title)."""
    unknown = ~ratings[ITEM].isin(movies[ITEM]).to_numpy()
    if unknown.any():
        ids = sorted({int(i) for i in ratings[ITEM][unknown]})
        require(False, f"ratings hold {len(ids)} movie id(s) that are not in the movies frame, e.g. {ids[:5]}; "
                       f"pass the movies frame of the same data set (load_movielens().movies lists every rated movie)")


def user_sequence(ratings: pd.DataFrame, user) -> pd.DataFrame:
    """All of ``user``'s ratings, oldest first: the user's sequence. The order is a total one,
    whatever the frame's row order: ``timestamp`` ascending, then, among ratings of the same
    timestamp, the smaller movie id first (the kit's tie rule, :mod:`recsys_lab.topk`: a tie is
    broken by the smaller id)."""
    check_ratings(ratings)
    require(not isinstance(user, bool) and isinstance(user, (int, np.integer)),
            f"the user id must be a whole number, got {user!r}")
    rows = ratings[ratings[USER] == user]
    require(len(rows) > 0, f"user {user} has no rating in the data (ids run from {ratings[USER].min()} "
                           f"to {ratings[USER].max()})")
    return rows.sort_values([TIMESTAMP, ITEM], kind="stable").reset_index(drop=True)


def user_window(ratings: pd.DataFrame, movies: pd.DataFrame, user, start: int = 0,
                length: int = 8) -> pd.DataFrame:
    """Positions ``start .. start + length - 1`` of ``user``'s sequence: a frame with ``position``
    (0 = the user's first rating), ``item``, ``title`` and ``timestamp``. Raises
    :class:`InputError` naming the user, the start or the length that does not fit."""
    check_movies(movies)
    length = _whole(length, "the window length", 2, MAX_LENGTH)
    start = _whole(start, "the window start", 0)
    seq = user_sequence(ratings, user)
    require(start + length <= len(seq), f"user {user} has {len(seq)} ratings: a window of {length} starting at "
                                        f"{start} runs past the end (the largest start is {len(seq) - length})"
            if len(seq) >= length else f"user {user} has only {len(seq)} ratings, fewer than the window "
                                       f"length {length}")
    window = seq.iloc[start:start + length]
    titles = movies.set_index(ITEM)["title"]
    missing = [int(i) for i in window[ITEM] if i not in titles.index]
    require(not missing, f"movie id(s) {missing} of user {user} are not in the movies frame; pass the movies "
                         f"frame of the same data set (load_movielens().movies lists every rated movie)")
    return pd.DataFrame({"position": np.arange(start, start + length), ITEM: window[ITEM].to_numpy(),
                         "title": titles.loc[window[ITEM]].to_numpy(), TIMESTAMP: window[TIMESTAMP].to_numpy()})


def short_title(title: str, width: int = 24) -> str:
    """``title`` cut to ``width`` characters (an ellipsis marks the cut), for the heatmap's axes."""
    return title if len(title) <= width else title[:width - 1].rstrip() + "…"


class ToyEncoder(nn.Module):
    """Item embedding + learned positional embedding + one pre-norm transformer block, randomly
    initialised from ``seed`` (untrained; the global torch generator is left untouched).
    ``forward(items, causal)``: ``items`` a ``(B, L)`` tensor of positions in ``item_ids``;
    returns ``(output (B, L, d), weights (B, h, L, L))``."""

    def __init__(self, item_ids, d_model: int = D_MODEL, n_heads: int = 2, max_length: int = MAX_LENGTH,
                 seed: int = 0):
        super().__init__()
        n_heads = _whole(n_heads, "the number of heads", 1, d_model)
        require(d_model % n_heads == 0, f"the number of heads ({n_heads}) must divide the width {d_model}")
        seed = _seed(seed)
        self.index = {int(i): p for p, i in enumerate(item_ids)}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.items = nn.Embedding(len(self.index), d_model)
            self.positions = PositionalEmbedding(max_length, d_model)
            self.block = TransformerBlock(d_model, n_heads)
        self.eval()

    def positions_of(self, item_ids) -> torch.Tensor:
        missing = [int(i) for i in item_ids if int(i) not in self.index]
        require(not missing, f"movie id(s) {missing} are unknown to the encoder: it knows the {len(self.index)} "
                             f"movies of the movies frame it was built from")
        return torch.tensor([self.index[int(i)] for i in item_ids])

    def forward(self, items, causal: bool = True):
        x = self.positions(self.items(items))
        return self.block(x, causal_mask(items.shape[1]) if causal else None)


@torch.no_grad()
def attention_maps(model: ToyEncoder, item_ids, causal: bool = True) -> np.ndarray:
    """Each head's attention weights over the movies ``item_ids`` (one sequence): ``(h, L, L)``,
    row ``i`` = query position ``i``, each row summing to 1."""
    require(isinstance(causal, (bool, np.bool_)), f"causal must be True or False, got {causal!r}")
    require(len(item_ids) >= 1, "the sequence is empty")
    _, weights = model(model.positions_of(item_ids)[None], causal=bool(causal))
    return weights[0].numpy()


def draw_attention(axes, weights: np.ndarray, titles, causal: bool, width: int = 22):
    """One heatmap per head into ``axes`` (a sequence of ``h`` axes): queries on the rows, keys on
    the columns, both labelled with the (shortened) titles; each weight printed in its cell.
    Returns the last heatmap's image, for a colour bar (the scale is 0 to 1 in every head)."""
    labels = [short_title(t, width) for t in titles]
    n = len(labels)
    for head, ax in enumerate(axes):
        ax.clear()
        image = ax.imshow(weights[head], vmin=0, vmax=1, cmap="Blues")
        for i in range(n):
            for j in range(n):
                w = weights[head, i, j]
                ax.text(j, i, f"{w:.2f}"[1:] if w < 1 else "1", ha="center", va="center", fontsize=6,
                        color="white" if w > 0.6 else "black")
        ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(n), labels if head == 0 else [""] * n, fontsize=7)
        ax.set_title(f"head {head + 1}" + (" (causal)" if causal else " (no mask)"), fontsize=9)
        ax.set_xlabel("key: attended-to movie", fontsize=8)
    axes[0].set_ylabel("query: the movie at position i", fontsize=8)
    return image


class AttentionExplorer(Explorer):
    """The interactive explorer; leave it last in a cell or ``display(...)`` it.

    ``ratings``, ``movies``: ``load_movielens().ratings`` and ``.movies``. The encoder is a seeded,
    untrained :class:`ToyEncoder` (one per number of heads, built on first use)."""

    def __init__(self, ratings, movies, user: int = 1, start: int = 0, length: int = 8, n_heads: int = 2,
                 causal: bool = True, seed: int = 0):
        check_ratings(ratings)
        check_movies(movies)
        check_catalogue(ratings, movies)
        require(not isinstance(user, (bool, np.bool_)) and isinstance(user, (int, np.integer)),
                f"user must be a whole number (a user id), got {user!r}")
        start = _whole(start, "the window start", 0)
        length = _whole(length, "the window length", 2, MAX_LENGTH)
        require(not isinstance(n_heads, (bool, np.bool_)) and n_heads in HEADS,
                f"the number of heads must be one of {HEADS}, got {n_heads!r}")
        require(isinstance(causal, (bool, np.bool_)), f"causal must be True or False, got {causal!r}")
        self.ratings, self.movies, self.seed = ratings, movies, _seed(seed)
        self._encoders: dict[int, ToyEncoder] = {}
        self.result, self.last_redraw_seconds = None, None
        style = {"description_width": "90px"}
        self.user = W.IntText(value=int(user), description="user id", style=style)
        self.start = W.IntText(value=start, description="window start", style=style)
        self.length = W.IntSlider(value=length, min=2, max=MAX_LENGTH, description="length", style=style,
                                  continuous_update=False)
        self.n_heads = W.Dropdown(options=list(HEADS), value=int(n_heads), description="heads", style=style)
        self.causal = W.Checkbox(value=bool(causal), description="causal mask")
        self.message = message_box()
        self.image = W.Image(format="png")
        for w in (self.user, self.start, self.length, self.n_heads, self.causal):
            w.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([self.user, self.start, self.length]), W.HBox([self.n_heads, self.causal]),
                              self.message, self.image])
        self._hold = False
        self.redraw()

    def encoder(self, n_heads: int) -> ToyEncoder:
        if n_heads not in self._encoders:
            self._encoders[n_heads] = ToyEncoder(self.movies[ITEM], n_heads=n_heads, seed=self.seed)
        return self._encoders[n_heads]

    def redraw(self) -> bool:
        """Recompute and redraw; returns ``False`` and shows a message on impossible settings."""
        t0 = time.perf_counter()
        heads, causal = self.n_heads.value, self.causal.value
        try:
            window = user_window(self.ratings, self.movies, self.user.value, self.start.value, self.length.value)
            weights = attention_maps(self.encoder(heads), window[ITEM].tolist(), causal)
        except InputError as err:
            show_message(self.message, str(err), "error")
            return False
        n_rated = int((self.ratings[USER] == self.user.value).sum())
        show_message(self.message, f"user {self.user.value}: positions {window.position.iloc[0]}-"
                                   f"{window.position.iloc[-1]} of their {n_rated} ratings, oldest first; "
                                   f"an untrained (seeded) block", "info")
        self.result = {"window": window, "weights": weights, "causal": causal, "n_heads": heads}
        figure = Figure(figsize=(4.2 * heads + 1.5, 4.8), dpi=72)
        axes = figure.subplots(1, heads, squeeze=False)[0]
        image = draw_attention(axes, weights, window["title"].tolist(), causal)
        figure.subplots_adjust(left=0.25 if heads == 1 else 0.12, right=0.9, bottom=0.35, top=0.88, wspace=0.1)
        figure.colorbar(image, cax=figure.add_axes([0.92, 0.35, 0.015, 0.53]), label="attention weight")
        figure.suptitle(f"user {self.user.value}'s movies: each row's weights sum to 1 (untrained block, seed "
                        f"{self.seed})", fontsize=9)
        self.image.value = figure_to_png(figure)
        self.last_redraw_seconds = time.perf_counter() - t0
        return True
