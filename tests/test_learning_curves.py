"""recsys_lab/learning_curves.py: nested subsets, known curves, and scikit-learn's learning_curve as reference."""
import numpy as np
import pandas as pd
import pytest

from recsys_lab.learning_curves import (doubling_gains, flattening, fractions_of, learning_curve, log_sizes,
                                        nested_subsets, summarise)


def test_log_sizes_are_log_spaced_whole_numbers():
    sizes = log_sizes(10, 160, 5)
    assert sizes.tolist() == [10, 20, 40, 80, 160]
    assert log_sizes(3, 1000, 7)[0] == 3 and log_sizes(3, 1000, 7)[-1] == 1000
    with pytest.raises(ValueError, match="repeat"):
        log_sizes(1, 3, 5)
    for bad in [(0, 10, 3), (10, 10, 3), (5, 10, 1), (2.5, 10, 3)]:
        with pytest.raises(ValueError):
            log_sizes(*bad)


def test_subsets_are_nested_distinct_and_reproducible():
    sizes = [5, 10, 40, 100]
    subsets = nested_subsets(100, sizes, seed=3)
    assert [len(s) for s in subsets] == sizes
    for small, big in zip(subsets, subsets[1:]):
        assert np.array_equal(big[:len(small)], small)                 # every set contains the smaller
    assert len(np.unique(subsets[-1])) == 100
    assert all(np.array_equal(a, b) for a, b in zip(subsets, nested_subsets(100, sizes, seed=3)))
    assert not np.array_equal(subsets[1], nested_subsets(100, sizes, seed=4)[1])
    with pytest.raises(ValueError):
        nested_subsets(10, [5, 11], 0)


def test_the_mean_of_a_sample_has_the_known_curve():
    # Predicting N(mu, sigma²) data by the mean of k draws: expected squared error sigma² (1 + 1/k).
    mu, sigma, n_pool = 2.0, 1.5, 64
    sizes = np.array([1, 4, 16, 64])

    def fit_and_score(indices, seed):
        pool = np.random.default_rng(1000 + seed).normal(mu, sigma, size=n_pool)   # a fresh data set per seed
        return (pool[indices].mean() - mu) ** 2 + sigma ** 2                       # exact error on a new draw

    curve = learning_curve(fit_and_score, n_pool, sizes, seeds=range(400))
    means = summarise(curve).loc["error", "mean"]
    excess = (means.to_numpy() - sigma ** 2) * sizes          # should be sigma² at every size
    assert np.all(np.abs(excess - sigma ** 2) < 0.25 * sigma ** 2), excess


def test_agrees_with_scikit_learn_learning_curve():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import learning_curve as sk_learning_curve

    rng = np.random.default_rng(1)
    n_pool, n_eval = 120, 50
    X = rng.normal(size=(n_pool + n_eval, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.3, size=n_pool + n_eval)
    evaluation = np.arange(n_pool, n_pool + n_eval)
    sizes = log_sizes(8, n_pool, 5)

    def fit_and_score(indices, seed):
        model = LinearRegression().fit(X[indices], y[indices])
        return np.mean((model.predict(X[evaluation]) - y[evaluation]) ** 2)

    ours = learning_curve(fit_and_score, n_pool, sizes, seeds=[7])
    order = nested_subsets(n_pool, [n_pool], seed=7)[0]             # the same order sklearn will take prefixes of
    _, _, test_scores = sk_learning_curve(LinearRegression(), X, y, train_sizes=sizes, cv=[(order, evaluation)],
                                          scoring="neg_mean_squared_error", shuffle=False)
    assert np.abs(ours["error"].to_numpy() + test_scores[:, 0]).max() < 1e-10
    assert sklearn is not None


def test_dict_scores_and_summary():
    def fit_and_score(indices, seed):
        return {"train": float(len(indices)), "validation": float(len(indices) + seed)}

    curve = learning_curve(fit_and_score, 50, [10, 20], seeds=[0, 1, 2])
    assert set(curve.columns) == {"seed", "size", "what", "error"} and len(curve) == 12
    table = summarise(curve)
    assert table.loc[("validation", 20), "mean"] == pytest.approx(21.0)
    assert table.loc[("validation", 20), "std"] == pytest.approx(1.0)
    assert table.loc[("validation", 10), "low"] == 10 and table.loc[("validation", 10), "high"] == 12
    assert table.loc[("train", 10), "n_seeds"] == 3


def test_gains_per_doubling_of_a_plus_b_over_n():
    # e(n) = a + b / n: from n to 2n the error falls by b / (2n), so each doubling gains half the last.
    a, b = 0.3, 8.0
    sizes = np.array([10, 20, 40, 80, 160])
    errors = a + b / sizes
    assert np.allclose(doubling_gains(sizes, errors), b / (2 * sizes[:-1]))
    assert flattening(sizes, errors) == pytest.approx(sizes[0] / sizes[-2])
    # per doubling: a step over a quadrupling counts as two doublings
    assert doubling_gains([10, 40], [1.0, 0.6])[0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="first step"):
        flattening(sizes, -errors)
    with pytest.raises(ValueError):
        doubling_gains([10, 5], [1.0, 0.5])


def test_fractions_of_a_frame():
    frame = pd.DataFrame({"x": range(1000)})
    assert fractions_of(frame, [1 / 16, 0.5, 1]).tolist() == [63, 500, 1000]   # 62.5 rounds half up
    with pytest.raises(ValueError):
        fractions_of(frame, [0.0, 1.0])
