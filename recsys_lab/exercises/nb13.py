"""Checks for the exercises of notebook 13 (evaluating recommenders honestly). Solutions:
``notebooks/solutions/13_evaluation.ipynb``.

Every check receives the notebook's ``train`` and ``test`` (the per-user temporal split restricted
to the movies with at least 20 training ratings) and computes its reference from them with the
kit, so nothing in the learner's notebook shows the answer."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import Verdict, check_answer
from ..data import keep_frequent_items, load_movielens, temporal_split
from ..evaluation import evaluate_ranking
from ..models import EASE, MostPopular
from . import register

K = 10
USER = 42
REG_GRID = (50.0, 100.0, 250.0, 1000.0)


def _protocol():
    """The notebook's split (TEST_FRACTION = 0.2, MIN_ITEM_RATINGS = 20)."""
    train, test = keep_frequent_items(*temporal_split(load_movielens().ratings, test_fraction=0.2), 20)
    return {"train": train, "test": test}


def _report(train, test):
    # cached on the frames' sizes and a checksum, so the tests and the notebook fit once
    key = (len(train), len(test), int(train.item.sum() % 1_000_003), int(test.item.sum() % 1_000_003))
    return _cache.setdefault(key, evaluate_ranking(MostPopular().fit(train), test, k=K))


_cache: dict = {}


def _hits_of_user(train, test, user=USER):
    report = _report(train, test)
    relevant = set(test.item[test.user == user])
    recs = report.recommendations[user][:K]
    return sum(item in relevant for item in recs), len(relevant)


# 13.1 · understanding: recall@10 of one user ----------------------------------------------------
def _recall(train, test):
    return float(_report(train, test).per_user.loc[USER, "recall"])


def _recall_wrong(train, test):
    hits, n_relevant = _hits_of_user(train, test)
    return [hits / K, float(hits), n_relevant / K]


@register("13.1", solution=_recall, wrong=_recall_wrong, context=_protocol)
def check_recall_of_user(answer, train, test):
    """Recall@10 of MostPopular's list for user 42: hits in the top 10 / the user's held-out movies."""
    hits, n_relevant = _hits_of_user(train, test)
    return check_answer(answer, _recall(train, test), f"recall@10 of MostPopular for user {USER}", atol=1e-9, mistakes=[
        (hits / K, "that is precision@10 (hits / K); recall divides by the number of held-out movies."),
        (float(hits), "that is the number of hits; recall is a share of the held-out movies."),
    ], hint="a share lies between 0 and 1: hits among the top 10, divided by len(relevant).")


# 13.2 · change the code: the hit rate from the lists --------------------------------------------
def _hit_rate(train, test):
    return float(_report(train, test).summary["hit_rate"])


def _hit_rate_wrong(train, test):
    summary = _report(train, test).summary
    return [float(summary["recall"]), float(summary["precision"]), float(summary["ndcg"])]


@register("13.2", solution=_hit_rate, wrong=_hit_rate_wrong, context=_protocol)
def check_hit_rate(answer, train, test):
    """MostPopular's HitRate@10: the share of test users with at least one hit in their top 10."""
    report = _report(train, test)
    return check_answer(answer, _hit_rate(train, test), "MostPopular HitRate@10", atol=1e-9, mistakes=[
        (float(report.summary["recall"]), "that is the mean recall; the hit rate asks only *whether* a user got a hit."),
        (float(report.summary["precision"]), "that is the mean precision (hits / 10): count a user once if any hit."),
    ], hint="for each user: any(item in held-out set for item in list[:10]); then the mean over users.")


# 13.3 · open question with a checkable part: tuning EASE honestly --------------------------------
@lru_cache(maxsize=4)
def _validation_scores(n_train: int, key: int):
    train = _train_by_key[(n_train, key)]
    inner, validation = temporal_split(train, test_fraction=0.2)
    return {reg: float(evaluate_ranking(EASE(reg=reg).fit(inner), validation, k=K).summary["ndcg"])
            for reg in REG_GRID}


_train_by_key: dict = {}


def _scores_for(train):
    key = (len(train), int(train.item.sum() % 1_000_003))
    _train_by_key[key] = train
    return _validation_scores(*key)


def _best_reg(train, test):
    scores = _scores_for(train)
    return max(REG_GRID, key=lambda reg: (scores[reg], -REG_GRID.index(reg)))


def _test_scores(train, test):
    return {reg: float(evaluate_ranking(EASE(reg=reg).fit(train), test, k=K).summary["ndcg"]) for reg in REG_GRID}


def _reg_wrong(train, test):
    best = _best_reg(train, test)
    return [reg for reg in REG_GRID if reg != best]


@register("13.3", solution=_best_reg, wrong=_reg_wrong, context=_protocol)
def check_reg_chosen_on_validation(answer, train, test):
    """The reg of REG_GRID with the highest NDCG@10 on the validation split carved out of ``train``."""
    if not (answer is ... or isinstance(answer, (int, float, np.integer, np.floating))):
        print("❌ the reg chosen on validation: answer with one number of REG_GRID.")
        return Verdict(False)
    if answer is not ... and float(answer) not in REG_GRID:
        print(f"❌ the reg chosen on validation: {answer} is not in REG_GRID; choose one of its values.")
        return Verdict(False)
    test_scores = _test_scores(train, test)
    test_best = max(REG_GRID, key=lambda reg: test_scores[reg])
    best = _best_reg(train, test)
    mistakes = [(test_best, "that reg is the best on the *test* set; choose on validation, or the test score "
                            "is no longer an honest estimate.")] if test_best != best else []
    return check_answer(answer, best, "the reg chosen on validation", atol=0, rtol=0, mistakes=mistakes,
                        hint="compute validation_ndcg(reg) for each reg of REG_GRID and keep the largest.")
