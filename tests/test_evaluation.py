"""recsys_lab.evaluation: a fixed-score fake model on a hand-made split, checked by hand."""
import math

import numpy as np
import pandas as pd
import pytest

from recsys_lab.evaluation import RANKING_METRICS, RankingReport, evaluate_ranking, evaluate_ratings
from recsys_lab.metrics import popularity_from_ratings

# Every user sees the same item scores: 1 > 2 > 3 > 4 > 5 > 6 (item 1 best).
SCORES = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.6, 5: 0.5, 6: 0.4}
# What predict returns, as a rating.
RATING_OF = {1: 5.0, 2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0, 6: 1.0}

TRAIN = pd.DataFrame({"user": [1, 1, 2, 3, 4, 4, 4],
                      "item": [1, 2, 3, 1, 4, 5, 6],
                      "rating": [4.0, 3.0, 5.0, 2.0, 3.0, 3.0, 3.0]})
# user 9 is not in TRAIN
TEST = pd.DataFrame({"user": [1, 1, 2, 3, 9],
                     "item": [3, 5, 6, 2, 1],
                     "rating": [5.0, 2.0, 4.0, 1.0, 5.0]})


class FixedScoreModel:
    """The kit's interface with fixed scores; records how recommend was called."""

    def __init__(self, unknown="error"):
        self.unknown = unknown
        self.calls = []

    def fit(self, train):
        self.seen_ = train.groupby("user")["item"].agg(set).to_dict()
        self.items_ = sorted(train["item"].unique())
        return self

    def predict(self, users, items):
        return np.array([RATING_OF[i] for i in items])

    def recommend(self, user, k=10, exclude_seen=True):
        self.calls.append((user, k, exclude_seen))
        if user not in self.seen_ and self.unknown == "error":
            raise KeyError(f"unknown user {user}")
        seen = self.seen_.get(user, set()) if exclude_seen else set()
        items = sorted((i for i in self.items_ if i not in seen), key=lambda i: -SCORES[i])[:k]
        return pd.DataFrame({"item": items, "score": [SCORES[i] for i in items]})


@pytest.fixture
def model():
    return FixedScoreModel().fit(TRAIN)


# ----- ratings -------------------------------------------------------------------------------

def test_evaluate_ratings_by_hand(model):
    # predictions for items 3, 5, 6, 2, 1 = 3, 1, 1, 4, 5 ; truth 5, 2, 4, 1, 5
    # errors 2, 1, 3, -3, 0 -> MSE = (4 + 1 + 9 + 9 + 0) / 5 = 4.6 ; MAE = 9 / 5 = 1.8
    out = evaluate_ratings(model, TEST)
    assert out == {"rmse": pytest.approx(math.sqrt(4.6)), "mae": pytest.approx(1.8), "n": 5}


def test_evaluate_ratings_rejects_bad_input(model):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['rating'\]"):
        evaluate_ratings(model, TEST.drop(columns="rating"))
    with pytest.raises(ValueError, match=r"empty"):
        evaluate_ratings(model, TEST.iloc[:0])

    class NanModel(FixedScoreModel):
        def predict(self, users, items):
            return np.full(len(users), np.nan)

    with pytest.raises(ValueError, match=r"NanModel.predict returned NaN/inf for 5 of 5 pairs"):
        evaluate_ratings(NanModel().fit(TRAIN), TEST)


# ----- ranking -------------------------------------------------------------------------------
# k = 2, candidates = known items minus the user's training items:
#   user 1 saw {1, 2} -> list [3, 4] ; relevant {3, 5}
#   user 2 saw {3}    -> list [1, 2] ; relevant {6}
#   user 3 saw {1}    -> list [2, 3] ; relevant {2}
#   user 9 unknown    -> KeyError -> counted as unknown
EXPECTED_NO_THRESHOLD = {
    # precision, recall, ndcg, ap, hit_rate, reciprocal_rank
    1: [1 / 2, 1 / 2, 1 / (1 + 1 / math.log2(3)), 1 / 2, 1, 1],   # hit at rank 1; AP = 1/min(2,2)
    2: [0, 0, 0, 0, 0, 0],
    3: [1 / 2, 1, 1, 1, 1, 1],                                     # IDCG over min(1, 2) = 1 rank
}


def test_evaluate_ranking_by_hand(model):
    report = evaluate_ranking(model, TEST, k=2)
    assert isinstance(report, RankingReport)
    assert list(report.per_user.columns) == list(RANKING_METRICS)
    assert report.per_user.index.tolist() == [1, 2, 3]
    for user, values in EXPECTED_NO_THRESHOLD.items():
        assert report.per_user.loc[user].tolist() == pytest.approx(values)
    # summary = column means, e.g. precision (0.5 + 0 + 0.5)/3 = 1/3, ndcg (0.613147 + 0 + 1)/3 = 0.537716
    expected_mean = np.mean(list(EXPECTED_NO_THRESHOLD.values()), axis=0)
    assert report.summary.tolist() == pytest.approx(expected_mean)
    assert report.summary["ndcg"] == pytest.approx(0.537716, abs=1e-6)
    assert (report.n_users_evaluated, report.n_users_skipped, report.n_users_unknown) == (3, 0, 1)
    assert report.unknown_users == [9]
    assert report.coverage is None and report.novelty is None and report.popularity_bias is None


def test_candidates_are_unseen_items(model):
    report = evaluate_ranking(model, TEST, k=2)
    assert all(call[1:] == (2, True) for call in model.calls)      # k and exclude_seen passed on
    assert report.recommendations == {1: [3, 4], 2: [1, 2], 3: [2, 3]}
    for user, items in report.recommendations.items():
        assert not set(items) & model.seen_[user]
    # without exclusion user 1 gets its training items 1, 2 back and finds nothing
    report_all = evaluate_ranking(model, TEST, k=2, exclude_seen=False)
    assert report_all.recommendations[1] == [1, 2]
    assert report_all.per_user.loc[1, "precision"] == 0.0


def test_relevance_threshold_and_skipped_users(model):
    # rating >= 4: user 1 -> {3}, user 2 -> {6}, user 3 -> {} (rated 1) -> skipped
    report = evaluate_ranking(model, TEST, k=2, relevance_threshold=4, metrics=("precision", "recall"))
    assert list(report.per_user.columns) == ["precision", "recall"]
    assert report.per_user.to_dict("index") == {1: {"precision": 0.5, "recall": 1.0},
                                                2: {"precision": 0.0, "recall": 0.0}}
    assert report.summary.to_dict() == pytest.approx({"precision": 0.25, "recall": 0.5})
    assert (report.n_users_evaluated, report.n_users_skipped, report.n_users_unknown) == (2, 1, 1)
    assert 3 in report.recommendations            # skipped for accuracy, kept for coverage


def test_fallback_model_evaluates_unknown_user():
    model = FixedScoreModel(unknown="fallback").fit(TRAIN)
    report = evaluate_ranking(model, TEST, k=2)
    # user 9 gets the global top [1, 2]; relevant {1} -> precision 1/2, recall 1, RR 1
    assert report.recommendations[9] == [1, 2]
    assert report.per_user.loc[9, ["precision", "recall", "reciprocal_rank"]].tolist() == [0.5, 1, 1]
    assert (report.n_users_evaluated, report.n_users_unknown) == (4, 0)


def test_beyond_accuracy_by_hand(model):
    # popularity over 4 training users: item 1 -> {1, 3} = 0.5 ; items 2..6 -> one user = 0.25
    pop = popularity_from_ratings(TRAIN)
    report = evaluate_ranking(model, TEST, k=2, item_popularity=pop, n_items=6)
    assert report.coverage == pytest.approx(4 / 6)           # lists cover {1, 2, 3, 4}
    # novelty: [3, 4] -> (2 + 2)/2 = 2 ; [1, 2] -> (1 + 2)/2 = 1.5 ; [2, 3] -> 2 ; mean 5.5/3
    assert report.novelty == pytest.approx(5.5 / 3)
    # ARP: [3, 4] -> 0.25 ; [1, 2] -> 0.375 ; [2, 3] -> 0.25 ; mean 0.875/3
    assert report.popularity_bias == pytest.approx(0.875 / 3)
    flat = report.to_dict()
    assert flat["precision@2"] == pytest.approx(1 / 3) and flat["coverage"] == pytest.approx(4 / 6)
    assert flat["n_users_unknown"] == 1
    assert "evaluated=3" in repr(report)


def test_evaluate_ranking_rejects_bad_input(model):
    with pytest.raises(ValueError, match=r"k must be a whole number"):
        evaluate_ranking(model, TEST, k=0)
    with pytest.raises(ValueError, match=r"metrics must be a non-empty selection"):
        evaluate_ranking(model, TEST, metrics=("precision", "map"))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['rating'\]"):
        evaluate_ranking(model, TEST.drop(columns="rating"), relevance_threshold=4)
    # without a threshold the rating column is not needed
    assert evaluate_ranking(model, TEST.drop(columns="rating"), k=2).n_users_evaluated == 3

    class BadModel(FixedScoreModel):
        def recommend(self, user, k=10, exclude_seen=True):
            return [1, 2]

    with pytest.raises(ValueError, match=r"BadModel.recommend must return a DataFrame"):
        evaluate_ranking(BadModel().fit(TRAIN), TEST)


def test_works_with_a_kit_model(tiny_ratings):
    from recsys_lab.models.baselines import BiasBaseline

    train, test = tiny_ratings.iloc[:6], tiny_ratings.iloc[6:]   # test users 3 (items 30, 50), 4
    model = BiasBaseline(unknown="error").fit(train)
    report = evaluate_ranking(model, test, k=3)
    assert report.n_users_unknown == 1 and report.unknown_users == [4]   # user 4 not in train
    assert not set(report.recommendations[3]) & set(train.loc[train.user == 3, "item"])
    assert set(report.recommendations[3]) <= set(train["item"])
    assert evaluate_ratings(BiasBaseline().fit(train), test)["n"] == 3
