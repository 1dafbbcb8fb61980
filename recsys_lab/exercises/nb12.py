"""Checks for the exercises of notebook 12 (hybrids and cold start). Solutions:
``notebooks/solutions/12_hybrids_cold_start.ipynb``."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import Verdict, check_answer
from ..data import make_synthetic_ratings
from ..models.mf import ridge_user
from ..stats import bootstrap_means
from . import register


def _train_context():
    return {"train": make_synthetic_ratings(n_users=80, n_items=60, density=0.3, seed=12).ratings}


# 12.1 · understanding: who gets the cold model? -----------------------------------------------
MIN_RATINGS = 20


def _n_cold(train):
    return int((train.groupby("user").size() < MIN_RATINGS).sum())


def _n_cold_wrong(train):
    counts = train.groupby("user").size()
    return [int((counts <= MIN_RATINGS).sum()), int((counts >= MIN_RATINGS).sum()),
            int(counts[counts < MIN_RATINGS].sum())]


@register("12.1", solution=_n_cold, wrong=_n_cold_wrong, context=_train_context)
def check_cold_users(answer, train):
    """How many users of ``train`` have fewer than 20 ratings (a SwitchingHybrid with min_ratings=20
    serves them with its cold model)."""
    counts = train.groupby("user").size()
    if isinstance(answer, (bool, np.bool_)):
        print("❌ users served by the cold model: a count of users is a whole number, not a bool.")
        return Verdict(False)
    return check_answer(answer, _n_cold(train), "users served by the cold model", atol=0, rtol=0, mistakes=[
        (int((counts <= MIN_RATINGS).sum()), "a user with exactly 20 ratings already gets the warm model "
                                             "(at least min_ratings): use <, not <=."),
        (int((counts >= MIN_RATINGS).sum()), "that is the number of users served by the *warm* model."),
        (int(counts[counts < MIN_RATINGS].sum()), "that counts their ratings; count the users."),
    ], hint="count the ratings per user (groupby), then the users whose count is below min_ratings.")


# 12.2 · change the code: fold a new user into MF ----------------------------------------------

def fold_in_inputs():
    """A tiny fitted MF's item side and one new user's ratings:
    ``(item_factors (6, 2), item_bias (6,), global_mean, items, ratings, reg)``."""
    q = np.array([[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3], [0.4, 0.4], [0.0, -0.6], [0.8, 0.1]])
    b = np.array([0.3, -0.1, 0.2, 0.0, -0.4, 0.1])
    return q, b, 3.5, np.array([0, 1, 2, 4]), np.array([5.0, 2.0, 4.0, 1.0]), 0.1


def _fold_in():
    q, b, mu, items, ratings, reg = fold_in_inputs()
    p, bu = ridge_user(q, b, mu, items, ratings, reg)
    return np.r_[p, bu]


def _fold_in_wrong():
    q, b, mu, items, ratings, reg = fold_in_inputs()
    n = len(items)
    p, bu = ridge_user(q, b, mu, items, ratings, reg / n)          # penalty reg, not n * reg
    a = q[items]
    y = ratings - mu - b[items]
    no_bias = np.linalg.solve(a.T @ a + n * reg * np.eye(2), a.T @ y)
    free = np.linalg.lstsq(np.column_stack([a, np.ones(n)]), y, rcond=None)[0]
    forgot_item_bias = ridge_user(q, np.zeros(6), mu, items, ratings, reg)
    return [np.r_[p, bu], np.r_[no_bias, 0.0], free, np.r_[forgot_item_bias[0], forgot_item_bias[1]]]


@register("12.2", solution=_fold_in, wrong=_fold_in_wrong)
def check_fold_in(answer):
    """``[p_u, b_u]`` (shape (3,)) minimising MF's training objective for the new user of
    :func:`fold_in_inputs`, item parameters fixed."""
    wrong = _fold_in_wrong()
    return check_answer(answer, _fold_in(), "the new user's [p_u, b_u]", atol=1e-6, mistakes=[
        (wrong[0], "the penalty is paid once per rating in MF's loss: the new user's is n_u * reg, not reg."),
        (wrong[1], "the user's bias b_u is a parameter too: add a column of ones to A and solve for it."),
        (wrong[2], "that is plain least squares: the training objective penalises p_u and b_u (ridge)."),
        (wrong[3], "the target is r - mu - b_i: the item biases stay in the model, fixed."),
    ], hint="A = [q_i, 1] for the rated items; y = r - mu - b_i; solve (A^T A + n * reg * I) x = A^T y; "
            "x = [p_u, b_u], three numbers.")


# 12.3 · open question, checkable part: are two bucket gains distinguishable? -----------------

def _gains_context():
    rng = np.random.default_rng(12)
    users = np.arange(300)
    bucket = np.where(users < 100, "1-5", np.where(users < 200, "6-20", "21+"))
    base = rng.uniform(0, 0.4, 300)
    hybrid = base + np.where(bucket == "1-5", 0.03, np.where(bucket == "6-20", 0.01, 0.0)) + rng.normal(0, 0.05, 300)
    ndcg = {"Weighted(Popular, Content)": pd.Series(hybrid, index=users), "MostPopular": pd.Series(base, index=users)}
    groups = {label: bucket == label for label in ("1-5", "6-20", "21+")}
    gain = {label: float((hybrid - base)[mask].mean()) for label, mask in groups.items()}
    gains = pd.DataFrame({"gain": gain}).rename_axis("bucket")
    gains.index = pd.MultiIndex.from_product([["Weighted(Popular, Content)"], gains.index])
    return {"gains": gains, "ndcg": ndcg, "groups": groups, "seed": 0}


def _interval(gains, ndcg, groups, seed):
    g = gains.loc["Weighted(Popular, Content)"]["gain"].drop("all users", errors="ignore")
    largest, smallest = g.idxmax(), g.idxmin()
    d = {label: ndcg["Weighted(Popular, Content)"][groups[label]] - ndcg["MostPopular"][groups[label]]
         for label in (largest, smallest)}
    diff = bootstrap_means(d[largest], seed=seed) - bootstrap_means(d[smallest], seed=seed + 1)
    return np.quantile(diff, [0.025, 0.975])


def _distinguishable(gains, ndcg, groups, seed):
    low, high = _interval(gains, ndcg, groups, seed)
    return bool(low > 0 or high < 0)


@register("12.3", solution=_distinguishable,
          wrong=lambda **ctx: [not _distinguishable(**ctx), "yes", 1], context=_gains_context)
def check_distinguishable(answer, gains, ndcg, groups, seed):
    """Whether the 95% interval of (largest bucket gain - smallest bucket gain) excludes 0."""
    truth = _distinguishable(gains, ndcg, groups, seed)
    what = "are the two bucket gains distinguishable?"
    if answer is not ... and not isinstance(answer, (bool, np.bool_)):
        print(f"❌ {what} Answer with a bool (a yes/no decision), not {type(answer).__name__}.")
        return Verdict(False)
    return check_answer(answer if answer is ... else bool(answer), truth, what,
                        hint="resample each bucket's per-user gains (bootstrap_means, seeds SEED and SEED + 1), "
                             "subtract, take the 2.5% and 97.5% quantiles: distinguishable only if 0 lies outside.")
