import pandas as pd
import pytest

from recsys_lab.widgets.top_movies import TopMoviesExplorer


@pytest.fixture
def explorer(tiny_ratings):
    movies = pd.DataFrame({"item": [10, 20, 30, 40, 50], "title": list("ABCDE")})
    return TopMoviesExplorer(tiny_ratings, movies)


def test_slider_changes_the_table(explorer):
    assert explorer.table.title.tolist()[:2] == ["C", "A"]  # means 4.5, 4.33
    explorer.min_ratings.value = 3
    assert explorer.table.title.tolist() == ["A"]
    explorer.min_ratings.value = 1
    explorer.damping.value = 3.0
    assert explorer.table.title.tolist()[:2] == ["A", "C"]


def test_impossible_value_gives_message_not_traceback(explorer):
    explorer.min_ratings.value = 50  # no item has 50 ratings
    assert "no movie has 50 or more ratings" in explorer.message.value
    assert explorer.table.title.tolist()[:2] == ["C", "A"]  # the last good table stays
    explorer.min_ratings.value = 1
    assert explorer.message.value == ""
