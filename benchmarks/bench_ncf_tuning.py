"""The tuning behind notebook 10's comparisons: every model gets the same budget, recorded once.

Notebook 10 compares four embedding scorers and an auto-encoder on implicit feedback (leave-one-out,
movies with at least 20 training interactions), and I-AutoRec, matrix factorisation and the bias
baseline on star ratings (``course_split``). Each model gets ``BUDGET`` settings, tried on a
validation split carved from the training part only, with early stopping on that split (the
protocol is notebook 10's section 6 and 9). The searches take about a minute and a half, most of
the notebook's time, so they run here, in ``make bench``, and are recorded in
``docs/benchmarks/ncf_tuning.json`` with every trial. The notebook reads the record, checks it was
made with its own parameters, spaces and split, re-runs one recorded trial of each part itself and
checks it scores exactly what the record says, then trains the chosen settings on the whole training
part and evaluates them on the test set there.
"""
from __future__ import annotations

import json
from pathlib import Path

from .common import Section, machine_note, torch_threads

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "ncf_tuning.json"

# Notebook 10's protocol (its parameters cell must agree; it checks).
PROTOCOL = {"seed": 0, "min_item_ratings": 20, "layers": [32, 16, 8], "budget": 3, "max_epochs": 6,
            "patience": 1, "k": 10, "rating_max_epochs": 15, "rating_patience": 2}
EMBEDDING_SPACE = {"n_factors": [16, 32, 64], "learning_rate": (0.002, 0.02, "log"),
                   "reg": (1e-6, 1e-3, "log"), "n_negatives": [1, 2, 4]}
AUTOREC_SPACE = {"n_factors": [100, 200, 400], "learning_rate": (0.002, 0.03, "log"), "reg": (1e-7, 1e-4, "log")}
BIAS_GRID = [{"reg_user": 1.0, "reg_item": 1.0}, {"reg_user": 3.0, "reg_item": 3.0},
             {"reg_user": 15.0, "reg_item": 10.0}]
MF_SPACE = {"n_factors": [16, 32, 64], "learning_rate": (0.002, 0.02, "log"), "reg": (0.02, 0.3, "log")}
IAUTOREC_SPACE = {"n_factors": [50, 100, 200], "learning_rate": (0.001, 0.01, "log"), "reg": (10.0, 300.0, "log")}
RANKING_MODELS = ("dot product", "GMF", "MLP", "NeuMF", "ImplicitAutoRec")
RATING_MODELS = ("BiasBaseline", "MatrixFactorization", "IAutoRec")
TORCH_RATING_MODELS = ("MatrixFactorization", "IAutoRec")


def implicit_split(ratings):
    """Notebook 10's implicit data: (train, test, fit part, validation), all from ``ratings``."""
    from recsys_lab.data import keep_frequent_items, leave_one_out

    interactions = ratings.assign(rating=1.0)
    train, test = keep_frequent_items(*leave_one_out(interactions, by="timestamp"), PROTOCOL["min_item_ratings"])
    fit_part, validation = leave_one_out(train, by="timestamp")
    return train, test, fit_part, validation


def ranking_builds():
    """name -> (model from a setting, the settings tried), as notebook 10 states them."""
    from recsys_lab.models import GMF, NCFMLP, DotProduct, ImplicitAutoRec, NeuMF
    from recsys_lab.tuning import random_configs

    layers, b, seed = tuple(PROTOCOL["layers"]), PROTOCOL["budget"], PROTOCOL["seed"]
    makers = {"dot product": DotProduct, "GMF": GMF, "MLP": lambda **p: NCFMLP(layers=layers, **p),
              "NeuMF": lambda **p: NeuMF(layers=layers, **p), "ImplicitAutoRec": ImplicitAutoRec}
    return {name: (make, random_configs(AUTOREC_SPACE if name == "ImplicitAutoRec" else EMBEDDING_SPACE, b, seed=seed))
            for name, make in makers.items()}


def rating_builds():
    """name -> (model from a setting, the settings tried) for section 9."""
    from recsys_lab.models import BiasBaseline, IAutoRec, MatrixFactorization
    from recsys_lab.tuning import random_configs

    b, seed = PROTOCOL["budget"], PROTOCOL["seed"]
    return {"BiasBaseline": (BiasBaseline, BIAS_GRID),
            "MatrixFactorization": (MatrixFactorization, random_configs(MF_SPACE, b, seed=seed)),
            "IAutoRec": (IAutoRec, random_configs(IAUTOREC_SPACE, b, seed=seed))}


def ranking_search(name: str, configs, fit_part, validation):
    """One model's search on the implicit validation split (validation NDCG@10, early stopping)."""
    from recsys_lab.models.ncf import leave_one_out_metrics
    from recsys_lab.training import EarlyStopping
    from recsys_lab.tuning import search

    make = ranking_builds()[name][0]
    p = PROTOCOL

    def fit(model, fit_data, val_data):
        model.fit(fit_data, validation=val_data, early_stopping=EarlyStopping(patience=p["patience"]), progress=False)

    return search(lambda s: make(**{**s, "epochs": p["max_epochs"], "seed": p["seed"]}), configs, fit_part, validation,
                  lambda m, v: leave_one_out_metrics(m, v, k=p["k"], n_negatives=None)["ndcg"],
                  metric=f"validation NDCG@{p['k']}", higher_is_better=True, budget=p["budget"], fit=fit)


def rating_search(name: str, configs, fit_part, validation):
    """One model's search on ``course_split``'s validation part (validation RMSE; torch models stop early)."""
    from recsys_lab.metrics import rmse
    from recsys_lab.training import EarlyStopping
    from recsys_lab.tuning import search

    make = rating_builds()[name][0]
    p = PROTOCOL
    torch_model = name in TORCH_RATING_MODELS
    extra = {"epochs": p["rating_max_epochs"], "seed": p["seed"]} if torch_model else {}

    def fit(model, fit_data, val_data):
        model.fit(fit_data, validation=val_data, early_stopping=EarlyStopping(patience=p["rating_patience"]),
                  progress=False)

    return search(lambda s: make(**{**s, **extra}), configs, fit_part, validation,
                  lambda m, v: rmse(v.rating, m.predict(v.user, v.item)), metric="validation RMSE",
                  higher_is_better=False, budget=p["budget"], fit=fit if torch_model else None)


def run(quick: bool = False):
    from recsys_lab.data import course_split, load_movielens

    ratings = load_movielens().ratings
    if quick:
        ratings = ratings[ratings.user <= 60].reset_index(drop=True)
    with torch_threads(1):                       # the notebook trains on one thread
        train, _, fit_part, validation = implicit_split(ratings)
        ranking = {name: ranking_search(name, configs, fit_part, validation)
                   for name, (_, configs) in ranking_builds().items()}
        split = course_split(ratings)
        rating = {name: rating_search(name, configs, split.fit, split.validation)
                  for name, (_, configs) in rating_builds().items()}
    record = {"protocol": {**PROTOCOL, "train_rows": int(len(train)), "fit_rows": int(len(fit_part)),
                           "validation_users": [int(u) for u in validation.user],
                           "rating_fit_rows": int(len(split.fit)), "rating_validation_rows": int(len(split.validation))},
              "ranking": {name: r.to_record() for name, r in ranking.items()},
              "rating": {name: r.to_record() for name, r in rating.items()}}
    if not quick:
        OUT.write_text(json.dumps(record, indent=1) + "\n")
    rows = []
    for part, results in (("implicit (leave-one-out)", ranking), ("ratings (course_split)", rating)):
        for name, r in results.items():
            rows.append({"part": part, "model": name, "settings tried": len(r.trials), "chosen": json.dumps(r.best_params),
                         "best epoch": r.best.best_epoch if r.best.best_epoch is not None else "",
                         r.metric: r.best.score, "search s": sum(t.seconds for t in r.trials)})
    note = (f"{machine_note()} Notebook 10's searches, {PROTOCOL['budget']} settings per model on a validation split "
            f"inside the training part; every trial in `docs/benchmarks/ncf_tuning.json`, which the notebook reads "
            f"and checks by re-running one trial of each part. Torch on one thread.")
    return [Section("Notebook 10: one tuning budget for every model", rows, note)]
