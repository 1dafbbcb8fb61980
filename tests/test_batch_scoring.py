"""recommend_many: the same lists as recommend, user by user, for every model (batch scoring, issue 18)."""
import numpy as np
import pandas as pd
import pytest

from recsys_lab.features import movie_features
from recsys_lab.models import (EASE, IALS, BiasBaseline, ContentBased, DeepContent, DotProduct, IAutoRec, ImplicitAutoRec,
                               ItemKNN, MatrixFactorization, MostPopular, WeightedHybrid)


@pytest.fixture(scope="module")
def small(movielens):
    r = movielens.ratings
    users = np.sort(r.user.unique())[:60]
    counts = r.item.value_counts()
    items = counts.index[counts >= 30]
    return r[r.user.isin(users) & r.item.isin(items)].reset_index(drop=True), movielens


def _models(small):
    ratings, ml = small
    features = movie_features(ml.movies, ml.tags, ratings)
    mf = MatrixFactorization(n_factors=8, epochs=2, seed=0)
    pop, content = MostPopular(), ContentBased(features)
    return {
        "MostPopular": pop, "BiasBaseline": BiasBaseline(), "MF": mf, "EASE": EASE(reg=50.0),
        "ItemKNN sum": ItemKNN(ranking="sum"), "ContentBased": content,
        "DeepContent": DeepContent(features, epochs=1, seed=0),
        "DotProduct": DotProduct(n_factors=8, epochs=1, seed=0),
        "ImplicitAutoRec": ImplicitAutoRec(n_factors=8, epochs=1, seed=0),
        "IAutoRec": IAutoRec(n_factors=8, epochs=1, seed=0),
        "IALS": IALS(n_factors=8, iterations=2, seed=0),
        "Weighted": WeightedHybrid({"MostPopular": MostPopular(), "ContentBased": ContentBased(features)}, [0.5, 0.5]),
    }


def _fit(model, ratings):
    try:
        return model.fit(ratings, progress=False)
    except TypeError:
        return model.fit(ratings)


@pytest.mark.parametrize("name", ["MostPopular", "BiasBaseline", "MF", "EASE", "ItemKNN sum", "ContentBased",
                                  "DeepContent", "DotProduct", "ImplicitAutoRec", "IAutoRec", "IALS", "Weighted"])
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommend_many_equals_recommend_user_by_user(small, name, exclude_seen):
    ratings, _ = small
    model = _fit(_models(small)[name], ratings)
    users = list(np.sort(ratings.user.unique())) + [10_000]          # an unknown user gets the fallback list
    many = model.recommend_many(users, k=7, exclude_seen=exclude_seen, batch_size=16)   # several batches
    for user in users:
        one = model.recommend(user, k=7, exclude_seen=exclude_seen)
        mine = many[many.user == user]
        assert mine.item.tolist() == one.item.tolist(), (name, user)
        np.testing.assert_allclose(mine.score.to_numpy(), one.score.to_numpy(), rtol=1e-6, atol=1e-9)


class _Reversed(MostPopular):
    """A subclass that changes _score_user only: it must not be scored by MostPopular's batch path."""

    def _score_user(self, u):
        return -np.asarray(self.counts_, dtype=np.float64)


def test_a_subclass_that_changes_score_user_only_is_scored_row_by_row(small):
    ratings, _ = small
    model = _Reversed().fit(ratings)
    user = int(ratings.user.iloc[0])
    assert model.recommend_many([user], k=5).item.tolist() == model.recommend(user, k=5).item.tolist()


def test_recommend_many_is_fast_path_for_matrix_models(small):
    ratings, _ = small
    mf = _fit(MatrixFactorization(n_factors=8, epochs=1, seed=0), ratings)
    assert mf._batch_scorer() == mf._score_users          # the vectorized product, not the loop


@pytest.mark.parametrize("kwargs, error, message", [
    ({"k": 0}, ValueError, "k must be"), ({"k": 2.5}, ValueError, "k must be"),
    ({"exclude_seen": "yes"}, ValueError, "exclude_seen"), ({"batch_size": 0}, ValueError, "batch_size")])
def test_recommend_many_refuses_bad_arguments(small, kwargs, error, message):
    ratings, _ = small
    model = BiasBaseline().fit(ratings)
    with pytest.raises(error, match=message):
        model.recommend_many(ratings.user.unique()[:3], **kwargs)


def test_recommend_many_names_unknown_users_when_asked_to(small):
    ratings, _ = small
    model = BiasBaseline(unknown="error").fit(ratings)
    with pytest.raises(KeyError, match="10000"):
        model.recommend_many([int(ratings.user.iloc[0]), 10_000])
    with pytest.raises(RuntimeError, match="not fitted"):
        BiasBaseline().recommend_many([1])


class _OneByOne:
    """Not a kit Recommender: evaluate_ranking asks it user by user."""

    def __init__(self, model):
        self.model = model

    def recommend(self, user, k=10, exclude_seen=True):
        return self.model.recommend(user, k=k, exclude_seen=exclude_seen)


@pytest.mark.parametrize("unknown", ["fallback", "error"])
def test_evaluate_ranking_gives_the_same_report_batched_and_user_by_user(small, unknown):
    from recsys_lab.data import random_split
    from recsys_lab.evaluation import evaluate_ranking
    ratings, _ = small
    train, test = random_split(ratings, 0.2, seed=0)
    test = pd.concat([test, pd.DataFrame({"user": [10_000], "item": [test.item.iloc[0]], "rating": [5.0],
                                          "timestamp": [0]})], ignore_index=True)
    model = BiasBaseline(unknown=unknown).fit(train)
    batched = evaluate_ranking(model, test, k=5, relevance_threshold=4.0)
    single = evaluate_ranking(_OneByOne(model), test, k=5, relevance_threshold=4.0)
    pd.testing.assert_frame_equal(batched.per_user, single.per_user)
    assert batched.recommendations == single.recommendations
    assert (batched.n_users_unknown, batched.n_users_skipped) == (single.n_users_unknown, single.n_users_skipped)
