"""How fit time and memory grow: item-kNN, MF and EASE on synthetic data of 100k, 1M and 10M ratings.

Shapes follow MovieLens: 100k = 943 users x 1 682 items (ML-100K), 1M = 6 040 x 3 706
(ML-1M), 10M = 69 878 x 10 677 (ML-10M). Ratings come from planted factors, as in
:func:`recsys_lab.data.make_synthetic_ratings`, but drawn by a vectorised generator: that
function samples user by user in a Python loop, fine for teaching sizes and too slow at 10M.

Each (model, size) runs in a fresh process on the same saved data. Reported per run: fit
seconds, the time of top-10 lists for 100 users, and the peak resident memory *during fit
and predict* above the memory the loaded data already held (the peak counter is reset after
loading). Budgets keep `make bench` bounded: before the largest size, time (fit + top-10) and
memory are extrapolated from the two smaller ones and a run predicted to exceed its budget is
skipped; a run still going at its time limit is stopped; once the whole growth benchmark has
used its total budget, the remaining runs are skipped. The table says which and why.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_lab.models.hybrid import fit_quietly

from .common import Section, machine_note, measure, rss_mb, start_peak
from .leaderboard_jobs import one_torch_thread
from .leaderboard_models import load


SIZES = {  # name: (n_users, n_items, n_ratings)
    "100k": (943, 1_682, 100_000),
    "1M": (6_040, 3_706, 1_000_000),
    "10M": (69_878, 10_677, 10_000_000),
}
MODELS = {  # label: (dotted class path, params); cheapest at 10M first, so the budget goes furthest
    "EASE": ("recsys_lab.models.ease.EASE", {"reg": 250.0}),
    "MatrixFactorization": ("recsys_lab.models.mf.MatrixFactorization",
                            {"n_factors": 32, "epochs": 1, "batch_size": 16_384, "seed": 0}),
    "ItemKNN": ("recsys_lab.models.knn.ItemKNN", {"k": 40}),
}
TIME_BUDGET_S = 120        # per (model, size) run: predicted, then enforced
TOTAL_BUDGET_S = 270       # the whole growth benchmark
MEMORY_BUDGET_MB = 12_000  # half the machine's 24 GiB
N_RECOMMEND_USERS = 100


def synthetic_ratings(n_users: int, n_items: int, n_ratings: int, n_factors: int = 8,
                      seed: int = 0) -> pd.DataFrame:
    """``n_ratings`` distinct (user, item) pairs with half-star ratings from planted factors.

    Users' activity is log-normal and items' popularity Zipf-like (exponent 0.8), so heads and
    long tails appear as in MovieLens; ``r = 3 + b_u + b_i + p_u . q_i + noise`` rounded to
    half stars in [0.5, 5]. Pairs are oversampled with replacement and deduplicated.
    """
    if n_ratings > 0.5 * n_users * n_items:
        raise ValueError(f"{n_ratings} ratings would fill over half of a {n_users} x {n_items} matrix")
    rng = np.random.default_rng(seed)
    user_p = rng.lognormal(0.0, 1.0, n_users)
    user_p /= user_p.sum()
    item_p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    item_p = item_p[rng.permutation(n_items)] / item_p.sum()
    keys = np.empty(0, dtype=np.int64)
    draw = int(n_ratings * 1.3)
    while len(keys) < n_ratings:  # usually one round; dedupe keeps the first draw of a pair
        u = rng.choice(n_users, draw, p=user_p)
        i = rng.choice(n_items, draw, p=item_p)
        new = np.concatenate([keys, u.astype(np.int64) * n_items + i])
        _, first = np.unique(new, return_index=True)
        keys = new[np.sort(first)]
    keys = keys[:n_ratings]
    u, i = keys // n_items, keys % n_items
    scale = 0.5
    p, q = rng.normal(0, scale, (n_users, n_factors)), rng.normal(0, scale, (n_items, n_factors))
    b_u, b_i = rng.normal(0, 0.3, n_users), rng.normal(0, 0.3, n_items)
    raw = 3.0 + b_u[u] + b_i[i] + np.einsum("nf,nf->n", p[u], q[i]) + rng.normal(0, 0.5, len(u))
    rating = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    return pd.DataFrame({"user": u + 1, "item": i + 1, "rating": rating})





# ----------------------------------------------------------------------------------------
# child-process jobs
# ----------------------------------------------------------------------------------------
def make_data(size: str, folder: str) -> dict:
    start = time.perf_counter()
    frame = synthetic_ratings(*SIZES[size])
    seconds = time.perf_counter() - start
    path = Path(folder) / f"{size}.npz"
    np.savez(path, user=frame.user.to_numpy(), item=frame.item.to_numpy(), rating=frame.rating.to_numpy())
    return {"path": str(path), "seconds": seconds, "users": frame.user.nunique(),
            "items": frame.item.nunique(), "ratings": len(frame)}


def fit_model(label: str, path: str) -> dict:
    one_torch_thread()
    arrays = np.load(path)
    frame = pd.DataFrame({"user": arrays["user"], "item": arrays["item"], "rating": arrays["rating"]})
    model = load(MODELS[label][0])(**MODELS[label][1])
    base = start_peak()  # the data already loaded does not count
    start = time.perf_counter()
    fit_quietly(model, frame)
    fit_s = time.perf_counter() - start
    users = np.unique(frame.user.to_numpy())[:N_RECOMMEND_USERS]
    start = time.perf_counter()
    for user in users:
        model.recommend(user, k=10)
    predict_s = time.perf_counter() - start
    return {"fit_s": fit_s, "predict_s": predict_s, "peak_mb": rss_mb("VmHWM") - base}


# ----------------------------------------------------------------------------------------
def _extrapolate(points: list[tuple[float, float]], x: float) -> float:
    """Power-law fit ``y = a x^b`` through the last two (x, y) points, evaluated at ``x``."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    b = np.log(max(y1, 1e-9) / max(y0, 1e-9)) / np.log(x1 / x0)
    return y1 * (x / x1) ** max(b, 1.0)  # at least linear: a superlinear model must not look cheap


def _skip(label, size, why) -> dict:
    return {"model": label, "size": size, "fit s": "skipped", "top-10 for 100 users s": "", "peak MB": "",
            "note": why}


def run(quick: bool = False) -> list[Section]:
    sizes = ["100k"] if quick else list(SIZES)
    rows, notes = [], []
    start_all = time.perf_counter()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="recsys-growth-") as folder:
        history = {label: [] for label in MODELS}
        for size in sizes:
            info, _, _ = measure(make_data, size, folder)
            notes.append(f"{size}: {info['ratings']:,} ratings, {info['users']:,} users, "
                         f"{info['items']:,} items; generated in {info['seconds']:.1f} s")
            n = SIZES[size][2]
            for label in MODELS:
                left = TOTAL_BUDGET_S - (time.perf_counter() - start_all)
                past = history[label]
                if len(past) >= 2:
                    t_pred = _extrapolate([(p[0], p[1]) for p in past], n)
                    m_pred = _extrapolate([(p[0], p[2]) for p in past], n)
                    if t_pred > min(TIME_BUDGET_S, left) or m_pred > MEMORY_BUDGET_MB:
                        rows.append(_skip(label, size, f"predicted {t_pred:.0f} s and {m_pred:,.0f} MB from the "
                                          f"smaller sizes; over the budget ({min(TIME_BUDGET_S, left):.0f} s "
                                          f"left for this run, {MEMORY_BUDGET_MB:,} MB)"))
                        continue
                if left < 10:
                    rows.append(_skip(label, size, f"the growth benchmark's {TOTAL_BUDGET_S} s were used up"))
                    continue
                limit = min(TIME_BUDGET_S, left)
                try:
                    measured = measure(fit_model, label, info["path"], timeout=limit)
                    res = None if measured is None else measured[0]
                except RuntimeError as err:
                    rows.append({"model": label, "size": size, "fit s": "failed", "note": str(err)[:200]})
                    continue
                if res is None:
                    rows.append(_skip(label, size, f"stopped after {limit:.0f} s (time budget)"))
                    continue
                past.append((n, res["fit_s"] + res["predict_s"], res["peak_mb"]))
                rows.append({"model": label, "size": size, "fit s": res["fit_s"],
                             "top-10 for 100 users s": res["predict_s"], "peak MB": res["peak_mb"],
                             "note": ""})
    settings = "; ".join(f"{label}: " + ", ".join(f"{k}={v}" for k, v in params.items())
                         for label, (_, params) in MODELS.items())
    note = ("Synthetic ratings with MovieLens shapes (see the module docstring). Peak MB is the peak "
            "resident memory during fit and top-10 above what the loaded data already held. "
            f"Settings: {settings}. Torch runs on one thread (see the leaderboard). Budgets: "
            f"{TIME_BUDGET_S} s per run, {TOTAL_BUDGET_S} s in all, {MEMORY_BUDGET_MB:,} MB.\n\n"
            + "\n".join(f"- {n}" for n in notes)
            + f"\n\nWhole growth benchmark: {time.perf_counter() - start_all:.0f} s; load average at "
              f"its start {load:.1f}. {machine_note()}")
    return [Section("Growth: fit time and memory at 100k, 1M and 10M ratings", rows, note)]
