"""Checks for the exercises of notebook 00 (the welcome notebook). Solutions:
``notebooks/solutions/00_welcome.ipynb``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import Verdict, check_answer
from ..data import load_movielens, random_split, top_rated
from ..metrics import rmse
from ..models import BiasBaseline
from . import register


@lru_cache(maxsize=1)
def _ratings():
    return load_movielens().ratings


def _split():
    """The notebook's default split (TEST_FRACTION = 0.2, SEED = 42)."""
    train, test = random_split(_ratings(), 0.2, seed=42)
    return {"train": train, "test": test}


# 00.1 · check yourself: the density -----------------------------------------------------
def _density():
    r = _ratings()
    return len(r) / (r.user.nunique() * r.item.nunique())


def _density_wrong():
    r = _ratings()
    return [1 - _density(), len(r) / (r.user.nunique() + r.item.nunique()), len(r)]


@register("00.1", solution=_density, wrong=_density_wrong)
def check_density(answer):
    """Density of the rating matrix: ratings / (users x items)."""
    r = _ratings()
    return check_answer(answer, _density(), "density of the rating matrix", rtol=1e-9, mistakes=[
        (1 - _density(), "that is the share of *empty* cells (the sparsity); density is the share of filled ones."),
        (len(r) / (r.user.nunique() + r.item.nunique()), "divide by the number of cells, users x items, not their sum."),
    ], hint="a share of cells lies between 0 and 1.")


# 00.2 · understanding: one movie's mean rating --------------------------------------------
def _shawshank():
    r = _ratings()
    return float(r.loc[r.item == 318, "rating"].mean())


def _shawshank_wrong():
    r = _ratings()
    return [float(r.rating.mean()), int((r.item == 318).sum()), float(r.loc[r.user == 318, "rating"].mean())]


@register("00.2", solution=_shawshank, wrong=_shawshank_wrong)
def check_shawshank_mean(answer):
    """Mean rating of item 318 over the full ratings table."""
    r = _ratings()
    return check_answer(answer, _shawshank(), "mean rating of item 318", atol=1e-6, mistakes=[
        (float(r.rating.mean()), "that is the mean of *all* ratings: keep only the rows with item == 318 first."),
        (int((r.item == 318).sum()), "that is how many ratings the movie has, not their mean."),
        (float(r.loc[r.user == 318, "rating"].mean()), "that is user 318's mean: filter on the item column."),
    ], hint="a mean rating lies between 0.5 and 5.")


# 00.3 · change the code: a baseline without shrinkage -------------------------------------
def _no_reg(train, test):
    model = BiasBaseline(reg_user=0, reg_item=0).fit(train)
    return float(rmse(test.rating, model.predict(test.user, test.item)))


def _default_rmse(train, test):
    return float(rmse(test.rating, BiasBaseline().fit(train).predict(test.user, test.item)))


@register("00.3", solution=_no_reg, wrong=lambda train, test: [_default_rmse(train, test), _no_reg(train, train)],
          context=_split)
def check_rmse_without_shrinkage(answer, train, test):
    """Test RMSE of BiasBaseline(reg_user=0, reg_item=0) fitted on ``train``."""
    return check_answer(answer, _no_reg(train, test), "test RMSE without shrinkage", atol=1e-4, mistakes=[
        (_default_rmse(train, test), "that is the *default* model's RMSE: fit BiasBaseline(reg_user=0, reg_item=0)."),
        (_no_reg(train, train), "that is the error on the training ratings: measure it on test."),
    ], hint="rmse(test.rating, model.predict(test.user, test.item)) of the unshrunk model.")


def _worse(train, test):
    return _no_reg(train, test) > _default_rmse(train, test)


@register("00.4", solution=_worse, wrong=lambda train, test: [not _worse(train, test), 1, "yes"], context=_split)
def check_shrinkage_helps(answer, train, test):
    """``True`` if the model without shrinkage has the larger test RMSE."""
    if isinstance(answer, np.bool_):            # e.g. rmse_no_reg > rmse_default on numpy floats
        answer = bool(answer)
    if not (answer is ... or isinstance(answer, bool)):
        print("❌ is it worse without shrinkage?: answer with a bool (yes or no as a Python bool).")
        return Verdict(False)
    return check_answer(answer, _worse(train, test), "is it worse without shrinkage?",
                        hint="compare your RMSE with the default model's, from section 4.")


# 00.5 · open question with a checkable part: the best-rated movie -------------------------
MIN_RATINGS = 20   # the threshold of exercise 3 (section 3 prints the top with 50+ ratings, not this one)


def _top(min_ratings):
    return int(top_rated(_ratings(), load_movielens().movies, n=1, min_ratings=min_ratings).item.iloc[0])


def _best():
    return _top(MIN_RATINGS)


def _most_rated():
    return int(_ratings().item.value_counts().sort_index().idxmax())


def _best_wrong():
    return [_top(MIN_RATINGS + 1), _top(50), _top(1), _most_rated()]


@register("00.5", solution=_best, wrong=_best_wrong)
def check_best_rated(answer):
    """Item id of the movie with the highest (undamped) mean rating among those with at least 20 ratings."""
    mistakes = [(_top(1), "that movie tops the list on very few ratings: keep only movies with at least 20."),
                (_most_rated(), "that is the most-*rated* movie; the question asks for the highest mean rating.")]
    if _top(MIN_RATINGS + 1) == _top(50):
        mistakes.insert(0, (_top(50), "that is the top with more than 20 ratings (or with 50 or more, as in section 3): "
                                      "'at least 20' includes the movies with exactly 20."))
    else:
        mistakes += [(_top(MIN_RATINGS + 1), "'at least 20' includes the movies with exactly 20."),
                     (_top(50), "that is the top with 50 or more ratings, as in section 3; the question asks for 20.")]
    return check_answer(answer, _best(), "best-rated movie with 20+ ratings", atol=0, rtol=0, mistakes=mistakes,
                        hint="top_rated's min_ratings is the smallest count a movie may have; use no damping.")
