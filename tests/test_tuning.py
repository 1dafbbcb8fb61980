"""recsys_lab.tuning: grids and random draws are reproducible, the budget is enforced, the best
setting is the best score (ties: the earlier setting), bad input is refused."""
import math

import numpy as np
import pandas as pd
import pytest

from recsys_lab.data import course_split, make_synthetic_ratings
from recsys_lab.metrics import rmse
from recsys_lab.models import BiasBaseline, MatrixFactorization
from recsys_lab.training import EarlyStopping
from recsys_lab.tuning import grid, random_configs, search


def test_grid_is_the_cartesian_product_in_order():
    assert grid(a=[1, 2], b=["x", "y"]) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"},
                                            {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(ValueError, match="axis 'b'"):
        grid(a=[1], b=[])
    with pytest.raises(ValueError, match="axis 'a'"):
        grid(a="12")


def test_random_configs_reproducible_in_range_and_checked():
    space = {"lr": (1e-4, 1e-1, "log"), "k": (8, 64, "int"), "act": ["relu", "tanh"], "p": (0.0, 0.5)}
    a, b = random_configs(space, 50, seed=3), random_configs(space, 50, seed=3)
    assert a == b and a != random_configs(space, 50, seed=4)
    assert all(1e-4 <= c["lr"] <= 1e-1 and 8 <= c["k"] <= 64 and c["act"] in ("relu", "tanh")
               and 0 <= c["p"] <= 0.5 for c in a)
    assert len({c["k"] for c in a}) > 10 and {c["act"] for c in a} == {"relu", "tanh"}
    logs = np.log10([c["lr"] for c in random_configs(space, 400, seed=0)])
    assert abs(np.median(logs) - (-2.5)) < 0.25            # log-uniform: median at the middle decade
    for bad in ({"x": []}, {"x": (1, 1)}, {"x": (0, 1, "log")}, {"x": (0, 1, "cubic")}, {"x": 3}):
        with pytest.raises(ValueError, match="space"):
            random_configs(bad, 2)
    with pytest.raises(ValueError, match="n"):
        random_configs(space, 0)


class _Fixed:
    """A stand-in model whose validation score is given by its setting."""

    def __init__(self, value):
        self.value, self.fitted = value, False

    def fit(self, train):
        self.fitted = True
        return self


def _score(model, validation):
    assert model.fitted
    return model.value


def test_best_is_the_best_score_and_ties_go_to_the_earlier_setting():
    configs = [{"value": v} for v in (3.0, 1.0, 2.0, 1.0)]
    low = search(lambda p: _Fixed(**p), configs, None, None, _score, metric="loss", higher_is_better=False, budget=4)
    assert low.best.params == {"value": 1.0} and low.trials.index(low.best) == 1
    high = search(lambda p: _Fixed(**p), configs, None, None, _score, metric="acc", higher_is_better=True, budget=5)
    assert high.best_params == {"value": 3.0}
    table = low.table()
    assert list(table["loss"]) == [3.0, 1.0, 2.0, 1.0] and len(table) == 4
    assert "4 of a budget of 4" in low.describe()


def test_budget_and_bad_scores_are_refused():
    configs = [{"value": 1.0}] * 3
    with pytest.raises(ValueError, match="exceed the budget of 2"):
        search(lambda p: _Fixed(**p), configs, None, None, _score, metric="m", higher_is_better=True, budget=2)
    with pytest.raises(ValueError, match="budget"):
        search(lambda p: _Fixed(**p), configs, None, None, _score, metric="m", higher_is_better=True, budget=0)
    with pytest.raises(ValueError, match="empty"):
        search(lambda p: _Fixed(**p), [], None, None, _score, metric="m", higher_is_better=True, budget=2)
    with pytest.raises(ValueError, match="not a finite number"):
        search(lambda p: _Fixed(**p), [{"value": math.nan}], None, None, _score, metric="m",
               higher_is_better=True, budget=1)
    with pytest.raises(TypeError, match=r"configs\[0\]"):
        search(lambda p: _Fixed(p), [("value", 1)], None, None, _score, metric="m", higher_is_better=True, budget=1)


def test_search_on_real_models_picks_the_validation_best_and_records_epochs():
    ratings = make_synthetic_ratings(n_users=60, n_items=40, density=0.3, seed=0).ratings
    split = course_split(ratings)
    score = lambda m, v: rmse(v.rating, m.predict(v.user, v.item))
    result = search(lambda p: BiasBaseline(**p), grid(reg_user=[0.0, 5.0, 25.0]), split.fit, split.validation, score,
                    metric="val RMSE", higher_is_better=False, budget=3)
    direct = [score(BiasBaseline(reg_user=r).fit(split.fit), split.validation) for r in (0.0, 5.0, 25.0)]
    assert [t.score for t in result.trials] == pytest.approx(direct)
    assert result.best.score == min(direct)
    fit = lambda m, t, v: m.fit(t, validation=v, early_stopping=EarlyStopping(patience=1), progress=False)
    mf = search(lambda p: MatrixFactorization(n_factors=4, epochs=30, batch_size=256, **p),
                [{"learning_rate": 0.05}], split.fit, split.validation, score, metric="val RMSE",
                higher_is_better=False, budget=1, fit=fit)
    trial = mf.best
    assert trial.epochs is not None and 1 <= trial.best_epoch <= trial.epochs <= 30


def test_a_search_survives_its_json_record():
    import json

    from recsys_lab.tuning import SearchResult

    configs = [{"value": v} for v in (3.0, 1.0, 2.0, 1.0)]
    result = search(lambda p: _Fixed(**p), configs, None, None, _score, metric="loss", higher_is_better=False, budget=4)
    from recsys_lab.tuning import Trial

    result.trials[2] = Trial({"value": 2.0}, 2.0, 0.01, 5, 3)
    back = SearchResult.from_record(json.loads(json.dumps(result.to_record())))
    assert back.best_params == result.best_params and back.trials.index(back.best) == 1
    pd.testing.assert_frame_equal(back.table().drop(columns="fit s"), result.table().drop(columns="fit s"))
    assert back.budget == 4 and back.metric == "loss" and not back.higher_is_better
    with pytest.raises(ValueError, match="needs budget"):
        SearchResult.from_record({"metric": "loss", "higher_is_better": False, "trials": []})
    with pytest.raises(ValueError, match="trial 0 of the record needs"):
        SearchResult.from_record({**result.to_record(), "trials": [{"params": {}}]})
