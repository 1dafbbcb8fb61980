"""Checks for the exercises of notebook 06 (the rating data). Solutions:
``notebooks/solutions/06_rating_data.ipynb``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import Verdict, check_answer
from ..data import (RatingData, future_leakage, global_temporal_split, leave_one_out, load_movielens,
                    random_split, temporal_split)
from . import register

CORNER_USERS = (1, 2, 3, 4, 5)
CORNER_MOVIES = (1, 260, 296, 318, 356)   # the five movies of the notebook's hand-made table
PROTOCOLS = ("random", "per-user temporal", "leave-one-out", "global temporal")


@lru_cache(maxsize=1)
def _ratings():
    return load_movielens().ratings


@lru_cache(maxsize=1)
def _splits():
    """The notebook's four splits (TEST_FRACTION = 0.2, SEED = 0)."""
    r = _ratings()
    return {"random": random_split(r, 0.2, seed=0), "per-user temporal": temporal_split(r, 0.2),
            "leave-one-out": leave_one_out(r), "global temporal": global_temporal_split(r, 0.2)}


# 06.1 · check yourself: the share of ratings on popular movies ------------------------------
def _counts():
    return _ratings().item.value_counts()


def _popular_share():
    c = _counts()
    return float(c[c >= 51].sum() / c.sum())


def _popular_wrong():
    c = _counts()
    return [float((c >= 51).mean()), int(c[c >= 51].sum()), 1 - _popular_share()]


@register("06.1", solution=_popular_share, wrong=_popular_wrong)
def check_popular_share(answer):
    """Share of all ratings that go to movies with at least 51 ratings."""
    c = _counts()
    return check_answer(answer, _popular_share(), "share of ratings on movies with 51+ ratings", atol=1e-4, mistakes=[
        (float((c >= 51).mean()), "that is the share of *movies* with 51+ ratings; the question asks for the share "
                                  "of *ratings* they hold."),
        (int(c[c >= 51].sum()), "that is a count of ratings: divide by the number of all ratings."),
        (1 - _popular_share(), "that is the share of the *other* movies (50 ratings or fewer)."),
    ], hint="a share lies between 0 and 1; the long tail of section 2 says popular movies hold most ratings.")


# 06.2 · understanding: the density of the corner --------------------------------------------
def _corner():
    r = _ratings()
    return r[r.user.isin(CORNER_USERS) & r.item.isin(CORNER_MOVIES)]


def _corner_density():
    return len(_corner()) / (len(CORNER_USERS) * len(CORNER_MOVIES))


def _corner_wrong():
    r = _ratings()
    return [1 - _corner_density(), len(_corner()), len(r) / (r.user.nunique() * r.item.nunique())]


@register("06.2", solution=_corner_density, wrong=_corner_wrong)
def check_corner_density(answer):
    """Fraction of the 5 x 5 cells of the hand-made table ``by_hand`` that hold a rating."""
    r = _ratings()
    return check_answer(answer, _corner_density(), "density of the corner", atol=1e-9, mistakes=[
        (1 - _corner_density(), "that is the share of *empty* cells (NaN); density counts the filled ones."),
        (len(_corner()), "that is the number of ratings: divide by the number of cells."),
        (len(r) / (r.user.nunique() * r.item.nunique()), "that is the density of the *whole* matrix; the corner of "
                                                          "well-known movies is far fuller."),
    ], hint="by_hand.notna() marks the filled cells.")


# 06.3 · change the code: user means from the sparse matrix -----------------------------------
@lru_cache(maxsize=1)
def _csr():
    return RatingData(_ratings()).to_csr()


def _user_means():
    R = _csr()
    return np.asarray(R.sum(axis=1)).ravel() / np.diff(R.indptr)


def _user_means_wrong():
    R = _csr()
    return [np.asarray(R.sum(axis=1)).ravel() / R.shape[1],                       # zeros counted as ratings
            np.asarray(R.sum(axis=0)).ravel() / np.maximum(np.diff(R.tocsc().indptr), 1),  # per movie
            np.asarray(R.mean(axis=1)).ravel()]


@register("06.3", solution=_user_means, wrong=_user_means_wrong)
def check_user_means(answer):
    """Every user's mean rating computed from the CSR matrix ``R``, in row order."""
    R = _csr()
    return check_answer(answer, _user_means(), "user means from R", atol=1e-9, mistakes=[
        (np.asarray(R.sum(axis=1)).ravel() / R.shape[1], "you divided by the number of movies: the unknown cells "
                                                          "are not ratings, divide by each row's stored entries."),
        (np.asarray(R.mean(axis=1)).ravel(), "R.mean counts the unknown cells as 0 ratings; divide each row's sum by "
                                              "the number of entries the row stores instead."),
    ], hint="one mean per user (per row): each row's sum over how many entries that row *stores*; "
            "the CSR arrays of section 1 tell where each row starts and stops.")


# 06.4 · write a leakage measure -----------------------------------------------------------------
def _reference_leakage(train, test):
    times = np.sort(train.timestamp.to_numpy())
    first = test.groupby("user").timestamp.min()
    return (len(times) - np.searchsorted(times, first.to_numpy(), side="right")) / len(times)


def _solution_leakage():
    def leakage(train, test):
        first = test.groupby("user").timestamp.min()
        return np.array([(train.timestamp.to_numpy() > t).mean() for t in first.to_numpy()])
    return leakage


def _wrong_leakages():
    def own_history_only(train, test):       # each user's own training ratings only
        first = test.groupby("user").timestamp.min()
        return np.array([(train.timestamp[train.user == u].to_numpy() > t).mean() if (train.user == u).any() else 0.0
                         for u, t in first.items()])

    def at_or_after(train, test):            # ">=": ties with the held-out moment counted as newer
        first = test.groupby("user").timestamp.min()
        return np.array([(train.timestamp.to_numpy() >= t).mean() for t in first.to_numpy()])

    def older_share(train, test):            # the opposite direction: training ratings *older*
        first = test.groupby("user").timestamp.min()
        return np.array([(train.timestamp.to_numpy() < t).mean() for t in first.to_numpy()])

    return [own_history_only, at_or_after, older_share, future_leakage]   # the kit's own function is no answer


def _leakage_cases():
    """A tiny log with ties at the held-out moments, and the notebook's leave-one-out split."""
    import pandas as pd
    t = [0, 5, 10, 10, 20, 5, 10, 15, 30, 10, 10]
    tiny = pd.DataFrame({"user": [1] * 5 + [2] * 4 + [3] * 2, "item": range(11), "rating": 4.0, "timestamp": t})
    return [("a tiny log", leave_one_out(tiny)), ("the leave-one-out split", _splits()["leave-one-out"])]


@register("06.4", solution=_solution_leakage, wrong=_wrong_leakages)
def check_leakage_function(answer):
    """``answer(train, test)`` returns, per test user in user-id order, the share of all training
    ratings strictly newer than the user's first test rating (what ``future_leakage`` computes)."""
    what = "your leakage function"
    if answer is ...:
        return check_answer(answer, 0.0, what)
    if answer is future_leakage:
        print(f"❌ {what}: that is the kit's `future_leakage` itself; write your own with pandas and numpy.")
        return Verdict(False)
    if not callable(answer):
        print(f"❌ {what}: expected a function of (train, test), got {type(answer).__name__}.")
        return Verdict(False)
    for name, (train, test) in _leakage_cases():
        try:
            got = np.asarray(answer(train, test), dtype=float).ravel()
        except Exception as err:  # noqa: BLE001 - the learner's code; show what went wrong
            print(f"❌ {what}: on {name} it raised {type(err).__name__}: {err}")
            return Verdict(False)
        ref = _reference_leakage(train, test)
        if got.shape != ref.shape:
            print(f"❌ {what}: on {name} it returned {got.size} values; expected one per test user ({ref.size}), "
                  f"in user-id order.")
            return Verdict(False)
        if not np.allclose(got, ref, atol=1e-9):
            first = test.groupby("user").timestamp.min().to_numpy()
            times = train.timestamp.to_numpy()
            own = np.array([(train.timestamp[train.user == u].to_numpy() > t).mean() if (train.user == u).any() else 0
                            for u, t in test.groupby("user").timestamp.min().items()])
            if np.allclose(got, own):
                why = "you counted the user's *own* training ratings only; count every user's."
            elif np.allclose(got, [(times >= t).mean() for t in first]):
                why = "a training rating given at the very same moment is not from the future: use > not >=."
            elif np.allclose(got, 1 - ref - [(times == t).mean() for t in first]):
                why = "that is the share of *older* training ratings; the leak is the newer ones."
            else:
                why = "not right. Hint: per test user, compare all training timestamps with the user's *first* test one."
            print(f"❌ {what}: on {name}: {why}")
            return Verdict(False)
    print(f"✅ {what}: correct (it agrees with future_leakage on a tiny log and on the leave-one-out split).")
    return Verdict(True)


# 06.5 · open question: can a per-user split be repaired? ------------------------------------------
def _firsts(name="leave-one-out"):
    train, test = _splits()[name]
    return train.timestamp.to_numpy(), test.groupby("user").timestamp.min()


def _share_kept(name="leave-one-out"):
    times, first = _firsts(name)
    return float((times <= first.min()).mean())


def _repaired_share():
    return _share_kept("leave-one-out")


def _repaired_mistakes():
    times, first = _firsts()
    return [
        (1 - _repaired_share(), "that is the share of training ratings you would *drop*; the question asks what survives."),
        (int((times <= first.min()).sum()), "that is a count of ratings: divide by the number of training ratings."),
        (float((times <= first.max()).mean()), "that cut keeps the future of every test user but the last one; it must "
                                               "hold for *every* test user at once."),
        (float((times <= first.median()).mean()), "that cut still lets half of the test users' future in; it must hold "
                                                  "for every test user."),
        (_share_kept("per-user temporal"),
         "that is the per-user temporal split; the question is about the leave-one-out split."),
    ]


@register("06.5", solution=_repaired_share, wrong=lambda: [value for value, _ in _repaired_mistakes()])
def check_repaired_share(answer):
    """Share of the leave-one-out split's training ratings given no later than every test user's
    first held-out rating (what would survive if the split were cut so no test user's future is in)."""
    return check_answer(answer, _repaired_share(), "share of training kept by the repair", atol=1e-8,
                        mistakes=_repaired_mistakes(),
                        hint="a rating may stay only if it is from no test user's future: which test user's "
                             "held-out moment decides that for everybody?")
