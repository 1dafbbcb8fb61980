import numpy as np
import pandas as pd
import pytest

from recsys_lab.models import BiasBaseline, GlobalMean, MostPopular, RecentPopular
from model_contract import ModelContract


class TestGlobalMeanContract(ModelContract):
    def make_model(self, **kw):
        return GlobalMean(**kw)


class TestBiasBaselineContract(ModelContract):
    def make_model(self, **kw):
        return BiasBaseline(**kw)


class TestMostPopularContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return MostPopular(**kw)


def test_global_mean_value(tiny_ratings):
    model = GlobalMean().fit(tiny_ratings)
    # (5+3+4+4+2+1+5+3+4) / 9 = 31/9
    assert model.predict([1, 99], [50, 10]) == pytest.approx([31 / 9, 31 / 9])


def test_bias_baseline_one_epoch_by_hand(tiny_ratings):
    """One ALS epoch with reg 0 for items and 1 for users, worked out by hand."""
    model = BiasBaseline(reg_user=1.0, reg_item=0.0, epochs=1).fit(tiny_ratings)
    mu = 31 / 9
    # b_u = 0 first, so b_i is the mean residual of each item:
    #   item 10: (5+4+4)/3 - mu, item 20: (3+1)/2 - mu, item 30: (4+5)/2 - mu, item 40: 2 - mu, item 50: 3 - mu
    b_i = np.array([13 / 3, 2.0, 4.5, 2.0, 3.0]) - mu
    np.testing.assert_allclose(model.item_bias_, b_i)
    # user 1 rated items 10, 20, 30: b_u = sum(r - mu - b_i) / (1 + 3)
    r1 = np.array([5.0, 3.0, 4.0])
    assert model.user_bias_[0] == pytest.approx(np.sum(r1 - mu - b_i[:3]) / 4)
    parts = model.explain(1, 20)
    assert parts["prediction"] == pytest.approx(mu + parts["user_bias"] + parts["item_bias"])


def test_bias_baseline_recovers_planted_biases(synthetic):
    model = BiasBaseline(reg_user=1.0, reg_item=1.0, epochs=20).fit(synthetic.ratings)
    planted = synthetic.item_bias[model.data_.items.ids - 1]
    assert np.corrcoef(model.item_bias_, planted)[0, 1] > 0.8
    # a new user gets mu + b_i; a new item mu + b_u; both unknown: mu (clipped)
    assert model.predict([-1], [-1])[0] == pytest.approx(np.clip(model.global_mean_, 1, 5))


def test_bias_baseline_beats_global_mean_on_movielens(movielens):
    from recsys_lab.data import random_split

    train, test = random_split(movielens.ratings, 0.2, seed=0)
    rmse = lambda m: np.sqrt(np.mean((m.fit(train).predict(test.user, test.item) - test.rating) ** 2))
    assert rmse(BiasBaseline()) < rmse(GlobalMean()) - 0.1


def test_bias_baseline_bad_hyper_parameters(tiny_ratings):
    with pytest.raises(ValueError, match="reg_user and reg_item must be >= 0"):
        BiasBaseline(reg_user=-1).fit(tiny_ratings)
    with pytest.raises(ValueError, match="epochs must be a positive whole number"):
        BiasBaseline(epochs=0).fit(tiny_ratings)
    with pytest.raises(ValueError, match="unknown must be"):
        BiasBaseline(unknown="ignore").fit(tiny_ratings)


def test_most_popular_ranking_and_ties(tiny_ratings):
    model = MostPopular().fit(tiny_ratings)
    # counts: item 10: 3, 20: 2, 30: 2, 40: 1, 50: 1; ties by item id
    assert model.recommend(-1, k=5).item.tolist() == [10, 20, 30, 40, 50]
    # user 2 saw 10 and 40
    assert model.recommend(2, k=5).item.tolist() == [20, 30, 50]  # fewer than k candidates
    assert model.predict([1, 1], [10, 999]).tolist() == [3.0, 0.0]


class TestRecentPopularContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return RecentPopular(**{"n_recent": 50, **kw})


def _recent_frame():
    # item 1 is popular over the whole log, item 3 in the latest three rows; item 2 ties 3 on all-time count
    rows = [(1, 1, 1), (2, 1, 2), (3, 1, 3), (4, 1, 4), (1, 2, 5), (2, 3, 6), (3, 3, 7), (4, 2, 7)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=4.0)


def test_recent_popular_counts_the_window_by_hand():
    model = RecentPopular(n_recent=3).fit(_recent_frame())
    # latest three rows by (timestamp, user, item): (2, 3, 6), (3, 3, 7), (4, 2, 7)
    np.testing.assert_array_equal(model.recent_counts_, [0, 1, 2])
    np.testing.assert_array_equal(model.all_counts_, [4, 2, 2])
    np.testing.assert_allclose(model.counts_, np.array([0, 1, 2]) + np.array([4, 2, 2]) / 9)
    assert model.window_start_ == 6
    assert model.recommend(99, k=3).item.tolist() == [3, 2, 1]
    assert model.explain(1, 3) == {"recent": 2, "all_time": 2}
    # a window of the whole log is MostPopular's order
    whole = RecentPopular(n_recent=100).fit(_recent_frame())
    assert whole.recommend(99, k=3).item.tolist() == MostPopular().fit(_recent_frame()).recommend(99, k=3).item.tolist()


def test_recent_popular_ignores_row_order_and_refuses_bad_input():
    frame = _recent_frame()
    a = RecentPopular(n_recent=3).fit(frame).counts_
    b = RecentPopular(n_recent=3).fit(frame.sample(frac=1.0, random_state=1)).counts_
    np.testing.assert_array_equal(a, b)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_recent must be a whole number"):
            RecentPopular(n_recent=bad).fit(frame)
    with pytest.raises(ValueError, match="no 'timestamp' column"):
        RecentPopular().fit(frame.drop(columns="timestamp"))
