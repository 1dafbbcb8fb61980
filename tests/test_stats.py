import numpy as np
import pandas as pd
import pytest

from recsys_lab.stats import bootstrap_ci, bootstrap_means, paired_comparison


def test_constant_values_have_a_zero_width_interval():
    ci = bootstrap_ci([0.3] * 50, n_boot=500)
    assert (ci.estimate, ci.low, ci.high, ci.n) == pytest.approx((0.3, 0.3, 0.3, 50))


def test_two_values_by_hand():
    """Resampling [0, 1] twice gives means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4."""
    means = bootstrap_means([0.0, 1.0], n_boot=20_000, seed=1)
    assert set(np.unique(means)) == {0.0, 0.5, 1.0}
    shares = [np.mean(means == v) for v in (0.0, 0.5, 1.0)]
    np.testing.assert_allclose(shares, [0.25, 0.5, 0.25], atol=0.015)
    ci = bootstrap_ci([0.0, 1.0], n_boot=20_000, seed=1)
    assert (ci.low, ci.high) == (0.0, 1.0)      # 2.5% and 97.5% quantiles fall on 0 and 1


def test_interval_agrees_with_normal_theory():
    """For many users, the bootstrap interval is close to mean +- 1.96 * sd / sqrt(n)."""
    x = np.random.default_rng(3).exponential(1.0, 2000)
    ci = bootstrap_ci(x, n_boot=4000, seed=0)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert ci.low == pytest.approx(x.mean() - half, abs=0.15 * half)
    assert ci.high == pytest.approx(x.mean() + half, abs=0.15 * half)


def test_seeded_and_wider_at_higher_confidence():
    x = np.random.default_rng(0).random(100)
    assert bootstrap_ci(x, seed=5) == bootstrap_ci(x, seed=5)
    assert bootstrap_ci(x, seed=5) != bootstrap_ci(x, seed=6)
    narrow, wide = bootstrap_ci(x, 0.8, seed=5), bootstrap_ci(x, 0.99, seed=5)
    assert wide.low < narrow.low < narrow.estimate < narrow.high < wide.high


def test_paired_t_by_hand():
    """d = [1, 2, 3]: t = 2 / (1 / sqrt 3); for 2 degrees of freedom P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2."""
    res = paired_comparison([2.0, 4.0, 6.0], [1.0, 2.0, 3.0], method="t", n_boot=200)
    t = 2 / (1 / np.sqrt(3))
    assert res.p_value == pytest.approx(1 - t / np.sqrt(t ** 2 + 2))
    assert (res.mean_diff, res.wins, res.losses, res.ties, res.n) == (2.0, 3, 0, 0, 3)


def test_wilcoxon_exact_by_hand():
    """Five positive distinct differences: only 1 of 2^5 sign patterns is as extreme per side."""
    res = paired_comparison([2, 3, 4, 5, 6], [1, 1, 1, 1, 1], method="wilcoxon", n_boot=200)
    assert res.p_value == pytest.approx(2 / 32)


def test_bootstrap_p_value_when_one_model_always_wins():
    a, b = np.arange(1, 41) / 40, np.zeros(40)
    res = paired_comparison(a, b, n_boot=999, seed=0)
    assert res.p_value == pytest.approx(2 * 1 / 1000)   # no resample at or below 0: (0 + 1) / (999 + 1)
    assert res.low > 0 and res.wins == 40
    same = paired_comparison(a, a, n_boot=999)
    assert same.p_value == 1.0 and same.ties == 40 and same.mean_diff == 0.0
    assert paired_comparison(a, a, method="t").p_value == 1.0
    assert paired_comparison(a, a, method="wilcoxon").p_value == 1.0


def test_noise_difference_is_not_significant():
    rng = np.random.default_rng(0)
    a = rng.random(300)
    b = a + rng.normal(0, 0.1, 300)                      # same model plus noise: no true difference
    for method in ("bootstrap", "t", "wilcoxon"):
        assert paired_comparison(a, b, method=method).p_value > 0.05
    res = paired_comparison(a, b)
    assert res.low < 0 < res.high


def test_series_are_aligned_by_user():
    a = pd.Series([0.5, 0.1, 0.9], index=[7, 3, 5])
    b = pd.Series([0.2, 0.4, 0.1], index=[5, 7, 3])       # same users, another order
    res = paired_comparison(a, b, method="t", n_boot=200)
    # per user 7: 0.5 - 0.4, 3: 0.1 - 0.1, 5: 0.9 - 0.2
    assert res.mean_diff == pytest.approx((0.1 + 0.0 + 0.7) / 3)
    assert (res.wins, res.losses, res.ties) == (2, 0, 1)
    with pytest.raises(ValueError, match="same users"):
        paired_comparison(a, pd.Series([0.1, 0.2, 0.3], index=[7, 3, 8]))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="at least 2 users"):
        bootstrap_ci([0.1])
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_ci(np.ones((3, 3)))
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([0.1, 0.2], confidence=95)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci([0.1, 0.2], n_boot=10)
    with pytest.raises(ValueError, match="method"):
        paired_comparison([1, 2], [1, 2], method="anova")
    with pytest.raises(ValueError, match="one value per user each"):
        paired_comparison([1, 2, 3], [1, 2])


def test_holm_and_benjamini_hochberg_by_hand_and_against_scipy():
    from scipy.stats import false_discovery_control

    from recsys_lab.stats import benjamini_hochberg, holm

    p = [0.01, 0.04, 0.03, 0.005]
    # Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    # BH by hand: sorted p * 4 / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.random(rng.integers(1, 30)) ** 3
        np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"))
        assert (holm(p) >= benjamini_hochberg(p) - 1e-15).all()      # Holm is the stricter
        assert (holm(p) >= p).all() and (holm(p) <= 1).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.5, 1.5])


def test_paired_comparison_names_its_unit():
    result = paired_comparison([1.0, 2.0, 3.0], [0.5, 2.5, 2.0], unit="movies")
    assert str(result).endswith("of 3 movies") and result.unit == "movies"
    assert str(paired_comparison([1.0, 2.0], [0.0, 1.0])).endswith("of 2 users")
