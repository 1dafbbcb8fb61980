"""recsys_lab.similarity: vectorized measures vs. loop-by-definition versions and hand values."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recsys_lab import similarity as S

NAN = np.nan
# 4 users x 4 items; user D rated nothing. Worked by hand below.
TOY = np.array([[5, 3, NAN, 1],
                [4, NAN, 4, 1],
                [1, 1, NAN, 5],
                [NAN, NAN, NAN, NAN]])


def slow_similarity(dense, measure):
    """Loop-by-definition reference: every pair, its co-rated columns, the textbook formula."""
    n = dense.shape[0]
    rated = ~np.isnan(dense)
    col_means = np.array([dense[rated[:, c], c].mean() if rated[:, c].any() else 0.0
                          for c in range(dense.shape[1])])
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            co = rated[a] & rated[b]
            x, y = dense[a, co], dense[b, co]
            if measure == "jaccard":
                union = (rated[a] | rated[b]).sum()
                out[a, b] = co.sum() / union if union else 0.0
                continue
            if not co.any():
                continue
            if measure == "cosine_naive":
                xa, yb = np.nan_to_num(dense[a]), np.nan_to_num(dense[b])
                den = np.sqrt((xa ** 2).sum() * (yb ** 2).sum())
                out[a, b] = (xa * yb).sum() / den if den else 0.0
            elif measure == "cosine":
                den = np.sqrt((x ** 2).sum() * (y ** 2).sum())
                out[a, b] = (x * y).sum() / den if den else 0.0
            elif measure == "adjusted_cosine":
                xc, yc = x - col_means[co], y - col_means[co]
                den = np.sqrt((xc ** 2).sum() * (yc ** 2).sum())
                out[a, b] = (xc * yc).sum() / den if den > 1e-12 else 0.0
            elif measure == "pearson":
                xc, yc = x - x.mean(), y - y.mean()
                den = np.sqrt((xc ** 2).sum() * (yc ** 2).sum())
                out[a, b] = (xc * yc).sum() / den if den > 1e-12 else 0.0
            elif measure == "msd":
                out[a, b] = 1.0 / (1.0 + np.mean((x - y) ** 2))
    return out


def random_ratings(n_rows=25, n_cols=30, density=0.3, seed=0):
    """Half-star ratings (so sums can cancel to exactly 0), some empty and single-rating rows."""
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((n_rows, n_cols)) < density,
                     rng.integers(1, 11, (n_rows, n_cols)) / 2.0, NAN)
    dense[3] = NAN            # a row with no ratings
    dense[4] = NAN
    dense[4, 7] = 3.0         # a row with one rating
    dense[5, ~np.isnan(dense[5])] = 4.0  # a row that rates everything alike
    return dense


@pytest.mark.parametrize("measure", S.MEASURES)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_loop_by_definition(measure, seed):
    dense = random_ratings(seed=seed)
    np.testing.assert_allclose(S.similarity_matrix(dense, measure), slow_similarity(dense, measure),
                               atol=1e-9)


def test_hand_computed_values():
    # A = (5, 3, -, 1), B = (4, -, 4, 1): co-rated items 0 and 3.
    assert S.cosine(TOY)[0, 1] == pytest.approx(21 / np.sqrt(26 * 17))      # (20+1)/sqrt((25+1)(16+1))
    assert S.cosine_naive(TOY)[0, 1] == pytest.approx(21 / np.sqrt(35 * 33))  # norms over all own ratings
    assert S.jaccard(TOY)[0, 1] == pytest.approx(2 / 4)
    assert S.msd(TOY)[0, 1] == pytest.approx(1 / (1 + (1 + 0) / 2))
    # column means 10/3, 2, 4, 7/3 -> A: (5/3, ., ., -4/3), B: (2/3, ., ., -4/3) on the co-rated items
    assert S.adjusted_cosine(TOY)[0, 1] == pytest.approx(26 / np.sqrt(41 * 20))
    # A vs C on items 0, 1, 3: x = (5, 3, 1), y = (1, 1, 5): r = -8 / sqrt(8 * 32/3) = -sqrt(3)/2
    assert S.pearson(TOY)[0, 2] == pytest.approx(-np.sqrt(3) / 2)
    np.testing.assert_array_equal(S.co_rated_counts(TOY), [[3, 2, 3, 0], [2, 3, 2, 0],
                                                           [3, 2, 3, 0], [0, 0, 0, 0]])


def test_naive_cosine_bias_missing_as_zero():
    """Two users who agree on every co-rated item: co-rated cosine says 1, naive cosine does not."""
    dense = np.array([[4, 4, NAN, NAN], [4, 4, 4, 4.0]])
    assert S.cosine(dense)[0, 1] == pytest.approx(1.0)
    assert S.cosine_naive(dense)[0, 1] == pytest.approx(32 / np.sqrt(32 * 64))


@pytest.mark.parametrize("measure", S.MEASURES)
def test_invariants_symmetric_in_range_no_nan(measure):
    dense = random_ratings(40, 35, 0.25, seed=3)
    sim = S.similarity_matrix(dense, measure)
    assert np.isfinite(sim).all()
    np.testing.assert_allclose(sim, sim.T, atol=1e-12)
    low = 0.0 if measure in ("jaccard", "msd", "cosine", "cosine_naive") else -1.0
    assert sim.min() >= low and sim.max() <= 1.0
    assert (sim[3] == 0).all() and (sim[:, 3] == 0).all()   # the empty row is like no one
    overlap = S.co_rated_counts(dense)
    assert (sim[overlap == 0] == 0).all()                     # no overlap, no similarity
    if measure == "pearson":
        assert (sim[5] == 0).all()  # constant ratings have no variance: 0, not NaN


def test_min_overlap_and_shrinkage():
    dense = random_ratings(seed=2)
    sim, n = S.similarity_matrix(dense, "pearson", return_overlap=True)
    gated = S.similarity_matrix(dense, "pearson", min_overlap=4)
    np.testing.assert_allclose(gated, np.where(n >= 4, sim, 0.0))
    shrunk = S.similarity_matrix(dense, "pearson", shrinkage=10)
    np.testing.assert_allclose(shrunk, sim * n / (n + 10))
    assert np.all(np.abs(shrunk) <= np.abs(sim) + 1e-15)
    weighted = S.significance_weighting(sim, n, threshold=5)
    np.testing.assert_allclose(weighted, sim * np.minimum(n, 5) / 5)


def test_rows_and_others_select_a_block():
    dense = random_ratings(seed=4)
    full = S.similarity_matrix(dense, "adjusted_cosine", shrinkage=3)
    block = S.similarity_matrix(dense, "adjusted_cosine", shrinkage=3, rows=[2, 9, 0], others=[1, 5])
    np.testing.assert_allclose(block, full[np.ix_([2, 9, 0], [1, 5])])


def test_inputs_sparse_dense_torch_agree():
    dense = random_ratings(seed=5)
    rows, cols = np.nonzero(~np.isnan(dense))
    sparse = sp.coo_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    tensor = torch.tensor(dense, dtype=torch.float32)
    for measure in ("pearson", "cosine"):
        ref = S.similarity_matrix(dense, measure)
        np.testing.assert_allclose(S.similarity_matrix(sparse, measure), ref, atol=1e-12)
        np.testing.assert_allclose(S.similarity_matrix(tensor, measure), ref, atol=1e-6)


@pytest.mark.parametrize("measure", ["cosine", "pearson", "msd"])
def test_sums_that_cancel_to_zero_still_line_up(measure):
    """sum x*y over co-rated columns is exactly 0 for rows 0 and 1 (scipy drops such entries)."""
    dense = np.array([[1.0, 1.0, NAN, 3.0], [1.0, -1.0, 2.0, NAN], [2.0, 2.0, 2.0, -1.0]])
    assert S.cosine(dense)[0, 1] == 0.0
    np.testing.assert_allclose(S.similarity_matrix(dense, measure), slow_similarity(dense, measure),
                               atol=1e-12)


def test_explicit_zero_is_a_rating():
    zero = sp.csr_matrix((np.array([0.0, 2.0, 0.0]), (np.array([0, 0, 1]), np.array([0, 1, 0]))),
                         shape=(2, 2))
    assert S.co_rated_counts(zero)[0, 1] == 1
    assert S.jaccard(zero)[0, 1] == pytest.approx(0.5)


@pytest.mark.parametrize("measure", ["cosine", "pearson", "adjusted_cosine", "msd"])
def test_top_k_neighbours_agree_with_full_matrix(measure):
    dense = random_ratings(60, 40, 0.3, seed=6)
    full = S.similarity_matrix(dense, measure, min_overlap=2, shrinkage=2)
    np.fill_diagonal(full, 0.0)
    top = S.top_k_neighbours(dense, k=5, similarity=measure, min_overlap=2, shrinkage=2,
                             min_similarity=0.05, block_size=7).toarray()
    for a in range(len(dense)):
        kept = np.flatnonzero(top[a])
        candidates = full[a][full[a] > 0.05]
        assert len(kept) == min(5, len(candidates))
        assert a not in kept
        np.testing.assert_allclose(top[a, kept], full[a, kept], rtol=1e-6)   # float32 values
        if len(kept):  # the kept values are the largest candidates: nothing left out beats them
            np.testing.assert_allclose(np.sort(top[a, kept]), np.sort(candidates)[len(candidates) - len(kept):],
                                       rtol=1e-6)
    everything = S.top_k_neighbours(dense, k=None, similarity=measure, min_overlap=2, shrinkage=2)
    expected = np.where(full > 0, full, 0.0)
    np.testing.assert_allclose(everything.toarray(), expected, rtol=1e-6, atol=1e-7)


def test_top_k_does_not_depend_on_block_size():
    dense = random_ratings(50, 30, 0.4, seed=7)
    a = S.top_k_neighbours(dense, k=4, similarity="pearson", block_size=3)
    b = S.top_k_neighbours(dense, k=4, similarity="pearson", block_size=1000)
    assert (a != b).nnz == 0


@pytest.mark.parametrize("call, message", [
    (lambda: S.similarity_matrix(TOY, "euclid"), "similarity must be one of"),
    (lambda: S.similarity_matrix(TOY, "cosine", min_overlap=0), "min_overlap must be a whole number"),
    (lambda: S.similarity_matrix(TOY, "cosine", shrinkage=-1), "shrinkage must be >= 0"),
    (lambda: S.similarity_matrix(TOY, rows=[7]), r"rows must be row positions in \[0, 4\)"),
    (lambda: S.similarity_matrix(np.ones(3)), "ratings must be 2-D"),
    (lambda: S.similarity_matrix(np.array([[1.0, np.inf]])), "infinite"),
    (lambda: S.top_k_neighbours(TOY, k=0), "k must be a whole number >= 1 or None"),
    (lambda: S.top_k_neighbours(TOY, k=2, min_similarity=-0.5), "min_similarity must be >= 0"),
    (lambda: S.significance_weighting([0.5], [3], threshold=0), "threshold must be >= 1"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_movielens_items_top_k_is_sane(movielens):
    """On real data: no NaN, self never kept, values are similarities of the full matrix."""
    from recsys_lab.data import RatingData

    data = RatingData(movielens.ratings[movielens.ratings.item <= 300])
    items = data.to_csr().T.tocsr()
    top = S.top_k_neighbours(items, k=10, similarity="adjusted_cosine", min_overlap=3)
    assert np.isfinite(top.data).all() and top.diagonal().sum() == 0
    assert np.diff(top.indptr).max() <= 10
    rows = np.repeat(np.arange(top.shape[0]), np.diff(top.indptr))
    full = S.similarity_matrix(items, "adjusted_cosine", min_overlap=3)
    np.testing.assert_allclose(top.data, full[rows, top.indices], rtol=1e-6)
