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
(DotProduct, GMF, NCFMLP, NeuMF, AutoRec) and the content and hybrid models run with their defaults:
they were not tuned, which the leaderboard's reader should keep in mind.

Each (model, task) runs in a fresh process (``common.measure``): fit and predict seconds are
timed inside it, peak memory is the process's peak resident memory above its start, so it
includes loading and splitting the data (the "data only" row shows that share).
Peer libraries are installed by ``make bench`` only; the kit never imports them.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import time
import warnings

import numpy as np
import pandas as pd

from recsys_lab.models.base import Recommender

from .common import Section, machine_note, measure

try:  # imported here so that no child process counts an import in its peak memory
    import torch
except ImportError:  # pragma: no cover
    torch = None
try:
    import surprise
except ImportError:
    surprise = None
try:
    import implicit
    import implicit.als
    import implicit.bpr
    import implicit.nearest_neighbours
except ImportError:
    implicit = None

K = 10
SEED = 0
QUICK_USERS = 120          # --quick: only the first users, a smoke run

# The kit's models: label -> (dotted class path, settings, tasks). A Recommender found in
# recsys_lab.models without an entry here is still run, with its defaults, on the ranking task
# (and on ratings too if its class says ``predicts_ratings = True``).
BOTH, RANKING = ("rating", "ranking"), ("ranking",)
KIT = {
    "GlobalMean": ("recsys_lab.models.GlobalMean", {}, BOTH),
    "BiasBaseline": ("recsys_lab.models.BiasBaseline", {}, BOTH),
    "MostPopular": ("recsys_lab.models.MostPopular", {}, RANKING),
    "UserKNN": ("recsys_lab.models.knn.UserKNN", {"k": 40, "centering": "baseline"}, BOTH),
    "ItemKNN": ("recsys_lab.models.knn.ItemKNN", {"k": 40, "centering": "baseline"}, BOTH),
    "MatrixFactorization": ("recsys_lab.models.mf.MatrixFactorization",
                            {"n_factors": 64, "epochs": 10, "reg": 0.2, "seed": SEED}, BOTH),
    "DotProduct": ("recsys_lab.models.ncf.DotProduct", {"loss": "bpr", "seed": SEED}, RANKING),
    "GMF": ("recsys_lab.models.ncf.GMF", {"seed": SEED}, RANKING),
    "NCFMLP": ("recsys_lab.models.ncf.NCFMLP", {"seed": SEED}, RANKING),
    "NeuMF": ("recsys_lab.models.ncf.NeuMF", {"seed": SEED}, RANKING),
    "EASE": ("recsys_lab.models.EASE", {"reg": 250.0}, RANKING),
    "item-kNN top-N (cosine sum)": ("benchmarks.bench_leaderboard.CosineSumKNN", {"k": 50}, RANKING),
    "ContentBased": ("benchmarks.bench_leaderboard.content_based", {}, RANKING),
    "DeepContent": ("benchmarks.bench_leaderboard.deep_content", {"seed": SEED}, BOTH),
    "WeightedHybrid (DotProduct 0.8 + ContentBased 0.2)":
        ("benchmarks.bench_leaderboard.weighted_hybrid", {"weights": [0.8, 0.2]}, RANKING),
    "FeatureAugmentedHybrid (DeepContent -> MF)":
        ("benchmarks.bench_leaderboard.feature_augmented_hybrid", {}, BOTH),
    "AutoRec": ("recsys_lab.models.autorec.AutoRec", {"seed": SEED}, RANKING),
}
KIT_SETTINGS = {name: params for name, (_, params, _) in KIT.items()}
BUILDS = {"content_based": "ContentBased", "deep_content": "DeepContent", "weighted_hybrid": "WeightedHybrid",
          "feature_augmented_hybrid": "FeatureAugmentedHybrid"}  # builder -> the kit class it makes
NOT_RUN = {"SwitchingHybrid": "not run: every user of the ranking split has at least 16 training ratings, "
                              "so a switching hybrid would only repeat its warm model"}


# Builders for the models that need item features or other models.
def _movie_features():
    from recsys_lab.data import load_movielens
    from recsys_lab.features import movie_features

    ml = load_movielens()
    return movie_features(ml.movies, ml.tags)


def content_based(**params):
    from recsys_lab.models.content import ContentBased

    return ContentBased(_movie_features(), **params)


def deep_content(**params):
    from recsys_lab.models.content import DeepContent

    return DeepContent(_movie_features(), **params)


def weighted_hybrid(**params):
    from recsys_lab.models.content import ContentBased
    from recsys_lab.models.hybrid import WeightedHybrid
    from recsys_lab.models.ncf import DotProduct

    parts = {"DotProduct": DotProduct(loss="bpr", seed=SEED), "ContentBased": ContentBased(_movie_features())}
    return WeightedHybrid(parts, **params)


def feature_augmented_hybrid(**params):
    from recsys_lab.models.content import DeepContent
    from recsys_lab.models.hybrid import FeatureAugmentedHybrid
    from recsys_lab.models.mf import MatrixFactorization

    cf = MatrixFactorization(**KIT_SETTINGS["MatrixFactorization"])
    return FeatureAugmentedHybrid(DeepContent(_movie_features(), seed=SEED), cf, **params)
# Kit model -> the peer it is compared with, per task.
PAIRS = {
    "rating": [("BiasBaseline", "Surprise BaselineOnly"), ("UserKNN", "Surprise KNNWithMeans (user)"),
               ("ItemKNN", "Surprise KNNWithMeans (item)"), ("MatrixFactorization", "Surprise SVD")],
    "ranking": [("EASE", "implicit ALS"), ("DotProduct", "implicit BPR"),
                ("item-kNN top-N (cosine sum)", "implicit item cosine")],
}
SURPRISE = {
    "Surprise BaselineOnly": ("BaselineOnly", {}),
    "Surprise KNNWithMeans (user)": ("KNNWithMeans", {"k": 40, "sim_options": {"name": "msd", "user_based": True}}),
    "Surprise KNNWithMeans (item)": ("KNNWithMeans", {"k": 40, "sim_options": {"name": "msd", "user_based": False}}),
    "Surprise SVD": ("SVD", {"n_epochs": 40, "reg_all": 0.1, "random_state": SEED}),
}
IMPLICIT = {
    "implicit ALS": ("als.AlternatingLeastSquares", {"factors": 64, "regularization": 0.1, "alpha": 1.0,
                                                     "random_state": SEED}),
    "implicit BPR": ("bpr.BayesianPersonalizedRanking", {"random_state": SEED}),
    "implicit item cosine": ("nearest_neighbours.CosineRecommender", {"K": 50}),
}


# ----------------------------------------------------------------------------------------
# the fixed splits (rebuilt identically in every child process)
# ----------------------------------------------------------------------------------------
def _ratings(quick: bool) -> pd.DataFrame:
    from recsys_lab.data import load_movielens

    ratings = load_movielens().ratings
    return ratings[ratings.user <= QUICK_USERS].reset_index(drop=True) if quick else ratings


def rating_split(quick: bool = False):
    from recsys_lab.data import random_split

    return random_split(_ratings(quick), 0.2, seed=SEED)


def ranking_split(quick: bool = False):
    from recsys_lab.data import temporal_split

    return temporal_split(_ratings(quick), test_fraction=0.2)


class FixedLists:
    """Precomputed top-k lists behind the kit's ``recommend`` interface, for evaluate_ranking."""

    def __init__(self, lists: dict):
        self.lists = lists

    def recommend(self, user, k=K, exclude_seen=True):
        return pd.DataFrame({"item": self.lists[user][:k]})


def _ranking_result(lists: dict, train, test, fit_s: float, predict_s: float) -> dict:
    from recsys_lab.evaluation import evaluate_ranking

    report = evaluate_ranking(FixedLists(lists), test, k=K, n_items=train.item.nunique())
    out = {"precision": report.summary["precision"], "recall": report.summary["recall"],
           "ndcg": report.summary["ndcg"], "hit_rate": report.summary["hit_rate"],
           "coverage": report.coverage, "fit_s": fit_s, "predict_s": predict_s,
           "per_user_ndcg": report.per_user["ndcg"]}
    return out



def one_torch_thread() -> None:
    """Train torch models on one thread. On 2 cores that other work also uses, torch's OpenMP
    threads wait on each other: 2 MF epochs on ml-latest-small took 45-70 s with 2 threads and
    1-1.4 s with one, on the same busy machine. One thread keeps the timings stable."""
    if torch is not None:
        torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------
# child-process jobs (module level so that `measure` can pickle them)
# ----------------------------------------------------------------------------------------
def data_only(quick: bool) -> dict:
    rating_split(quick), ranking_split(quick)
    return {}


def _kit_model(cls_path: str, params: dict):
    return _load(cls_path)(**params)


def fit_quietly(model, train):
    """``model.fit(train)``, without the progress bar of the kit's torch models."""
    if "progress" in inspect.signature(model.fit).parameters:
        return model.fit(train, progress=False)
    return model.fit(train)


def kit_rating(cls_path: str, params: dict, quick: bool) -> dict:
    from recsys_lab.metrics import mae, rmse

    one_torch_thread()
    train, test = rating_split(quick)
    model = _kit_model(cls_path, params)
    start = time.perf_counter()
    fit_quietly(model, train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(test.user.to_numpy(), test.item.to_numpy())
    predict_s = time.perf_counter() - start
    return {"rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred), "fit_s": fit_s,
            "predict_s": predict_s}


def kit_ranking(cls_path: str, params: dict, quick: bool) -> dict:
    one_torch_thread()
    train, test = ranking_split(quick)
    model = _kit_model(cls_path, params)
    start = time.perf_counter()
    fit_quietly(model, train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    lists = {u: model.recommend(u, k=K).item.tolist() for u in np.sort(test.user.unique())}
    predict_s = time.perf_counter() - start
    return _ranking_result(lists, train, test, fit_s, predict_s)


def surprise_rating(label: str, quick: bool) -> dict:
    from recsys_lab.metrics import mae, rmse

    algo_name, params = SURPRISE[label]
    train, test = rating_split(quick)
    reader = surprise.Reader(rating_scale=(0.5, 5.0))
    start = time.perf_counter()
    trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    algo = getattr(surprise, algo_name)(verbose=False, **params)
    algo.fit(trainset)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = np.array([algo.predict(u, i).est for u, i in zip(test.user.to_numpy(), test.item.to_numpy())])
    predict_s = time.perf_counter() - start
    return {"rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred), "fit_s": fit_s,
            "predict_s": predict_s}


def implicit_ranking(label: str, quick: bool) -> dict:
    from threadpoolctl import threadpool_limits

    from recsys_lab.data import RatingData

    path, params = IMPLICIT[label]
    module, name = path.split(".")
    train, test = ranking_split(quick)
    start = time.perf_counter()
    data = RatingData(train)
    X = data.to_csr(binary=True).astype(np.float32)
    with threadpool_limits(1, "blas"), warnings.catch_warnings():  # implicit asks for 1 BLAS thread
        warnings.simplefilter("ignore")
        model = getattr(getattr(implicit, module), name)(**params)
        model.fit(X, show_progress=False)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    users = np.sort(test.user.unique())
    rows = data.users.to_index(users)
    ids, _ = model.recommend(rows, X[rows], N=K, filter_already_liked_items=True)
    lists = {u: data.items.to_raw(r[r >= 0]).tolist() for u, r in zip(users, ids)}
    predict_s = time.perf_counter() - start
    return _ranking_result(lists, train, test, fit_s, predict_s)


# ----------------------------------------------------------------------------------------
# which kit models exist
# ----------------------------------------------------------------------------------------
class CosineSumKNN(Recommender):
    """Top-N item-kNN for ranking (Deshpande & Karypis, 2004), built from the kit's similarity.

    ``s_ij`` = cosine of items ``i`` and ``j`` over the binary user x item matrix
    (``recsys_lab.similarity.cosine_naive``), kept for the ``k`` most similar ``i`` of each
    ``j``; ``score(u, j) = sum_{i in I(u)} s_ij``. Unlike the kit's ItemKNN, which ranks by a
    *predicted rating* (a weighted mean), the sum rewards items close to many of the user's
    items. A benchmark recipe, not a kit class (notebook 13 builds the same in a few lines).
    """

    def __init__(self, k: int = 20, unknown: str = "fallback"):
        super().__init__(unknown)
        self.k = k

    def _fit(self, data) -> None:
        from recsys_lab.similarity import cosine_naive

        sim = cosine_naive(self.seen_.T.tocsr())           # (n_items, n_items)
        np.fill_diagonal(sim, 0.0)
        if self.k < sim.shape[0]:                          # keep the k largest of each column
            cut = np.partition(sim, -self.k, axis=0)[-self.k]
            sim[sim < cut[None, :]] = 0.0
        self.sim_ = sim

    def _predict_known(self, u, i):
        return np.array([self._score_user(a)[b] for a, b in zip(u, i)])

    def _score_user(self, u):
        return self.sim_[self.seen_.indices[self.seen_.indptr[u]:self.seen_.indptr[u + 1]]].sum(axis=0)


def kit_models() -> tuple[list[tuple[str, str, dict, tuple]], list[str]]:
    """``[(label, dotted path, params, tasks)]`` of the kit's models present now, and notes."""
    import recsys_lab.models as models
    from recsys_lab.models.base import Recommender

    out, notes, registered = [], [], set()
    for label, (path, params, tasks) in KIT.items():
        name = path.rsplit(".", 1)[1]
        registered.add(BUILDS.get(name, name))
        try:
            _load(path)
        except (ImportError, AttributeError):
            notes.append(f"{label} ({path}) is not in the kit yet: its rows are missing")
            continue
        out.append((label, path, params, tasks))
    found = {}
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda m: m.name):
        try:
            module = importlib.import_module(f"recsys_lab.models.{info.name}")
        except Exception as err:  # a model file in progress must not stop the benchmark
            notes.append(f"recsys_lab.models.{info.name} could not be imported ({type(err).__name__}: {err})")
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, Recommender) and cls is not Recommender and cls.__module__ == module.__name__
                    and not name.startswith("_")):
                found[name] = cls
    bases = {b for cls in found.values() for b in cls.__mro__[1:]}
    for name, cls in sorted(found.items()):
        if name in registered or cls in bases:  # registered, or an abstract base of other models
            continue
        if name in NOT_RUN:
            notes.append(f"{name}: {NOT_RUN[name]}")
            continue
        tasks = BOTH if getattr(cls, "predicts_ratings", False) is True else RANKING
        out.append((name, f"{cls.__module__}.{name}", {}, tasks))
        notes.append(f"{name} is not in the benchmark's registry: run with its defaults")
    return out, notes


def _load(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


# ----------------------------------------------------------------------------------------
# running and tabulating
# ----------------------------------------------------------------------------------------
def _run(job, *args):
    try:
        result, seconds, peak = measure(job, *args)
        return {**result, "total_s": seconds, "peak_mb": peak}, None
    except RuntimeError as err:
        return None, str(err)


def run(quick: bool = False) -> list[Section]:
    import os

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


SETTINGS_TEXT = {  # what a builder makes, for the settings column
    "ContentBased": "genres + tag TF-IDF features",
    "DeepContent": "genres + tag TF-IDF features, defaults",
    "WeightedHybrid (DotProduct 0.8 + ContentBased 0.2)": "z-scored scores, weights 0.8 / 0.2 (not tuned)",
    "FeatureAugmentedHybrid (DeepContent -> MF)": "10 DeepContent pseudo-ratings per user, then MF as above",
}


def _settings(name: str) -> str:
    if name in SETTINGS_TEXT:
        return SETTINGS_TEXT[name]
    if name in KIT_SETTINGS:
        text = ", ".join(f"{k}={v}" for k, v in KIT_SETTINGS[name].items() if k != "seed")
    elif name in SURPRISE:
        text = ", ".join(f"{k}={v}" for k, v in SURPRISE[name][1].items() if k != "random_state")
    elif name in IMPLICIT:
        text = ", ".join(f"{k}={v}" for k, v in IMPLICIT[name][1].items() if k != "random_state")
    else:
        text = ""
    return text or "defaults"


def _rating_section(rows: dict, data_mb: float) -> Section:
    table = [{"model": name, "library": lib, "settings": _settings(name), "RMSE": r["rmse"],
              "MAE": r["mae"], "fit s": r["fit_s"], "predict s": r["predict_s"],
              "peak MB": r["peak_mb"]}
             for name, (lib, r) in sorted(rows.items(), key=lambda kv: kv[1][1]["rmse"])]
    note = ("ml-latest-small, one random 80/20 split of the ratings (seed 0), lower is better. "
            "Predict = all test pairs. Peak MB includes loading and splitting the "
            f"data ({data_mb:.0f} MB alone).")
    return Section("Leaderboard: rating prediction (RMSE, MAE)", table, note)


def _ranking_section(rows: dict, data_mb: float) -> Section:
    table = [{"model": name, "library": lib, "settings": _settings(name),
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
