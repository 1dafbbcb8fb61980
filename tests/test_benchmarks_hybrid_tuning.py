"""Notebook 12's tuning (benchmarks/bench_hybrid_tuning.py): one budget for every model, recorded per split seed
(the notebook reads the record of its SEED), and the recorded choices are the best recorded trials (the notebook
fits exactly these)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package sits beside the kit
from benchmarks.bench_hybrid_tuning import (BUDGET, GRIDS, MF_START, OUT, SEEDS, SPLIT, SPLIT_SEEDS,  # noqa: E402
                                            protocol)


@pytest.mark.parametrize("name", list(GRIDS))
def test_every_grid_holds_exactly_the_budget(name):
    assert len(GRIDS[name]) == BUDGET
    assert len({json.dumps(p, sort_keys=True) for p in GRIDS[name]}) == BUDGET   # no setting tried twice


def test_the_record_is_keyed_by_split_seed():
    record = json.loads(OUT.read_text())
    assert sorted(record) == sorted(str(s) for s in SPLIT_SEEDS)
    assert SPLIT["seed"] in SPLIT_SEEDS                                            # the notebook's default split


@pytest.mark.parametrize("split_seed", SPLIT_SEEDS)
def test_the_recorded_choice_is_the_best_trial_of_the_budget(split_seed):
    record = json.loads(OUT.read_text())[str(split_seed)]
    assert record["protocol"]["seed"] == split_seed and record["budget"] == BUDGET
    assert {k: v for k, v in record["protocol"].items() if k in SPLIT and k != "seed"} == \
        {k: v for k, v in SPLIT.items() if k != "seed"}
    for name, m in record["models"].items():
        assert len(m["trials"]) == BUDGET, name
        higher = "nDCG" in m["metric"]
        sign = -1 if higher else 1                                  # ties go to the earlier setting
        best = min(enumerate(m["trials"]), key=lambda it: (sign * it[1]["score"], it[0]))[1]
        assert {k: m["chosen"][k] for k in best["params"]} == best["params"], name   # + the best epoch for MF
        assert m["trials"][0]["params"] == (MF_START if name == "MatrixFactorization" else GRIDS[name][0]), name


@pytest.mark.parametrize("split_seed", SPLIT_SEEDS)
def test_every_split_seed_has_a_seed_check_at_every_model_seed(split_seed):
    record = json.loads(OUT.read_text())[str(split_seed)]
    assert sorted(record["seed_check"]) == sorted(str(s) for s in SEEDS)
    assert str(split_seed) in record["seed_check"]                  # the notebook fits model seed = split seed
    for table in record["seed_check"].values():
        assert len(table) == 8 and all(set(t) == {"warm", "new users", "new items"} for t in table.values())


@pytest.mark.parametrize("split_seed", SPLIT_SEEDS)
def test_the_validation_split_is_carved_from_train_and_holds_warm_users_only(split_seed):
    ml, split, fit_part, validation = protocol(split_seed)
    train_pairs = set(zip(split.train.user, split.train.item))
    assert set(zip(validation.user, validation.item)) <= train_pairs
    assert set(zip(fit_part.user, fit_part.item)) <= train_pairs
    assert not set(zip(fit_part.user, fit_part.item)) & set(zip(validation.user, validation.item))
    assert not validation.user.isin(split.new_users).any()
    assert len(fit_part) + len(validation) == len(split.train)
