"""Every model of the kit next to Surprise and implicit, on the same fixed splits of ml-latest-small.

- Rating prediction: one random 80/20 split of the ratings (seed 0); RMSE and MAE on the 20%.
- Top-10 ranking: a per-user temporal split (each user's latest 20% of ratings held out); the
  relevant items of a user are all of their held-out items, whatever the stars. Candidates are
  the items of the training part the user has not rated. Metrics and coverage come from
  :func:`recsys_lab.evaluation.evaluate_ranking` for every library (peers' top-10 lists are fed
  to it), so the numbers are computed by one piece of code.

Tuning is code (``leaderboard_tuning``): MatrixFactorization, IAutoRec and Surprise SVD (rating),
EASE and implicit ALS (ranking) each get the same budget of settings (``BUDGET``), searched on a
validation split carved from the *training* part the way the test part is carved from the data
(``course_split(...).fit`` / ``.validation`` for ratings; each user's latest 20% of training
ratings for ranking), epochs by early stopping for the torch models; every trial is published
in the "Tuning" section and docs/benchmarks/leaderboard_tuning.json, the choice is refitted on
the whole training part and evaluated once on test, and ``bench_mf`` uses the same recorded
choice. Every other row runs at the setting in ``leaderboard_models.KIT`` / ``SURPRISE`` /
``IMPLICIT`` (defaults, or earlier hand choices), marked untuned in its settings column by the
absence of "(tuned)": the neural ranking models are tuned with one budget for notebook 13 by
``bench_tuned_evaluation`` on notebook 13's protocol, not here.
Test scores carry 95% bootstrap intervals (RMSE over test ratings, NDCG@10 over test users).

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
from .leaderboard_tuning import BUDGET, SEARCHES, save, trials_rows, tune_all


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
    labels = [label for label in SEARCHES if not (label == "Surprise SVD" and surprise is None)
              and not (label == "implicit ALS" and implicit is None)]
    tuning, tuning_s, _ = measure(tune_all, quick, labels)  # one process, torch on one thread
    if not quick:
        save(tuning)
    used = {}  # label -> the settings a row ran with, when tuned

    def record(rows, key, library, job, *args):
        res, err = _run(job, *args)
        if res is None:
            failures.append(f"{key}: {err}")
        else:
            rows[key] = (library, res)

    for name, path, params, tasks in models:
        library = "benchmark recipe" if path.endswith("CosineSumKNN") else "recsys-lab"
        if name in tuning:
            params = {**params, **tuning[name]["chosen"]}
            used[name] = params
        if "rating" in tasks:
            record(rating_rows, name, library, kit_rating, path, params, quick)
        record(ranking_rows, name, library, kit_ranking, path, params, quick)
    if surprise is None:
        notes.append("scikit-surprise is not installed: `make bench` installs it (peer rows missing)")
    else:
        for label in SURPRISE:
            params = tuning[label]["chosen"] if label in tuning else None
            if params is not None:
                used[label] = params
            record(rating_rows, label, f"Surprise {surprise.__version__}", surprise_rating, label, quick, params)
    if implicit is None:
        notes.append("implicit is not installed: `make bench` installs it (peer rows missing)")
    else:
        for label in IMPLICIT:
            params = tuning[label]["chosen"] if label in tuning else None
            if params is not None:
                used[label] = params
            record(ranking_rows, label, f"implicit {implicit.__version__}", implicit_ranking, label, quick, params)
    _add_intervals(rating_rows, ranking_rows)

    sections = [
        _rating_section(rating_rows, data_mb, used),
        _ranking_section(ranking_rows, data_mb, used),
        _tuning_section(tuning, tuning_s),
        _ratio_section(rating_rows, ranking_rows),
        _targets_section(rating_rows, ranking_rows),
    ]
    extra = notes + [f"failed: {f}" for f in failures]
    sections[0].note += ("\n\n" + "\n".join(f"- {n}" for n in extra)) if extra else ""
    sections[0].note += (f"\n\nWhole leaderboard: {time.perf_counter() - start:.0f} s; load average at its "
                         f"start {load:.1f}. Torch models train on one thread (`one_torch_thread`). "
                         f"{machine_note()}")
    return sections


def _add_intervals(rating_rows: dict, ranking_rows: dict) -> None:
    """95% bootstrap intervals on test: RMSE over test ratings (sqrt of the MSE's interval),
    NDCG@10 over test users."""
    from recsys_lab.stats import bootstrap_ci

    for _, r in rating_rows.values():
        ci = bootstrap_ci(r.pop("squared_error"), seed=SEED)
        r["rmse_ci"] = f"[{ci.low ** 0.5:.4f}, {ci.high ** 0.5:.4f}]"
    for _, r in ranking_rows.values():
        ci = bootstrap_ci(r["per_user_ndcg"], seed=SEED)
        r["ndcg_ci"] = f"[{ci.low:.4f}, {ci.high:.4f}]"


def _tuning_section(tuning: dict, seconds: float) -> Section:
    spaces = "\n".join(f"- {label} ({rec['metric']}, {rec['fit_rows']:,} fit / {rec['validation_rows']:,} "
                       f"validation rows): {rec['space']}; chosen {rec['chosen']}"
                       for label, rec in tuning.items())
    note = (f"Budget: {BUDGET} settings for every tuned model, kit and peer alike, on a validation split "
            "carved from the training part (rating: `course_split(...).fit` / `.validation`; ranking: "
            "each user's latest 20% of their training ratings). Torch models: early stopping (patience 3, "
            "at most 30 epochs), the refit trains the best epoch's count. The test set is used once, by "
            f"the tables above. Searches took {seconds:.0f} s.\n\n{spaces}")
    return Section("Tuning: every trial on the validation split", trials_rows(tuning), note)


def _rating_section(rows: dict, data_mb: float, used: dict) -> Section:
    table = [{"model": name, "library": lib, "settings": settings_text(name, used.get(name)), "RMSE": r["rmse"],
              "RMSE 95% CI": r["rmse_ci"], "MAE": r["mae"], "fit s": r["fit_s"], "predict s": r["predict_s"],
              "peak MB": r["peak_mb"]}
             for name, (lib, r) in sorted(rows.items(), key=lambda kv: kv[1][1]["rmse"])]
    note = ("ml-latest-small, one random 80/20 split of the ratings (seed 0), lower is better. "
            "Predict = all test pairs. Peak MB includes loading and splitting the "
            f"data ({data_mb:.0f} MB alone).")
    return Section("Leaderboard: rating prediction (RMSE, MAE)", table, note)


def _ranking_section(rows: dict, data_mb: float, used: dict) -> Section:
    table = [{"model": name, "library": lib, "settings": settings_text(name, used.get(name)),
              "Precision@10": r["precision"], "Recall@10": r["recall"], "NDCG@10": r["ndcg"],
              "NDCG@10 95% CI": r["ndcg_ci"],
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
