"""Checks for the exercises of notebook 09 (matrix factorization). Solutions:
``notebooks/solutions/09_matrix_factorization.ipynb``.

The checks receive the notebook's fitted models (``model``: the final ``MatrixFactorization``,
``baseline``: the final ``BiasBaseline``) and its data as context, and recompute the reference from
them: a fitted model is not the answer. :func:`context` fits the same models the same way (the
benchmark's recorded MF setting, the bias baseline's validation search of section 3), for the tests
and the solutions notebook.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import Verdict, check_answer
from . import register

# The notebook's settings: MF's from the benchmark's recorded search (docs/benchmarks/leaderboard_tuning.json,
# run on course_split's fit/validation split), the bias baseline's from its own search of the same budget.
MF_SETTINGS = dict(n_factors=64, learning_rate=0.01, reg=0.2, epochs=11, batch_size=1024, seed=0)
BIAS_SPACE = {"reg_user": (1.0, 50.0, "log"), "reg_item": (1.0, 50.0, "log")}
BUDGET = 6
USER, MOVIE = 1, 3114          # 09.1: user 1 and Toy Story 2
TOP_USER, TOP_K = 4, 5         # 09.3: user 4 (three of their unmasked top 5 are rated)
LIGHT = 50                     # 09.4: a "light" user has fewer training ratings than this


def bias_configs():
    """The bias baseline's ``BUDGET`` settings: its defaults, then draws from ``BIAS_SPACE`` (seed 0)."""
    from ..tuning import random_configs

    return [{"reg_user": 15.0, "reg_item": 10.0}] + random_configs(BIAS_SPACE, BUDGET - 1, seed=0)


@lru_cache(maxsize=1)
def _fitted():
    import torch

    from ..data import course_split, load_movielens
    from ..evaluation import evaluate_ratings
    from ..models import BiasBaseline, MatrixFactorization
    from ..tuning import search

    torch.set_num_threads(1)
    split = course_split(load_movielens().ratings)
    train, test = split
    bias_search = search(lambda p: BiasBaseline(**p), bias_configs(), split.fit, split.validation,
                         score=lambda m, v: evaluate_ratings(m, v)["rmse"], metric="validation RMSE",
                         higher_is_better=False, budget=BUDGET)
    model = MatrixFactorization(**MF_SETTINGS).fit(train, progress=False)
    baseline = BiasBaseline(**bias_search.best_params).fit(train)
    return {"model": model, "baseline": baseline, "train": train, "test": test}


def context():
    """Everything the notebook's check cells pass: ``model``, ``baseline``, ``train``, ``test``."""
    return dict(_fitted())


def _model_context():
    return {"model": _fitted()["model"]}


def _rows(model, user, item):
    return int(model.data_.users.to_index([user])[0]), int(model.data_.items.to_index([item])[0])


# 09.1 · check yourself: one prediction from the learned arrays -----------------------------------
def _prediction(model):
    return float(model.predict([USER], [MOVIE])[0])


def _prediction_wrong(model):
    u, i = _rows(model, USER, MOVIE)
    mu, bu, bi, P, Q = model.global_mean_, model.user_bias_, model.item_bias_, model.user_factors_, model.item_factors_
    raw_u = min(USER, len(bu) - 1)                          # the raw id used as a row number
    return [float(bu[u] + bi[i] + P[u] @ Q[i]),             # no global mean
            float(mu + P[u] @ Q[i]),                        # no biases
            float(mu + bu[raw_u] + bi[i] + P[raw_u] @ Q[i])]  # another user's row


@register("09.1", solution=_prediction, wrong=_prediction_wrong, context=_model_context)
def check_prediction(answer, model):
    """The prediction of ``model`` for user 1 and Toy Story 2 (item 3114), from its learned arrays."""
    wrong = _prediction_wrong(model)
    return check_answer(answer, _prediction(model), "prediction for user 1 and Toy Story 2", atol=1e-4, mistakes=[
        (wrong[0], "the global mean mu is missing: the prediction starts from the mean training rating."),
        (wrong[1], "the two biases b_u and b_i are missing."),
        (wrong[2], "that is another user's row: the arrays are indexed by row position, not by raw id; "
                   "`final.data_.users.to_index([1])[0]` gives the row of user 1."),
    ], hint="mu + b_u[u] + b_i[i] + P[u] @ Q[i], with u and i the *rows* of user 1 and movie 3114.")


# 09.2 · understanding: how many numbers does the model learn? ------------------------------------
def _n_parameters(model):
    return int(sum(p.numel() for p in model.network_.parameters() if p.requires_grad))


def _n_parameters_wrong(model):
    n_u, n_i, k = model.data_.n_users, model.data_.n_items, model.item_factors_.shape[1]
    return [(n_u + n_i) * k, (n_u + n_i) * (k + 1) + 1, n_u * n_i, (n_u + n_i) * (k + 2)]


@register("09.2", solution=_n_parameters, wrong=_n_parameters_wrong, context=_model_context)
def check_n_parameters(answer, model):
    """The number of values ``model`` learns (its vectors and biases; the global mean is fixed)."""
    if isinstance(answer, (bool, np.bool_)) or (answer is not ... and not float(np.asarray(answer)).is_integer()):
        print("❌ number of learned values: a count is a whole number.")
        return Verdict(False)
    wrong = _n_parameters_wrong(model)
    expected = _n_parameters(model)
    hint = ("go through the formula term by term: what does each user own, what does each movie own, and which "
            "of the terms is not learned? Use the training part's numbers of users and movies (final.data_).")
    if answer is not ... and int(answer) != expected and int(answer) not in wrong:
        # no "too high / too low" here: a direction would let the count be found by bisection
        print(f"❌ number of learned values: not the right count. Hint: {hint}")
        return Verdict(False)
    return check_answer(answer, expected, "number of learned values", atol=0, rtol=0, mistakes=[
        (wrong[0], "those are the vectors only: every user and every movie also has a bias."),
        (wrong[1], "the global mean mu is not learned: it is fixed at the mean training rating."),
        (wrong[2], "that is the number of cells of the rating matrix, the thing the model avoids storing."),
        (wrong[3], "one bias per user and one per movie, not two each."),
    ], hint=hint)


# 09.3 · change the code: a top-5 list by hand ---------------------------------------------------
def _top5(model):
    return [int(i) for i in model.recommend(TOP_USER, k=TOP_K).item]


def _top5_wrong(model):
    u = int(model.data_.users.to_index([TOP_USER])[0])
    scores = model.global_mean_ + model.user_bias_[u] + model.item_bias_ + model.item_factors_ @ model.user_factors_[u]
    ids = model.data_.items.ids
    rated = model.data_.item_index[model.data_.user_index == u]
    masked = scores.copy()
    masked[rated] = -np.inf
    dot_only = model.item_factors_ @ model.user_factors_[u]
    dot_only[rated] = -np.inf
    best = np.argsort(-masked, kind="stable")
    return [[int(i) for i in ids[np.argsort(-scores, kind="stable")[:TOP_K]]],       # rated movies kept
            [int(i) for i in ids[np.argsort(-dot_only, kind="stable")[:TOP_K]]],     # no biases
            [int(i) for i in ids[best[:TOP_K][::-1]]],                                # worst first
            [int(i) for i in best[:TOP_K]]]                                           # rows, not raw ids


@register("09.3", solution=_top5, wrong=_top5_wrong, context=_model_context)
def check_top5(answer, model):
    """User 4's five best-scored movies that they did not rate in training, raw ids, best first."""
    if answer is not ...:
        try:
            answer = [int(i) for i in np.asarray(answer).ravel()]
        except (TypeError, ValueError):
            print("❌ user 4's top 5: expected a list of 5 raw movie ids.")
            return Verdict(False)
        if len(answer) != TOP_K:
            print(f"❌ user 4's top 5: expected {TOP_K} movie ids, got {len(answer)}.")
            return Verdict(False)
    expected = _top5(model)
    wrong = _top5_wrong(model)
    if answer is not ... and answer != expected and sorted(answer) == sorted(expected):
        print("❌ user 4's top 5: the right movies in the wrong order: best first.")
        return Verdict(False)
    return check_answer(answer, expected, "user 4's top 5", atol=0, rtol=0, mistakes=[
        (wrong[0], "some of these movies user 4 rated in training: leave them out (set their score to -inf)."),
        (wrong[1], "that ranks by the dot product alone: the biases change the order too."),
        (wrong[3], "those are row positions: turn them into raw ids with final.data_.items.ids[rows]."),
    ], hint="scores = mu + b_u[u] + b_i + Q @ P[u] for every movie; the rated ones to -np.inf; "
            "np.argsort(-scores)[:5]; then the raw ids.")


# 09.4 · open question, checkable part: where does MF's gain come from? ---------------------------
def _gain_context():
    return context()


def _gains(model, baseline, train, test, light=LIGHT, counts=None):
    """(gain on light users' test ratings, gain on the others'), gain = RMSE(baseline) - RMSE(model)."""
    counts = train.groupby("user").size() if counts is None else counts
    n = counts.reindex(test.user).fillna(0).to_numpy()
    y = test.rating.to_numpy()
    se_model = (model.predict(test.user, test.item) - y) ** 2
    se_base = (baseline.predict(test.user, test.item) - y) ** 2
    out = []
    for mask in (n < light, n >= light):
        out.append(float(np.sqrt(se_base[mask].mean()) - np.sqrt(se_model[mask].mean())))
    return out


def _gains_wrong(model, baseline, train, test):
    right = _gains(model, baseline, train, test)
    y = test.rating.to_numpy()
    counts_all = train.groupby("user").size().add(test.groupby("user").size(), fill_value=0)
    n = train.groupby("user").size().reindex(test.user).fillna(0).to_numpy()
    se_model = (model.predict(test.user, test.item) - y) ** 2
    se_base = (baseline.predict(test.user, test.item) - y) ** 2
    mse = [float(se_base[m].mean() - se_model[m].mean()) for m in (n < LIGHT, n >= LIGHT)]
    return [right[::-1], [-g for g in right], mse,
            _gains(model, baseline, train, test, counts=counts_all)]


@register("09.4", solution=lambda **ctx: _gains(**ctx), wrong=_gains_wrong, context=_gain_context)
def check_gains(answer, model, baseline, train, test):
    """``[gain for light users, gain for the others]``: test RMSE of the bias baseline minus MF's, over
    the test ratings of users with fewer than 50 training ratings, and over the rest."""
    right = _gains(model, baseline, train, test)
    wrong = _gains_wrong(model, baseline, train, test)
    return check_answer(answer, np.array(right), "RMSE gains (light users, the others)", atol=2e-4, rtol=0, mistakes=[
        (wrong[0], "the two numbers are swapped: light users (fewer than 50 training ratings) first."),
        (wrong[1], "the sign is reversed: a gain is the baseline's RMSE minus MF's (positive when MF is better)."),
        (wrong[2], "those are differences of mean squared errors; take the square root of each MSE first."),
        (wrong[3], "you counted each user's ratings in train *and* test: the groups must be formed from what "
                   "was known at training time, the training ratings."),
    ], hint="give every test rating its user's number of training ratings, split the test ratings by it, and "
            "compute both models' RMSE within each group before subtracting.")
