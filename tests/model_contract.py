"""The contract every recommender of the kit keeps; each model's test file subclasses it.

    class TestMyModel(ModelContract):
        def make_model(self, **overrides):
            return MyModel(seed=0, **overrides)
"""
import functools

import numpy as np
import pytest

from recsys_lab.data import make_synthetic_ratings, random_split


@functools.lru_cache(maxsize=1)
def _contract_data():
    synth = make_synthetic_ratings(n_users=60, n_items=40, density=0.2, seed=11)
    return random_split(synth.ratings, 0.2, seed=0)


class ModelContract:
    predicts_ratings = True  # False for ranking-only models (scores are not on the rating scale)

    def make_model(self, **overrides):  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    @pytest.fixture
    def data(self):
        return _contract_data()

    def test_fit_returns_self_and_predict_shape(self, data):
        train, test = data
        model = self.make_model()
        assert model.fit(train) is model
        pred = model.predict(test.user.values, test.item.values)
        assert pred.shape == (len(test),) and np.isfinite(pred).all()
        if self.predicts_ratings:
            assert pred.min() >= train.rating.min() - 1e-9 and pred.max() <= train.rating.max() + 1e-9

    def test_unfitted_model_says_so(self):
        with pytest.raises(RuntimeError, match="not fitted"):
            self.make_model().predict([1], [1])

    def test_recommend_excludes_seen_sorted_unique(self, data):
        train, _ = data
        model = self.make_model().fit(train)
        user = train.user.iloc[0]
        recs = model.recommend(user, k=5)
        assert list(recs.columns) == ["item", "score"] and len(recs) == 5
        assert recs.item.is_unique
        assert not set(recs.item) & set(train.item[train.user == user])
        assert (np.diff(recs.score.values) <= 1e-12).all()
        with_seen = model.recommend(user, k=len(set(train.item)), exclude_seen=False)
        assert len(with_seen) == train.item.nunique()
        with pytest.raises(ValueError, match="k must be"):
            model.recommend(user, k=0)

    def test_unknown_user_and_item_fallback(self, data):
        train, _ = data
        model = self.make_model().fit(train)
        known_user, known_item = train.user.iloc[0], train.item.iloc[0]
        pred = model.predict([known_user, -1, -1], [-1, known_item, -1])
        assert np.isfinite(pred).all()
        recs = model.recommend(-1, k=3)
        assert len(recs) == 3 and recs.item.isin(train.item).all()

    def test_unknown_error_mode(self, data):
        train, _ = data
        model = self.make_model(unknown="error").fit(train)
        with pytest.raises(KeyError, match="not fitted on user"):
            model.predict([-1], [train.item.iloc[0]])
        with pytest.raises(KeyError, match="not fitted on user"):
            model.recommend(-1)

    def test_refit_forgets_old_data(self, data):
        train, test = data
        first_half = train[train.user <= 30]
        second_half = train[train.user > 30]
        refit = self.make_model().fit(first_half).fit(second_half)
        fresh = self.make_model().fit(second_half)
        u, i = second_half.user.values[:50], second_half.item.values[:50]
        np.testing.assert_allclose(refit.predict(u, i), fresh.predict(u, i))
        assert 1 not in refit.data_.users  # user 1 was only in the first fit

    def test_seeded_reruns_match(self, data):
        train, test = data
        a = self.make_model().fit(train).predict(test.user.values, test.item.values)
        b = self.make_model().fit(train).predict(test.user.values, test.item.values)
        np.testing.assert_array_equal(a, b)

    def test_params_round_trip(self):
        model = self.make_model()
        clone = type(model)(**model.get_params())
        assert clone.get_params() == model.get_params()
        assert repr(clone) == repr(model)
