"""The kit's one tie rule (recsys_lab.topk) and the selections that use it."""
import numpy as np
import pandas as pd
import pytest

from recsys_lab.data import load_movielens
from recsys_lab.models import ItemKNN, MostPopular
from recsys_lab.similarity import similarity_matrix, top_k_neighbours
from recsys_lab.topk import TIE_DECIMALS, grouped_order, order, ranked_above, top_k, top_k_candidates


def test_order_by_hand():
    scores = np.array([0.5, 0.9, 0.5, 0.7, 0.9])
    # 0.9 at positions 1 and 4, then 0.7, then 0.5 at 0 and 2
    assert order(scores).tolist() == [1, 4, 3, 0, 2]
    assert top_k(scores, 2).tolist() == [1, 4]
    # positions decide ties, not the index into scores
    assert order(scores, positions=np.array([9, 8, 7, 6, 5])).tolist() == [4, 1, 3, 2, 0]


def test_float_noise_is_a_tie_and_real_differences_are_not():
    assert TIE_DECIMALS == 9
    noisy = np.array([0.3, 0.1 + 0.2, 0.3 + 1e-12])  # 0.1 + 0.2 = 0.30000000000000004
    assert order(noisy).tolist() == [0, 1, 2]           # all tie at 1e-9: positions decide
    assert order(np.array([0.3, 0.3 + 2e-9])).tolist() == [1, 0]
    assert order(np.array([-np.inf, 1.0, np.inf])).tolist() == [2, 1, 0]


def test_candidates_and_rank_above_agree_with_order():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(200), 2)               # many exact ties
    candidates = rng.random(200) < 0.6
    best = top_k_candidates(scores, candidates, 10)
    pos = np.flatnonzero(candidates)
    full = pos[order(scores[pos], pos)]
    assert best.tolist() == full[:10].tolist()
    for place, target in enumerate(full):
        assert ranked_above(scores[pos], pos, target).sum() == place


def test_grouped_order_ranks_within_groups():
    groups = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.2, 0.5, 0.2, 0.5, 0.9])
    cols = np.array([3, 7, 1, 2, 0])
    idx, rank = grouped_order(groups, scores, cols)
    assert idx.tolist() == [3, 1, 4, 2, 0]               # group 0: cols 2, 7; group 1: 0.9, then cols 1, 3
    assert rank.tolist() == [0, 1, 0, 1, 2]


@pytest.fixture(scope="module")
def small_ratings():
    ratings = load_movielens().ratings
    return ratings[ratings.user <= 150].reset_index(drop=True)


@pytest.mark.parametrize("similarity", ["jaccard", "cosine", "adjusted_cosine"])
def test_top_k_neighbours_keeps_the_documented_set(small_ratings, similarity):
    """Each row keeps the k best other rows by (float32 similarity at 1e-9, then lower row)."""
    pivot = small_ratings.pivot(index="item", columns="user", values="rating").to_numpy()
    k = 15
    got = top_k_neighbours(pivot, k, similarity, block_size=97)
    full = similarity_matrix(pivot, similarity).astype(np.float32)
    np.fill_diagonal(full, 0)
    n_ties_at_cut = 0
    for row in range(0, full.shape[0], 7):
        cand = np.flatnonzero(full[row] > 0)
        want = np.sort(cand[top_k(full[row, cand], k, cand)])
        kept = got.indices[got.indptr[row]:got.indptr[row + 1]]
        assert kept.tolist() == want.tolist(), row
        if len(cand) > k:
            ranked = np.sort(full[row, cand])[::-1]
            n_ties_at_cut += ranked[k - 1] == ranked[k]
    assert n_ties_at_cut > 0  # the test exercises the tie rule, not only clear cuts


def test_prune_equals_a_fresh_fit_exactly(small_ratings):
    big = ItemKNN(similarity="jaccard", shrinkage=0, keep=60).fit(small_ratings)
    for keep in (5, 20):
        pruned, fresh = big.prune(keep), ItemKNN(similarity="jaccard", shrinkage=0, keep=keep).fit(small_ratings)
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(pruned.neighbours_, name), getattr(fresh.neighbours_, name))
        np.testing.assert_array_equal(pruned._ranked_items, fresh._ranked_items)
        for user in small_ratings.user.unique()[:20]:
            pd.testing.assert_frame_equal(pruned.recommend(user, 10), fresh.recommend(user, 10))


def test_recommend_breaks_ties_by_item_id():
    ratings = pd.DataFrame({"user": [1, 2, 3, 4], "item": [30, 10, 20, 40], "rating": 4.0})
    model = MostPopular().fit(ratings)                 # every item rated once: all tie
    assert model.recommend(99, k=4).item.tolist() == [10, 20, 30, 40]


def test_top_k_rows_equals_the_one_row_ranking_with_ties_and_exclusions():
    import scipy.sparse as sp

    from recsys_lab.topk import top_k_candidates, top_k_rows

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(50, 30)).astype(float) / 3      # many exact ties
    scores[::7] += 1e-12 * rng.standard_normal((8, 30))               # ties that differ in the last bits
    seen = rng.random((50, 30)) < 0.3
    seen[3, :28] = True                                                # a row with only 2 allowed items
    for exclude in (seen, sp.csr_matrix(seen)):
        got = top_k_rows(scores, 5, exclude)
        for u in range(50):
            want = top_k_candidates(scores[u], ~seen[u], 5)
            assert got[u, :len(want)].tolist() == want.tolist()
            assert (got[u, len(want):] == -1).all()
    assert top_k_rows(scores, 5).tolist() == [top_k_candidates(s, np.ones(30, bool), 5).tolist() for s in scores]
    assert top_k_rows(scores, 100).shape == (50, 30)


def test_top_k_rows_refuses_bad_input():
    from recsys_lab.topk import top_k_rows

    with pytest.raises(ValueError, match="2-d"):
        top_k_rows(np.zeros(4), 2)
    with pytest.raises(ValueError, match="k must"):
        top_k_rows(np.zeros((2, 4)), 0)
    with pytest.raises(ValueError, match="NaN"):
        top_k_rows(np.array([[0.0, np.nan]]), 1)
    with pytest.raises(ValueError, match="exclude must"):
        top_k_rows(np.zeros((2, 4)), 1, np.zeros((2, 3), bool))
