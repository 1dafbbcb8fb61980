"""The benchmark's tuning plan (benchmarks/leaderboard_tuning.py): one budget for every model, stated spaces."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package sits beside the kit
from benchmarks.leaderboard_tuning import BUDGET, SEARCHES, configs_of, space_text, trials_rows  # noqa: E402


@pytest.mark.parametrize("label", list(SEARCHES))
def test_every_search_tries_exactly_the_budget(label):
    configs = configs_of(label)
    assert len(configs) == BUDGET
    _, start, space = SEARCHES[label]
    if start is not None:
        assert configs[0] == start                      # the setting used before tuning is tried first
    for config in configs:
        assert set(config) == set(space)


def test_configs_are_reproducible_and_inside_the_space():
    assert configs_of("Surprise SVD") == configs_of("Surprise SVD")
    for config in configs_of("MatrixFactorization")[1:]:
        assert config["n_factors"] in (32, 64, 128)
        assert 0.003 <= config["learning_rate"] <= 0.03 and 0.02 <= config["reg"] <= 0.5


def test_space_text_names_every_knob():
    text = space_text("Surprise SVD")
    for knob in ("n_factors", "lr_all", "reg_all", "n_epochs"):
        assert knob in text


def test_trials_rows_marks_the_best_with_ties_to_the_earlier():
    trial = lambda p, s: {"params": p, "score": s, "fit_s": 0.1, "epochs": None, "best_epoch": None}
    record = {"A": {"task": "rating", "metric": "validation RMSE",
                    "trials": [trial({"x": 1}, 0.9), trial({"x": 2}, 0.8), trial({"x": 3}, 0.8)]},
              "B": {"task": "ranking", "metric": "validation NDCG@10",
                    "trials": [trial({"y": 1}, 0.1), trial({"y": 2}, 0.3)]}}
    rows = trials_rows(record)
    assert [r["chosen"] for r in rows] == ["", "yes", "", "", "yes"]


def test_seeded_passes_a_seed_only_to_classes_that_take_one():
    from benchmarks.leaderboard_tuning import SEED, seeded

    class TakesSeed:
        def __init__(self, factors=8, random_state=None):
            pass

    class NoSeed:  # like implicit's item kNN recommenders
        def __init__(self, K=20, num_threads=0):
            pass

    def factory(factors=8, random_state=None):  # implicit's AlternatingLeastSquares is a function like this
        return TakesSeed(factors, random_state)

    assert seeded(TakesSeed, {"factors": 4}) == {"factors": 4, "random_state": SEED}
    assert seeded(factory, {"factors": 4}) == {"factors": 4, "random_state": SEED}
    assert seeded(NoSeed, {"K": 50}) == {"K": 50}


def test_seeded_seeds_implicit_s_real_models():
    implicit = pytest.importorskip("implicit")
    import implicit.als
    import implicit.nearest_neighbours

    from benchmarks.leaderboard_tuning import SEED, seeded

    assert seeded(implicit.als.AlternatingLeastSquares, {}) == {"random_state": SEED}
    assert seeded(implicit.nearest_neighbours.CosineRecommender, {"K": 50}) == {"K": 50}


def test_the_item_knn_searches_share_the_budget_and_start_from_the_earlier_settings():
    kit, peer = configs_of("ItemKNN (ranked by similarity sum)"), configs_of("implicit item cosine")
    assert len(kit) == len(peer) == BUDGET
    assert kit[0] == {"k": 40, "keep": 500, "similarity": "adjusted_cosine", "shrinkage": 100.0}
    assert peer[0] == {"K": 50}


def test_the_ncf_record_was_made_by_the_bench_s_current_searches():
    """Notebook 10 reads docs/benchmarks/ncf_tuning.json only when it matches its own parameters and spaces
    (and prints which path it took, so nbval sees a fallback); this keeps the record and the bench together."""
    import json

    from benchmarks.bench_ncf_tuning import OUT, PROTOCOL, ranking_builds, rating_builds

    record = json.loads(OUT.read_text())
    assert {key: record["protocol"][key] for key in PROTOCOL} == PROTOCOL
    for part, builds in (("ranking", ranking_builds()), ("rating", rating_builds())):
        assert set(record[part]) == set(builds)
        for name, (_, configs) in builds.items():
            assert [t["params"] for t in record[part][name]["trials"]] == configs, (part, name)
            assert record[part][name]["budget"] == PROTOCOL["budget"]
