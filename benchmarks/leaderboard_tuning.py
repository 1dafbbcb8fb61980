"""The leaderboard's tuning, in code: every tuned model, kit or peer, gets ``BUDGET`` settings.

Each search runs :func:`recsys_lab.tuning.search` on a validation split carved from the
leaderboard's *training* part the same way the test part is carved from the whole data:

- rating prediction: ``recsys_lab.data.course_split`` (fit on ``.fit``, score RMSE on
  ``.validation``; the test part is ``random_split(ratings, 0.2, seed=0)``'s, untouched);
- ranking: a per-user temporal split of the ranking training part (each user's latest 20% of
  training ratings), scored by NDCG@10 on those held-out training ratings.

The first setting of every search is the one the benchmark used before tuning; the other
``BUDGET - 1`` are drawn by ``random_configs(space, BUDGET - 1, seed=0)`` from the stated space
(one-knob models: a stated grid). Torch models train at most ``MAX_EPOCHS`` epochs with early
stopping on the validation split (patience ``PATIENCE``, best weights restored); the refit on the
whole training part trains the best epoch's count. Models without early stopping (Surprise SVD)
have their epochs in the space. The chosen setting is then refitted on the whole training part
by the leaderboard and evaluated once on test; ``bench_mf`` reads the same recorded choice.
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from .leaderboard_models import K, SEED

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "leaderboard_tuning.json"
BUDGET = 6            # settings per tuned model, the same number for kit and peers
MAX_EPOCHS = 30
PATIENCE = 3

# label -> (task, first setting, space or grid). The space is what random_configs draws from.
SEARCHES = {
    "MatrixFactorization": ("rating", {"n_factors": 64, "learning_rate": 0.01, "reg": 0.2},
                            {"n_factors": [32, 64, 128], "learning_rate": (0.003, 0.03, "log"),
                             "reg": (0.02, 0.5, "log")}),
    "IAutoRec": ("rating", {"n_factors": 100, "learning_rate": 0.003, "reg": 100.0},
                 {"n_factors": [50, 100, 200], "learning_rate": (0.001, 0.01, "log"), "reg": (10.0, 300.0, "log")}),
    "Surprise SVD": ("rating", {"n_factors": 100, "lr_all": 0.005, "reg_all": 0.1, "n_epochs": 40},
                     {"n_factors": [50, 100, 150], "lr_all": (0.002, 0.02, "log"), "reg_all": (0.02, 0.2, "log"),
                      "n_epochs": [20, 40, 60]}),
    "EASE": ("ranking", None, {"reg": [250.0, 50.0, 100.0, 500.0, 1000.0, 2000.0]}),
    "implicit ALS": ("ranking", {"factors": 64, "regularization": 0.1, "alpha": 1.0},
                     {"factors": [32, 64, 128], "regularization": (0.01, 10.0, "log"), "alpha": (0.5, 40.0, "log")}),
    # The kit's iALS (benchmarks/bench_ials.py), the same budget and space sizes as implicit's ALS. Its
    # confidence is 1 + alpha (implicit's is alpha), so alpha 0 is implicit's alpha 1; 15 iterations as implicit.
    "kit iALS": ("ranking", {"n_factors": 64, "reg": 0.1, "alpha": 0.0},
                 {"n_factors": [32, 64, 128], "reg": (0.01, 10.0, "log"), "alpha": (0.5, 40.0, "log")}),
    # Item-kNN top-N by the sum of similarities (benchmarks/bench_knn_ranking.py): the kit's ItemKNN(ranking="sum")
    # and implicit's item cosine, the same budget. The kit's first setting is the leaderboard's before tuning;
    # implicit's one knob is a grid starting at its earlier K=50.
    "ItemKNN (ranked by similarity sum)": ("ranking", {"k": 40, "keep": 500, "similarity": "adjusted_cosine",
                                                       "shrinkage": 100.0},
                                           {"k": [20, 50, 100, 200], "keep": [50, 100, 200, 500],
                                            "similarity": ["cosine", "adjusted_cosine", "pearson"],
                                            "shrinkage": [0.0, 10.0, 100.0]}),
    "implicit item cosine": ("ranking", None, {"K": [50, 20, 100, 200, 500, 1000]}),
}


def configs_of(label: str) -> list[dict]:
    """The ``BUDGET`` settings tried for ``label``: a grid, or the first setting then random draws."""
    from recsys_lab.tuning import grid, random_configs

    _, start, space = SEARCHES[label]
    if start is None:
        return grid(**space)[:BUDGET]
    return [dict(start)] + random_configs(space, BUDGET - 1, seed=SEED)


def space_text(label: str) -> str:
    """The space of ``label`` as the docs print it."""
    _, start, space = SEARCHES[label]
    parts = []
    for name, spec in space.items():
        if isinstance(spec, list):
            parts.append(f"{name} in {spec}")
        else:
            parts.append(f"{name} {spec[2] if len(spec) > 2 else 'uniform'} in [{spec[0]}, {spec[1]}]")
    first = "grid" if start is None else f"first {start}, then {BUDGET - 1} random draws (seed {SEED})"
    return "; ".join(parts) + f" ({first})"


class SurpriseSVD:
    """Surprise's SVD behind ``fit(frame)`` / ``predict(users, items)``, for ``search``."""

    def __init__(self, **params):
        self.params = params

    def fit(self, train):
        import surprise

        reader = surprise.Reader(rating_scale=(0.5, 5.0))
        trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
        self.algo_ = surprise.SVD(verbose=False, random_state=SEED, **self.params).fit(trainset)
        return self

    def predict(self, users, items):
        return np.array([self.algo_.predict(u, i).est for u, i in zip(users, items)])


def seeded(cls, params: dict) -> dict:
    """``params`` plus ``random_state=SEED`` for an implicit class that takes a seed (item kNN takes none)."""
    import inspect

    takes_seed = "random_state" in inspect.signature(cls).parameters   # a class or a factory function (implicit's ALS)
    return {**params, "random_state": SEED} if takes_seed else dict(params)


class ImplicitLists:
    """An implicit model fitted on a frame; ``recommend`` serves its top-``K`` of every training user."""

    def __init__(self, path: str, **params):
        self.path, self.params = path, params

    def fit(self, train):
        import implicit.als  # noqa: F401  (the submodules the paths name)
        import implicit.bpr  # noqa: F401
        import implicit.nearest_neighbours  # noqa: F401
        from threadpoolctl import threadpool_limits

        import implicit
        from recsys_lab.data import RatingData

        module, name = self.path.split(".")
        data = RatingData(train)
        X = data.to_csr(binary=True).astype(np.float32)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = getattr(getattr(implicit, module), name)(**seeded(getattr(getattr(implicit, module), name),
                                                                      self.params))
            model.fit(X, show_progress=False)
        rows = np.arange(X.shape[0])
        ids, _ = model.recommend(rows, X[rows], N=K, filter_already_liked_items=True)
        self.lists_ = {u: data.items.to_raw(r[r >= 0]).tolist() for u, r in zip(data.users.to_raw(rows), ids)}
        return self

    def recommend(self, user, k=K, exclude_seen=True):
        import pandas as pd

        return pd.DataFrame({"item": self.lists_[user][:k]})


def _rmse_score(model, validation):
    from recsys_lab.metrics import rmse

    return rmse(validation.rating, model.predict(validation.user.to_numpy(), validation.item.to_numpy()))


def _ndcg_score(model, validation):
    from recsys_lab.evaluation import evaluate_ranking

    return evaluate_ranking(model, validation, k=K).summary["ndcg"]


def _torch_fit(model, train, validation):
    from recsys_lab.training import EarlyStopping

    model.fit(train, validation=validation, early_stopping=EarlyStopping(patience=PATIENCE), progress=False)


def _build(label: str):
    from recsys_lab.models import EASE, IALS, IAutoRec, ItemKNN, MatrixFactorization

    builds = {
        "MatrixFactorization": (lambda p: MatrixFactorization(epochs=MAX_EPOCHS, seed=SEED, **p), _torch_fit),
        "IAutoRec": (lambda p: IAutoRec(epochs=MAX_EPOCHS, seed=SEED, **p), _torch_fit),
        "Surprise SVD": (lambda p: SurpriseSVD(**p), None),
        "EASE": (lambda p: EASE(**p), None),
        "implicit ALS": (lambda p: ImplicitLists("als.AlternatingLeastSquares", **p), None),
        "kit iALS": (lambda p: IALS(iterations=15, seed=SEED, **p), None),
        "ItemKNN (ranked by similarity sum)": (lambda p: ItemKNN(ranking="sum", **p), None),
        "implicit item cosine": (lambda p: ImplicitLists("nearest_neighbours.CosineRecommender", **p), None),
    }
    return builds[label]


def validation_splits(quick: bool):
    """``{"rating": (fit, validation), "ranking": (fit, validation)}``, both inside the training parts."""
    from recsys_lab.data import course_split, temporal_split

    from .leaderboard_jobs import _ratings, ranking_split

    split = course_split(_ratings(quick))
    ranking_train, _ = ranking_split(quick)
    return {"rating": (split.fit, split.validation),
            "ranking": temporal_split(ranking_train, test_fraction=0.2)}


def tune_all(quick: bool, labels=None) -> dict:
    """Run every search (or those of ``labels``); returns the JSON-ready record of each."""
    from recsys_lab.tuning import search

    from .leaderboard_jobs import one_torch_thread

    one_torch_thread()
    splits = validation_splits(quick)
    out = {}
    for label in labels or SEARCHES:
        task = SEARCHES[label][0]
        if label == "IAutoRec":
            import recsys_lab.models as models
            if not hasattr(models, "IAutoRec"):
                continue
        build, fit = _build(label)
        fit_part, validation = splits[task]
        start = time.perf_counter()
        result = search(build, configs_of(label), fit_part, validation,
                        _rmse_score if task == "rating" else _ndcg_score,
                        metric="validation RMSE" if task == "rating" else "validation NDCG@10",
                        higher_is_better=task == "ranking", budget=BUDGET, fit=fit)
        best = result.best
        chosen = dict(best.params)
        if best.epochs is not None:  # early stopping chose the epochs: the refit trains that many
            chosen["epochs"] = int(best.best_epoch or best.epochs)
        out[label] = {
            "task": task, "metric": result.metric, "budget": BUDGET, "space": space_text(label),
            "trials": [{"params": t.params, "score": round(t.score, 5), "fit_s": round(t.seconds, 2),
                        "epochs": t.epochs, "best_epoch": t.best_epoch} for t in result.trials],
            "chosen": chosen, "best_score": round(best.score, 5),
            "seconds": round(time.perf_counter() - start, 1),
            "fit_rows": int(len(fit_part)), "validation_rows": int(len(validation)),
        }
    return out


def save(record: dict) -> None:
    OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def chosen(label: str, quick: bool = False) -> dict:
    """The recorded choice for ``label`` (from ``make bench``'s leaderboard run); searched now if missing."""
    if not quick and OUT.exists():
        record = json.loads(OUT.read_text())
        if label in record:
            return dict(record[label]["chosen"])
    from .common import measure

    result, _, _ = measure(tune_all, quick, [label])
    return dict(result[label]["chosen"])


def trials_rows(record: dict) -> list[dict]:
    """One row per trial for the docs: model, trial, setting, validation score, epochs, fit s."""
    rows = []
    for label, rec in record.items():
        best = rec["trials"].index(max(rec["trials"], key=lambda t: t["score"] if rec["task"] == "ranking"
                                       else -t["score"]))
        for i, t in enumerate(rec["trials"]):
            rows.append({"model": label, "trial": i + 1,
                         "setting": ", ".join(f"{k}={v}" for k, v in t["params"].items()),
                         rec["metric"]: t["score"],
                         "epochs (best)": "" if t["epochs"] is None else f"{t['epochs']} ({t['best_epoch']})",
                         "fit s": t["fit_s"], "chosen": "yes" if i == best else ""})
    return rows
