"""EASE's solvers against the textbook ``numpy.linalg.inv`` (issue 18: fit time at most 1/3 of the
inverse version on this machine, same lists; float32 with its accuracy cost measured; the memory wall).

On the leaderboard's ranking split (per-user temporal, test 20%) at the leaderboard's tuned ``reg``
(``leaderboard_tuning``'s record), each way of computing ``B`` is timed (median of ``REPEATS``
fits of the whole model, data to weights) and compared with the reference: ``P = inv(X^T X + reg I)``
by ``numpy.linalg.inv`` (LU, one thread and all cores), ``B = -P / diag(P)``. For every variant:
the largest weight difference from the reference, how many of the test users get exactly the
reference's top-10 list, and test NDCG@10.
"""
from __future__ import annotations

import os

import numpy as np

from .common import Section, machine_note, timed_result
from .leaderboard_jobs import K, ranking_split
from .leaderboard_tuning import chosen

REPEATS = 3
VARIANTS = [("cholesky", "float64"), ("cholesky", "float32"), ("woodbury", "float64"), ("woodbury", "float32")]


def inverse_weights(X, reg: float) -> np.ndarray:
    """The textbook EASE: a general inverse of the Gram matrix by ``numpy.linalg.inv``."""
    gram = (X.T @ X).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += reg
    P = np.linalg.inv(gram)
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    return B


def run(quick: bool = False):
    from threadpoolctl import threadpool_limits

    from recsys_lab.data import RatingData
    from recsys_lab.evaluation import evaluate_ranking
    from recsys_lab.models import EASE

    load = os.getloadavg()[0]
    reg = float(chosen("EASE", quick)["reg"])
    train, test = ranking_split(quick)
    users = sorted(test.user.unique())

    class Reference(EASE):                                  # the kit's EASE with the textbook weights
        def _fit(self, data):
            self.weights_ = inverse_weights(self.seen_, reg)

    def lists(model):
        return {u: model.recommend(u, k=K).item.tolist() for u in users}

    with threadpool_limits(1):
        ref_s, ref = timed_result(lambda: Reference(reg=reg).fit(train), repeat=REPEATS)
    ref_all_s, _ = timed_result(lambda: Reference(reg=reg).fit(train), repeat=1)   # numpy's default threads
    ref_lists, ref_ndcg = lists(ref), evaluate_ranking(ref, test, k=K).summary["ndcg"]
    fastest_ref = min(ref_s, ref_all_s)
    rows = [{"EASE weights by": "numpy.linalg.inv (one thread)", "dtype": "float64", "fit s": ref_s,
             "fit time / inverse's": ref_s / fastest_ref, "max abs(B - B_inv)": 0.0, "same top-10 lists": f"{len(users)}/{len(users)}",
             f"NDCG@{K}": ref_ndcg},
            {"EASE weights by": "numpy.linalg.inv (all cores)", "dtype": "float64", "fit s": ref_all_s,
             "fit time / inverse's": ref_all_s / fastest_ref, "max abs(B - B_inv)": 0.0,
             "same top-10 lists": f"{len(users)}/{len(users)}", f"NDCG@{K}": ref_ndcg}]
    kit_times = {}
    for solver, dtype in VARIANTS:
        seconds, model = timed_result(lambda: EASE(reg=reg, solver=solver, dtype=dtype).fit(train),
                                      repeat=REPEATS)
        kit_times[solver, dtype] = seconds
        got = lists(model)
        rows.append({"EASE weights by": f"kit, solver='{solver}'", "dtype": dtype, "fit s": seconds,
                     "fit time / inverse's": seconds / fastest_ref,
                     "max abs(B - B_inv)": float(np.abs(model.weights_ - ref.weights_).max()),
                     "same top-10 lists": f"{sum(got[u] == ref_lists[u] for u in users)}/{len(users)}",
                     f"NDCG@{K}": evaluate_ranking(model, test, k=K).summary["ndcg"]})
    n_users, n_items = RatingData(train).to_csr().shape
    default = "woodbury" if n_users < n_items else "cholesky"
    ratio = kit_times[default, "float64"] / fastest_ref
    wall64, wall32 = (int((24e9 / (2 * b)) ** 0.5) for b in (8, 4))
    note = (f"{machine_note()} Load average at the start {load:.1f}. Leaderboard ranking split: {len(train):,} "
            f"training ratings, {n_users} users x {n_items:,} items, reg = {reg:g} (the leaderboard's tuned choice). "
            f"Fit: median of {REPEATS} fits of the whole model (the all-cores inverse: one fit), all kit paths on one "
            f"thread; ratios against the faster inverse. The kit's default (solver 'auto') is '{default}' here "
            f"(fewer users than items): {ratio:.3f} of the inverse's time, target at most 1/3 "
            f"({'met' if ratio <= 1 / 3 else 'not met'}). Cholesky alone: "
            f"{kit_times['cholesky', 'float64'] / fastest_ref:.2f} in float64, "
            f"{kit_times['cholesky', 'float32'] / fastest_ref:.2f} in float32. Memory wall: the Cholesky path holds "
            f"two dense n_items^2 arrays, so 24 GB stops at about {wall64:,} items in float64 and {wall32:,} in "
            f"float32; the Woodbury path holds one plus the dense n_users x n_items history, and costs "
            f"O(n_users^3 + nnz n_items), so it only helps while users are fewer than items. MovieLens-25M "
            f"(162,541 users, 59,047 movies) is past both walls: EASE stops there on this machine.")
    return [Section("EASE: Cholesky and Woodbury solvers against numpy.linalg.inv", rows, note)]
