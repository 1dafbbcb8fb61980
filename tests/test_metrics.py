"""recsys_lab.metrics: hand-computed values, edge cases, an independent loop reference, errors."""
import math

import numpy as np
import pandas as pd
import pytest

from recsys_lab.metrics import (average_precision_at_k, catalog_coverage, hit_rate_at_k,
                                intra_list_diversity, mae, ndcg_at_k, novelty, popularity_bias,
                                popularity_from_ratings, precision_at_k, recall_at_k,
                                reciprocal_rank, rmse)

RANKING = [precision_at_k, recall_at_k, ndcg_at_k, average_precision_at_k, hit_rate_at_k,
           reciprocal_rank]


# ----- rmse / mae ----------------------------------------------------------------------------

def test_rmse_mae_by_hand():
    # errors: 3-2.5=0.5, 4-4=0, 5-3=2
    # MSE = (0.25 + 0 + 4) / 3 = 4.25/3 ; RMSE = sqrt(1.416666...) = 1.190238...
    # MAE = (0.5 + 0 + 2) / 3 = 0.833333...
    assert rmse([3, 4, 5], [2.5, 4, 3]) == pytest.approx(math.sqrt(4.25 / 3))
    assert rmse([3, 4, 5], [2.5, 4, 3]) == pytest.approx(1.1902380714)
    assert mae([3, 4, 5], [2.5, 4, 3]) == pytest.approx(2.5 / 3)


def test_rmse_mae_match_numpy_formula_and_accept_series():
    rng = np.random.default_rng(0)
    t, p = rng.uniform(0.5, 5, 200), rng.uniform(0.5, 5, 200)
    assert rmse(t, p) == pytest.approx(np.sqrt(np.mean((t - p) ** 2)), rel=1e-12)
    assert mae(pd.Series(t), pd.Series(p)) == pytest.approx(np.mean(np.abs(t - p)), rel=1e-12)
    assert rmse(t, t) == 0.0 and mae(t, t) == 0.0
    assert rmse(t, p) >= mae(t, p)  # quadratic mean >= arithmetic mean


@pytest.mark.parametrize("fn", [rmse, mae])
@pytest.mark.parametrize("t, p, msg", [
    ([1, 2, 3], [1, 2], "same length"),
    ([], [], "empty"),
    ([1, np.nan], [1, 2], "y_true contains 1 NaN"),
    ([1, 2], [1, np.inf], "y_pred contains 1 NaN/infinite"),
    ([[1, 2]], [[1, 2]], "1-D"),
    (["a", "b"], [1, 2], "must hold numbers"),
])
def test_rmse_mae_reject_bad_input(fn, t, p, msg):
    with pytest.raises(ValueError, match=msg):
        fn(t, p)


# ----- ranking metrics: hand-computed ------------------------------------------------------

def test_ranking_metrics_by_hand():
    rec, rel, k = [10, 20, 30, 40, 50], {20, 40, 99}, 4
    # top 4 = [10, 20, 30, 40] -> rel(r) = [0, 1, 0, 1], hits = 2, |R| = 3
    assert precision_at_k(rec, rel, k) == pytest.approx(2 / 4)
    assert recall_at_k(rec, rel, k) == pytest.approx(2 / 3)
    # DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606
    # IDCG over min(3, 4) = 3 ranks = 1 + 1/log2(3) + 1/log2(4) = 2.130930 ; nDCG = 0.498189
    dcg, idcg = 1 / math.log2(3) + 1 / math.log2(5), 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(rec, rel, k) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(rec, rel, k) == pytest.approx(0.498189, abs=1e-6)
    # AP = (1/min(3, 4)) * (P@2 + P@4) = (1/3) * (1/2 + 2/4) = 1/3
    assert average_precision_at_k(rec, rel, k) == pytest.approx(1 / 3)
    assert hit_rate_at_k(rec, rel, k) == 1.0
    assert reciprocal_rank(rec, rel, k) == pytest.approx(1 / 2)   # first hit at rank 2


def test_fewer_than_k_recommended_divides_precision_by_k():
    rec, rel, k = [7, 8, 9], {9}, 10          # 3 candidates only, the hit at rank 3
    assert precision_at_k(rec, rel, k) == pytest.approx(1 / 10)   # empty slots count as misses
    assert recall_at_k(rec, rel, k) == 1.0
    assert ndcg_at_k(rec, rel, k) == pytest.approx(1 / math.log2(4))  # (1/log2 4) / (1/log2 2) = 0.5
    assert average_precision_at_k(rec, rel, k) == pytest.approx(1 / 3)  # (1/min(1,10)) * P@3
    assert hit_rate_at_k(rec, rel, k) == 1.0
    assert reciprocal_rank(rec, rel, k) == pytest.approx(1 / 3)


def test_items_beyond_k_are_ignored():
    rec, rel = [1, 2, 3], {3}
    assert [f(rec, rel, 2) for f in RANKING] == [0.0] * 6
    assert [f(rec, rel, 3) for f in RANKING] == pytest.approx([1 / 3, 1, 0.5, 1 / 3, 1, 1 / 3])


def test_perfect_list_scores_one_even_with_more_relevant_than_k():
    rec, rel, k = [1, 2, 3], {1, 2, 3, 4, 5}, 3
    assert precision_at_k(rec, rel, k) == 1.0
    assert recall_at_k(rec, rel, k) == pytest.approx(3 / 5)   # cannot reach 1 when |R| > k
    assert ndcg_at_k(rec, rel, k) == pytest.approx(1.0)        # IDCG over min(5, 3) = 3 ranks
    assert average_precision_at_k(rec, rel, k) == pytest.approx(1.0)  # (1/3) * (1 + 1 + 1)


@pytest.mark.parametrize("fn", RANKING)
def test_no_relevant_items_gives_nan(fn):
    assert math.isnan(fn([1, 2, 3], set(), 2))
    assert math.isnan(fn([], [], 5))


@pytest.mark.parametrize("fn", RANKING)
def test_empty_recommendation_scores_zero(fn):
    assert fn([], {1}, 5) == 0.0


@pytest.mark.parametrize("fn", RANKING)
def test_input_kinds_agree(fn):
    rec, rel = [5, 3, 8, 1], {3, 1}
    frame = pd.DataFrame({"item": rec, "score": [0.9, 0.8, 0.7, 0.6]})  # what recommend returns
    expected = fn(rec, rel, 3)
    assert fn(np.array(rec), [1, 3, 3], 3) == expected      # relevant: repeats ignored
    assert fn(pd.Series(rec), pd.Series([1, 3]), 3) == expected
    assert fn(frame, rel, 3) == expected                     # uses the item column, not the columns
    assert fn(["b", "a"], {"a"}, 2) == fn([2, 1], {1}, 2)    # string ids work too


@pytest.mark.parametrize("fn", RANKING)
def test_ranking_metrics_reject_bad_input(fn):
    with pytest.raises(ValueError, match=r"more than once"):
        fn([1, 2, 1], {1}, 2)
    with pytest.raises(ValueError, match=r"more than once"):
        fn([1, 2, 3, 2], {1}, 2)        # a duplicate after the cut-off is still a broken ranking
    for bad_k in (0, -1, 2.5, "3", True, None):
        with pytest.raises(ValueError, match=r"k must be a whole number >= 1"):
            fn([1, 2], {1}, bad_k)
    with pytest.raises(ValueError, match=r"1-D sequence"):
        fn({1, 2}, {1}, 2)              # a set has no order: not a ranking
    with pytest.raises(ValueError, match=r"'item' column"):
        fn(pd.DataFrame({"movie": [1]}), {1}, 2)
    assert fn([1, 2], {1}, np.int64(2)) == fn([1, 2], {1}, 2)


def test_ties_are_not_resorted():
    # items 10 and 20 have equal scores; only 20 is relevant. The order passed is the ranking.
    rel = {20}
    assert precision_at_k([10, 20], rel, 1) == 0.0 and precision_at_k([20, 10], rel, 1) == 1.0
    assert ndcg_at_k([10, 20], rel, 2) == pytest.approx(1 / math.log2(3))   # 0.6309
    assert ndcg_at_k([20, 10], rel, 2) == 1.0
    assert reciprocal_rank([10, 20], rel, 2) == 0.5 and reciprocal_rank([20, 10], rel, 2) == 1.0
    # a cut-off below both tied items makes the order irrelevant for recall and hit rate
    assert recall_at_k([10, 20], rel, 2) == recall_at_k([20, 10], rel, 2) == 1.0


def test_kit_models_break_ties_by_ascending_id(tiny_ratings):
    # GlobalMean scores every item the same: its list is all ties, so the documented rule decides.
    from recsys_lab.models.baselines import GlobalMean

    recs = GlobalMean().fit(tiny_ratings).recommend(4, k=3)   # user 4 saw item 10
    assert recs["item"].tolist() == [20, 30, 40]
    assert precision_at_k(recs, {40, 50}, 3) == pytest.approx(1 / 3)
    assert ndcg_at_k(recs, {40, 50}, 3) == pytest.approx(0.5 / (1 + 1 / math.log2(3)))


# ----- ranking metrics: independent loop reference on random lists --------------------------

def _reference(rec, rel, k):
    """Textbook loops, written separately from the vectorised module."""
    top = rec[:k]
    hits = [1 if it in rel else 0 for it in top]
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    idcg = sum(1 / math.log2(r + 2) for r in range(min(len(rel), k)))
    ap, found = 0.0, 0
    for r, h in enumerate(hits, start=1):
        if h:
            found += 1
            ap += found / r
    first = next((r for r, h in enumerate(hits, start=1) if h), None)
    return [sum(hits) / k, sum(hits) / len(rel), dcg / idcg, ap / min(len(rel), k),
            float(any(hits)), 0.0 if first is None else 1 / first]


def test_ranking_metrics_match_loop_reference_and_stay_in_range():
    rng = np.random.default_rng(42)
    for _ in range(200):
        n_rec, k = int(rng.integers(0, 15)), int(rng.integers(1, 12))
        rec = rng.permutation(30)[:n_rec].tolist()
        rel = set(rng.choice(30, size=int(rng.integers(1, 8)), replace=False).tolist())
        got = [f(rec, rel, k) for f in RANKING]
        assert got == pytest.approx(_reference(rec, rel, k))
        assert all(0.0 <= g <= 1.0 + 1e-12 for g in got)


# ----- beyond accuracy ---------------------------------------------------------------------

POP = {1: 0.5, 2: 0.25, 3: 1.0, 4: 0.125}


def test_catalog_coverage_by_hand():
    lists = [[1, 2], [2, 3]]                       # union {1, 2, 3}: 3 of 10 items
    assert catalog_coverage(lists, 10) == pytest.approx(0.3)
    assert catalog_coverage({"u1": [1, 2], "u2": [2, 3]}, 10) == pytest.approx(0.3)  # dict values
    assert catalog_coverage([], 10) == 0.0
    with pytest.raises(ValueError, match=r"3 distinct items but n_items=2"):
        catalog_coverage(lists, 2)
    for bad in (0, 2.5, None):
        with pytest.raises(ValueError, match=r"n_items must be a whole number"):
            catalog_coverage(lists, bad)


def test_novelty_by_hand():
    # list 1: (-log2 0.5 - log2 0.25) / 2 = (1 + 2) / 2 = 1.5 ; list 2: -log2 1.0 = 0
    # novelty = mean over lists = (1.5 + 0) / 2 = 0.75
    assert novelty([[1, 2], [3]], POP) == pytest.approx(0.75)
    assert novelty([[1, 2], [3]], pd.Series(POP)) == pytest.approx(0.75)
    assert novelty([[4]], POP) == pytest.approx(3.0)              # -log2(1/8)
    assert novelty([[1, 2], []], POP) == pytest.approx(1.5)       # empty list skipped
    assert math.isnan(novelty([[]], POP))
    with pytest.raises(ValueError, match=r"no popularity for recommended item\(s\) \[7\]"):
        novelty([[1, 7]], POP)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        novelty([[1]], {1: 0.0})
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        novelty([[1]], {1: 12})                                    # a count, not a fraction


def test_popularity_bias_is_mean_over_lists():
    # list 1: (0.5 + 0.25) / 2 = 0.375 ; list 2: 1.0 ; ARP = (0.375 + 1.0) / 2 = 0.6875
    assert popularity_bias([[1, 2], [3]], POP) == pytest.approx(0.6875)
    # not the pooled mean over all recommended items, (0.5 + 0.25 + 1.0) / 3 = 0.5833
    assert popularity_bias([[1, 2], [3]], POP) != pytest.approx(1.75 / 3)
    assert popularity_bias([[1, 2]], {1: 10, 2: 4}) == pytest.approx(7.0)  # counts are fine
    with pytest.raises(ValueError, match=r"no popularity"):
        popularity_bias([[9]], POP)
    with pytest.raises(ValueError, match=r"dict or pandas Series"):
        popularity_bias([[1]], [0.5])


def test_popularity_from_ratings(tiny_ratings):
    # 4 users; item 10 rated by users 1, 2, 4 -> 3/4; 20 by 1, 3; 30 by 1, 3; 40 by 2; 50 by 3
    pop = popularity_from_ratings(tiny_ratings)
    assert pop.to_dict() == pytest.approx({10: 0.75, 20: 0.5, 30: 0.5, 40: 0.25, 50: 0.25})
    doubled = pd.concat([tiny_ratings, tiny_ratings])              # repeats do not inflate p
    assert popularity_from_ratings(doubled).to_dict() == pop.to_dict()
    with pytest.raises(ValueError, match=r"lacks column"):
        popularity_from_ratings(tiny_ratings.drop(columns="user"))


FEATURES = {"A": [1.0, 0.0], "B": [0.0, 1.0], "C": [1.0, 1.0]}


def test_intra_list_diversity_by_hand():
    # cos(A,B) = 0 -> distance 1 ; cos(A,C) = cos(B,C) = 1/sqrt(2) -> distance 1 - 0.707107
    # ILD = (1 + 2 * (1 - 1/sqrt(2))) / 3 = 0.528595
    expected = (1 + 2 * (1 - 1 / math.sqrt(2))) / 3
    assert intra_list_diversity(["A", "B", "C"], FEATURES) == pytest.approx(expected)
    frame = pd.DataFrame.from_dict(FEATURES, orient="index")
    assert intra_list_diversity(["C", "A", "B"], frame) == pytest.approx(expected)  # order-free
    assert intra_list_diversity(["A", "B"], FEATURES) == pytest.approx(1.0)
    assert intra_list_diversity(["A", "D"], {**FEATURES, "D": [5.0, 0.0]}) == pytest.approx(0.0)
    assert math.isnan(intra_list_diversity(["A"], FEATURES))
    assert math.isnan(intra_list_diversity([], FEATURES))


def test_intra_list_diversity_rejects_bad_input():
    with pytest.raises(ValueError, match=r"no row for item\(s\) \['Z'\]"):
        intra_list_diversity(["A", "Z"], FEATURES)
    with pytest.raises(ValueError, match=r"all-zero"):
        intra_list_diversity(["A", "O"], {**FEATURES, "O": [0.0, 0.0]})
    with pytest.raises(ValueError, match=r"more than once"):
        intra_list_diversity(["A", "A"], FEATURES)
    with pytest.raises(ValueError, match=r"DataFrame indexed by item"):
        intra_list_diversity(["A", "B"], [[1, 0], [0, 1]])
