"""recsys_lab/widgets/attention_explorer.py, headless: the window is the user's sequence by time, the
weights are the kit's block's (rows sum to 1, the mask zeroes the upper triangle and renormalises),
controls drive redraws, bad input gives messages naming what is wrong."""
import html
import re

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_lab.attention import causal_mask
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.attention_explorer import (MAX_LENGTH, AttentionExplorer, ToyEncoder, attention_maps,
                                                   short_title, user_sequence, user_window)


def text(box):
    return html.unescape(re.sub("<[^>]+>", "", box.value))


@pytest.fixture
def data():
    """User 1 rates movies 10..15 at decreasing times (so time order reverses id order), with 14 and
    15 rated in the same second; the frame lists 15 before 14, so the documented tie key (smaller
    movie id first), not the row order, must put 14 first. User 2 rates three movies."""
    ratings = pd.DataFrame({"user": [1] * 6 + [2] * 3, "item": [10, 11, 12, 13, 15, 14, 10, 12, 14],
                            "rating": 4.0, "timestamp": [60, 50, 40, 30, 20, 20, 5, 6, 7]})
    movies = pd.DataFrame({"item": [10, 11, 12, 13, 14, 15, 16],
                           "title": [f"Movie number {i} (2000)" for i in range(10, 17)]})
    return ratings, movies


def test_the_sequence_is_sorted_by_time_with_ties_by_id(data):
    ratings, movies = data
    tied = ratings[(ratings.user == 1) & (ratings.timestamp == 20)]
    assert tied["item"].tolist() == [15, 14]           # the fixture's row order is against the key
    assert user_sequence(ratings, 1)["item"].tolist() == [14, 15, 13, 12, 11, 10]
    for seed in range(5):                              # any row order gives the same sequence
        shuffled = ratings.sample(frac=1.0, random_state=seed)
        assert user_sequence(shuffled, 1)["item"].tolist() == [14, 15, 13, 12, 11, 10]
    w = user_window(ratings, movies, 1, start=1, length=3)
    assert w["item"].tolist() == [15, 13, 12] and w["position"].tolist() == [1, 2, 3]
    assert w["title"].tolist() == ["Movie number 15 (2000)", "Movie number 13 (2000)", "Movie number 12 (2000)"]


def test_weights_are_the_blocks_rows_sum_to_one_and_the_mask_renormalises(data):
    ratings, movies = data
    enc = ToyEncoder(movies["item"], n_heads=2, seed=3)
    items = user_window(ratings, movies, 1, 0, 5)["item"].tolist()
    causal, free = attention_maps(enc, items, True), attention_maps(enc, items, False)
    assert causal.shape == (2, 5, 5) and np.allclose(causal.sum(-1), 1) and np.allclose(free.sum(-1), 1)
    upper = np.triu(np.ones((5, 5), dtype=bool), 1)
    assert (causal[:, upper] == 0).all() and (free[:, upper] > 0).all()
    kept = np.where(upper, 0, free)
    assert np.allclose(causal, kept / kept.sum(-1, keepdims=True), atol=1e-6)
    # the same numbers as the block called directly with the kit's causal mask
    x = enc.positions(enc.items(enc.positions_of(items)[None]))
    with torch.no_grad():
        _, w = enc.block(x, causal_mask(5))
    assert np.allclose(w[0].numpy(), causal, atol=1e-7)


def test_the_encoder_is_seeded_and_leaves_the_global_generator_alone(data):
    _, movies = data
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = ToyEncoder(movies["item"], seed=0), ToyEncoder(movies["item"], seed=0)
    assert torch.equal(torch.rand(1), before)
    assert torch.equal(a.items.weight, b.items.weight)
    assert not torch.equal(a.items.weight, ToyEncoder(movies["item"], seed=1).items.weight)


@pytest.mark.parametrize("kw, match", [
    (dict(user=9), "user 9 has no rating"),
    (dict(user="1"), "user id must be a whole number"),
    (dict(length=1), "window length must be a whole number in"),
    (dict(length=MAX_LENGTH + 1), "window length"),
    (dict(start=-1), "window start must be a whole number"),
    (dict(start=2, length=5), "runs past the end"),
    (dict(user=2, length=4), "only 3 ratings"),
])
def test_bad_windows_name_what_is_wrong(data, kw, match):
    ratings, movies = data
    with pytest.raises(InputError, match=match):
        user_window(ratings, movies, **{"user": 1, "start": 0, "length": 3, **kw})


# Every bad argument of the explorer, and the message that names it and says what would be right.
BAD_SETTINGS = [
    (dict(seed="0"), r"seed must be a whole number >= 0 \(it seeds the untrained block\), got '0'"),
    (dict(seed=1.5), r"seed must be a whole number >= 0 .*got 1.5"),
    (dict(seed=-1), r"seed must be a whole number >= 0 .*got -1"),
    (dict(seed=True), r"seed must be a whole number >= 0 .*got True"),
    (dict(seed=None), r"seed must be a whole number >= 0 .*got None"),
    (dict(length=1), r"the window length must be a whole number in \[2, 12\], got 1"),
    (dict(length=MAX_LENGTH + 1), r"the window length must be a whole number in \[2, 12\], got 13"),
    (dict(length=3.5), r"the window length must be a whole number in \[2, 12\], got 3.5"),
    (dict(length="4"), r"the window length must be a whole number in \[2, 12\], got '4'"),
    (dict(length=True), r"the window length must be a whole number in \[2, 12\], got True"),
    (dict(start=-1), r"the window start must be a whole number >= 0, got -1"),
    (dict(start=0.5), r"the window start must be a whole number >= 0, got 0.5"),
    (dict(user="1"), r"user must be a whole number \(a user id\), got '1'"),
    (dict(user=1.0), r"user must be a whole number \(a user id\), got 1.0"),
    (dict(user=True), r"user must be a whole number \(a user id\), got True"),
    (dict(n_heads=3), r"the number of heads must be one of \(1, 2, 4\), got 3"),
    (dict(n_heads=True), r"the number of heads must be one of \(1, 2, 4\), got True"),
    (dict(causal="yes"), r"causal must be True or False, got 'yes'"),
    (dict(causal=1), r"causal must be True or False, got 1"),
    (dict(causal=None), r"causal must be True or False, got None"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SETTINGS)
def test_the_explorer_refuses_bad_settings_naming_them(data, kwargs, message):
    ratings, movies = data
    with pytest.raises(InputError, match=message):
        AttentionExplorer(ratings, movies, **{"length": 3, **kwargs})


def test_the_encoder_refuses_a_bad_seed(data):
    _, movies = data
    for seed in ("0", 2.5, -3, False):
        with pytest.raises(InputError, match=r"seed must be a whole number >= 0"):
            ToyEncoder(movies["item"], seed=seed)


@pytest.mark.parametrize("corrupt, message", [
    (lambda r: r.assign(timestamp=r.timestamp.astype(object).where(r.index != 3, None)),
     r"ratings: row 3, column 'timestamp': None is not a number \(1 such rows\); every rating needs a numeric timestamp"),
    (lambda r: r.assign(timestamp=r.timestamp.astype(float).where(r.index != 4, np.nan)),
     r"ratings: row 4, column 'timestamp': nan is not a number"),
    (lambda r: r.assign(timestamp=r.timestamp.astype(str)),
     r"ratings: row 0, column 'timestamp': '60' is not a number \(9 such rows\)"),
    (lambda r: r.assign(item=r.item.astype(object).where(r.index != 2, "12")),
     r"ratings: row 2, column 'item': '12' is not a number"),
    (lambda r: r.assign(user=r.user == 1), r"ratings: row 0, column 'user': True is not a number"),
    (lambda r: r.drop(columns="timestamp"), r"ratings lacks column\(s\) \['timestamp'\].*load_movielens\(\).ratings"),
    (lambda r: r.iloc[:0], r"ratings is empty"),
    (lambda r: r.to_numpy(), r"ratings must be a DataFrame, got ndarray"),
])
def test_bad_ratings_frames_are_refused_naming_row_column_and_value(data, corrupt, message):
    ratings, movies = data
    with pytest.raises(InputError, match=message):
        AttentionExplorer(corrupt(ratings), movies)


def test_movies_outside_the_catalogue_are_refused(data):
    ratings, movies = data
    # rated movies missing from the movies frame: refused up front, naming them and what to pass
    with pytest.raises(InputError, match=r"ratings hold 2 movie id\(s\) that are not in the movies frame, "
                                         r"e\.g\. \[12, 13\]; pass the movies frame of the same data set"):
        AttentionExplorer(ratings, movies[~movies.item.isin([12, 13])])
    # the pure pieces say the same where they meet such a movie
    with pytest.raises(InputError, match=r"movie id\(s\) \[12\] of user 1 are not in the movies frame; pass"):
        user_window(ratings, movies[movies.item != 12], 1, 0, 4)
    with pytest.raises(InputError, match=r"movie id\(s\) \[99\] are unknown to the encoder: it knows the 7 movies"):
        attention_maps(ToyEncoder(movies["item"]), [10, 99])


def test_bad_frames_and_settings_are_refused(data):
    ratings, movies = data
    with pytest.raises(InputError, match="timestamp"):
        AttentionExplorer(ratings.drop(columns="timestamp"), movies)
    with pytest.raises(InputError, match="title"):
        AttentionExplorer(ratings, movies.drop(columns="title"))
    with pytest.raises(InputError, match="not in the movies frame"):
        user_window(ratings, movies[movies.item != 12], 1, 0, 4)
    with pytest.raises(InputError, match="number of heads must be one of"):
        AttentionExplorer(ratings, movies, n_heads=3)
    with pytest.raises(InputError, match="must divide"):
        ToyEncoder(movies["item"], d_model=6, n_heads=4)
    with pytest.raises(InputError, match="unknown to the encoder"):
        attention_maps(ToyEncoder(movies["item"]), [10, 99])
    with pytest.raises(InputError, match="causal must be True or False"):
        attention_maps(ToyEncoder(movies["item"]), [10, 11], causal="yes")
    assert short_title("A very long title indeed (1999)", 12) == "A very long…" and short_title("Up", 12) == "Up"


def test_explorer_redraws_on_every_control_and_reports_bad_values(data):
    ratings, movies = data
    ex = AttentionExplorer(ratings, movies, user=1, start=0, length=4, n_heads=2, causal=True)
    assert ex.image.value[:4] == b"\x89PNG" and "user 1" in text(ex.message)
    assert ex.result["weights"].shape == (2, 4, 4) and ex.result["causal"]
    png = bytes(ex.image.value)
    ex.causal.value = False
    assert not ex.result["causal"] and bytes(ex.image.value) != png
    assert (ex.result["weights"][:, np.triu(np.ones((4, 4), dtype=bool), 1)] > 0).all()
    ex.n_heads.value = 4
    assert ex.result["weights"].shape == (4, 4, 4)
    ex.length.value = 6
    assert ex.result["window"]["item"].tolist() == [14, 15, 13, 12, 11, 10]
    ex.start.value = 2                          # 2 + 6 > 6 ratings: a message, the last picture stays
    png = bytes(ex.image.value)
    assert "runs past the end" in text(ex.message) and bytes(ex.image.value) == png
    assert ex.result["window"]["position"].tolist()[0] == 0
    ex.start.value, ex.user.value = 0, 42
    assert "user 42 has no rating" in text(ex.message)
    ex.user.value = 2
    assert "only 3 ratings" in text(ex.message)
    ex.length.value = 3
    assert ex.message.value and "user 2" in text(ex.message) and ex.result["window"]["item"].tolist() == [10, 12, 14]
