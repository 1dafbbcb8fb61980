"""Small 2-D classification problems generated locally (notebook 02 · Layers and forward propagation).

Four classic shapes for watching a network learn a decision boundary, the same ones an
in-browser neural-network playground offers. Nothing is downloaded.

Every generator returns ``X`` of shape ``(n, 2)`` and dtype ``float32`` and labels ``y``
of shape ``(n,)`` and dtype ``int64`` with values 0 and 1, ``n // 2`` points of class 0
and the rest of class 1, in a seeded random order. ``noise`` is the standard deviation of
Gaussian noise added to both coordinates, in the same units as the points (all four
problems live roughly in ``[-1.5, 1.5]²``). The same ``seed`` gives the same data.
"""
from __future__ import annotations

import numpy as np

#: Names accepted by :func:`make_toy`.
TOY_DATASETS = ("moons", "circles", "xor", "spiral")


def _check(n: int, noise: float) -> None:
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2 (one point per class at least), got {n!r}.")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise!r}.")


def _finish(parts, noise: float, rng: np.random.Generator):
    """Stack ``[(points of class 0), (points of class 1)]``, add noise, shuffle, cast."""
    X = np.concatenate(parts).astype(np.float64)
    y = np.concatenate([np.full(len(p), label, dtype=np.int64) for label, p in enumerate(parts)])
    X = X + rng.normal(scale=noise, size=X.shape) if noise > 0 else X
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def _counts(n: int):
    return n // 2, n - n // 2


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles of radius 1, centred on the origin.

    Class 0 lies on ``(cos t - 0.5, sin t - 0.25)``, class 1 on ``(0.5 - cos t, 0.25 - sin t)``,
    with ``t`` uniform in ``[0, π]`` (before noise).
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    n0, n1 = _counts(n)
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n1)
    upper = np.column_stack([np.cos(t0) - 0.5, np.sin(t0) - 0.25])
    lower = np.column_stack([0.5 - np.cos(t1), 0.25 - np.sin(t1)])
    return _finish([upper, lower], noise, rng)


def make_circles(n: int = 200, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """A ring of radius 1 (class 0) around a ring of radius ``factor`` (class 1), ``0 < factor < 1``."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor is the inner radius relative to the outer one and must be in (0, 1),"
                         f" got {factor!r}.")
    rng = np.random.default_rng(seed)
    n0, n1 = _counts(n)
    t0, t1 = rng.uniform(0, 2 * np.pi, n0), rng.uniform(0, 2 * np.pi, n1)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    return _finish([outer, inner], noise, rng)


def make_xor(n: int = 200, noise: float = 0.1, margin: float = 0.1, seed: int = 0):
    """The XOR pattern: class 1 where both coordinates have the same sign, class 0 otherwise.

    Before noise each coordinate is uniform in ``[margin, 1 + margin]`` in absolute value, so
    the four quadrant blobs keep a gap of ``2 * margin`` along the axes. No straight line
    separates the classes: the classic problem a single neuron cannot solve.
    """
    _check(n, noise)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}.")
    rng = np.random.default_rng(seed)

    def quadrant_points(count, same_sign):
        mag = rng.uniform(margin, 1 + margin, size=(count, 2))
        s1 = rng.choice([-1.0, 1.0], size=count)
        s2 = s1 if same_sign else -s1
        return mag * np.column_stack([s1, s2])

    n0, n1 = _counts(n)
    return _finish([quadrant_points(n0, False), quadrant_points(n1, True)], noise, rng)


def make_spiral(n: int = 200, noise: float = 0.1, turns: float = 1.25, seed: int = 0):
    """Two interleaved spiral arms, the hardest of the four.

    A point at position ``t`` uniform in ``[0.1, 1]`` along an arm sits at radius ``t`` and
    angle ``2π · turns · t`` (class 0) or that angle plus ``π`` (class 1).
    """
    _check(n, noise)
    if turns <= 0:
        raise ValueError(f"turns must be > 0, got {turns!r}.")
    rng = np.random.default_rng(seed)
    arms = []
    for label, count in enumerate(_counts(n)):
        t = rng.uniform(0.1, 1.0, count)
        angle = 2 * np.pi * turns * t + label * np.pi
        arms.append(np.column_stack([t * np.cos(angle), t * np.sin(angle)]))
    return _finish(arms, noise, rng)


_MAKERS = {"moons": make_moons, "circles": make_circles, "xor": make_xor, "spiral": make_spiral}


def make_toy(name: str, n: int = 200, noise: float = 0.1, seed: int = 0):
    """Generate the toy problem called ``name`` (one of :data:`TOY_DATASETS`)."""
    if name not in _MAKERS:
        raise ValueError(f"unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}.")
    return _MAKERS[name](n=n, noise=noise, seed=seed)
