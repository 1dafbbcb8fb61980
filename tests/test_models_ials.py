"""iALS (Hu, Koren & Volinsky 2008): each half-step is the exact minimiser, checked against the
objective written out over every (user, item) pair with dense numpy."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from recsys_lab.models.ials import IALS, als_solve, ials_loss


def _binary(n_rows=12, n_cols=9, density=0.35, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n_rows, n_cols)) < density).astype(float)
    X[0, :] = 0; X[0, 1] = 1                                          # a row with one item
    return sp.csr_matrix(X)


def _dense_objective(X, U, V, alpha, reg):
    """The objective by its definition: c_ui (p_ui - x_u . y_i)^2 over all pairs, plus the penalty."""
    P = np.asarray(X.todense()) > 0
    C = 1 + alpha * P
    return float(np.sum(C * (P - U @ V.T) ** 2) + reg * (np.sum(U ** 2) + np.sum(V ** 2)))


@pytest.mark.parametrize("alpha, reg", [(0.0, 0.5), (10.0, 1.0), (40.0, 0.01)])
def test_als_solve_is_each_rows_ridge_solution_with_the_confidence_weights(alpha, reg):
    X = _binary()
    Y = np.random.default_rng(1).normal(size=(X.shape[1], 4))
    got = als_solve(X, Y, alpha, reg)
    P = np.asarray(X.todense())
    for r in range(X.shape[0]):                                       # (Y^T C_r Y + reg I) x = Y^T C_r p_r
        C = np.diag(1 + alpha * P[r])
        want = np.linalg.solve(Y.T @ C @ Y + reg * np.eye(4), Y.T @ C @ P[r])
        np.testing.assert_allclose(got[r], want, rtol=1e-10, atol=1e-12)


def test_als_solve_is_the_same_in_small_and_large_blocks(monkeypatch):
    import recsys_lab.models.ials as ials
    X = _binary(40, 15, 0.5, seed=3)
    Y = np.random.default_rng(2).normal(size=(15, 3))
    whole = als_solve(X, Y, 5.0, 0.1)
    monkeypatch.setattr(ials, "_BLOCK_FLOATS", 9)                    # one observed pair per block
    np.testing.assert_allclose(als_solve(X, Y, 5.0, 0.1), whole, rtol=1e-12, atol=1e-14)


def test_the_solved_vectors_zero_the_gradient_of_the_objective():
    X = _binary()
    V = np.random.default_rng(4).normal(size=(X.shape[1], 3))
    U = als_solve(X, V, 10.0, 0.3)
    Ut = torch.tensor(U, requires_grad=True)
    P = torch.tensor(np.asarray(X.todense()))
    loss = ((1 + 10.0 * P) * (P - Ut @ torch.tensor(V).T) ** 2).sum() + 0.3 * (Ut ** 2).sum()
    loss.backward()
    assert float(Ut.grad.abs().max()) < 1e-9


def test_ials_loss_equals_the_dense_objective():
    X = _binary()
    rng = np.random.default_rng(5)
    U, V = rng.normal(size=(X.shape[0], 3)), rng.normal(size=(X.shape[1], 3))
    assert ials_loss(X, U, V, 7.0, 0.2) == pytest.approx(_dense_objective(X, U, V, 7.0, 0.2), rel=1e-12)


def _frame(X):
    coo = X.tocoo()
    return pd.DataFrame({"user": coo.row + 1, "item": coo.col + 100, "rating": 4.0})


def test_fit_never_increases_the_objective_and_scores_are_dot_products():
    model = IALS(n_factors=3, iterations=6, alpha=5.0, reg=0.5, seed=0, track_loss=True).fit(_frame(_binary(30, 12, 0.4, seed=6)))
    assert all(b <= a + 1e-9 for a, b in zip(model.loss_, model.loss_[1:]))
    u, i = model.data_.users.to_index([1, 2]), model.data_.items.to_index([100, 101])
    np.testing.assert_allclose(model.predict([1, 2], [100, 101]),
                               np.sum(model.user_factors_[u] * model.item_factors_[i], axis=1))


def test_a_user_folded_in_gets_the_vector_a_training_user_with_the_same_items_gets():
    X = _binary(30, 12, 0.4, seed=7)
    model = IALS(n_factors=3, iterations=4, seed=0).fit(_frame(X))
    items = [100 + j for j in np.flatnonzero(np.asarray(X[5].todense()).ravel())]
    folded = model.fold_in({item: 4.0 for item in items})      # the stars do not matter
    u = model.data_.users.to_index([6])[0]
    # the training user's vector was solved against the item vectors *before* the last item step
    again = als_solve(model.seen_[u], model.item_factors_, model.alpha, model.reg)[0]
    np.testing.assert_allclose(folded.state, again, rtol=1e-10, atol=1e-12)
    assert folded.recommend(k=3).item.isin(items).sum() == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"n_factors": 0}, "n_factors"), ({"iterations": 1.5}, "iterations"), ({"alpha": -1.0}, "alpha"),
    ({"reg": 0.0}, "reg"), ({"init_std": float("nan")}, "init_std")])
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IALS(**kwargs).fit(_frame(_binary()))


def test_same_seed_same_factors_other_seed_other_start():
    r = _frame(_binary(30, 12, 0.4, seed=8))
    a, b = IALS(n_factors=3, iterations=2, seed=1).fit(r), IALS(n_factors=3, iterations=2, seed=1).fit(r)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    c = IALS(n_factors=3, iterations=2, seed=2).fit(r)
    assert not np.allclose(a.item_factors_, c.item_factors_)


def test_enough_conjugate_gradient_steps_reach_the_exact_solve_and_few_steps_lower_the_objective():
    from recsys_lab.models.ials import als_solve_cg
    X = _binary(20, 10, 0.4, seed=9)
    rng = np.random.default_rng(10)
    Y, start = rng.normal(size=(10, 4)), rng.normal(size=(20, 4))
    exact = als_solve(X, Y, 8.0, 0.5)
    np.testing.assert_allclose(als_solve_cg(X, Y, 8.0, 0.5, start, steps=12), exact, rtol=1e-8, atol=1e-10)
    before = ials_loss(X, start, Y, 8.0, 0.5)
    after = [ials_loss(X, als_solve_cg(X, Y, 8.0, 0.5, start, steps=s), Y, 8.0, 0.5) for s in (1, 2, 3)]
    assert before > after[0] >= after[1] >= after[2] >= ials_loss(X, exact, Y, 8.0, 0.5) - 1e-9


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_both_solvers_never_increase_the_objective(solver):
    model = IALS(n_factors=3, iterations=5, alpha=5.0, reg=0.5, solver=solver, track_loss=True).fit(_frame(_binary(30, 12, 0.4, seed=11)))
    assert all(b <= a + 1e-9 for a, b in zip(model.loss_, model.loss_[1:]))


def test_an_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="solver"):
        IALS(solver="lu").fit(_frame(_binary()))


def test_without_confidence_weights_cg_solves_the_shared_system_and_skipping_the_zero_term_changes_nothing():
    # alpha = 0: every row solves (Y^T Y + reg I) x = Y^T p_r, and the observed term (exactly 0) is skipped
    from recsys_lab.models.ials import als_solve_cg
    X = _binary(20, 10, 0.4, seed=12)
    rng = np.random.default_rng(13)
    Y, start = rng.normal(size=(10, 4)), rng.normal(size=(20, 4))
    want = np.linalg.solve(Y.T @ Y + 0.5 * np.eye(4), Y.T @ np.asarray(X.todense()).T).T
    np.testing.assert_allclose(als_solve_cg(X, Y, 0.0, 0.5, start, steps=12), want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(als_solve(X, Y, 0.0, 0.5), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 8.0])
def test_float32_cg_is_float64_cg_up_to_float32_rounding(alpha):
    from recsys_lab.models.ials import als_solve_cg
    X = _binary(30, 12, 0.4, seed=14)
    rng = np.random.default_rng(15)
    Y, start = rng.normal(size=(12, 5)), rng.normal(size=(30, 5))
    exact = als_solve_cg(X, Y, alpha, 0.5, start, steps=3)
    single = als_solve_cg(X, Y, alpha, 0.5, start, steps=3, dtype="float32")
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, exact, rtol=1e-4, atol=1e-5)
    assert not np.array_equal(single.astype(np.float64), exact)          # really computed in float32


def test_float32_model_ranks_like_the_float64_one_and_stores_float32():
    r = _frame(_binary(40, 15, 0.4, seed=16))
    a = IALS(n_factors=4, iterations=5, alpha=5.0, reg=0.5).fit(r)
    b = IALS(n_factors=4, iterations=5, alpha=5.0, reg=0.5, dtype="float32").fit(r)
    assert b.user_factors_.dtype == np.float32 and b.item_factors_.dtype == np.float32
    np.testing.assert_allclose(b.user_factors_ @ b.item_factors_.T, a.user_factors_ @ a.item_factors_.T,
                               rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match="dtype"):
        IALS(dtype="float16").fit(r)
