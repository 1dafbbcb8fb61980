"""How sure are we? Confidence intervals across users and paired model comparisons (notebook 13).

A ranking metric is an average over users, and users differ a lot: one model's NDCG@10 of
0.21 against another's 0.20 may be luck of the test users. Two tools answer that:

- :func:`bootstrap_ci`: resample the users with replacement ``n_boot`` times, recompute the
  mean each time; the middle ``confidence`` share of those means is the percentile
  bootstrap interval (Efron & Tibshirani, 1993).
- :func:`paired_comparison`: both models were scored on the *same* users, so compare them
  user by user. With ``d_u = a_u - b_u``, it reports the mean difference, its bootstrap
  interval, how many users each model wins, and a two-sided p-value from a paired
  bootstrap (default), a paired t-test or a Wilcoxon signed-rank test (``scipy.stats``).
- :func:`holm` / :func:`benjamini_hochberg`: when many pairs are tested (every model against
  every other), some "significant" differences are luck; adjust the p-values for the number of
  tests, controlling the chance of any false finding (Holm) or their expected share (BH).

All functions are pure; randomness comes only from ``seed``. Inputs are 1-D arrays, or
pandas Series indexed by user (then the two Series of a comparison are aligned by user).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ConfidenceInterval:
    """A mean over ``n`` users and its ``confidence`` interval ``[low, high]``."""

    estimate: float
    low: float
    high: float
    confidence: float
    n: int

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}] ({self.confidence:.0%}, n={self.n})"


@dataclass(frozen=True)
class PairedComparison:
    """``a`` versus ``b`` on the same ``n`` users; ``mean_diff = mean(a - b)``."""

    mean_diff: float
    low: float
    high: float
    p_value: float
    method: str
    n: int
    wins: int      # users where a > b
    losses: int    # users where a < b
    ties: int
    unit: str = "users"  # what was resampled: "users", or "movies" for new-item claims

    def __str__(self) -> str:
        return (f"mean diff {self.mean_diff:+.4f} [{self.low:+.4f}, {self.high:+.4f}], "
                f"p = {self.p_value:.4f} ({self.method}), wins/losses/ties "
                f"{self.wins}/{self.losses}/{self.ties} of {self.n} {self.unit}")


def _values(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must hold numbers (one per user), got {x!r:.80}") from err
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per user), got shape {arr.shape}")
    if len(arr) < 2:
        raise ValueError(f"{name} needs at least 2 users to resample, got {len(arr)}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} has {bad.sum()} NaN/infinite value(s), first at position "
                         f"{np.flatnonzero(bad)[0]}; drop those users first (e.g. .dropna())")
    return arr


def _check_boot(n_boot, confidence=None) -> None:
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 100:
        raise ValueError(f"n_boot must be a whole number >= 100 (resamples), got {n_boot!r}")
    if confidence is not None and not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")


def _percentile_interval(means: np.ndarray, confidence: float) -> tuple[float, float]:
    """The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of bootstrap means."""
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def bootstrap_means(values, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement, same size) of ``values``, shape ``(n_boot,)``."""
    arr = _values(values, "values")
    _check_boot(n_boot)
    rng = np.random.default_rng(seed)
    out = np.empty(int(n_boot))
    step = max(1, 2_000_000 // len(arr))                # bound memory: step x n indices at a time
    for start in range(0, int(n_boot), step):
        idx = rng.integers(0, len(arr), (min(step, int(n_boot) - start), len(arr)))
        out[start:start + len(idx)] = arr[idx].mean(axis=1)
    return out


def bootstrap_ci(values, confidence: float = 0.95, n_boot: int = 2000,
                 seed: int = 0) -> ConfidenceInterval:
    """Percentile bootstrap interval of the mean of ``values`` (one value per user, shape ``(n,)``).

    ``low``/``high`` are the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of
    :func:`bootstrap_means`; ``estimate`` is the plain mean.
    """
    _check_boot(n_boot, confidence)
    arr = _values(values, "values")
    low, high = _percentile_interval(bootstrap_means(arr, n_boot, seed), confidence)
    return ConfidenceInterval(float(arr.mean()), low, high, float(confidence), len(arr))


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        only_a, only_b = a.index.difference(b.index), b.index.difference(a.index)
        if len(only_a) or len(only_b):
            raise ValueError(f"a and b must score the same users: {len(only_a)} user(s) only in a "
                             f"(e.g. {list(only_a[:3])}), {len(only_b)} only in b (e.g. "
                             f"{list(only_b[:3])}); evaluate both on the same test users")
        if not a.index.is_unique:
            raise ValueError("a has repeated user ids in its index; one value per user")
        b = b.loc[a.index]
    x, y = _values(a, "a"), _values(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b must have one value per user each, got {len(x)} and {len(y)}")
    return x, y


def paired_comparison(a, b, method: str = "bootstrap", confidence: float = 0.95,
                      n_boot: int = 2000, seed: int = 0, unit: str = "users") -> PairedComparison:
    """Compare two models scored on the same users: ``d_u = a_u - b_u``, shape ``(n,)``.

    The interval is always the percentile bootstrap interval of ``mean(d)``. The p-value tests
    "no difference on average" (two-sided) by ``method``:

    - ``"bootstrap"``: ``2 * min(share of resampled means <= 0, share >= 0)``, each share with
      a +1 correction ``(count + 1) / (n_boot + 1)`` so it is never exactly 0; capped at 1;
    - ``"t"``: paired t-test, ``t = mean(d) / (sd(d) / sqrt(n))`` with ``n - 1`` degrees of freedom;
    - ``"wilcoxon"``: Wilcoxon signed-rank test on ``d`` (zero differences dropped), which
      does not assume the differences are normal.

    ``unit`` names what the entries of ``a`` and ``b`` are (and what the bootstrap resamples),
    for the printed summary: ``"users"`` by default, ``"movies"`` for per-item errors.
    """
    if method not in ("bootstrap", "t", "wilcoxon"):
        raise ValueError(f"method must be 'bootstrap', 't' or 'wilcoxon', got {method!r}")
    _check_boot(n_boot, confidence)
    x, y = _paired(a, b)
    d = x - y
    means = bootstrap_means(d, n_boot, seed)
    low, high = _percentile_interval(means, confidence)
    if method == "bootstrap":
        below = (np.sum(means <= 0) + 1) / (n_boot + 1)
        above = (np.sum(means >= 0) + 1) / (n_boot + 1)
        p = min(1.0, 2 * min(below, above))
    elif np.all(d == 0):
        p = 1.0                                          # identical scores: no evidence of a difference
    elif method == "t":
        from scipy.stats import ttest_rel

        p = ttest_rel(x, y).pvalue
        p = 0.0 if np.isnan(p) else p                    # constant non-zero difference: certain
    else:
        from scipy.stats import wilcoxon

        p = wilcoxon(x, y, zero_method="wilcox").pvalue
    return PairedComparison(float(d.mean()), float(low), float(high), float(p), method, len(d),
                            int(np.sum(d > 0)), int(np.sum(d < 0)), int(np.sum(d == 0)), str(unit))


# ----------------------------------------------------------------------------------------
# Many comparisons at once
# ----------------------------------------------------------------------------------------

def _p_values(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise ValueError(f"p_values must be a non-empty 1-D list of p-values, got shape {p.shape}")
    if not ((p >= 0) & (p <= 1)).all():
        bad = p[~((p >= 0) & (p <= 1))][0]
        raise ValueError(f"p-values must lie in [0, 1], got {bad!r}")
    return p


def holm(p_values) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values: family-wise error control for many tests.

    Sort the ``m`` p-values ``p_(1) <= ... <= p_(m)``; the adjusted ``p_(j)`` is
    ``max_{l <= j} min(1, (m - l + 1) p_(l))``. Reject where adjusted ``<= alpha``: the chance of
    even one false "X beats Y" among all ``m`` is then at most ``alpha``. Shape ``(m,)``, the
    input order.
    """
    p = _p_values(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini & Hochberg's (1995) adjusted p-values (q-values): false-discovery-rate control.

    The adjusted ``p_(j)`` is ``min_{l >= j} min(1, m p_(l) / l)``. Rejecting where adjusted
    ``<= alpha`` keeps the expected share of false findings among the findings at most
    ``alpha`` (for independent or positively dependent tests). Less strict than :func:`holm`.
    Shape ``(m,)``, the input order.
    """
    p = _p_values(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out
