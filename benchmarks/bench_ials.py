"""The kit's iALS against implicit's ALS (issue 18's target: NDCG@10 at least implicit's at its tuned
setting, fit time at most 2x implicit's), measured in the same run on the leaderboard's ranking split.

Both models are tuned the same way: ``BUDGET`` settings on the leaderboard's validation split (each
user's latest 20% of the ranking split's training part), by validation NDCG@10
(``benchmarks.leaderboard_tuning``, labels "kit iALS" and "implicit ALS"; implicit's choice is read
from the leaderboard's record, the kit's is searched here and merged into it). The chosen settings
are fitted on the ranking split's training part, and the test set is used once: NDCG@10 over the
test users with a paired bootstrap interval for the difference. Fit time: the median of ``REPEATS``
fits of each, on one thread (implicit's ``num_threads=1``; its default, all cores, is shown too).
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from .common import Section, machine_note, timed
from .leaderboard_jobs import K, SEED, ranking_split
from .leaderboard_tuning import OUT as TUNING, chosen, tune_all

REPEATS = 3


def _implicit_fit(params: dict, X, threads: int):
    import implicit.als
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = implicit.als.AlternatingLeastSquares(random_state=SEED, num_threads=threads, **params)
        model.fit(X, show_progress=False)
    return model


def run(quick: bool = False):
    from recsys_lab.data import RatingData
    from recsys_lab.evaluation import evaluate_ranking
    from recsys_lab.models import IALS
    from recsys_lab.stats import paired_comparison

    from .leaderboard_tuning import ImplicitLists

    kit_record = tune_all(quick, ["kit iALS"])["kit iALS"]
    if not quick and TUNING.exists():                       # keep the kit's trials beside the peers'
        record = json.loads(TUNING.read_text())
        record["kit iALS"] = kit_record
        TUNING.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    kit_params, peer_params = dict(kit_record["chosen"]), chosen("implicit ALS", quick)
    train, test = ranking_split(quick)
    kit = IALS(iterations=15, seed=SEED, **kit_params).fit(train)
    peer = ImplicitLists("als.AlternatingLeastSquares", **peer_params).fit(train)
    reports = {name: evaluate_ranking(m, test, k=K) for name, m in (("kit iALS", kit), ("implicit ALS", peer))}
    a, b = (reports[n].per_user["ndcg"] for n in ("kit iALS", "implicit ALS"))
    users = a.index.intersection(b.index)
    diff = paired_comparison(a.loc[users], b.loc[users], seed=SEED)
    X = RatingData(train).to_csr(binary=True).astype(np.float32)
    kit_s = timed(lambda: IALS(iterations=15, seed=SEED, **kit_params).fit(train), repeat=REPEATS)
    peer_s = timed(lambda: _implicit_fit(peer_params, X, 1), repeat=REPEATS)
    peer_all_s = timed(lambda: _implicit_fit(peer_params, X, 0), repeat=REPEATS)
    rows = [{"model": "kit iALS", "chosen": json.dumps(kit_params), f"NDCG@{K}": reports["kit iALS"].summary["ndcg"],
             "fit s (1 thread)": kit_s, "fit time / implicit's": kit_s / peer_s},
            {"model": "implicit ALS", "chosen": json.dumps(peer_params),
             f"NDCG@{K}": reports["implicit ALS"].summary["ndcg"], "fit s (1 thread)": peer_s,
             "fit time / implicit's": 1.0}]
    verdict = ("the kit is ahead" if diff.low > 0 else "implicit is ahead" if diff.high < 0
               else "indistinguishable")
    note = (f"{machine_note()} Leaderboard ranking split (per-user temporal, test 20%): {len(train):,} train / "
            f"{len(test):,} test ratings, 15 iterations each. Tuning: {kit_record['budget']} settings each on "
            f"the validation split (kit trials in `docs/benchmarks/leaderboard_tuning.json`, label 'kit iALS'). "
            f"Paired NDCG@{K} difference kit - implicit over {len(users)} users: {diff.mean_diff:+.4f} "
            f"[{diff.low:+.4f}, {diff.high:+.4f}], {verdict}. Fit time: median of {REPEATS}; implicit with all cores "
            f"{peer_all_s:.2f} s. Targets (issue 18): NDCG@{K} at least implicit's "
            f"({'met' if diff.high >= 0 else 'not met'}: not shown worse), fit time at most 2x "
            f"({'met' if kit_s <= 2 * peer_s else 'not met'}).")
    return [Section("iALS: the kit against implicit, tuned alike", rows, note)]
