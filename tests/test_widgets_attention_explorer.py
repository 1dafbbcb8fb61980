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
    """User 1 rates movies 10..15 at decreasing times (so time order reverses id order, with one tie
    broken by id); user 2 rates three movies."""
    ratings = pd.DataFrame({"user": [1] * 6 + [2] * 3, "item": [10, 11, 12, 13, 14, 15, 10, 12, 14],
                            "rating": 4.0, "timestamp": [60, 50, 40, 30, 20, 20, 5, 6, 7]})
    movies = pd.DataFrame({"item": [10, 11, 12, 13, 14, 15, 16],
                           "title": [f"Movie number {i} (2000)" for i in range(10, 17)]})
    return ratings, movies


def test_the_sequence_is_sorted_by_time_with_ties_by_id(data):
    ratings, movies = data
    assert user_sequence(ratings, 1)["item"].tolist() == [14, 15, 13, 12, 11, 10]
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
