import numpy as np
import pytest
import torch

from recsys_lab.data import IdMap, RatingData, make_synthetic_ratings


def test_idmap_round_trip_and_unknowns():
    m = IdMap([30, 10, 20, 10])
    assert list(m.ids) == [10, 20, 30] and len(m) == 3 and 20 in m and 40 not in m
    assert list(m.to_index([30, 10])) == [2, 0]
    assert list(m.to_raw(m.to_index([20, 30]))) == [20, 30]
    assert list(m.to_index([10, 99], missing="minus1")) == [0, -1]
    with pytest.raises(KeyError, match=r"unknown id\(s\), first ones: \[99\]"):
        m.to_index([99])
    with pytest.raises(IndexError):
        m.to_raw([3])


def test_rating_matrix_csr_and_dense_agree(tiny_ratings):
    data = RatingData(tiny_ratings)
    assert (data.n_users, data.n_items) == (4, 5)
    csr = data.to_csr()
    # user 1 (row 0) rated items 10, 20, 30 (cols 0, 1, 2) with 5, 3, 4
    assert csr[0].toarray().tolist() == [[5.0, 3.0, 4.0, 0.0, 0.0]]
    dense = data.to_dense()
    assert torch.isnan(dense).sum() == 20 - 9
    assert np.allclose(np.nan_to_num(dense.numpy()), csr.toarray())
    assert data.density == pytest.approx(9 / 20)


def test_test_split_indexed_with_train_maps(tiny_ratings):
    train = RatingData(tiny_ratings[tiny_ratings.user != 4])
    with pytest.raises(KeyError, match=r"row 8, column 'user': user id 4 is not in the given users map"):
        RatingData(tiny_ratings, users=train.users, items=train.items)
    with pytest.raises(ValueError, match=r"ratings frame: missing column\(s\) 'rating'; found"):
        RatingData(tiny_ratings.drop(columns="rating"))


def test_synthetic_is_seeded_and_planted():
    a = make_synthetic_ratings(seed=3)
    b = make_synthetic_ratings(seed=3)
    assert a.ratings.equals(b.ratings)
    assert not a.ratings.equals(make_synthetic_ratings(seed=4).ratings)
    r = a.ratings
    # the planted truth explains the ratings up to the noise level
    resid = r.rating - a.true_rating(r.user, r.item)
    assert 0.85 * a.noise < np.sqrt(np.mean(resid ** 2)) < 1.05 * a.noise
    assert not r.duplicated(["user", "item"]).any()
    # popularity skew: the most popular tenth of items has far more than a tenth of ratings
    counts = r.item.value_counts()
    assert counts.iloc[: len(counts) // 10].sum() > 0.2 * len(r)
    assert set(a.item_genres.item) == set(range(1, 151))


def test_describe_and_top_rated_by_hand(tiny_ratings):
    from recsys_lab.data import describe_ratings, top_rated
    import pandas as pd

    d = describe_ratings(tiny_ratings)
    assert (d["ratings"], d["users"], d["items"]) == (9, 4, 5)
    assert d["density"] == pytest.approx(9 / 20) and d["sparsity"] == pytest.approx(11 / 20)
    movies = pd.DataFrame({"item": [10, 20, 30, 40, 50], "title": list("ABCDE")})
    # means: 10 -> 13/3, 20 -> 2, 30 -> 4.5, 40 -> 2, 50 -> 3
    assert top_rated(tiny_ratings, movies, min_ratings=1, n=2).title.tolist() == ["C", "A"]
    assert top_rated(tiny_ratings, movies, min_ratings=3, n=5).title.tolist() == ["A"]
    # damping 3 with mu = 31/9: item 30 -> (9 + 31/3) / 5 = 3.8667, item 10 -> (13 + 31/3) / 6 = 3.8889
    damped = top_rated(tiny_ratings, movies, min_ratings=1, n=2, damping=3)
    assert damped.title.tolist() == ["A", "C"]
    assert damped.score.tolist() == pytest.approx([(13 + 31 / 3) / 6, (9 + 31 / 3) / 5])
    with pytest.raises(ValueError, match="min_ratings >= 1"):
        top_rated(tiny_ratings, movies, min_ratings=0)
