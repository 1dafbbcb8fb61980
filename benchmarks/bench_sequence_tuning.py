"""The tuning behind notebook 15's next-item comparison: every tuned model gets the same budget.

Notebook 15 asks "which movie does each user rate next?" on ml-latest-small under leave-last-out
(``leave_one_out``: each user's latest interaction is the test item), restricted to the movies with
at least 50 training interactions. A comparison is fair only if every model had the same chance to
be tuned, and the test set played no part in it. So this module, run by ``make bench``, carves a
validation split out of the notebook's *training* part (each user's latest training interaction,
``leave_one_out`` again), tries ``BUDGET`` settings per model on it (a stated grid for the one-knob
models; for the neural ones the notebook's first setting plus draws of
``recsys_lab.tuning.random_configs`` from one stated space, the same draws for all three), scores
each by full-catalogue NDCG@10 of the validation item, and records every trial and the choice in
``docs/benchmarks/sequence_tuning.json``.

The neural models train at most ``MAX_EPOCHS`` epochs with early stopping on the validation split
(patience 3, best weights restored); the epochs recorded are those of the best validation epoch.
Then, once, each chosen neural setting is refitted on the whole training part for that many epochs
at model seeds 0, 1 and 2 and ranked on the test users (full catalogue and among 100 sampled
negatives, ``leave_one_out_ranks``); the per-user ranks are recorded so the notebook, which refits
seed 0 itself and checks it reproduces the record exactly, can report all three seeds within its
time budget. No choice is made on those test ranks.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from recsys_lab.data import keep_frequent_items, leave_one_out, load_movielens
from recsys_lab.models import EASE, GRU4Rec, ItemKNN, ItemTransitions, RecentPopular, SASRec
from recsys_lab.models.ncf import leave_one_out_metrics, leave_one_out_ranks
from recsys_lab.training import EarlyStopping
from recsys_lab.tuning import grid, random_configs, search

from .common import Section, machine_note, search_record, search_rows, torch_threads

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "sequence_tuning.json"

# The notebook's protocol (notebook 15's parameters cell must agree; it checks).
MIN_ITEM_RATINGS, K, SEED, N_NEGATIVES = 50, 10, 0, 100
MODEL_SEEDS = (0, 1, 2)
BUDGET = 4                  # settings tried per tuned model, the same for every one
MAX_EPOCHS = 30             # neural models: at most this many epochs, early stopping decides
PATIENCE = 3
FIXED = {"n_factors": 32, "max_length": 20, "batch_size": 128}   # not searched, for the notebook's time
NEURAL_SPACE = {"learning_rate": (0.001, 0.02, "log"), "dropout": [0.0, 0.1, 0.2, 0.3]}
NEURAL_START = {"learning_rate": 0.005, "dropout": 0.2}
NEURAL = {"GRU4Rec": lambda p: GRU4Rec(**FIXED, **p),
          "SASRec (CE)": lambda p: SASRec(**FIXED, loss="ce", **p),
          "SASRec (BCE)": lambda p: SASRec(**FIXED, loss="bce", **p)}
GRIDS = {"RecentPopular": {"n_recent": [3000, 1000, 10000, 30000]},
         "ItemTransitions": {"n_last": [1, 2, 3, 5]},
         "EASE": {"reg": [250.0, 50.0, 100.0, 1000.0]},
         "item-kNN (sum)": {"k": [20, 10, 50, 100]}}
ONE_KNOB = {"RecentPopular": lambda p: RecentPopular(**p), "ItemTransitions": lambda p: ItemTransitions(**p),
            "EASE": lambda p: EASE(**p), "item-kNN (sum)": lambda p: ItemKNN(ranking="sum", **p)}


def protocol():
    """(train, test, inner_train, validation): leave-last-out on the frequent movies, and again inside train."""
    ml = load_movielens()
    train, test = keep_frequent_items(*leave_one_out(ml.ratings), MIN_ITEM_RATINGS)
    inner, validation = keep_frequent_items(*leave_one_out(train), 1)   # validation items known to inner
    return train, test, inner, validation


def neural_configs() -> list[dict]:
    return [dict(NEURAL_START)] + random_configs(NEURAL_SPACE, BUDGET - 1, seed=SEED)


def _score(model, validation):
    return leave_one_out_metrics(model, validation, k=K, n_negatives=None)["ndcg"]


def _torch_fit(model, train, validation):
    model.fit(train, validation=validation, early_stopping=EarlyStopping(patience=PATIENCE), progress=False)


def test_ranks(make, train, test) -> dict:
    """Full and sampled ranks of every test user's item, per model seed, for one chosen setting."""
    out = {}
    for seed in MODEL_SEEDS:
        ranks = leave_one_out_ranks(make(seed).fit(train, progress=False), test, n_negatives=N_NEGATIVES, seed=SEED)
        out[str(seed)] = {"rank": ranks["rank"].tolist(), "sampled_rank": ranks["sampled_rank"].tolist()}
    return out


def tune(quick: bool = False) -> dict:
    train, test, inner, validation = protocol()
    if quick:  # a smoke run: a tenth of the users, two settings
        users = sorted(train.user.unique())[::10]
        inner, validation = inner[inner.user.isin(users)], validation[validation.user.isin(users)]
    results, started = {}, time.perf_counter()
    for name, build in ONE_KNOB.items():
        results[name] = search(build, grid(**GRIDS[name]), inner, validation, _score,
                               metric="validation NDCG@10", higher_is_better=True, budget=BUDGET)
    configs = neural_configs()[:2 if quick else BUDGET]
    with torch_threads(1):
        for name, build in NEURAL.items():
            results[name] = search(lambda p, b=build: b({**p, "epochs": 2 if quick else MAX_EPOCHS, "seed": SEED}),
                                   configs, inner, validation, _score, metric="validation NDCG@10",
                                   higher_is_better=True, budget=BUDGET, fit=_torch_fit)
        tested = {}
        if not quick:
            for name, build in NEURAL.items():
                best = results[name].best
                tested[name] = test_ranks(lambda s, b=build, t=best: b({**t.params, "epochs": t.best_epoch, "seed": s}),
                                          train, test)
    return {
        "protocol": {"split": "leave_one_out (each user's latest interaction; ties: the larger item id)",
                     "min_item_ratings": MIN_ITEM_RATINGS, "k": K, "seed": SEED, "n_negatives": N_NEGATIVES,
                     "train_rows": int(len(train)), "test_rows": int(len(test)),
                     "validation_rows": int(len(validation)), "inner_train_rows": int(len(inner)),
                     "test_users": [int(u) for u in test.user]},
        "budget": BUDGET, "max_epochs": MAX_EPOCHS, "patience": PATIENCE, "fixed": FIXED,
        "spaces": {"neural": {k: list(v) if isinstance(v, tuple) else v for k, v in NEURAL_SPACE.items()},
                   **GRIDS},
        "models": search_record(results),
        "model_seeds": list(MODEL_SEEDS),
        "test_ranks": tested,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_note(),
    }


def run(quick: bool = False):
    record = tune(quick)
    if not quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(record, indent=1) + "\n")
    rows = search_rows(record["models"], first="first setting")
    p = record["protocol"]
    note = (f"{machine_note()} Notebook 15's protocol: leave-last-out per user, movies with at least "
            f"{p['min_item_ratings']} training interactions ({p['train_rows']:,} train rows, {p['test_rows']} test "
            f"users); validation = each user's latest training interaction ({p['validation_rows']} users), the test "
            f"set untouched by the search. Budget {record['budget']} settings per tuned model (MostPopular has none); "
            f"neural models at most {record['max_epochs']} epochs with early stopping (patience {record['patience']}), "
            f"fixed {json.dumps(record['fixed'])}. Then each chosen neural setting is ranked once on the test users at "
            f"model seeds {record['model_seeds']} (per-user ranks in `docs/benchmarks/sequence_tuning.json`). "
            f"Took {record['seconds']} s.")
    return [Section("Notebook 15: the same tuning budget for every next-item model", rows, note)]
