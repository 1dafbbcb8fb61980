import numpy as np
import pandas as pd
import pytest

from model_contract import ModelContract
from recsys_lab.models import EASE
from recsys_lab.models.ease import ease_weights


class TestEASEContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return EASE(reg=5.0, **kw)


# Three users over items A, B, C: {A, B}, {A, C}, {A}. With reg = 1:
#   X^T X + I = [[4, 1, 1], [1, 2, 0], [1, 0, 2]],  det = 12,
#   P = (1/12) [[4, -2, -2], [-2, 7, 1], [-2, 1, 7]]   (cofactors by hand),
#   B_ij = -P_ij / P_jj:  B_AB = 2/7, B_CB = -1/7, B_BA = B_CA = 1/2, B_AC = 2/7, B_BC = -1/7.
# B and C never go together, so each pushes the other down.
HAND_B = np.array([[0.0, 2 / 7, 2 / 7],
                   [1 / 2, 0.0, -1 / 7],
                   [1 / 2, -1 / 7, 0.0]])
HAND_RATINGS = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["A", "B", "A", "C", "A"],
                             "rating": [4.0, 5.0, 3.0, 2.0, 1.0]})


def test_weights_by_hand():
    X = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0]], dtype=float)
    np.testing.assert_allclose(ease_weights(X, reg=1.0), HAND_B, atol=1e-12)


def test_two_items_reduce_to_a_ratio_of_counts():
    """With two items, B_12 = co-count / (count of item 1 + reg): ridge regression on one column."""
    X = np.array([[1, 1], [1, 0], [1, 1], [0, 1], [1, 0]], dtype=float)  # n1 = 4, n2 = 3, both = 2
    B = ease_weights(X, reg=2.0)
    assert B[0, 1] == pytest.approx(2 / (4 + 2)) and B[1, 0] == pytest.approx(2 / (3 + 2))
    assert B[0, 0] == 0 and B[1, 1] == 0


def test_each_column_is_a_ridge_regression(synthetic):
    """Reference: column j of B solves min ||X_j - X_{-j} w||^2 + reg ||w||^2 (normal equations)."""
    model = EASE(reg=3.0).fit(synthetic.ratings)
    X = model.seen_.toarray()
    for j in (0, 7, 41):
        others = np.delete(np.arange(X.shape[1]), j)
        A = X[:, others]
        w = np.linalg.solve(A.T @ A + 3.0 * np.eye(len(others)), A.T @ X[:, j])
        np.testing.assert_allclose(model.weights_[others, j], w, atol=1e-10)
        assert model.weights_[j, j] == 0


def test_scores_recommend_and_explain_by_hand():
    model = EASE(reg=1.0).fit(HAND_RATINGS)          # stars are ignored: every rating counts as 1
    np.testing.assert_allclose(model.weights_, HAND_B, atol=1e-12)
    # user 3 has seen only A: scores are row A of B
    np.testing.assert_allclose(model.predict([3, 3], ["B", "C"]), [2 / 7, 2 / 7])
    # user 1 has seen A and B: score of C = B_AC + B_BC = 2/7 - 1/7
    assert model.predict([1], ["C"])[0] == pytest.approx(1 / 7)
    assert model.recommend(3, k=5).item.tolist() == ["B", "C"]   # tie broken by item position
    why = model.explain(1, "C")
    assert why.item.tolist() == ["A", "B"]
    np.testing.assert_allclose(why.weight, [2 / 7, -1 / 7])
    assert why.weight.sum() == pytest.approx(model.predict([1], ["C"])[0])
    # unknown user / item: empty history sums to 0; recommend falls back to popularity (A first)
    assert model.predict([99, 1], ["A", "Z"]).tolist() == [0.0, 0.0]
    assert model.recommend(99, k=1).item.tolist() == ["A"]


def test_predict_matches_full_score_matrix(synthetic):
    model = EASE(reg=10.0).fit(synthetic.ratings)
    scores = model.seen_ @ model.weights_            # (n_users, n_items): x_u B for every user
    rng = np.random.default_rng(0)
    u = rng.integers(0, model.data_.n_users, 300)
    i = rng.integers(0, model.data_.n_items, 300)
    pred = model.predict(model.data_.users.to_raw(u), model.data_.items.to_raw(i))
    np.testing.assert_allclose(pred, scores[u, i], atol=1e-10)


def test_bad_reg_is_refused(tiny_ratings):
    with pytest.raises(ValueError, match="reg must be > 0"):
        EASE(reg=0).fit(tiny_ratings)
    with pytest.raises(ValueError, match="reg must be > 0"):
        ease_weights(np.ones((2, 2)), reg=-1.0)
    with pytest.raises(KeyError, match="nothing to explain"):
        EASE(reg=1.0).fit(tiny_ratings).explain(1, 999)


@pytest.mark.parametrize("solver", ["cholesky", "woodbury", "auto"])
def test_every_solver_gives_the_hand_weights(solver):
    X = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0]], dtype=float)
    np.testing.assert_allclose(ease_weights(X, reg=1.0, solver=solver), HAND_B, atol=1e-12)
    wide = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype=float)           # 2 users < 4 items
    reference = np.linalg.inv(wide.T @ wide + 0.5 * np.eye(4))           # numpy's general inverse
    B = ease_weights(wide, reg=0.5, solver=solver)
    np.testing.assert_allclose(B, np.where(np.eye(4) == 1, 0.0, -reference / np.diag(reference)), atol=1e-12)


def test_woodbury_equals_cholesky_and_ranks_alike(synthetic):
    """Fewer users than items: "auto" takes the Woodbury path; its weights and lists are the Cholesky ones."""
    wide = synthetic.ratings[synthetic.ratings.user < synthetic.ratings.user.min() + 12]
    chol, wood = EASE(reg=3.0, solver="cholesky").fit(wide), EASE(reg=3.0).fit(wide)
    assert wood.seen_.shape[0] < wood.seen_.shape[1]
    np.testing.assert_allclose(wood.weights_, chol.weights_, atol=1e-12)
    np.testing.assert_allclose(ease_weights(wood.seen_, 3.0), ease_weights(wood.seen_, 3.0, "woodbury"), atol=0)
    for user in wide.user.unique()[:5]:
        assert wood.recommend(user, k=10).item.tolist() == chol.recommend(user, k=10).item.tolist()


def test_float32_is_close_to_float64_and_half_the_memory(synthetic):
    for solver in ("cholesky", "woodbury"):
        f64 = ease_weights(EASE().fit(synthetic.ratings).seen_, 3.0, solver)
        f32 = ease_weights(EASE().fit(synthetic.ratings).seen_, 3.0, solver, dtype="float32")
        assert f32.dtype == np.float32 and f32.nbytes * 2 == f64.nbytes
        np.testing.assert_allclose(f32, f64, atol=1e-4)
        assert np.abs(f32 - f64).max() > 0                                 # it is a real float32 computation


def test_bad_solver_and_dtype_are_refused(tiny_ratings):
    with pytest.raises(ValueError, match="solver must be one of"):
        EASE(solver="lu").fit(tiny_ratings)
    with pytest.raises(ValueError, match="dtype must be one of"):
        EASE(dtype="float16").fit(tiny_ratings)
