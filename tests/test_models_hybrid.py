import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from model_contract import ModelContract
from recsys_lab.features import ItemFeatures
from recsys_lab.models import (BiasBaseline, ContentBased, DeepContent, FeatureAugmentedHybrid, MostPopular,
                               SwitchingHybrid, WeightedHybrid, ItemKNN, UserKNN)
from recsys_lab.models.hybrid import clone, normalize_scores, pseudo_ratings
from test_models_content import contract_features

# ----- the shared contract -------------------------------------------------------------


class TestWeightedHybridContract(ModelContract):
    predicts_ratings = False  # mixed z-scores

    def make_model(self, **kw):
        return WeightedHybrid({"bias": BiasBaseline(), "content": ContentBased(contract_features())},
                              weights=[0.7, 0.3], **kw)


class TestSwitchingHybridContract(ModelContract):
    predicts_ratings = False  # content scores for cold users

    def make_model(self, **kw):
        return SwitchingHybrid(BiasBaseline(), ContentBased(contract_features()), min_ratings=8, **kw)


class TestFeatureAugmentedHybridContract(ModelContract):
    predicts_ratings = False  # BiasBaseline's unclipped ranking scores

    def make_model(self, **kw):
        deep = DeepContent(contract_features(), n_factors=2, hidden=4, epochs=2, batch_size=128)
        return FeatureAugmentedHybrid(deep, BiasBaseline(), n_pseudo=3, max_item_ratings=3, **kw)


# ----- hand-worked weighting (tiny_ratings from conftest) -------------------------------
# counts: item 10: 3, 20: 2, 30: 2, 40: 1, 50: 1. Users: 1 -> {10, 20, 30}, 2 -> {10, 40},
# 3 -> {20, 30, 50}, 4 -> {10}.
ITEMS = np.array([10, 20, 30, 40, 50])
COUNTS = np.array([3.0, 2, 2, 1, 1])


@pytest.fixture
def feats():
    rows = np.array([[1.0, 0, 0], [0, 1, 0], [0.6, 0, 0.8], [0, 0, 1], [0, 0, 0], [1, 0, 0]])
    return ItemFeatures(np.array([10, 20, 30, 40, 50, 60]), sp.csr_matrix(rows), ["genre:a", "genre:b", "tag:c"])


def z(x):
    x = np.asarray(x, dtype=float)
    return (x - x.mean()) / x.std()


def test_normalize_scores():
    np.testing.assert_allclose(normalize_scores([1.0, 2.0, 3.0]), [-1.224745, 0.0, 1.224745], atol=1e-6)
    out = normalize_scores([1.0, np.nan, 3.0])
    assert np.isnan(out[1]) and out[0] == -1.0 and out[2] == 1.0   # NaN stays, ignored in mean / std
    assert normalize_scores([2.0, 2.0]).tolist() == [0.0, 0.0]      # no spread: all average
    # rank: average ranks 1, 3.5, 3.5, 2 of 4 -> (rank - 1) / 3; NaN ignored
    np.testing.assert_allclose(normalize_scores([1.0, 3.0, 3.0, 2.0, np.nan], "rank"),
                               [0.0, 2.5 / 3, 2.5 / 3, 1 / 3, np.nan])
    with pytest.raises(ValueError, match="normalize must be one of"):
        normalize_scores([1.0], "minmax")


def test_weighted_hybrid_raw_weighting_by_hand(tiny_ratings, feats):
    hybrid = WeightedHybrid({"pop": MostPopular(), "bias": BiasBaseline()}, weights=[0.25, 0.75],
                            normalize="none").fit(tiny_ratings)
    bias = hybrid.models["bias"]
    for user in (1, 2):
        # predict: the weighted mean of the parts' predictions, pair by pair
        expected = 0.25 * COUNTS + 0.75 * bias.predict(np.full(5, user), ITEMS)
        np.testing.assert_allclose(hybrid.predict(np.full(5, user), ITEMS), expected)
    # recommend ranks by the weighted mean of the parts' ranking scores (bias unclipped)
    b_2 = bias.user_bias_[1]
    expected = 0.25 * COUNTS + 0.75 * (bias.global_mean_ + b_2 + bias.item_bias_)
    unseen = [1, 2, 4]  # user 2 saw 10 and 40
    order = [ITEMS[j] for j in sorted(unseen, key=lambda j: (-expected[j], ITEMS[j]))]
    recs = hybrid.recommend(2, k=3)
    assert recs.item.tolist() == order
    np.testing.assert_allclose(recs.score, expected[[ITEMS.tolist().index(i) for i in order]])
    # an item only the content part knows: its prediction alone; an item nobody knows: the mean of fallbacks
    mixed = WeightedHybrid({"bias": BiasBaseline(), "content": ContentBased(feats)}, weights=[3, 1],
                           normalize="none").fit(tiny_ratings)
    content = mixed.models["content"]
    assert mixed.predict([1], [60])[0] == pytest.approx(content.predict([1], [60])[0])
    nobody = (3 * mixed.models["bias"].predict([1], [999])[0] + content.predict([1], [999])[0]) / 4
    assert mixed.predict([1], [999])[0] == pytest.approx(nobody)


def test_weighted_hybrid_zscore_by_hand(tiny_ratings):
    hybrid = WeightedHybrid([MostPopular(), BiasBaseline()], weights=[1.0, 3.0]).fit(tiny_ratings)
    bias = hybrid.models[1]
    scores = bias.global_mean_ + bias.user_bias_[0] + bias.item_bias_
    expected = (1.0 * z(COUNTS) + 3.0 * z(scores)) / 4.0
    np.testing.assert_allclose(hybrid.predict(np.ones(5), ITEMS), expected)
    assert list(hybrid.weights_) == ["MostPopular", "BiasBaseline"]  # names from a list of models
    why = hybrid.explain(1, 40)
    assert why["parts"]["MostPopular"]["score"] == pytest.approx(z(COUNTS)[3])
    assert why["score"] == pytest.approx(expected[3])


def test_weighted_hybrid_renormalises_over_parts_that_know_the_item(tiny_ratings, feats):
    """Item 60 has features but no ratings: only the content part can score it, so its hybrid
    score is that part's z-score; items both parts know get the weighted mean."""
    hybrid = WeightedHybrid({"pop": MostPopular(), "content": ContentBased(feats, damping=0.0)},
                            weights=[0.5, 0.5]).fit(tiny_ratings)
    r = 2 ** -0.5
    cos_user1 = np.array([r, -r, 0.6 * r, 0.0, 0.0, r])          # items 10..60 (see test_models_content)
    z_content, z_pop = z(cos_user1), z(COUNTS)
    got = hybrid.predict(np.ones(6), np.r_[ITEMS, 60])
    np.testing.assert_allclose(got[:5], 0.5 * z_pop + 0.5 * z_content[:5])
    assert got[5] == pytest.approx(z_content[5])
    assert 60 in hybrid.recommend(1, k=3).item.tolist()
    # weight 0 for content: the new item cannot be scored at all and drops out of the ranking
    pop_only = WeightedHybrid({"pop": MostPopular(), "content": ContentBased(feats)}, weights=[1, 0]).fit(tiny_ratings)
    recs = pop_only.recommend(-1, k=10)
    assert recs.item.tolist() == MostPopular().fit(tiny_ratings).recommend(-1, k=10).item.tolist()


def test_weighted_hybrid_bad_arguments(tiny_ratings):
    for kw, msg in [({"weights": [1.0]}, "one number per model"), ({"weights": [1, -1]}, ">= 0"),
                    ({"weights": [0, 0]}, "not all 0"), ({"normalize": "minmax"}, "normalize must be")]:
        with pytest.raises(ValueError, match=msg):
            WeightedHybrid([MostPopular(), BiasBaseline()], **kw).fit(tiny_ratings)
    with pytest.raises(ValueError, match="not fitted"):
        WeightedHybrid([MostPopular(), BiasBaseline()], refit=False).fit(tiny_ratings)
    with pytest.raises(ValueError, match="kit Recommender"):
        WeightedHybrid({"x": object()}).fit(tiny_ratings)


def test_refit_false_uses_parts_as_fitted(tiny_ratings):
    pop = MostPopular().fit(tiny_ratings[tiny_ratings.user != 4])   # fitted on other data on purpose
    hybrid = WeightedHybrid({"pop": pop}, refit=False).fit(tiny_ratings)
    assert hybrid.models["pop"] is pop and 4 not in pop.data_.users  # not refitted
    fresh = WeightedHybrid({"pop": MostPopular()}).fit(tiny_ratings)
    assert 4 in fresh.models["pop"].data_.users                       # refit=True fits in place


# ----- switching ------------------------------------------------------------------------

def test_switching_hybrid_picks_one_part_per_user(tiny_ratings, feats):
    hybrid = SwitchingHybrid(BiasBaseline(), ContentBased(feats, damping=2.0), min_ratings=3).fit(tiny_ratings)
    warm, cold = hybrid.warm_model, hybrid.cold_model
    assert [hybrid.chooses(u) for u in (1, 2, 3, 4, -1)] == ["warm", "cold", "warm", "cold", "cold"]
    pd.testing.assert_frame_equal(hybrid.recommend(1, k=2), warm.recommend(1, k=2))
    pd.testing.assert_frame_equal(hybrid.recommend(2, k=3), cold.recommend(2, k=3))   # may include item 60
    pd.testing.assert_frame_equal(hybrid.recommend(-1, k=3), cold.recommend(-1, k=3))
    assert 60 not in hybrid.recommend(1, k=10).item.tolist()  # the warm CF part cannot score it
    users, items = np.array([1, 2, 3, 4, -1]), np.array([40, 60, 10, 30, 20])
    expected = np.r_[warm.predict(users[[0]], items[[0]]), cold.predict(users[[1]], items[[1]]),
                     warm.predict(users[[2]], items[[2]]), cold.predict(users[3:], items[3:])]
    np.testing.assert_allclose(hybrid.predict(users, items), expected)  # the chosen part's predict
    assert "3 rating(s) >= min_ratings=3" in hybrid.explain(1, 40)["text"]
    with pytest.raises(ValueError, match="min_ratings"):
        SwitchingHybrid(BiasBaseline(), MostPopular(), min_ratings=-1).fit(tiny_ratings)


# ----- feature augmentation -------------------------------------------------------------

def small_deep(feats):
    return DeepContent(feats, n_factors=2, hidden=4, epochs=3, batch_size=4)


def test_feature_augmented_pseudo_ratings(tiny_ratings, feats):
    cf = BiasBaseline()
    hybrid = FeatureAugmentedHybrid(small_deep(feats), cf, n_pseudo=1).fit(tiny_ratings)
    deep = hybrid.content_model
    # item 60 is the only catalogue item without ratings: every user gets it, rated by DeepContent
    pseudo = hybrid.pseudo_ratings_
    assert pseudo.user.tolist() == [1, 2, 3, 4] and pseudo.item.tolist() == [60] * 4
    np.testing.assert_allclose(pseudo.rating, deep.predict([1, 2, 3, 4], [60] * 4))
    assert not hasattr(cf, "data_")                      # the given CF model stays untouched
    aug = hybrid.augmented_model_
    assert 60 in aug.data_.items                         # the new item entered CF through pseudo-ratings
    # BiasBaseline on the augmented ratings: item 60's bias is fitted from the four pseudo-ratings
    ref = BiasBaseline().fit(pd.concat([tiny_ratings[["user", "item", "rating"]], pseudo], ignore_index=True))
    np.testing.assert_allclose(hybrid.predict([1, 4], [60, 20]), ref.predict([1, 4], [60, 20]))
    assert hybrid.explain(1, 60)["is_pseudo_rated"]
    # without pseudo-ratings it is the CF model on the real ratings
    plain = FeatureAugmentedHybrid(small_deep(feats), BiasBaseline(), n_pseudo=0).fit(tiny_ratings)
    ref = BiasBaseline().fit(tiny_ratings)
    np.testing.assert_allclose(plain.predict([1, 2, -1], [40, 50, 999]), ref.predict([1, 2, -1], [40, 50, 999]))
    pd.testing.assert_frame_equal(plain.recommend(2, k=3), ref.recommend(2, k=3))


def test_pseudo_ratings_draw_rare_unrated_items(tiny_ratings, feats):
    deep = small_deep(feats).fit(tiny_ratings)
    # at most 1 rating: items 40, 50 (one each) and 60 (none); never an item the user rated
    a = pseudo_ratings(deep, tiny_ratings, n_pseudo=2, max_item_ratings=1, seed=3)
    assert set(a.item) <= {40, 50, 60}
    rated = set(zip(tiny_ratings.user, tiny_ratings.item))
    assert not any((u, i) in rated for u, i in zip(a.user, a.item))
    # user 2 rated 40 and user 3 rated 50: each has exactly two candidates left
    assert set(a.item[a.user == 2]) == {50, 60} and set(a.item[a.user == 3]) == {40, 60}
    assert a.groupby("user").size().tolist() == [2, 2, 2, 2]
    pd.testing.assert_frame_equal(a, pseudo_ratings(deep, tiny_ratings, 2, 1, seed=3))  # seeded


def test_feature_augmented_bad_arguments(tiny_ratings, feats):
    with pytest.raises(ValueError, match="n_pseudo"):
        FeatureAugmentedHybrid(small_deep(feats), BiasBaseline(), n_pseudo=-2).fit(tiny_ratings)
    with pytest.raises(ValueError, match="must predict ratings"):
        FeatureAugmentedHybrid(ContentBased(feats), BiasBaseline()).fit(tiny_ratings)
    with pytest.raises(ValueError, match="not fitted"):
        FeatureAugmentedHybrid(small_deep(feats), BiasBaseline(), refit=False).fit(tiny_ratings)


def test_clone_copies_parameters_not_state(tiny_ratings, feats):
    hybrid = WeightedHybrid({"pop": MostPopular().fit(tiny_ratings), "cb": ContentBased(feats)},
                            weights=[2, 1], refit=False)
    copy = clone(hybrid)
    assert copy.refit is True and copy.weights == [2, 1]
    assert copy.models["pop"] is not hybrid.models["pop"] and not hasattr(copy.models["pop"], "data_")
    assert copy.models["cb"].item_features is feats


# ----- a new user without refitting (fold_in) ------------------------------------------------

def test_hybrids_fold_in_by_their_parts(tiny_ratings, feats):
    content, knn = ContentBased(feats).fit(tiny_ratings), ItemKNN(k=2).fit(tiny_ratings)
    weighted = WeightedHybrid({"content": content, "knn": knn}, weights=[1.0, 2.0], refit=False).fit(tiny_ratings)
    # a training user's own ratings give back the hybrid's scores (its parts reproduce theirs)
    for user, rows in tiny_ratings.groupby("user"):
        folded = weighted.fold_in(rows)
        u = weighted.data_.users.to_index([user])[0]
        np.testing.assert_allclose(folded.scores, weighted._user_scores(u), atol=1e-12)
        assert folded.recommend(k=2).equals(weighted.recommend(user, k=2))
    # a new user who rated item 60 (known to the content part only): kNN answers as for a stranger
    folded = weighted.fold_in({60: 5.0, 10: 4.0})
    assert folded.state["knn"] is not None and folded.state["content"] is not None
    only_content = weighted.fold_in({60: 5.0})
    assert only_content.state["knn"] is None
    switch = SwitchingHybrid(knn, content, min_ratings=2, refit=False).fit(tiny_ratings)
    assert switch.fold_in({10: 5.0}).state[0] == "cold" and switch.fold_in({10: 5.0, 20: 1.0}).state[0] == "warm"
    assert "ContentBased answers" in switch.fold_in({10: 5.0}).explain(30)["text"]
    with pytest.raises(NotImplementedError, match="cannot"):
        WeightedHybrid([content, UserKNN().fit(tiny_ratings)], refit=False).fit(tiny_ratings).fold_in({10: 5.0})
