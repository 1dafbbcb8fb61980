"""recsys_lab/widgets/next_movie.py, headless: the lists are each model's recommend_next, side by side;
the explanation is SASRec's attention over the history; controls drive redraws; bad input gives
messages naming what is wrong."""
import html
import re

import numpy as np
import pandas as pd
import pytest

from recsys_lab.models import EASE, ItemTransitions, SASRec
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.next_movie import NextMovieExplorer, history_attention, next_lists, parse_history


def text(box):
    return html.unescape(re.sub("<[^>]+>", "", box.value))


@pytest.fixture(scope="module")
def fitted():
    """Twelve users walk the cycle 1 -> 2 -> ... -> 8 -> 1 from different starts."""
    rows = [(u, (u + t) % 8 + 1, t) for u in range(1, 13) for t in range(6)]
    ratings = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=1.0)
    movies = pd.DataFrame({"item": range(1, 10), "title": [f"Movie {i} (2000)" for i in range(1, 10)]})
    chain = ItemTransitions().fit(ratings)
    sasrec = SASRec(n_factors=8, max_length=4, n_blocks=1, n_heads=2, epochs=2, batch_size=8, seed=0,
                    device="cpu").fit(ratings, progress=False)
    return ratings, movies, {"ItemTransitions": chain, "SASRec": sasrec}


def test_lists_are_each_models_recommend_next_side_by_side(fitted):
    _, movies, models = fitted
    titles = movies.set_index("item").title
    lists = next_lists(models, [3, 4], 3, titles)
    assert list(lists.columns) == ["ItemTransitions", "SASRec"] and list(lists.index) == [1, 2, 3]
    for name, model in models.items():
        assert lists[name].tolist() == [titles[i] for i in model.recommend_next([3, 4], k=3).item]
    assert lists["ItemTransitions"].iloc[0] == "Movie 5 (2000)"     # after 4 always came 5


def test_the_explanation_is_sasrecs_attention_over_the_history(fitted):
    _, _, models = fitted
    w = history_attention(models["SASRec"], [1, 2, 3, 4, 5, 6])
    assert w.shape == (4,) and np.isclose(w.sum(), 1.0)          # only the last max_length=4 are used
    np.testing.assert_allclose(w, models["SASRec"].attention([3, 4, 5, 6])[-1].mean(axis=0))


def test_controls_drive_redraws_and_the_table_shows_the_lists(fitted):
    _, movies, models = fitted
    ex = NextMovieExplorer(models, movies, history=[1, 2], k=3, explain=models["SASRec"])
    assert ex.result["history"] == [1, 2] and ex.result["lists"].shape == (3, 2)
    assert "Movie 3 (2000)" in text(ex.table) and ex.image.value[:4] == b"\x89PNG"
    before = ex.image.value
    ex.history.value = "5, 6, 7"
    assert ex.result["history"] == [5, 6, 7] and "Movie 8 (2000)" == ex.result["lists"]["ItemTransitions"].iloc[0]
    assert ex.image.value != before and "after Movie 5" in text(ex.message)
    ex.k.value = 5
    assert ex.result["lists"].shape == (5, 2)
    ex.history.value = "5, x"
    assert "entry 2 of the history, 'x', is not a movie id" in text(ex.message)
    assert ex.result["history"] == [5, 6, 7]                     # the last good result stays


@pytest.mark.parametrize("typed, message", [
    ("", "the history is empty"),
    ("1, 2, 2", r"movie 2 appears twice in the history \(entries 2 and 3\)"),
    ("1, 9", r"entry 2 of the history, movie 9, is not in the models' catalogue"),
    ("1; -2", r"entry 1 of the history, '1;', is not a movie id"),
    (", ".join(str(i % 8 + 1) for i in range(21)), "the history has 21 movies; at most 20"),
])
def test_bad_histories_name_what_is_wrong(fitted, typed, message):
    _, _, models = fitted
    with pytest.raises(InputError, match=message):
        parse_history(typed, {1, 2, 3, 4, 5, 6, 7, 8})


@pytest.mark.parametrize("kwargs, message", [
    (dict(k=0), r"k must be a whole number in \[1, 10\], got 0"),
    (dict(k=True), r"k must be a whole number in \[1, 10\], got True"),
    (dict(k=2.5), r"k must be a whole number in \[1, 10\], got 2.5"),
    (dict(history="1, 2"), "history must be a list of movie ids"),
    (dict(history=None), "history must be a list of movie ids, oldest first, got NoneType"),
    (dict(history=7), "history must be a list of movie ids, oldest first, got int"),
    (dict(history={1, 2}), "history must be a list of movie ids, oldest first, got set"),
    (dict(history=[1, 99]), "movie 99, is not in the models' catalogue"),
    (dict(explain="SASRec"), "explain must be a fitted SASRec"),
])
def test_the_explorer_refuses_bad_settings_naming_them(fitted, kwargs, message):
    _, movies, models = fitted
    with pytest.raises(InputError, match=message):
        NextMovieExplorer(models, movies, **kwargs)


def test_the_explorer_refuses_models_it_cannot_serve(fitted):
    ratings, movies, models = fitted
    with pytest.raises(InputError, match="has no recommend_next"):
        NextMovieExplorer({"EASE": EASE().fit(ratings)}, movies)
    with pytest.raises(InputError, match="not fitted yet"):
        NextMovieExplorer({"chain": ItemTransitions()}, movies)
    with pytest.raises(InputError, match="non-empty dict"):
        NextMovieExplorer({}, movies)
