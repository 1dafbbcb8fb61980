"""The leaderboard's fixed splits and the jobs it runs, each in a fresh process
(``common.measure``; module-level functions so that they can be pickled).

Fit and predict seconds are timed inside the job; the peers' top-10 lists are fed to the kit's
``evaluate_ranking`` (through ``FixedLists``), so every library's metrics come from one piece of code.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from recsys_lab.models.hybrid import fit_quietly

from .leaderboard_models import IMPLICIT, K, QUICK_USERS, SEED, SURPRISE, load

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


def data_only(quick: bool) -> dict:
    rating_split(quick), ranking_split(quick)
    return {}


def _fitted_kit_model(cls_path: str, params: dict, train) -> tuple:
    """The kit model a dotted path names, fitted on ``train`` on one torch thread, and the fit seconds."""
    one_torch_thread()
    factory = load(cls_path)
    # the benchmark's own builders make feature-based models from the training split's tags
    builder = cls_path.startswith("benchmarks.") and not isinstance(factory, type)  # a function, not a class
    model = factory(train=train, **params) if builder else factory(**params)
    start = time.perf_counter()
    fit_quietly(model, train)
    return model, time.perf_counter() - start


def _rating_result(test, pred, fit_s: float, predict_s: float) -> dict:
    from recsys_lab.metrics import mae, rmse

    return {"rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred), "fit_s": fit_s,
            "predict_s": predict_s, "squared_error": (test.rating.to_numpy() - pred) ** 2}


def kit_rating(cls_path: str, params: dict, quick: bool) -> dict:
    train, test = rating_split(quick)
    model, fit_s = _fitted_kit_model(cls_path, params, train)
    start = time.perf_counter()
    pred = model.predict(test.user.to_numpy(), test.item.to_numpy())
    predict_s = time.perf_counter() - start
    return _rating_result(test, np.asarray(pred, dtype=float), fit_s, predict_s)


def kit_ranking(cls_path: str, params: dict, quick: bool) -> dict:
    train, test = ranking_split(quick)
    model, fit_s = _fitted_kit_model(cls_path, params, train)
    start = time.perf_counter()
    top = model.recommend_many(np.sort(test.user.unique()), k=K)  # batch scoring, the lists recommend gives
    lists = {u: frame.item.tolist() for u, frame in top.groupby("user", sort=True)}
    predict_s = time.perf_counter() - start
    return _ranking_result(lists, train, test, fit_s, predict_s)


def surprise_rating(label: str, quick: bool, params: dict | None = None) -> dict:
    algo_name, default = SURPRISE[label]
    params = default if params is None else {**params, "random_state": SEED}
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
    return _rating_result(test, pred, fit_s, predict_s)


def implicit_ranking(label: str, quick: bool, params: dict | None = None) -> dict:
    from threadpoolctl import threadpool_limits

    from recsys_lab.data import RatingData

    from .leaderboard_tuning import seeded

    path, default = IMPLICIT[label]
    module, name = path.split(".")
    params = default if params is None else seeded(getattr(getattr(implicit, module), name), params)
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
