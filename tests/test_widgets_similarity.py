"""recsys_lab/widgets/similarity_explorer.py, headless: controls drive redraws; bad input gives messages."""
import html
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from recsys_lab.data import RatingData
from recsys_lab.similarity import similarity_matrix
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.similarity_explorer import (DEFAULT_MOVIES, SimilarityExplorer, compute_similarities,
                                                     draw_similarities, find_movies)


def text(box):
    """The message a learner reads (tags stripped, entities decoded)."""
    return html.unescape(re.sub("<[^>]+>", "", box.value))


@pytest.fixture(scope="module")
def data(movielens):
    return RatingData(movielens.ratings)


@pytest.fixture
def ex(movielens):
    return SimilarityExplorer(movielens.ratings, movielens.movies)


def test_compute_matches_the_similarity_module(data):
    ids = [1, 260, 1196, 2571]
    r = compute_similarities(data, "movies", ids, "adjusted_cosine", min_overlap=10, shrinkage=20, focus=260)
    items = data.to_csr().T.tocsr()
    pos = data.items.to_index(ids)
    full = similarity_matrix(items, "adjusted_cosine", min_overlap=10, shrinkage=20, rows=pos)  # (4, n_items)
    np.testing.assert_allclose(r["similarity"], full[:, pos])
    # neighbour table: the 10 most similar movies to Star Wars (260) among all, itself excluded
    row = full[1].copy()
    row[pos[1]] = -np.inf
    best = np.argsort(-row, kind="stable")[:10]
    assert r["neighbours"]["item"].tolist() == data.items.to_raw(best).tolist()
    np.testing.assert_allclose(r["neighbours"]["similarity"], row[best])
    assert (np.diff(r["neighbours"]["similarity"]) <= 0).all()
    assert (r["neighbours"]["overlap"] >= 10).all() or (r["neighbours"]["similarity"] == 0).any()


def test_users_kind_and_overlap(data):
    r = compute_similarities(data, "users", [1, 2, 3], "jaccard")
    assert r["labels"] == ["user 1", "user 2", "user 3"]
    users = data.to_csr()
    n = (users[[0, 1, 2]] > 0).astype(float) @ (users[[0, 1, 2]] > 0).astype(float).T
    np.testing.assert_array_equal(r["overlap"], n.toarray())
    assert r["neighbours"].columns.tolist() == ["user", "name", "similarity", "overlap"]


def test_find_movies_by_part_of_the_title(movielens):
    found = find_movies(movielens.movies, "toy story", movielens.ratings)
    assert set(found["item"]) >= {1, 3114} and found["title"].str.contains("Toy Story").all()
    assert (np.diff(found["n_ratings"]) <= 0).all()          # most-rated first
    with pytest.raises(InputError, match="at least 2 letters"):
        find_movies(movielens.movies, "t")


@pytest.mark.parametrize("kw, match", [
    (dict(selected=[1]), "Pick at least 2 movies"),
    (dict(selected=[1, 99999999]), r"No ratings for movie id\(s\) \[99999999\]"),
    (dict(selected=[1, 2], similarity="euclid"), "Unknown measure"),
    (dict(selected=[1, 2], min_overlap=0), "minimum overlap must be a whole number >= 1"),
    (dict(selected=[1, 2], shrinkage=-1.0), "Shrinkage must be a number >= 0"),
    (dict(selected=[1, 2], focus=3), "focus 3 is not among"),
])
def test_compute_rejects_impossible_settings(data, kw, match):
    kw = {"similarity": "pearson", **kw}
    with pytest.raises(InputError, match=match):
        compute_similarities(data, "movies", **kw)


def test_initial_state_and_controls_redraw(ex):
    assert ex.result["ids"] == list(DEFAULT_MOVIES) and ex.message.value == ""
    assert ex.image.value[:4] == b"\x89PNG" and "Nearest movies to Toy Story" in text(ex.table)
    png = bytes(ex.image.value)
    ex.similarity.value = "cosine"
    assert ex.result["settings"]["similarity"] == "cosine" and bytes(ex.image.value) != png
    before = ex.result["similarity"].copy()
    ex.shrinkage.value = 50.0
    assert np.all(np.abs(ex.result["similarity"]) <= np.abs(before) + 1e-12)
    ex.min_overlap.value = 50
    assert np.all(ex.result["similarity"][ex.result["overlap"] < 50] == 0)
    ex.focus.value = 260
    assert ex.result["focus"] == 260 and "Star Wars" in text(ex.table)
    assert ex.last_redraw_seconds < 1.0   # about 0.1 s on 2 idle cores (see docs/benchmarks.md)


def test_search_add_and_remove_movies(ex):
    ex.search.value = "matrix reloaded"
    assert len(ex.matches.options) >= 1
    ex.matches.value = (ex.matches.options[0][1],)
    ex.add.click()
    assert 6365 in ex.result["ids"] and len(ex.result["ids"]) == len(DEFAULT_MOVIES) + 1
    ex.chosen.value = (1, 3114)
    ex.remove.click()
    assert 1 not in ex.result["ids"] and 3114 not in ex.result["ids"]
    ex.search.value = "x"
    assert "at least 2 letters" in text(ex.message)


def test_users_mode_and_bad_user_input(ex):
    ex.kind.value = "users"
    assert ex.result["kind"] == "users" and ex.result["ids"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert ex.movie_box.layout.display == "none"
    ex.users.value = "1, two"
    assert "whole numbers" in text(ex.message) and ex.result["kind"] == "users"  # old picture kept
    ex.users.value = "1, 100000"
    assert "No ratings for user id(s) [100000]" in text(ex.message)
    ex.users.value = "5"
    assert "Pick at least 2 users" in text(ex.message)
    ex.users.value = "5, 6, 7"
    assert ex.message.value == "" and ex.result["ids"] == [5, 6, 7]


def test_static_figure_from_the_pure_functions(data, movielens):
    titles = dict(zip(movielens.movies["item"], movielens.movies["title"]))
    r = compute_similarities(data, "movies", DEFAULT_MOVIES[:4], "pearson", 5, labels=titles)
    fig, ax = plt.subplots()
    drawing = draw_similarities(ax, r)
    shown = np.ma.filled(np.ma.asarray(drawing.image.get_array(), dtype=float), np.nan)
    assert shown.shape == (4, 4) and np.isnan(np.diag(shown)).all()       # the diagonal is left blank
    np.testing.assert_allclose(shown[0, 1:], r["similarity"][0, 1:])
    assert np.isfinite(np.diag(r["similarity"])).all()                    # the result itself is untouched
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "Toy Story (1995)"
    assert ax.get_title().startswith("pearson similarity of 4 movies")
    plt.close(fig)
