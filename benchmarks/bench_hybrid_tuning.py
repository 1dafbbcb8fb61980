"""The tuning behind notebook 12 (hybrids and cold start): the same budget for every model.

Notebook 12 compares six single models and five hybrids on a simulated cold-start split
(``recsys_lab.data.cold_start_split`` with the notebook's parameters). Its settings used to be
chosen by hand (five epochs, equal weights, 0.4 / 0.3 / 0.3). This module, run by ``make bench``,
carves a validation split out of the notebook's *training* part -- a random 20% of the warm users'
training ratings (seed + 1); the new users keep their five ratings in the fitting part, the new
movies stay unseen -- and gives every model ``BUDGET`` settings on it:

- the rating models (``BiasBaseline``, ``ItemKNN``, ``MatrixFactorization``, ``DeepContent``) and
  the rating hybrids' knobs are chosen by validation RMSE; a hybrid's parts keep their own tuned
  settings and only the hybrid's knob is searched (its weight, ``min_ratings``, ``n_pseudo``);
- the ranking hybrids' weights and ``ContentBased``'s damping are chosen by validation nDCG@10
  (relevant: rated 4 or more) over ``N_VALID_USERS`` validation users.

The first setting of every grid is the one the notebook used before tuning. All of this is done at
every split seed of ``SPLIT_SEEDS`` (the split, its validation split (seed + 1) and the models' seeds
follow the split seed, as the notebook's ``SEED`` does). Every trial and the choices are recorded in
``docs/benchmarks/hybrid_tuning.json``, one record per split seed keyed by the seed (``{"0": {...},
"1": {...}, ...}``); the notebook reads the record of its ``SEED`` and fits the chosen settings on its
whole training part. The validation split holds warm users only,
so nothing here is tuned for the new users or the new movies: those columns of the notebook
test settings chosen on warm users (the notebook says so).

Then, since the notebook fits each seeded model once, the chosen settings are refitted on the
notebook's training part with model seeds ``SEEDS`` and the warm-user test RMSE of every rating
model and the notebook's warm verdicts are recorded per seed (``seed_check``), so the notebook can
say which of its verdicts hold at every seed.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_lab.data import cold_start_split, load_movielens, random_split
from recsys_lab.evaluation import evaluate_ranking
from recsys_lab.features import movie_features
from recsys_lab.metrics import rmse
from recsys_lab.models import (BiasBaseline, ContentBased, DeepContent, FeatureAugmentedHybrid, ItemKNN,
                               MatrixFactorization, MostPopular, SwitchingHybrid, WeightedHybrid)
from recsys_lab.training import EarlyStopping
from recsys_lab.tuning import grid, random_configs, search

from .common import Section, machine_note

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "hybrid_tuning.json"

# Notebook 12's parameters (its parameters cell must agree; it checks).
SPLIT = dict(n_new_items=150, min_item_ratings=10, n_new_users=100, n_given=5, seed=0)
SEED, K, RELEVANT = 0, 10, 4.0
BUDGET = 3                  # settings per model (or per hybrid knob), the same for every one
MAX_EPOCHS, PATIENCE = 15, 2
N_VALID_USERS = 200         # validation users for the ranking searches
SEEDS = (0, 1, 2)           # model seeds of the seed check
SPLIT_SEEDS = (0, 1, 2)     # split seeds tuned and recorded (the notebook's SEED picks one)

MF_START = {"n_factors": 64, "learning_rate": 0.01, "reg": 0.1}          # the kit's defaults
MF_SPACE = {"n_factors": [16, 32, 64], "learning_rate": (0.002, 0.02, "log"), "reg": (0.02, 0.3, "log")}
GRIDS = {
    "BiasBaseline": [{"reg_user": 15.0, "reg_item": 10.0}, {"reg_user": 3.0, "reg_item": 3.0},
                     {"reg_user": 1.0, "reg_item": 1.0}],
    "ItemKNN": [{"k": 40, "shrinkage": 100.0}, {"k": 20, "shrinkage": 100.0}, {"k": 80, "shrinkage": 25.0}],
    "DeepContent": [{"epochs": 5}, {"epochs": 3}, {"epochs": 8}],
    "Weighted(MF, DeepContent)": [{"weight": 0.5}, {"weight": 0.75}, {"weight": 0.25}],
    "Weighted(ItemKNN, DeepContent)": [{"weight": 0.5}, {"weight": 0.75}, {"weight": 0.25}],
    "Switching(MF / Bias)": [{"min_ratings": 10}, {"min_ratings": 20}, {"min_ratings": 40}],
    "FeatureAugmented(DeepContent -> MF)": [{"n_pseudo": 10}, {"n_pseudo": 5}, {"n_pseudo": 20}],
    "ContentBased": [{"damping": 5.0}, {"damping": 1.0}, {"damping": 20.0}],
    "Weighted(Popular, Content)": [{"weight": 0.5}, {"weight": 0.75}, {"weight": 0.25}],
    "Weighted(Popular, MF, Content)": [{"weights": [0.4, 0.3, 0.3]}, {"weights": [0.6, 0.2, 0.2]},
                                       {"weights": [0.2, 0.4, 0.4]}],
}


def protocol(seed: int = SEED):
    """(ml, split, fit_part, validation): the notebook's split at split seed ``seed`` and the validation split
    inside its train (seed + 1)."""
    ml = load_movielens()
    split = cold_start_split(ml.ratings, **{**SPLIT, "seed": seed})
    warm = split.train[~split.train.user.isin(split.new_users)]
    fit_warm, validation = random_split(warm, 0.2, seed=seed + 1)
    fit_part = pd.concat([fit_warm, split.train[split.train.user.isin(split.new_users)]], ignore_index=True)
    return ml, split, fit_part, validation


def _val_rmse(model, validation):
    return rmse(validation.rating, model.predict(validation.user, validation.item))


def _mf_fit(model, fit_part, validation):
    model.fit(fit_part, validation=validation, early_stopping=EarlyStopping(patience=PATIENCE), progress=False)


def _plain_fit(model, fit_part, validation):
    model.fit(fit_part)


def _with_epochs(result):
    return {**result.best_params, **({"epochs": result.best.best_epoch} if result.best.best_epoch else {})}


def build_rating_models(chosen: dict, train, features, seed: int = SEED) -> dict:
    """The notebook's eight rating models at the chosen settings, fitted on ``train``."""
    bias = BiasBaseline(**chosen["BiasBaseline"]).fit(train)
    knn = ItemKNN(ranking="sum", **chosen["ItemKNN"]).fit(train)
    mf = MatrixFactorization(seed=seed, **chosen["MatrixFactorization"]).fit(train, progress=False)
    deep = DeepContent(features, seed=seed, **chosen["DeepContent"]).fit(train)
    w1 = chosen["Weighted(MF, DeepContent)"]["weight"]
    w2 = chosen["Weighted(ItemKNN, DeepContent)"]["weight"]
    return {
        "BiasBaseline": bias, "ItemKNN": knn, "MF": mf, "DeepContent": deep,
        "Weighted(MF, DeepContent)": WeightedHybrid({"MF": mf, "DeepContent": deep}, [w1, 1 - w1],
                                                    normalize="none", refit=False).fit(train),
        "Weighted(ItemKNN, DeepContent)": WeightedHybrid({"ItemKNN": knn, "DeepContent": deep}, [w2, 1 - w2],
                                                         normalize="none", refit=False).fit(train),
        "Switching(MF / Bias)": SwitchingHybrid(mf, bias, refit=False,
                                                **chosen["Switching(MF / Bias)"]).fit(train),
        "FeatureAugmented(DeepContent -> MF)": FeatureAugmentedHybrid(
            deep, MatrixFactorization(seed=seed, **chosen["MatrixFactorization"]), seed=seed, refit=False,
            **chosen["FeatureAugmented(DeepContent -> MF)"]).fit(train),
    }


def tune(quick: bool = False, seed: int = SEED) -> dict:
    """The whole search at split seed ``seed`` (models seeded with ``seed`` too, as the notebook does)."""
    SEED = seed  # noqa: N806 -- shadows the module default inside the search
    started = time.perf_counter()
    ml, split, fit_part, validation = protocol(seed)
    if quick:  # a smoke run: a fifth of the validation ratings
        validation = validation.iloc[::5]
    features = movie_features(ml.movies, ml.tags, fit_part)   # training-time tags only
    r = {}
    r["BiasBaseline"] = search(lambda p: BiasBaseline(**p), GRIDS["BiasBaseline"], fit_part, validation, _val_rmse,
                               metric="validation RMSE", higher_is_better=False, budget=BUDGET, fit=_plain_fit)
    r["ItemKNN"] = search(lambda p: ItemKNN(ranking="sum", **p), GRIDS["ItemKNN"], fit_part, validation, _val_rmse,
                          metric="validation RMSE", higher_is_better=False, budget=BUDGET, fit=_plain_fit)
    mf_configs = [dict(MF_START)] + random_configs(MF_SPACE, BUDGET - 1, seed=SEED)
    r["MatrixFactorization"] = search(lambda p: MatrixFactorization(epochs=MAX_EPOCHS, seed=SEED, **p), mf_configs,
                                      fit_part, validation, _val_rmse, metric="validation RMSE", higher_is_better=False, budget=BUDGET,
                                      fit=_mf_fit)
    r["DeepContent"] = search(lambda p: DeepContent(features, seed=SEED, **p), GRIDS["DeepContent"], fit_part,
                              validation, _val_rmse, metric="validation RMSE", higher_is_better=False, budget=BUDGET, fit=_plain_fit)
    chosen = {name: _with_epochs(res) for name, res in r.items()}
    # The hybrids hold the tuned parts, fitted once on the fitting part; only their own knob is searched.
    bias = BiasBaseline(**chosen["BiasBaseline"]).fit(fit_part)
    knn = ItemKNN(ranking="sum", **chosen["ItemKNN"]).fit(fit_part)
    mf = MatrixFactorization(seed=SEED, **chosen["MatrixFactorization"]).fit(fit_part, progress=False)
    deep = DeepContent(features, seed=SEED, **chosen["DeepContent"]).fit(fit_part)
    hybrid_rating = {
        "Weighted(MF, DeepContent)": lambda p: WeightedHybrid({"MF": mf, "DeepContent": deep},
                                                              [p["weight"], 1 - p["weight"]], normalize="none", refit=False),
        "Weighted(ItemKNN, DeepContent)": lambda p: WeightedHybrid({"ItemKNN": knn, "DeepContent": deep},
                                                                   [p["weight"], 1 - p["weight"]], normalize="none",
                                                                   refit=False),
        "Switching(MF / Bias)": lambda p: SwitchingHybrid(mf, bias, refit=False, **p),
        "FeatureAugmented(DeepContent -> MF)": lambda p: FeatureAugmentedHybrid(
            deep, MatrixFactorization(seed=SEED, **chosen["MatrixFactorization"]), seed=SEED, refit=False, **p),
    }
    for name, make in hybrid_rating.items():
        r[name] = search(make, GRIDS[name], fit_part, validation, _val_rmse, metric="validation RMSE", higher_is_better=False,
                         budget=BUDGET, fit=_plain_fit)
    # Ranking: nDCG@10 over a sample of validation users, the notebook's relevance rule.
    users = np.sort(np.random.default_rng(SEED).choice(np.sort(validation.user.unique()), N_VALID_USERS, replace=False))
    valid_rank = validation[validation.user.isin(users)]

    def ndcg(model, _):
        return evaluate_ranking(model, valid_rank, k=K, relevance_threshold=RELEVANT).summary["ndcg"]

    popular = MostPopular().fit(fit_part)
    r["ContentBased"] = search(lambda p: ContentBased(features, **p), GRIDS["ContentBased"], fit_part, validation,
                               ndcg, metric=f"validation nDCG@{K}", higher_is_better=True, budget=BUDGET,
                               fit=_plain_fit)
    content = ContentBased(features, **r["ContentBased"].best_params).fit(fit_part)
    r["Weighted(Popular, Content)"] = search(
        lambda p: WeightedHybrid({"MostPopular": popular, "ContentBased": content}, [p["weight"], 1 - p["weight"]],
                                 refit=False), GRIDS["Weighted(Popular, Content)"], fit_part, validation, ndcg,
        metric=f"validation nDCG@{K}", higher_is_better=True, budget=BUDGET, fit=_plain_fit)
    r["Weighted(Popular, MF, Content)"] = search(
        lambda p: WeightedHybrid({"MostPopular": popular, "MF": mf, "ContentBased": content}, list(p["weights"]),
                                 refit=False), GRIDS["Weighted(Popular, MF, Content)"], fit_part, validation, ndcg,
        metric=f"validation nDCG@{K}", higher_is_better=True, budget=BUDGET, fit=_plain_fit)
    chosen = {name: _with_epochs(res) for name, res in r.items()}
    tuning_seconds = time.perf_counter() - started
    seed_check = {} if quick else check_seeds(ml, split, chosen)
    return {
        "protocol": {**SPLIT, "seed": seed, "k": K, "relevance_threshold": RELEVANT, "train_rows": int(len(split.train)),
                     "fit_rows": int(len(fit_part)), "validation_rows": int(len(validation)),
                     "validation_ranking_users": N_VALID_USERS},
        "budget": BUDGET, "max_epochs": MAX_EPOCHS, "patience": PATIENCE,
        "spaces": {"MatrixFactorization": {"start": MF_START,
                                           **{k: list(v) if isinstance(v, tuple) else v for k, v in MF_SPACE.items()}},
                   **GRIDS},
        "models": {name: {"chosen": chosen[name], "metric": res.metric, "best": res.best.score,
                          "trials": [{"params": t.params, "score": t.score, "best_epoch": t.best_epoch,
                                      "seconds": round(t.seconds, 2)} for t in res.trials]}
                   for name, res in r.items()},
        "seed_check": seed_check,
        "seconds": round(tuning_seconds, 1),
        "machine": machine_note(),
    }


# The notebook's warm-user verdicts that a model seed could move (pairs of rating models, A - B).
WARM_PAIRS = [("MF", "BiasBaseline"), ("Weighted(MF, DeepContent)", "MF"), ("Weighted(MF, DeepContent)", "DeepContent"),
              ("Weighted(ItemKNN, DeepContent)", "ItemKNN"), ("Weighted(ItemKNN, DeepContent)", "DeepContent"),
              ("Weighted(MF, DeepContent)", "FeatureAugmented(DeepContent -> MF)"),
              ("Weighted(ItemKNN, DeepContent)", "FeatureAugmented(DeepContent -> MF)"),
              ("FeatureAugmented(DeepContent -> MF)", "BiasBaseline"), ("DeepContent", "BiasBaseline")]


def check_seeds(ml, split, chosen) -> dict:
    """Per model seed: every rating model's RMSE in the three situations, fitted on the notebook's train."""
    features = movie_features(ml.movies, ml.tags, split.train)
    situations = {"warm": split.test_warm, "new users": split.test_new_users, "new items": split.test_new_items}
    out = {}
    for seed in SEEDS:
        models = build_rating_models(chosen, split.train, features, seed=seed)
        out[str(seed)] = {name: {s: float(rmse(t.rating, m.predict(t.user, t.item))) for s, t in situations.items()}
                          for name, m in models.items()}
    return out


def run(quick: bool = False):
    seeds = SPLIT_SEEDS[:1] if quick else SPLIT_SEEDS
    records = {str(s): tune(quick, seed=s) for s in seeds}   # keyed by split seed, each the per-seed record
    if not quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(records, indent=1) + "\n")
    rows = []
    for name in records[str(seeds[0])]["models"]:
        for s, record in records.items():
            m = record["models"][name]
            scores = [t["score"] for t in m["trials"]]
            rows.append({"model": name, "split seed": int(s), "metric": m["metric"], "settings tried": len(m["trials"]),
                         "chosen": json.dumps(m["chosen"]), "best": m["best"], "first (untuned) setting": scores[0]})
    record = records[str(seeds[0])]
    p = record["protocol"]
    note = (f"{machine_note()} Notebook 12's cold-start split ({p['train_rows']:,} training ratings); validation = "
            f"a random 20% of the warm users' training ratings ({p['validation_rows']:,}), the test sets untouched. "
            f"Budget {record['budget']} settings per model or hybrid knob (the first is the notebook's previous "
            f"setting); MF at most {record['max_epochs']} epochs with early stopping (patience {record['patience']}). "
            f"Tuned at split seeds {', '.join(records)} (the split, its validation split (seed + 1) and the models' "
            f"seeds all follow the split seed; counts above are split seed {seeds[0]}'s). Every trial and the "
            f"per-model-seed check, keyed by split seed: `docs/benchmarks/hybrid_tuning.json`. Took "
            f"{' / '.join(str(r['seconds']) for r in records.values())} s (tuning only, per split seed).")
    return [Section("Notebook 12: the same tuning budget for every model and hybrid", rows, note)]
