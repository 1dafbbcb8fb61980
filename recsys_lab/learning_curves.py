"""Learning curves: error against the size of the training set (notebook 05 · Training and generalization).

A learning curve fits the same model, with the same settings, on growing training sets and
measures each fit on one fixed evaluation set. Where the curve still falls, more data would
help; where it has flattened, the remaining error is the model's bias plus the noise, and only
a different model (or better features) can lower it.

The training sets are **nested**: for one seed, a random order of the ``n`` available examples
is drawn once and the size-``k`` set is its first ``k`` examples, so each larger set adds
examples to the smaller one instead of drawing new ones (as ``sklearn.model_selection.learning_curve``
does within one split; tests/test_learning_curves.py checks that the two agree). Different seeds
give different orders, and their spread is the band drawn around the curve.

How fast a curve flattens is measured per doubling of the data: the gain of a step from ``n_k``
to ``n_{k+1}`` is ``(e_k − e_{k+1}) / log2(n_{k+1} / n_k)``, the error it removes per doubling.
For ``e(n) = a + b / n`` each doubling gains half of the one before.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def log_sizes(smallest: int, largest: int, count: int) -> np.ndarray:
    """``count`` whole training-set sizes from ``smallest`` to ``largest``, evenly spaced on a log
    scale (rounded); shape ``(count,)``, strictly increasing."""
    if int(smallest) != smallest or int(largest) != largest or not 1 <= smallest < largest:
        raise ValueError(f"need whole numbers 1 <= smallest < largest, got {smallest!r} and {largest!r}.")
    if int(count) != count or count < 2:
        raise ValueError(f"count must be a whole number >= 2, got {count!r}.")
    sizes = np.rint(np.geomspace(smallest, largest, int(count))).astype(int)
    if len(np.unique(sizes)) != len(sizes):
        raise ValueError(f"{count} sizes between {smallest} and {largest} would repeat after rounding; "
                         "use fewer sizes or a wider range.")
    return sizes


def nested_subsets(n: int, sizes, seed: int) -> list[np.ndarray]:
    """Index arrays of the given ``sizes`` into ``n`` examples, each the first ``size`` entries of
    one random order drawn from ``seed`` (so every set contains the smaller ones)."""
    sizes = np.asarray(sizes)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}.")
    if sizes.ndim != 1 or len(sizes) == 0 or np.any(sizes < 1) or np.any(sizes > n) or np.any(sizes != np.rint(sizes)):
        raise ValueError(f"sizes must be whole numbers between 1 and n = {n}, got {sizes.tolist()}.")
    order = np.random.default_rng(seed).permutation(int(n))
    return [order[:int(size)] for size in sizes]


def learning_curve(fit_and_score, n: int, sizes, seeds=range(5)) -> pd.DataFrame:
    """Fit on nested subsets of ``n`` examples and score each fit.

    ``fit_and_score(indices, seed)`` trains on the examples ``indices`` (an int array) and returns
    the error on the fixed evaluation set — a number, or a dict of numbers (e.g. one per model, or
    ``{"train": ..., "validation": ...}``). Returns a long frame with columns ``seed``, ``size``,
    ``what`` (the dict key, or ``"error"``) and ``error``, one row per seed, size and key.
    """
    rows = []
    for seed in seeds:
        for size, indices in zip(np.asarray(sizes), nested_subsets(n, sizes, seed)):
            scores = fit_and_score(indices, seed)
            if not isinstance(scores, dict):
                scores = {"error": scores}
            for what, error in scores.items():
                rows.append({"seed": int(seed), "size": int(size), "what": what, "error": float(error)})
    return pd.DataFrame(rows)


def summarise(curve: pd.DataFrame) -> pd.DataFrame:
    """Per ``what`` and ``size``: the ``mean``, ``std`` (over seeds, ddof 1), ``low`` and ``high``
    (the smallest and largest error over seeds) and the number of seeds ``n_seeds``."""
    grouped = curve.groupby(["what", "size"], sort=True)["error"]
    return pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1), "low": grouped.min(),
                         "high": grouped.max(), "n_seeds": grouped.size()})


def doubling_gains(sizes, errors) -> np.ndarray:
    """The error removed per doubling of the data between consecutive sizes, shape ``(len(sizes) − 1,)``.

    ``gain_k = (errors_k − errors_{k+1}) / log2(sizes_{k+1} / sizes_k)``: positive while more data helps.
    """
    sizes, errors = np.asarray(sizes, dtype=float), np.asarray(errors, dtype=float)
    if sizes.shape != errors.shape or sizes.ndim != 1 or len(sizes) < 2:
        raise ValueError(f"sizes and errors need one equal length >= 2, got shapes {sizes.shape} and {errors.shape}.")
    if np.any(np.diff(sizes) <= 0) or sizes[0] <= 0:
        raise ValueError("sizes must be positive and strictly increasing.")
    return -np.diff(errors) / np.log2(sizes[1:] / sizes[:-1])


def flattening(sizes, errors) -> float:
    """The last doubling's gain as a share of the first's (:func:`doubling_gains`): near 0 where the
    curve has flattened, near 1 where each doubling still helps as much as the first."""
    gains = doubling_gains(sizes, errors)
    if not gains[0] > 0:
        raise ValueError(f"the first step does not lower the error (gain {gains[0]:.4g}): no flattening to measure.")
    return float(gains[-1] / gains[0])


def fractions_of(frame: pd.DataFrame, fractions) -> np.ndarray:
    """Sizes for ``fractions`` (each in ``(0, 1]``) of the rows of ``frame``, rounded to whole rows."""
    fractions = np.asarray(fractions, dtype=float)
    if np.any(fractions <= 0) or np.any(fractions > 1):
        raise ValueError(f"fractions must lie in (0, 1], got {fractions.tolist()}.")
    return np.array([max(1, int(math.floor(f * len(frame) + 0.5))) for f in fractions])
