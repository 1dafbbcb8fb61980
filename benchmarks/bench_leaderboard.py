"""Every model of the kit next to Surprise and implicit, on the same fixed splits of ml-latest-small.

- Rating prediction: one random 80/20 split of the ratings (seed 0); RMSE and MAE on the 20%.
- Top-10 ranking: a per-user temporal split (each user's latest 20% of ratings held out); the
  relevant items of a user are all of their held-out items, whatever the stars. Candidates are
  the items of the training part the user has not rated. Metrics and coverage come from
  :func:`recsys_lab.evaluation.evaluate_ranking` for every library (peers' top-10 lists are fed
  to it), so the numbers are computed by one piece of code.

Hyper-parameters were chosen once, for kit and peer models alike, on a validation split carved
from the *training* part (a random 80/20 split of it, seed 1, for ratings; a per-user temporal
split of it for ranking), never on the test part. Grids tried (chosen value first):
kit ItemKNN centering baseline / mean, and with mean centering similarity adjusted_cosine /
pearson / msd x shrinkage 100 / 0, 50, 200 (its defaults: adjusted_cosine, shrinkage 100, keep
500); kit UserKNN centering baseline / mean, similarity msd / pearson x shrinkage 10 / 0, 100; kit MF reg 0.2 / 0.02, 0.05, 0.1, 0.3 x epochs
10 / 5, 20 (64 factors); EASE reg 250 / 50, 150, 400, 1000; Surprise SVD reg_all 0.1 / 0.02, 0.05
x n_epochs 40 / 20; Surprise KNNWithMeans sim msd / pearson_baseline (shrinkage 100); implicit
ALS factors 64 / 128 x regularization 0.1 / 0.01, 1 x alpha 1 / 10, 40; implicit cosine K 50 /
20, 100 (the kit's cosine-sum recipe, the same algorithm, uses the same K); implicit BPR
factors 100 (default) / 64, 128 x learning rate 0.01 / 0.05. The neural models of the kit
(DotProduct, GMF, NCFMLP, NeuMF, AutoRec), the content and hybrid models and ItemKNN ranked by
similarity sum (k=40 as above) run with their defaults:
they were not tuned, which the leaderboard's reader should keep in mind.

Each (model, task) runs in a fresh process (``common.measure``): fit and predict seconds are
timed inside it, peak memory is the process's peak resident memory above its start, so it
includes loading and splitting the data (the "data only" row shows that share).
Peer libraries are installed by ``make bench`` only; the kit never imports them.
"""
from __future__ import annotations

import os
import time

from .common import Section, machine_note, measure
from .leaderboard_jobs import (data_only, implicit, implicit_ranking, kit_ranking, kit_rating, surprise,
                               surprise_rating)
from .leaderboard_models import IMPLICIT, PAIRS, SEED, SURPRISE, kit_models, settings_text


def _run(job, *args):
    try:
        result, seconds, peak = measure(job, *args)
        return {**result, "total_s": seconds, "peak_mb": peak}, None
    except RuntimeError as err:
        return None, str(err)


def run(quick: bool = False) -> list[Section]:
    start = time.perf_counter()
    load = os.getloadavg()[0]
    models, notes = kit_models()
    _, _, data_mb = measure(data_only, quick)
    rating_rows, ranking_rows, failures = {}, {}, []

    def record(rows, key, library, job, *args):
        res, err = _run(job, *args)
        if res is None:
            failures.append(f"{key}: {err}")
        else:
            rows[key] = (library, res)

    for name, path, params, tasks in models:
        library = "benchmark recipe" if path.endswith("CosineSumKNN") else "recsys-lab"
        if "rating" in tasks:
            record(rating_rows, name, library, kit_rating, path, params, quick)
        record(ranking_rows, name, library, kit_ranking, path, params, quick)
    if surprise is None:
        notes.append("scikit-surprise is not installed: `make bench` installs it (peer rows missing)")
    else:
        for label in SURPRISE:
            record(rating_rows, label, f"Surprise {surprise.__version__}", surprise_rating, label, quick)
    if implicit is None:
        notes.append("implicit is not installed: `make bench` installs it (peer rows missing)")
    else:
        for label in IMPLICIT:
            record(ranking_rows, label, f"implicit {implicit.__version__}", implicit_ranking, label, quick)

    sections = [
        _rating_section(rating_rows, data_mb),
        _ranking_section(ranking_rows, data_mb),
        _ratio_section(rating_rows, ranking_rows),
        _targets_section(rating_rows, ranking_rows),
    ]
    extra = notes + [f"failed: {f}" for f in failures]
    sections[0].note += ("\n\n" + "\n".join(f"- {n}" for n in extra)) if extra else ""
    sections[0].note += (f"\n\nWhole leaderboard: {time.perf_counter() - start:.0f} s; load average at its "
                         f"start {load:.1f}. Torch models train on one thread (`one_torch_thread`). "
                         f"{machine_note()}")
    return sections


def _rating_section(rows: dict, data_mb: float) -> Section:
    table = [{"model": name, "library": lib, "settings": settings_text(name), "RMSE": r["rmse"],
              "MAE": r["mae"], "fit s": r["fit_s"], "predict s": r["predict_s"],
              "peak MB": r["peak_mb"]}
             for name, (lib, r) in sorted(rows.items(), key=lambda kv: kv[1][1]["rmse"])]
    note = ("ml-latest-small, one random 80/20 split of the ratings (seed 0), lower is better. "
            "Predict = all test pairs. Peak MB includes loading and splitting the "
            f"data ({data_mb:.0f} MB alone).")
    return Section("Leaderboard: rating prediction (RMSE, MAE)", table, note)


def _ranking_section(rows: dict, data_mb: float) -> Section:
    table = [{"model": name, "library": lib, "settings": settings_text(name),
              "Precision@10": r["precision"], "Recall@10": r["recall"], "NDCG@10": r["ndcg"],
              "HitRate@10": r["hit_rate"], "coverage": r["coverage"], "fit s": r["fit_s"],
              "predict s": r["predict_s"], "peak MB": r["peak_mb"]}
             for name, (lib, r) in sorted(rows.items(), key=lambda kv: -kv[1][1]["ndcg"])]
    note = ("ml-latest-small, per-user temporal split (each user's latest 20% held out; relevant = "
            "every held-out item). Top-10 among the training items the user has not rated; higher "
            "is better. Coverage = share of the training catalogue shown to at least one user. "
            f"Predict = top-10 lists of all test users. Peak MB includes the data ({data_mb:.0f} MB alone).")
    return Section("Leaderboard: top-10 ranking", table, note)


def _ratio_section(rating_rows: dict, ranking_rows: dict) -> Section:
    table = []
    for task, rows, metric, key in (("rating", rating_rows, "RMSE", "rmse"),
                                    ("ranking", ranking_rows, "NDCG@10", "ndcg")):
        for kit, peer in PAIRS[task]:
            if kit in rows and peer in rows:
                a, b = rows[kit][1], rows[peer][1]
                table.append({"kit model": kit, "peer": peer, "metric": metric, "kit": a[key],
                              "peer value": b[key], "kit/peer metric": a[key] / b[key],
                              "kit/peer fit time": a["fit_s"] / b["fit_s"],
                              "kit/peer predict time": a["predict_s"] / b["predict_s"],
                              "kit/peer peak memory": a["peak_mb"] / max(b["peak_mb"], 1e-9)})
    note = ("Same split, same machine, one process each. RMSE ratio < 1 and NDCG ratio > 1 favour the "
            "kit; time and memory ratios < 1 favour the kit.")
    return Section("Kit / peer ratios", table, note)


def _targets_section(rating_rows: dict, ranking_rows: dict) -> Section:
    from recsys_lab.stats import paired_comparison

    def get(rows, name, key):
        return rows[name][1][key] if name in rows else None

    table = []

    def add(target, kit, peer, ok, detail=""):
        if kit is None or peer is None:
            table.append({"target": target, "kit": "n/a", "peer": "n/a", "status": "not measured",
                          "detail": "a model of the pair is missing (see the notes above)"})
        else:
            table.append({"target": target, "kit": kit, "peer": peer,
                          "status": "met" if ok(kit, peer) else "MISSED (see notebook 13)",
                          "detail": detail})

    add("MF RMSE <= Surprise SVD", get(rating_rows, "MatrixFactorization", "rmse"),
        get(rating_rows, "Surprise SVD", "rmse"), lambda a, b: a <= b)
    add("item-kNN RMSE <= Surprise KNNWithMeans (item)", get(rating_rows, "ItemKNN", "rmse"),
        get(rating_rows, "Surprise KNNWithMeans (item)", "rmse"), lambda a, b: a <= b)
    add("item-kNN fit s <= Surprise KNNWithMeans (item)", get(rating_rows, "ItemKNN", "fit_s"),
        get(rating_rows, "Surprise KNNWithMeans (item)", "fit_s"), lambda a, b: a <= b)
    kit_ranked = {n: v for n, v in ranking_rows.items() if v[0] == "recsys-lab"}
    best = max(kit_ranked, key=lambda n: kit_ranked[n][1]["ndcg"]) if kit_ranked else None
    detail = ""
    if best and "implicit ALS" in ranking_rows:
        cmp = paired_comparison(kit_ranked[best][1]["per_user_ndcg"],
                                ranking_rows["implicit ALS"][1]["per_user_ndcg"], seed=SEED)
        detail = (f"{best} - ALS per user: {cmp.mean_diff:+.4f}, 95% CI [{cmp.low:+.4f}, {cmp.high:+.4f}], "
                  f"paired bootstrap p = {cmp.p_value:.3f}")
    add(f"best kit ranking model ({best}) NDCG@10 >= implicit ALS",
        get(ranking_rows, best, "ndcg") if best else None, get(ranking_rows, "implicit ALS", "ndcg"),
        lambda a, b: a >= b, detail)
    return Section("Targets", table, "The issue's targets, checked on the numbers above.")
