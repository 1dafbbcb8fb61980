"""The tuning behind notebook 13's ranking leaderboard: every competing model gets the same budget.

Notebook 13 compares ranking models on a per-user temporal split of ml-latest-small, restricted to
the movies with at least 20 training ratings. A comparison is fair only if every model had the
same chance to be tuned, and the test set played no part in it. So this module, run by
``make bench``, carves a validation split out of the notebook's *training* part (each user's
latest 20% of training ratings, ``temporal_split`` again), tries ``BUDGET`` settings per model on
it (the first is always the setting the notebook used before tuning, the others drawn by
``recsys_lab.tuning.random_configs`` from a stated space, or a stated grid for one-knob models),
scores each by NDCG@10 on the validation users, and records every trial and the choice in
``docs/benchmarks/tuned_evaluation.json``. The notebook reads that file, refits the chosen
settings on its whole training part and evaluates them once on its test set.

The torch models train at most ``MAX_EPOCHS`` epochs with early stopping on the validation split
(patience 2, best weights restored); the epochs recorded are those of the best validation epoch,
and the notebook trains that many. The rating models the notebook ranks by predicted stars
(BiasBaseline, MatrixFactorization, DeepContent) stay at their defaults: they are there to show
what a model trained for stars does to a ranking, not to compete, and MostPopular has no setting.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recsys_lab.data import keep_frequent_items, load_movielens, temporal_split
from recsys_lab.evaluation import evaluate_ranking
from recsys_lab.features import ItemFeatures, movie_features
from recsys_lab.models import (EASE, GMF, NCFMLP, ContentBased, ImplicitAutoRec, DotProduct, MostPopular, NeuMF,
                               WeightedHybrid)
from recsys_lab.similarity import cosine_naive
from recsys_lab.training import EarlyStopping
from recsys_lab.tuning import grid, random_configs, search

from .common import Section, machine_note, search_record, search_rows

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "tuned_evaluation.json"

# The notebook's protocol (notebook 13's parameters cell must agree; it checks).
MIN_ITEM_RATINGS, TEST_FRACTION, K, SEED = 20, 0.2, 10, 0
BUDGET = 4                  # settings tried per model, the same for every model
MAX_EPOCHS = 10             # torch models: at most this many epochs, early stopping decides
PATIENCE = 2
BATCH_SIZE = 4096           # the NCF family, fixed (not searched) for time; the learning rate is searched
NCF_SPACE = {"n_factors": [16, 32, 64], "learning_rate": (0.001, 0.02, "log"), "reg": (1e-7, 1e-4, "log"),
             "n_negatives": [1, 4, 8]}
NCF_START = {"n_factors": 32, "learning_rate": 0.005, "reg": 0.0, "n_negatives": 4}
AUTOREC_SPACE = {"n_factors": [100, 200, 400], "learning_rate": (0.001, 0.03, "log"), "reg": (1e-7, 1e-4, "log")}
AUTOREC_START = {"n_factors": 200, "learning_rate": 0.01, "reg": 0.0}
GRIDS = {"EASE": {"reg": [250.0, 50.0, 100.0, 1000.0]},
         "item-kNN (cosine sum)": {"neighbours": [20, 10, 50, 100]},
         "ContentBased": {"damping": [5.0, 1.0, 20.0, 50.0]},
         "Hybrid (DotProduct + ContentBased)": {"weight": [0.8, 0.5, 0.65, 0.95]}}


def protocol():
    """(train, test, inner_train, validation): the notebook's split and the validation split inside train."""
    ml = load_movielens()
    train, test = keep_frequent_items(*temporal_split(ml.ratings, test_fraction=TEST_FRACTION), MIN_ITEM_RATINGS)
    inner, validation = temporal_split(train, test_fraction=TEST_FRACTION)
    return ml, train, test, inner, validation


class ScoreTable(MostPopular):
    """Ranks by a precomputed users x items score matrix (the notebook defines the same class)."""

    def __init__(self, scores=None, unknown="fallback"):
        super().__init__(unknown)
        self.scores = scores

    def _score_user(self, u):
        return np.asarray(self.scores[u]).ravel()


class ItemKNNSum(ScoreTable):
    """Notebook 13's top-N item-kNN: s_uj = sum of the cosine similarities (kept: each movie's
    ``neighbours`` nearest) between j and the movies u has seen."""

    def __init__(self, neighbours: int = 20, unknown="fallback"):
        super().__init__(None, unknown)
        self.neighbours = neighbours

    def _fit(self, data):
        super()._fit(data)
        X = data.to_csr(binary=True)
        sim = cosine_naive(X.T.tocsr())
        np.fill_diagonal(sim, 0.0)
        k = min(int(self.neighbours), sim.shape[0] - 1)
        sim[sim < np.partition(sim, -k, axis=0)[-k]] = 0.0
        self.scores = X @ sim


def _features(ml, train):
    catalogue = np.sort(train.item.unique())
    f = movie_features(ml.movies, ml.tags, train)
    return ItemFeatures(catalogue, f.rows(catalogue), f.names)


def _torch_fit(model, train, validation):
    model.fit(train, validation=validation, early_stopping=EarlyStopping(patience=PATIENCE), progress=False)


def _score(model, validation):
    return evaluate_ranking(model, validation, k=K).summary["ndcg"]


def _configs(space, start):
    return [dict(start)] + random_configs(space, BUDGET - 1, seed=SEED)


def tune(quick: bool = False) -> dict:
    ml, train, test, inner, validation = protocol()
    if quick:  # a smoke run: a tenth of the users
        users = np.sort(train.user.unique())[::10]
        inner, validation = inner[inner.user.isin(users)], validation[validation.user.isin(users)]
    features = _features(ml, inner)
    ncf = {"DotProduct (BPR)": lambda p: DotProduct(loss="bpr", epochs=MAX_EPOCHS, batch_size=BATCH_SIZE, seed=SEED, **p),
           "GMF": lambda p: GMF(epochs=MAX_EPOCHS, batch_size=BATCH_SIZE, seed=SEED, **p),
           "NCFMLP": lambda p: NCFMLP(epochs=MAX_EPOCHS, batch_size=BATCH_SIZE, seed=SEED, **p),
           "NeuMF": lambda p: NeuMF(epochs=MAX_EPOCHS, batch_size=BATCH_SIZE, seed=SEED, **p)}
    results, started = {}, time.perf_counter()
    for name, build in ncf.items():
        results[name] = search(build, _configs(NCF_SPACE, NCF_START), inner, validation, _score,
                               metric="validation NDCG@10", higher_is_better=True, budget=BUDGET, fit=_torch_fit)
    results["ImplicitAutoRec"] = search(lambda p: ImplicitAutoRec(epochs=MAX_EPOCHS, seed=SEED, **p),
                                _configs(AUTOREC_SPACE, AUTOREC_START), inner, validation, _score,
                                metric="validation NDCG@10", higher_is_better=True, budget=BUDGET, fit=_torch_fit)
    results["EASE"] = search(lambda p: EASE(**p), grid(**GRIDS["EASE"]), inner, validation, _score,
                             metric="validation NDCG@10", higher_is_better=True, budget=BUDGET)
    results["item-kNN (cosine sum)"] = search(lambda p: ItemKNNSum(**p), grid(**GRIDS["item-kNN (cosine sum)"]),
                                              inner, validation, _score, metric="validation NDCG@10",
                                              higher_is_better=True, budget=BUDGET)
    results["ContentBased"] = search(lambda p: ContentBased(features, **p), grid(**GRIDS["ContentBased"]), inner,
                                     validation, _score, metric="validation NDCG@10", higher_is_better=True,
                                     budget=BUDGET)
    # The hybrid mixes the two tuned parts; only its weight is searched (its parts' budgets are theirs).
    best_dot = results["DotProduct (BPR)"].best
    dot = DotProduct(loss="bpr", batch_size=BATCH_SIZE, seed=SEED,
                     **{**best_dot.params, "epochs": best_dot.best_epoch or MAX_EPOCHS}).fit(inner, progress=False)
    content = ContentBased(features, **results["ContentBased"].best_params).fit(inner)
    results["Hybrid (DotProduct + ContentBased)"] = search(
        lambda p: WeightedHybrid({"DotProduct": dot, "ContentBased": content}, weights=[p["weight"], 1 - p["weight"]],
                                 refit=False),
        grid(**GRIDS["Hybrid (DotProduct + ContentBased)"]), inner, validation, _score,
        metric="validation NDCG@10", higher_is_better=True, budget=BUDGET, fit=lambda m, t, v: m.fit(t))
    record = {
        "protocol": {"min_item_ratings": MIN_ITEM_RATINGS, "test_fraction": TEST_FRACTION, "k": K, "seed": SEED,
                     "train_rows": int(len(train)), "test_rows": int(len(test)),
                     "validation_rows": int(len(validation)), "inner_train_rows": int(len(inner))},
        "budget": BUDGET, "max_epochs": MAX_EPOCHS, "patience": PATIENCE, "ncf_batch_size": BATCH_SIZE,
        "spaces": {"NCF family": {k: list(v) if isinstance(v, tuple) else v for k, v in NCF_SPACE.items()},
                   "ImplicitAutoRec": {k: list(v) if isinstance(v, tuple) else v for k, v in AUTOREC_SPACE.items()},
                   **{name: g for name, g in GRIDS.items()}},
        "models": search_record(results),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_note(),
    }
    return record


def run(quick: bool = False):
    record = tune(quick)
    if not quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(record, indent=1) + "\n")
    rows = search_rows(record["models"])
    p = record["protocol"]
    note = (f"{machine_note()} Notebook 13's protocol: per-user temporal split (test {p['test_fraction']:.0%} per user), "
            f"movies with at least {p['min_item_ratings']} training ratings ({p['train_rows']:,} train / "
            f"{p['test_rows']:,} test ratings); validation = each user's latest 20% of train "
            f"({p['validation_rows']:,} ratings), the test set untouched. Budget {record['budget']} settings per model "
            f"(the first is the notebook's previous setting); torch models at most {record['max_epochs']} epochs with "
            f"early stopping (patience {record['patience']}); the NCF batch size fixed at {record['ncf_batch_size']}. "
            f"Spaces and every trial: `docs/benchmarks/tuned_evaluation.json`. Took {record['seconds']} s.")
    return [Section("Notebook 13: the same tuning budget for every ranking model", rows, note)]
