"""UserKNN / ItemKNN: the shared contract, hand-worked predictions, a loop-by-definition reference."""
import numpy as np
import pandas as pd
import pytest

from model_contract import ModelContract
from recsys_lab.data import make_synthetic_ratings, random_split
from recsys_lab.models import BiasBaseline, ItemKNN, UserKNN
from recsys_lab.similarity import similarity_matrix


class TestUserKNNContract(ModelContract):
    def make_model(self, **kw):
        return UserKNN(**kw)


class TestItemKNNContract(ModelContract):
    def make_model(self, **kw):
        return ItemKNN(**kw)


class TestItemKNNPrunedContract(ModelContract):
    def make_model(self, **kw):
        return ItemKNN(k=5, keep=8, similarity="msd", centering="zscore", **kw)


class TestItemKNNSumRankingContract(ModelContract):
    def make_model(self, **kw):
        return ItemKNN(k=10, ranking="sum", **kw)


class TestUserKNNBaselineContract(ModelContract):
    def make_model(self, **kw):
        return UserKNN(k=10, similarity="pearson", centering="baseline", **kw)


@pytest.fixture
def toy():
    """4 users x 3 items, worked by hand: A's rating of i3 is the one to predict."""
    rows = [("A", "i1", 4), ("A", "i2", 2),
            ("B", "i1", 5), ("B", "i2", 2), ("B", "i3", 5),
            ("C", "i1", 2), ("C", "i2", 4), ("C", "i3", 1),
            ("D", "i1", 4), ("D", "i3", 3)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype({"rating": float})


def test_user_knn_by_hand(toy):
    # msd(A, .) over co-rated items: B diffs (1, 0) -> 1/(1+0.5) = 2/3; C (2, 2) -> 1/5; D (0) -> 1.
    # means: A 3, B 4, C 7/3, D 3.5; deviations on i3: B +1, C -4/3, D -1/2.
    kw = dict(similarity="msd", shrinkage=0, unknown="error")
    two = UserKNN(k=2, **kw).fit(toy)  # D and B vote
    assert two.predict(["A"], ["i3"])[0] == pytest.approx(3 + (1 * -0.5 + 2 / 3 * 1) / (1 + 2 / 3))
    three = UserKNN(k=3, **kw).fit(toy)
    assert three.predict(["A"], ["i3"])[0] == pytest.approx(
        3 + (-0.5 + 2 / 3 + 0.2 * -4 / 3) / (1 + 2 / 3 + 0.2))
    # z-scores: sd_A = 1, sd_B = sqrt(2), sd_D = 0.5
    z = UserKNN(k=2, centering="zscore", **kw).fit(toy)
    assert z.predict(["A"], ["i3"])[0] == pytest.approx(3 + 1 * (1 * -1 + 2 / 3 / np.sqrt(2)) / (5 / 3))
    plain = UserKNN(k=2, centering=None, **kw).fit(toy)
    assert plain.predict(["A"], ["i3"])[0] == pytest.approx((1 * 3 + 2 / 3 * 5) / (5 / 3))
    # a neighbour needs similarity > min_similarity: only D (1.0) is left
    strict = UserKNN(k=3, min_similarity=0.7, **kw).fit(toy)
    assert strict.predict(["A"], ["i3"])[0] == pytest.approx(3 - 0.5)


def test_a_neighbour_with_zero_deviation_still_counts():
    """B rates i3 exactly at B's mean: a vote of 0 that must still weigh in the denominator."""
    frame = pd.DataFrame({"user": ["A", "A", "B", "B", "B", "C", "C", "C"],
                          "item": ["i1", "i2", "i1", "i2", "i3", "i1", "i2", "i3"],
                          "rating": [4.0, 2.0, 4.0, 2.0, 3.0, 4.0, 2.0, 5.0]})
    model = UserKNN(similarity="cosine", shrinkage=0).fit(frame)   # s(A,B) = s(A,C) = 1
    assert model.predict(["A"], ["i3"])[0] == pytest.approx(3 + (1 * 0 + 1 * 4 / 3) / 2)
    assert len(model.explain("A", "i3")) == 2


def test_item_knn_by_hand(toy):
    # items over users: i3 vs i1 on B, C, D: diffs (0, 1, 1) -> 1/(1 + 2/3) = 0.6;
    # i3 vs i2 on B, C: diffs (3, 3) -> 1/(1 + 9) = 0.1. Item means: i1 3.75, i2 8/3, i3 3.
    model = ItemKNN(k=2, similarity="msd", shrinkage=0, keep=None).fit(toy)
    expected = 3 + (0.6 * (4 - 3.75) + 0.1 * (2 - 8 / 3)) / 0.7
    assert model.predict(["A"], ["i3"])[0] == pytest.approx(expected)
    why = model.explain("A", "i3")
    assert why["item"].tolist() == ["i1", "i2"]                       # most similar first
    assert why["similarity"].tolist() == pytest.approx([0.6, 0.1])
    assert why["rating"].tolist() == [4.0, 2.0]
    assert why.attrs["baseline"] + why["contribution"].sum() == pytest.approx(expected)
    only_best = ItemKNN(k=2, similarity="msd", shrinkage=0, keep=1).fit(toy)     # pruning keeps i3 -> i1 only
    assert only_best.predict(["A"], ["i3"])[0] == pytest.approx(3 + (4 - 3.75))


def slow_knn(train, pairs, sim, k, centering, user_based):
    """Loop-by-definition kNN (the KNNWithMeans rule) given a dense similarity by position.

    Neighbours are chosen by the kit's documented tie rule: similarity rounded to 9 decimals,
    larger first, then the lower position.

    ``centering="baseline"`` centres on mu + b_u + b_i of an independently fitted BiasBaseline.
    """
    bias = BiasBaseline().fit(train)
    b_ui = lambda user, item: (bias.global_mean_ + bias.user_bias_[bias.data_.users.to_index([user])[0]]
                               + bias.item_bias_[bias.data_.items.to_index([item])[0]])
    users, items = sorted(train.user.unique()), sorted(train.item.unique())
    u_pos, i_pos = {u: n for n, u in enumerate(users)}, {i: n for n, i in enumerate(items)}
    who, other = ("user", "item") if user_based else ("item", "user")
    pos = u_pos if user_based else i_pos
    stats = train.groupby(who).rating.agg(["mean", lambda r: r.std(ddof=0)])
    stats.columns = ["mean", "sd"]
    stats.loc[stats.sd == 0, "sd"] = train.rating.std(ddof=0)
    out = []
    for user, item in pairs:
        me, them = (user, item) if user_based else (item, user)
        voters = train[train[other] == them]  # who rated the item (or what the user rated)
        cands = sorted(((sim[pos[me], pos[v]], pos[v], v, r) for v, r in zip(voters[who], voters.rating)
                        if v != me and sim[pos[me], pos[v]] > 0), key=lambda t: (-round(t[0], 9), t[1]))[:k]
        num = den = 0.0
        for s, _, v, r in cands:
            if centering == "baseline":
                dev = r - (b_ui(v, item) if user_based else b_ui(user, v))
            else:
                dev = {"mean": r - stats.loc[v, "mean"], None: r,
                       "zscore": (r - stats.loc[v, "mean"]) / stats.loc[v, "sd"]}[centering]
            num, den = num + s * dev, den + s
        base = b_ui(user, item) if centering == "baseline" else stats.loc[me, "mean"]
        if den == 0:
            out.append(base)
        elif centering is None:
            out.append(num / den)
        else:
            out.append(base + (stats.loc[me, "sd"] if centering == "zscore" else 1) * num / den)
    return np.clip(out, train.rating.min(), train.rating.max())


@pytest.mark.parametrize("centering", ["mean", "zscore", "baseline", None])
@pytest.mark.parametrize("user_based", [True, False])
def test_vectorized_matches_loop_by_definition(centering, user_based):
    synth = make_synthetic_ratings(n_users=40, n_items=30, density=0.25, seed=3)
    train, test = random_split(synth.ratings, 0.2, seed=1)
    test = test[test.user.isin(train.user) & test.item.isin(train.item)].head(60)
    if user_based:
        model = UserKNN(k=5, similarity="pearson", shrinkage=5, centering=centering).fit(train)
        sim = model.similarity_
    else:
        model = ItemKNN(k=5, similarity="adjusted_cosine", keep=10, centering=centering).fit(train)
        sim = model.neighbours_.toarray().astype(np.float64)
    expected = slow_knn(train, zip(test.user, test.item), sim, 5, centering, user_based)
    np.testing.assert_allclose(model.predict(test.user.values, test.item.values), expected, rtol=1e-6)


@pytest.mark.parametrize("centering", ["mean", "zscore", "baseline", None])
@pytest.mark.parametrize("prune", [False, True])
def test_item_knn_scores_for_one_user_equal_predict_for_every_item(centering, prune):
    """recommend's fast path (a running count over ranked rows) picks the same voters, ties
    included, as predict's per-pair top-k: the scores of every item agree for every user."""
    synth = make_synthetic_ratings(n_users=60, n_items=50, density=0.3, seed=4)
    model = ItemKNN(k=4, similarity="cosine", shrinkage=0, keep=12, centering=centering).fit(synth.ratings)
    if prune:
        model = model.prune(7)
    ties = model.neighbours_.data
    assert len(np.unique(ties)) < len(ties), "the data should contain tied similarities"
    items = model.data_.items.to_raw(np.arange(model.data_.n_items))
    for u, user in enumerate(model.data_.users.to_raw(np.arange(model.data_.n_users))):
        np.testing.assert_allclose(model._score_user(u), model.predict(np.full(len(items), user), items),
                                   rtol=1e-12, atol=0)
    scores = model.recommend(user, k=len(items)).set_index("item")["score"]
    np.testing.assert_allclose(scores, model.predict(np.full(len(scores), user), scores.index.values))


@pytest.mark.parametrize("ranking", ["sum", "rating"])
def test_item_knn_batch_scores_take_both_paths_and_do_not_depend_on_the_batch(ranking):
    """Pairs where the user rated at most k of the item's neighbours are scored by a sparse product,
    the others ("overflow") by walking the item's ranked row; both kinds occur here, and a user's
    scores are bit-identical alone, in a batch, in any order, and equal to predict's per-pair path."""
    synth = make_synthetic_ratings(n_users=40, n_items=50, density=0.3, seed=8)
    model = ItemKNN(k=4, similarity="cosine", shrinkage=0, keep=12, ranking=ranking,
                    centering="baseline").fit(synth.ratings)
    present = model._dev_csr.copy()
    present.data[:] = 1
    counts = (present @ model._neighbour_ones_t).toarray()
    assert (counts > model.k).any() and ((counts > 0) & (counts <= model.k)).any()
    us = np.arange(model.data_.n_users)
    rng = np.random.default_rng(0)
    batch = model._score_users(us)
    shuffled = rng.permutation(us)
    np.testing.assert_array_equal(model._score_users(shuffled), batch[shuffled])
    items = model.data_.items.to_raw(np.arange(model.data_.n_items))
    for u in us[::5]:
        np.testing.assert_array_equal(model._score_user(int(u)), batch[u])
        if ranking == "rating":
            user = model.data_.users.to_raw(np.array([u]))[0]
            np.testing.assert_allclose(batch[u], model.predict(np.full(len(items), user), items), rtol=1e-12)


@pytest.mark.parametrize("k", [3, 20])  # 20 >= keep: every rated neighbour votes, no running count needed
def test_item_knn_sum_ranking_scores_are_the_voters_similarities(k):
    """ranking="sum": each item's score is the sum of the similarities of the items that vote on it
    (as explain() lists them, through predict's per-pair path); predictions do not change."""
    synth = make_synthetic_ratings(n_users=30, n_items=40, density=0.3, seed=6)
    settings = dict(k=k, similarity="cosine", shrinkage=0, keep=10)
    by_sum = ItemKNN(ranking="sum", **settings).fit(synth.ratings)
    by_rating = ItemKNN(**settings).fit(synth.ratings)
    items = by_sum.data_.items.to_raw(np.arange(by_sum.data_.n_items))
    for user in by_sum.data_.users.to_raw(np.arange(0, by_sum.data_.n_users, 7)):
        scores = by_sum.recommend(user, k=len(items), exclude_seen=False).set_index("item")["score"]
        expected = [by_sum.explain(user, item)["similarity"].sum() for item in scores.index]
        np.testing.assert_allclose(scores.to_numpy(), expected, rtol=1e-6)
        np.testing.assert_array_equal(by_sum.predict(np.full(len(items), user), items),
                                      by_rating.predict(np.full(len(items), user), items))
    top = by_sum.recommend(user, k=5)
    assert top["score"].is_monotonic_decreasing and not top["item"].isin(
        synth.ratings.item[synth.ratings.user == user]).any()


def test_item_knn_sum_ranking_by_hand(toy):
    """A rated i1 and i2; with k=2 both vote on i3, so its score is s(i3,i1) + s(i3,i2)."""
    model = ItemKNN(k=2, similarity="msd", shrinkage=0, keep=None, ranking="sum").fit(toy)
    w = pd.DataFrame(model.neighbours_.toarray(), index=["i1", "i2", "i3"], columns=["i1", "i2", "i3"])
    scores = model.recommend("A", k=3, exclude_seen=False).set_index("item")["score"]
    assert scores["i3"] == pytest.approx(w.loc["i3", "i1"] + w.loc["i3", "i2"])
    assert scores["i1"] == pytest.approx(w.loc["i1", "i2"])  # i1 cannot vote on itself
    with pytest.raises(ValueError, match="ranking must be 'rating'"):
        ItemKNN(ranking="best").fit(toy)


def test_user_similarity_is_the_similarity_module(toy):
    model = UserKNN(similarity="pearson", shrinkage=3, min_similarity=0.1).fit(toy)
    ref = similarity_matrix(model.data_.to_csr(), "pearson", shrinkage=3)
    np.fill_diagonal(ref, 0)
    np.testing.assert_allclose(model.similarity_, np.where(ref > 0.1, ref, 0.0))


def test_item_knn_keep_none_equals_unpruned_rule():
    """keep=None reproduces choosing the k best among *all* rated items (no pruning)."""
    synth = make_synthetic_ratings(n_users=50, n_items=40, density=0.3, seed=5)
    train, test = random_split(synth.ratings, 0.2, seed=2)
    test = test[test.user.isin(train.user) & test.item.isin(train.item)]
    model = ItemKNN(k=7, similarity="cosine", shrinkage=0, keep=None).fit(train)
    full = similarity_matrix(model.data_.to_csr().T.tocsr(), "cosine")
    np.fill_diagonal(full, 0.0)
    expected = slow_knn(train, zip(test.user, test.item), full, 7, "mean", user_based=False)
    np.testing.assert_allclose(model.predict(test.user.values, test.item.values), expected, rtol=1e-5)


def test_prune_equals_fitting_with_fewer_neighbours():
    synth = make_synthetic_ratings(n_users=50, n_items=40, density=0.3, seed=8)
    train, test = random_split(synth.ratings, 0.2, seed=3)
    settings = dict(k=5, similarity="pearson", min_overlap=3)  # continuous ratings: no ties at the cut
    wide = ItemKNN(keep=20, **settings).fit(train)
    pruned = wide.prune(6)
    direct = ItemKNN(keep=6, **settings).fit(train)
    assert pruned.keep == 6 and wide.keep == 20 and np.diff(pruned.neighbours_.indptr).max() == 6
    np.testing.assert_array_equal(pruned.neighbours_.toarray(), direct.neighbours_.toarray())
    np.testing.assert_allclose(pruned.predict(test.user, test.item), direct.predict(test.user, test.item))
    with pytest.raises(ValueError, match="prune can only keep fewer neighbours"):
        wide.prune(50)


def test_explain_user_knn_adds_up(toy):
    model = UserKNN(k=2, similarity="msd", shrinkage=0).fit(toy)
    why = model.explain("A", "i3")
    assert list(why.columns) == ["neighbour", "similarity", "rating", "deviation", "weight", "contribution"]
    assert why["neighbour"].tolist() == ["D", "B"] and why["rating"].tolist() == [3.0, 5.0]
    assert why["similarity"].tolist() == pytest.approx([1.0, 2 / 3])
    assert why["weight"].sum() == pytest.approx(1.0)
    assert why.attrs["baseline"] == pytest.approx(3.0)
    assert why.attrs["baseline"] + why["contribution"].sum() == pytest.approx(why.attrs["prediction"])
    assert why.attrs["fallback"] is None


def test_baseline_centering_explains_and_falls_back_to_the_biases(toy):
    model = ItemKNN(k=2, similarity="msd", shrinkage=0, keep=None, centering="baseline").fit(toy)
    bias = BiasBaseline().fit(toy)
    b_ui = lambda u, i: bias.global_mean_ + bias.user_bias_[u] + bias.item_bias_[i]
    why = model.explain("A", "i3")                       # A = user 0, i3 = item 2; voters i1, i2
    assert why.attrs["baseline"] == pytest.approx(b_ui(0, 2))
    assert why["deviation"].tolist() == pytest.approx([4 - b_ui(0, 0), 2 - b_ui(0, 1)])
    assert why.attrs["baseline"] + why["contribution"].sum() == pytest.approx(why.attrs["prediction"])
    lonely = UserKNN(similarity="msd", shrinkage=0, min_similarity=0.999, min_overlap=2,
                     centering="baseline").fit(toy)
    assert lonely.predict(["A"], ["i3"])[0] == pytest.approx(b_ui(0, 2))
    assert "bias baseline" in lonely.explain("A", "i3").attrs["fallback"]


def test_fallbacks_are_the_documented_means(toy):
    model = UserKNN(similarity="cosine").fit(toy)
    # unknown item -> user's mean (A: 3); unknown user -> item's mean (i1: 3.75); both -> global mean
    np.testing.assert_allclose(model.predict(["A", "Z", "Z"], ["new", "i1", "new"]),
                               [3.0, 3.75, toy.rating.mean()])
    item_model = ItemKNN(similarity="cosine").fit(toy)
    np.testing.assert_allclose(item_model.predict(["A", "Z"], ["new", "i1"]), [3.0, 3.75])
    why = model.explain("Z", "i1")
    assert why.empty and why.attrs["prediction"] == pytest.approx(3.75)
    assert "item mean" in why.attrs["fallback"]
    # known pair, nobody usable: A's neighbours on i3 all need similarity > 0.99 -> only D (1.0)
    lonely = UserKNN(similarity="msd", shrinkage=0, min_similarity=0.999, min_overlap=2).fit(toy)
    assert lonely.predict(["A"], ["i3"])[0] == pytest.approx(3.0)   # the user's mean
    assert "no usable neighbour" in lonely.explain("A", "i3").attrs["fallback"]


def test_unknown_error_mode_in_explain(toy):
    with pytest.raises(KeyError, match="not fitted on user"):
        ItemKNN(unknown="error").fit(toy).explain("Z", "i1")


def test_no_nan_on_degenerate_data():
    """One-rating users, one-rating items, users who rate everything alike (sd 0)."""
    frame = pd.DataFrame({"user": [1, 1, 2, 3, 3, 3, 4], "item": [1, 2, 1, 1, 2, 3, 4],
                          "rating": [3.0, 3.0, 5.0, 1.0, 2.0, 4.0, 2.0]})
    users, items = np.repeat([1, 2, 3, 4], 4), np.tile([1, 2, 3, 4], 4)
    for model in (UserKNN(centering="zscore"), ItemKNN(centering="zscore"),
                  UserKNN(similarity="cosine_naive"), ItemKNN(similarity="jaccard", keep=None)):
        pred = model.fit(frame).predict(users, items)
        assert np.isfinite(pred).all() and pred.min() >= 1.0 and pred.max() <= 5.0
        assert len(model.recommend(4, k=3)) == 3


def test_similar_users_and_items(toy):
    users = UserKNN(similarity="msd", shrinkage=0).fit(toy).similar_users("A", n=2)
    assert users["user"].tolist() == ["D", "B"] and users["overlap"].tolist() == [1, 2]
    items = ItemKNN(similarity="msd", shrinkage=0, keep=None).fit(toy).similar_items("i3", n=5)
    assert items["item"].tolist() == ["i1", "i2"] and items["overlap"].tolist() == [3, 2]


def test_knn_beats_global_mean_on_movielens(movielens):
    ratings = movielens.ratings[movielens.ratings.item <= 1500]  # the first ~1100 movies: fast
    train, test = random_split(ratings, 0.2, seed=0)
    rmse = lambda m: np.sqrt(np.mean((m.fit(train).predict(test.user, test.item) - test.rating) ** 2))
    mean_only = np.sqrt(np.mean((train.rating.mean() - test.rating) ** 2))
    assert rmse(UserKNN()) < mean_only - 0.1
    assert rmse(ItemKNN()) < mean_only - 0.1


@pytest.mark.parametrize("kw, message", [
    (dict(k=0), "k must be a whole number >= 1"),
    (dict(similarity="euclid"), "similarity must be one of"),
    (dict(min_overlap=0), "min_overlap must be a whole number"),
    (dict(min_similarity=-0.1), "min_similarity must be >= 0"),
    (dict(shrinkage=-1), "shrinkage must be >= 0"),
    (dict(centering="median"), "centering must be 'mean', 'zscore', 'baseline' or None"),
])
def test_bad_hyper_parameters(toy, kw, message):
    for cls in (UserKNN, ItemKNN):
        with pytest.raises(ValueError, match=message):
            cls(**kw).fit(toy)
    with pytest.raises(ValueError, match="keep must be a whole number >= 1 or None"):
        ItemKNN(keep=0).fit(toy)


# ----- a new user without refitting (fold_in) ------------------------------------------------

@pytest.mark.parametrize("settings", [dict(), dict(centering="zscore", k=3, keep=5), dict(centering=None),
                                      dict(ranking="sum", k=5)])
def test_item_knn_fold_in_reproduces_training_users(settings):
    ratings = make_synthetic_ratings(n_users=40, n_items=30, density=0.3, seed=3).ratings
    model = ItemKNN(**settings).fit(ratings)
    for user in ratings.user.unique()[:8]:
        rows = ratings[ratings.user == user]
        folded = model.fold_in(rows.sample(frac=1.0, random_state=0))   # row order does not matter
        u = model.data_.users.to_index([user])[0]
        np.testing.assert_allclose(folded.scores, model._user_scores(u), atol=1e-12)
        assert folded.recommend(k=5).equals(model.recommend(user, k=5))
        items = ratings.item.unique()[:10]
        np.testing.assert_allclose(folded.predict(items), model.predict(np.full(10, user), items), atol=1e-12)
        why, ref = folded.explain(items[0]), model.explain(user, items[0])
        np.testing.assert_allclose(why.contribution.sum(), ref.contribution.sum(), atol=1e-12)


def test_knn_that_cannot_fold_in_says_why():
    ratings = make_synthetic_ratings(n_users=20, n_items=10, density=0.5, seed=3).ratings
    baseline = ItemKNN(centering="baseline").fit(ratings)
    assert not baseline.can_fold_in()
    with pytest.raises(NotImplementedError, match="b_u comes from BiasBaseline"):
        baseline.fold_in({ratings.item.iloc[0]: 3.0})
    with pytest.raises(NotImplementedError, match="cannot fold a new user in"):
        UserKNN().fit(ratings).fold_in({ratings.item.iloc[0]: 3.0})


# ----- the baseline UserKNN centres on (baseline_params) ------------------------------------

def test_user_knn_centres_on_the_bias_baseline_it_is_given():
    ratings = make_synthetic_ratings(n_users=40, n_items=30, density=0.3, seed=5).ratings
    tuned = {"reg_user": 2.0, "reg_item": 3.0}
    model = UserKNN(k=5, similarity="pearson", centering="baseline", baseline_params=tuned).fit(ratings)
    bias = BiasBaseline(**tuned).fit(ratings)
    np.testing.assert_array_equal(model.biases_.user_bias_, bias.user_bias_)
    np.testing.assert_array_equal(model.biases_.item_bias_, bias.item_bias_)
    # the prediction is that baseline plus the votes of the deviations from it, by definition
    users, items = ratings.user.unique()[:6], ratings.item.unique()[:6]
    for user in users:
        for item in items:
            why = model.explain(user, item)
            b = float(bias.global_mean_ + bias.user_bias_[bias.data_.users.to_index([user])[0]]
                      + bias.item_bias_[bias.data_.items.to_index([item])[0]])
            if len(why):
                assert why.attrs["baseline"] == pytest.approx(b)
                rated = ratings.set_index(["user", "item"]).rating
                for v, dev in zip(why.neighbour, why.deviation):
                    bv = float(bias.global_mean_ + bias.user_bias_[bias.data_.users.to_index([v])[0]]
                               + bias.item_bias_[bias.data_.items.to_index([item])[0]])
                    assert dev == pytest.approx(rated[(v, item)] - bv)
    # a clone keeps the option; None is today's BiasBaseline() defaults; other centrings ignore it
    assert type(model)(**model.get_params()).get_params()["baseline_params"] == tuned
    default = UserKNN(k=5, similarity="pearson", centering="baseline").fit(ratings)
    same = UserKNN(k=5, similarity="pearson", centering="baseline", baseline_params=None).fit(ratings)
    np.testing.assert_array_equal(default.biases_.user_bias_, BiasBaseline().fit(ratings).user_bias_)
    np.testing.assert_array_equal(default.predict(ratings.user, ratings.item), same.predict(ratings.user, ratings.item))
    assert not np.allclose(default.predict(ratings.user, ratings.item), model.predict(ratings.user, ratings.item))
    mean = UserKNN(k=5, centering="mean").fit(ratings).predict(ratings.user, ratings.item)
    np.testing.assert_array_equal(
        mean, UserKNN(k=5, centering="mean", baseline_params=tuned).fit(ratings).predict(ratings.user, ratings.item))


@pytest.mark.parametrize("params, message", [
    ({"reg_users": 2.0}, "baseline_params may set only reg_user, reg_item, epochs"),
    ([("reg_user", 2.0)], "baseline_params must be None or a dict"),
    ({"reg_user": -1.0}, "reg_user and reg_item must be >= 0"),
])
def test_bad_baseline_params(toy, params, message):
    with pytest.raises(ValueError, match=message):
        UserKNN(centering="baseline", baseline_params=params).fit(toy)
