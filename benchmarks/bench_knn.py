"""User- and item-kNN against scikit-surprise's KNNWithMeans, the item-item top-k build, the explorer.

1. **Accuracy and time vs. Surprise.** A seeded random 80/20 split of ml-latest-small
   (``random_split(ratings, 0.2, seed=0)``). Same rule on both sides: ``KNNWithMeans`` with
   ``k=40, min_k=1, min_support=1`` and similarity ``msd`` / ``cosine`` / ``pearson`` (over
   co-rated items, no shrinkage), against the kit's ``UserKNN`` / ``ItemKNN`` with ``k=40``,
   ``centering="mean"``, ``shrinkage=0`` and, for items, ``keep=None`` (no pruning, as Surprise).
   The kit's defaults (pruned, shrunk) and ``centering="baseline"`` are listed too. Fit time is
   data preparation plus fitting on both sides (Surprise: ``load_from_df`` +
   ``build_full_trainset`` + ``fit``); predictions are timed separately. Each run happens in a
   fresh process; peak memory is measured above what the process held before the run.
   Unknown users or items differ on purpose: Surprise predicts the global mean, the kit the
   user's (item's) mean, so agreement is reported on pairs both know.
2. **Item-item top-k build** for all 9,724 movies (all ratings), every measure, ``keep`` =
   40 and 500, fresh process each: build seconds and peak memory (budget: 5 s, 1.5 GB).
3. **Similarity explorer redraw**, in this process: median and slowest of a series of control
   changes (budget: about 0.2 s).

scikit-surprise is a benchmark-only dependency (never imported by the kit or its tests); when
it is missing, its rows say "not installed".
"""
from __future__ import annotations

import os
import time

import numpy as np

from .common import Section, machine_note, measure, rss_mb, start_peak
from .leaderboard_jobs import rating_split

K = 40
MEASURES_COMPARED = ("msd", "cosine", "pearson")
TOPK_BUDGET_S, TOPK_BUDGET_MB, REDRAW_BUDGET_S = 5.0, 1500.0, 0.2


def run_kit(kind: str, params: dict, quick: bool) -> dict:
    """Fit and predict one kit model on the split (runs in a fresh process via ``measure``)."""
    from recsys_lab.models import ItemKNN, UserKNN

    train, test = rating_split(quick)
    model = (UserKNN if kind == "user" else ItemKNN)(**params)
    base = start_peak()
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(test.user.to_numpy(), test.item.to_numpy())
    predict_s = time.perf_counter() - start
    return {"pred": pred, "fit_s": fit_s, "predict_s": predict_s, "peak_mb": rss_mb("VmHWM") - base}


def run_surprise(kind: str, similarity: str, quick: bool) -> dict:
    """Fit and predict Surprise's KNNWithMeans on the same split (fresh process)."""
    from surprise import Dataset, KNNWithMeans, Reader

    train, test = rating_split(quick)
    base = start_peak()
    start = time.perf_counter()
    trainset = Dataset.load_from_df(train[["user", "item", "rating"]],
                                    Reader(rating_scale=(0.5, 5.0))).build_full_trainset()
    algo = KNNWithMeans(k=K, min_k=1, sim_options={"name": similarity, "user_based": kind == "user",
                                                   "min_support": 1}, verbose=False)
    algo.fit(trainset)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = np.array([p.est for p in algo.test(list(zip(test.user, test.item, test.rating)))])
    predict_s = time.perf_counter() - start
    return {"pred": pred, "fit_s": fit_s, "predict_s": predict_s, "peak_mb": rss_mb("VmHWM") - base}


def _surprise_installed() -> bool:
    try:
        import surprise  # noqa: F401
    except ImportError:
        return False
    return True


def _accuracy_section(quick: bool) -> Section:
    from recsys_lab.metrics import rmse

    train, test = rating_split(quick)
    known = (test.user.isin(train.user) & test.item.isin(train.item)).to_numpy()
    have_surprise = _surprise_installed()
    rows = []
    measures = MEASURES_COMPARED[:1] if quick else MEASURES_COMPARED
    for kind in ("user", "item"):
        for similarity in measures:
            params = {"k": K, "similarity": similarity, "shrinkage": 0.0, "centering": "mean"}
            if kind == "item":
                params["keep"] = None
            ours = measure(run_kit, kind, params, quick)[0]
            row = {"model": f"{kind}-kNN, mean-centred", "similarity": similarity,
                   "kit RMSE": round(rmse(test.rating, ours["pred"]), 4)}
            if have_surprise:
                theirs = measure(run_surprise, kind, similarity, quick)[0]
                same = np.abs(ours["pred"] - theirs["pred"]) < 1e-6
                row.update({
                    "Surprise RMSE": round(rmse(test.rating, theirs["pred"]), 4),
                    "kit − Surprise": round(rmse(test.rating, ours["pred"]) - rmse(test.rating, theirs["pred"]), 4),
                    "same prediction (known pairs)": f"{same[known].mean():.2%}",
                    "kit fit s": round(ours["fit_s"], 2), "Surprise fit s": round(theirs["fit_s"], 2),
                    "fit time ratio kit/Surprise": round(ours["fit_s"] / theirs["fit_s"], 2),
                    "kit predict s": round(ours["predict_s"], 2), "Surprise predict s": round(theirs["predict_s"], 2),
                    "kit peak MB": round(ours["peak_mb"]), "Surprise peak MB": round(theirs["peak_mb"])})
            else:
                row.update({"Surprise RMSE": "not installed", "kit fit s": round(ours["fit_s"], 2),
                            "kit predict s": round(ours["predict_s"], 2), "kit peak MB": round(ours["peak_mb"])})
            rows.append(row)
    extras = [("user", "kit default UserKNN()", {}),
              ("user", "UserKNN(centering='baseline')", {"centering": "baseline"}),
              ("item", "kit default ItemKNN() (keep=500, shrinkage=100)", {}),
              ("item", "ItemKNN(centering='baseline')", {"centering": "baseline"})]
    for kind, label, params in extras:
        ours = measure(run_kit, kind, params, quick)[0]
        rows.append({"model": label, "similarity": "default", "kit RMSE": round(rmse(test.rating, ours["pred"]), 4),
                     "kit fit s": round(ours["fit_s"], 2), "kit predict s": round(ours["predict_s"], 2),
                     "kit peak MB": round(ours["peak_mb"])})
    note = (f"{machine_note()} Load average {os.getloadavg()[0]:.1f} at the end. "
            f"Split: `random_split(ml-latest-small, 0.2, seed=0)`"
            f"{' (quick: users 1-120 only)' if quick else ''}: {len(train):,} train / {len(test):,} test ratings, "
            f"{(~known).sum():,} test pairs with a user or item unseen in training. Both sides k={K}, min_k=1, "
            "similarity over co-rated items, no shrinkage; the kit's item-kNN unpruned (`keep=None`). "
            "RMSE differences come from the unseen pairs (Surprise: global mean; kit: user or item mean) "
            "and from ties at the k-th neighbour. Fit = data preparation + similarities; peak MB = resident "
            "memory reached during fit and predict above what the process held before them (data loaded).")
    return Section("kNN vs. scikit-surprise KNNWithMeans (rating prediction)", rows, note)


def build_topk(similarity: str, keep: int) -> dict:
    """Item-item top-``keep`` neighbours of all movies (fresh process): build seconds and size."""
    from recsys_lab.data import RatingData, load_movielens
    from recsys_lab.similarity import top_k_neighbours

    items = RatingData(load_movielens().ratings).to_csr().T.tocsr()
    base = start_peak()
    start, cpu = time.perf_counter(), time.process_time()
    top = top_k_neighbours(items, keep, similarity, shrinkage=100.0 if similarity != "jaccard" else 0.0)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "n_items": items.shape[0], "nnz": top.nnz, "peak_mb": rss_mb("VmHWM") - base}


def _topk_section(quick: bool) -> Section:
    from recsys_lab.similarity import MEASURES

    rows = []
    configs = [("adjusted_cosine", 500)] if quick else [(m, keep) for keep in (40, 500) for m in MEASURES]
    load_before = os.getloadavg()[0]
    for similarity, keep in configs:
        result = measure(build_topk, similarity, keep)[0]
        peak = result["peak_mb"]
        rows.append({"similarity": similarity, "keep": keep, "movies": result["n_items"],
                     "neighbours kept": result["nnz"], "build s": round(result["seconds"], 2),
                     "CPU s": round(result["cpu_seconds"], 2), "peak MB": round(peak),
                     "within 5 s and 1.5 GB": "yes" if result["seconds"] < TOPK_BUDGET_S and peak < TOPK_BUDGET_MB
                     else "NO"})
    note = (f"{machine_note()} `top_k_neighbours(items x users of all 100,836 ratings, keep, similarity, "
            "shrinkage=100)` (Jaccard without shrinkage), blocks of 1,024 movies; each build in a fresh "
            "process; wall time, CPU time and peak memory (above the loaded data) of the build alone. "
            f"Machine load (1-minute load average) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: "
            "on a shared machine the wall time exceeds the CPU time by the other processes' share. "
            "The fit-time ratio to Surprise's item-based similarity is in the table above (`fit time ratio`).")
    return Section("Item-item top-k neighbours of all movies", rows, note)


def _redraw_section(quick: bool) -> Section:
    from recsys_lab.data import load_movielens
    from recsys_lab.widgets.similarity_explorer import SimilarityExplorer

    ml = load_movielens()
    ex = SimilarityExplorer(ml.ratings, ml.movies)
    changes = [("similarity", m) for m in ("cosine", "adjusted_cosine", "msd", "jaccard", "pearson")]
    changes += [("min_overlap", v) for v in (10, 20, 1)] + [("shrinkage", v) for v in (50.0, 100.0, 0.0)]
    changes += [("focus", 260), ("focus", 2571), ("kind", "users"), ("similarity", "cosine"), ("kind", "movies")]
    if quick:
        changes = changes[:4]
    times = {"movies": [], "users": []}
    cpu = {"movies": [], "users": []}
    load_before = os.getloadavg()[0]
    for name, value in changes:
        start = time.process_time()
        getattr(ex, name).value = value
        cpu[ex.kind.value].append(time.process_time() - start)
        times[ex.kind.value].append(ex.last_redraw_seconds)
    rows = [{"compare": kind, "redraws": len(t), "median s": round(float(np.median(t)), 3),
             "slowest s": round(float(np.max(t)), 3), "median CPU s": round(float(np.median(cpu[kind])), 3),
             "median within 0.2 s": "yes" if np.median(t) <= REDRAW_BUDGET_S else "NO"}
            for kind, t in times.items() if t]
    note = (f"{machine_note()} `SimilarityExplorer(ratings, movies)` on all of ml-latest-small: 10 movies "
            "(or 8 users) in the heatmap, neighbour table over all 9,724 movies (610 users); each control "
            f"change recomputes the similarities and redraws the PNG. Load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after.")
    return Section("Similarity explorer redraw time", rows, note)


def run(quick: bool = False) -> list[Section]:
    return [_accuracy_section(quick), _topk_section(quick), _redraw_section(quick)]
