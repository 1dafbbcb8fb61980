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
