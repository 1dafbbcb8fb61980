import functools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from model_contract import ModelContract
from recsys_lab.data import make_synthetic_ratings, random_split
from recsys_lab.features import ItemFeatures, genre_features
from recsys_lab.models import ContentBased, DeepContent, GlobalMean
from recsys_lab.models.content import cosine_scores, user_means, user_profiles


@functools.lru_cache(maxsize=1)
def contract_features():
    # the same synthetic set tests/model_contract.py uses
    return genre_features(make_synthetic_ratings(n_users=60, n_items=40, density=0.2, seed=11).item_genres)


class TestContentBasedContract(ModelContract):
    predicts_ratings = False  # cosine scores in [-1, 1]

    def make_model(self, **kw):
        return ContentBased(contract_features(), **kw)


class TestDeepContentContract(ModelContract):
    def make_model(self, **kw):
        return DeepContent(contract_features(), n_factors=4, hidden=8, epochs=3, batch_size=64, **kw)


# ----- hand-worked example -------------------------------------------------------------
# tiny_ratings (conftest): user 1 rated 10:5, 20:3, 30:4; user 2 10:4, 40:2; user 3 20:1, 30:5, 50:3;
# user 4 10:4. Features (already unit rows where non-zero): three features a, b, c.
X = np.array([[1.0, 0.0, 0.0],    # item 10: a
              [0.0, 1.0, 0.0],    # item 20: b
              [0.6, 0.0, 0.8],    # item 30: a + c
              [0.0, 0.0, 1.0],    # item 40: c
              [0.0, 0.0, 0.0]])   # item 50: no features


@pytest.fixture
def tiny_features():
    # items 10..50 as above, plus item 60 with features and no ratings (a new movie)
    rows = np.vstack([X, [[1.0, 0.0, 0.0]]])
    return ItemFeatures(np.array([10, 20, 30, 40, 50, 60]), sp.csr_matrix(rows), ["genre:a", "genre:b", "tag:c"])


def test_user_means_and_profiles_by_hand(tiny_ratings):
    from recsys_lab.data import RatingData

    R = RatingData(tiny_ratings).to_csr()
    mu = 31 / 9
    # damping 0: user 1's mean is 4 -> weights (+1, -1, 0) -> p_1 = (x10 - x20) / 3
    np.testing.assert_allclose(user_means(R)[0], 4.0)
    P = user_profiles(R, X)
    np.testing.assert_allclose(P[0], (X[0] - X[1]) / 3)
    # user 4 rated one item: centred weight 0 -> zero profile
    np.testing.assert_allclose(P[3], 0.0)
    # damping 2: rbar_1 = (12 + 2 mu) / 5; weights r - rbar_1
    rbar = (12 + 2 * mu) / 5
    assert user_means(R, damping=2.0)[0] == pytest.approx(rbar)
    P2 = user_profiles(R, X, damping=2.0)
    np.testing.assert_allclose(P2[0], ((5 - rbar) * X[0] + (3 - rbar) * X[1] + (4 - rbar) * X[2]) / 3)
    # user 4 now has a profile: (4 - (4 + 2 mu) / 3) * x10
    np.testing.assert_allclose(P2[3], (4 - (4 + 2 * mu) / 3) * X[0])
    with pytest.raises(ValueError, match="describe the same items"):
        user_profiles(R, X[:3])
    with pytest.raises(ValueError, match="damping"):
        user_profiles(R, X, damping=-1)


def test_cosine_scores_by_hand():
    p = np.array([1.0, -1.0, 0.0]) / 3          # user 1's profile (damping 0)
    s = cosine_scores(p, sp.csr_matrix(X))[0]
    # cos(p, x10) = (1/3) / (sqrt(2)/3) = 1/sqrt(2); x20: -1/sqrt(2); x30: 0.6/sqrt(2); x40, x50: 0
    np.testing.assert_allclose(s, [2 ** -0.5, -(2 ** -0.5), 0.6 * 2 ** -0.5, 0.0, 0.0])
    assert cosine_scores(np.zeros(3), sp.csr_matrix(X)).tolist() == [[0.0] * 5]


def test_content_based_scores_new_item_and_explains(tiny_ratings, tiny_features):
    model = ContentBased(tiny_features, damping=0.0).fit(tiny_ratings)
    assert 60 in model.data_.items  # a featured item without ratings is in the catalogue
    # user 1: profile along a - b; item 60 has feature a only -> cosine 1/sqrt(2), like item 10
    np.testing.assert_allclose(model.predict([1, 1, 1], [60, 20, 40]), [2 ** -0.5, -(2 ** -0.5), 0.0])
    recs = model.recommend(1, k=3)
    assert recs.item.tolist() == [60, 40, 50]  # 60 (1/sqrt 2) first; 40, 50 tie at 0 -> by id
    why = model.explain(1, 60)
    assert list(why["contributions"]) == ["genre:a"]
    assert sum(why["contributions"].values()) == pytest.approx(why["score"])
    assert why["liked_items"] == [10]           # rated 5 > mean 4 and has feature a
    assert why["text"] == "recommended because of the genre a you liked"


def test_explain_contributions_sum_to_score(tiny_ratings, tiny_features):
    model = ContentBased(tiny_features, damping=2.0).fit(tiny_ratings)
    why = model.explain(3, 30, top=10)
    # all positive terms listed; the negative ones are missing from contributions, so compare with all terms
    row = model.items_unit_[model.data_.items.to_index([30])[0]]
    u = model.data_.users.to_index([3])[0]
    terms = row.toarray()[0] * model.profiles_[u] / model.profile_norms_[u]
    assert why["score"] == pytest.approx(terms.sum()) == pytest.approx(model.predict([3], [30])[0])
    assert set(why["contributions"]) == {model.item_features.names[j] for j in np.flatnonzero(terms > 0)}


def test_content_based_cold_users(tiny_ratings, tiny_features):
    model = ContentBased(tiny_features, damping=0.0).fit(tiny_ratings)
    # user 4 rated one item -> no profile: the most-rated items instead, and predict gives 0
    assert not model.has_profile(4) and model.has_profile(1)
    assert model.recommend(4, k=2).item.tolist() == [20, 30]   # counts 2, 2 (10 is seen)
    assert model.recommend(-7, k=2).item.tolist() == [10, 20]  # unknown user: popularity
    assert model.predict([4, -7], [20, 20]).tolist() == [0.0, 0.0]
    assert model.explain(-7, 10)["text"].startswith("no taste profile")
    # with damping the same user has a profile and gets personal scores
    assert ContentBased(tiny_features, damping=2.0).fit(tiny_ratings).has_profile(4)
    with pytest.raises(KeyError, match="not fitted on user"):
        ContentBased(tiny_features, unknown="error").fit(tiny_ratings).recommend(-7)


def test_content_based_bad_arguments(tiny_ratings, tiny_features):
    with pytest.raises(ValueError, match="item_features must be an ItemFeatures"):
        ContentBased(pd.DataFrame()).fit(tiny_ratings)
    with pytest.raises(ValueError, match="damping"):
        ContentBased(tiny_features, damping=-1).fit(tiny_ratings)


def test_content_based_recovers_genre_taste(synthetic):
    """On synthetic data (item factors drawn around genre centroids), content scores correlate
    with the planted truth of unseen pairs."""
    feats = genre_features(synthetic.item_genres)
    train, test = random_split(synthetic.ratings, 0.2, seed=0)
    model = ContentBased(feats).fit(train)
    truth = synthetic.true_rating(test.user, test.item) - synthetic.item_bias[test.item - 1]
    score = model.predict(test.user, test.item)
    assert np.corrcoef(score, truth)[0, 1] > 0.2


# ----- deep content --------------------------------------------------------------------

def test_deep_content_identical_features_identical_scores(tiny_ratings, tiny_features):
    """Items enter only through their features: item 60 (no ratings) and item 10 (rated) share
    their feature row, so every user scores them the same; embed() reproduces the tower."""
    model = DeepContent(tiny_features, n_factors=2, hidden=4, epochs=5, batch_size=4).fit(tiny_ratings)
    users = np.array([1, 2, 3, 4, -1])
    np.testing.assert_allclose(model.predict(users, np.full(5, 60)), model.predict(users, np.full(5, 10)))
    i = model.data_.items.to_index([10, 30, 60])
    out = model.embed(tiny_features.rows([10, 30, 60]))
    np.testing.assert_allclose(out[:, :-1], model.item_factors_[i], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, -1], model.item_bias_[i], rtol=1e-5, atol=1e-6)
    # unknown user: mu + item bias c_i; unknown item: mu + b_u; clipped to the training range
    c = model.item_bias_[model.data_.items.to_index([60])[0]]
    assert model.predict([-1], [60])[0] == pytest.approx(np.clip(model.global_mean_ + c, 1, 5))
    assert model.predict([1], [999])[0] == pytest.approx(np.clip(model.global_mean_ + model.user_bias_[0], 1, 5))
    with pytest.raises(ValueError, match="3 columns"):
        model.embed(sp.csr_matrix((1, 2)))


def test_deep_content_learns(synthetic):
    feats = genre_features(synthetic.item_genres)
    train, test = random_split(synthetic.ratings, 0.2, seed=0)
    model = DeepContent(feats, n_factors=4, hidden=16, epochs=30, batch_size=128, learning_rate=0.02).fit(train)
    loss = model.history_.train_loss
    assert loss[-1] < 0.7 * loss[0]
    err = lambda m: np.sqrt(np.mean((m.predict(test.user, test.item) - test.rating) ** 2))
    assert err(model) < err(GlobalMean().fit(train)) - 0.05


def test_deep_content_bad_hyper_parameters(tiny_ratings, tiny_features):
    for kw, msg in [({"epochs": 0}, "epochs"), ({"hidden": 1.5}, "hidden"),
                    ({"learning_rate": 0}, "learning_rate"), ({"reg": -1}, "reg")]:
        with pytest.raises(ValueError, match=msg):
            DeepContent(tiny_features, **kw).fit(tiny_ratings)


# ----- a new user without refitting (fold_in) ------------------------------------------------

def test_content_fold_in_reproduces_every_training_user(tiny_ratings):
    feats = ItemFeatures(np.array([10, 20, 30, 40, 50]), sp.csr_matrix(X), ["genre:a", "genre:b", "tag:c"])
    model = ContentBased(feats).fit(tiny_ratings)
    for user, rows in tiny_ratings.groupby("user"):
        folded = model.fold_in(rows)
        u = model.data_.users.to_index([user])[0]
        np.testing.assert_allclose(folded.state[0], model.profiles_[u], atol=1e-12)
        np.testing.assert_allclose(folded.scores, model._user_scores(u), atol=1e-12)
        assert folded.recommend(k=3).equals(model.recommend(user, k=3))
        assert folded.explain(30) == model.explain(user, 30)
    # a new user's profile is the formula's: damped mean (sum + 5 mu) / (n + 5), centred weights
    folded = model.fold_in({10: 5.0, 40: 1.0})
    mu = tiny_ratings.rating.mean()
    mean = (6.0 + 5 * mu) / 7
    np.testing.assert_allclose(folded.state[0], ((5 - mean) * X[0] + (1 - mean) * X[3]) / 2)


def test_deep_content_fold_in_solves_the_ridge_over_the_tower(tiny_ratings):
    feats = ItemFeatures(np.array([10, 20, 30, 40, 50]), sp.csr_matrix(X), ["genre:a", "genre:b", "tag:c"])
    model = DeepContent(feats, n_factors=2, hidden=4, epochs=3, batch_size=4, reg=0.05).fit(tiny_ratings)
    folded = model.fold_in({10: 5.0, 20: 2.0, 30: 4.0})
    p, b = folded.state
    i = model.data_.items.to_index([10, 20, 30])
    a = np.column_stack([model.item_factors_[i], np.ones(3)])
    y = np.array([5.0, 2.0, 4.0]) - model.global_mean_ - model.item_bias_[i]
    grad = -2 * a.T @ (y - a @ np.r_[p, b]) + 2 * 3 * 0.05 * np.r_[p, b]   # gradient of the objective
    np.testing.assert_allclose(grad, 0, atol=1e-10)
    np.testing.assert_allclose(np.r_[p, b], np.linalg.solve(a.T @ a + 0.15 * np.eye(3), a.T @ y))
    # the readable explanation: its terms add up to the prediction before clipping
    for why in (model.explain(1, 40), folded.explain(40)):
        raw = why["global_mean"] + why["user_bias"] + why["item_bias"] + why["dot"]
        assert why["prediction"] == pytest.approx(np.clip(raw, *model.rating_range_))
        assert "★" in why.text and f"{raw:.2f}★" in why.text
    assert folded.explain(40)["prediction"] == pytest.approx(folded.predict([40])[0])
    with pytest.raises(ValueError, match="does not know item"):
        model.fold_in({99: 3.0})
