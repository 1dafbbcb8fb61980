"""Checks for the exercises of notebook 07 (user-based collaborative filtering). Solutions:
``notebooks/solutions/07_user_based_cf.ipynb``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..checks import Verdict, check_answer
from ..data import RatingData, course_split, load_movielens
from ..models import UserKNN
from ..similarity import MEASURES, co_rated_counts, similarity_matrix
from ..topk import order
from . import register

# The notebook's toy matrix (section 1): five people, six movies, NaN = not rated.
PEOPLE = ("Ana", "Ben", "Cai", "Dee", "Eve")
FILMS = ("Alien", "Brazil", "Casablanca", "Dune", "E.T.", "Fargo")
_nan = np.nan
TOY = np.array([[5, 3, _nan, 4, 1, _nan],
                [4, 2, 3, 4, 1, 4],
                [1, 4, 5, 2, 5, 2],
                [_nan, _nan, _nan, 5, _nan, 5],
                [3, 2, 2, 3, 1, 3]])
# Exercise 07.2's newcomer: Fay shares Alien, Dune and E.T. with Ana.
FAY = np.array([2, _nan, 4, 3, 5, 1])
SHRINKAGE = 25          # exercise 07.4's lambda
MIN_NEIGHBOUR_OVERLAP = 10   # exercise 07.6: the overlap user 1's nearest neighbour must reach


def toy():
    """A copy of the toy matrix (5 x 6, NaN = not rated)."""
    return TOY.copy()


def toy_ratings() -> pd.DataFrame:
    """The toy matrix as a tidy table (user, item, rating), as the notebook's ``toy_ratings``."""
    return pd.DataFrame([(PEOPLE[u], FILMS[i], TOY[u, i]) for u in range(5) for i in range(6)
                         if not np.isnan(TOY[u, i])], columns=["user", "item", "rating"])


@lru_cache(maxsize=1)
def _train_matrix():
    """The notebook's training matrix ``R``: the course split's ``fit`` part, users x movies."""
    return RatingData(course_split(load_movielens().ratings).fit).to_csr()


# 07.1 · check yourself: the measure blind to rating values -----------------------------------
@register("07.1", solution=lambda: "jaccard", wrong=lambda: ["msd", "cosine_naive", "pearson", "Jaccard similarity"])
def check_values_blind(answer):
    """The name (from ``MEASURES``) of the measure that depends only on *which* movies were rated."""
    what = "the measure that ignores rating values"
    if answer is ...:
        return check_answer(answer, "", what)
    if not isinstance(answer, str) or answer not in MEASURES:
        print(f"❌ {what}: answer with one of the names in MEASURES: {', '.join(MEASURES)}.")
        return Verdict(False)
    return check_answer(answer, "jaccard", what, mistakes=[
        ("msd", "MSD compares the stars themselves (Eve's stingy scale costs her in the table)."),
        ("cosine_naive", "the naive cosine multiplies the stars; change a rating and it changes."),
        ("cosine", "cosine multiplies the stars of the co-rated movies; change one and it changes."),
        ("pearson", "Pearson centres and multiplies the stars; it sees their values."),
        ("adjusted_cosine", "adjusted cosine centres the stars on the movies' means; it sees their values."),
    ])


# 07.2 · understanding: Pearson by hand ------------------------------------------------------
def _pearson_fay():
    return float(similarity_matrix(np.vstack([TOY[0], FAY]), "pearson")[0, 1])


def _pearson_fay_wrong():
    co = ~np.isnan(TOY[0]) & ~np.isnan(FAY)
    x, y = TOY[0, co], FAY[co]
    xo, yo = x - np.nanmean(TOY[0]), y - np.nanmean(FAY)                   # centred on all own ratings
    own_means = float(xo @ yo / np.sqrt((xo @ xo) * (yo @ yo)))
    cosine = float(x @ y / np.sqrt((x @ x) * (y @ y)))                     # not centred at all
    xc, yc = x - x.mean(), y - y.mean()
    covariance = float(xc @ yc / len(x))                                   # not normalised
    return [own_means, cosine, covariance, -own_means]


@register("07.2", solution=_pearson_fay, wrong=_pearson_fay_wrong)
def check_pearson_fay(answer):
    """Pearson(Ana, Fay) over the movies both rated."""
    own, cos, cov, _ = _pearson_fay_wrong()
    return check_answer(answer, _pearson_fay(), "Pearson(Ana, Fay)", atol=1e-6, mistakes=[
        (own, "you centred on each person's mean over *all* their ratings; Pearson centres on the means "
              "over the co-rated movies only."),
        (cos, "that is the co-rated cosine: centre both vectors on their means first."),
        (cov, "that is a covariance: divide by the square roots of both sums of squares."),
    ], hint="co = ~np.isnan(ana) & ~np.isnan(fay); centre ana[co] and fay[co] on their own means.")


# 07.3 · a new prediction rule: z-scores, for Casablanca ---------------------------------------
@lru_cache(maxsize=None)
def _toy_prediction(centering, k=2):
    model = UserKNN(k=k, similarity="pearson", shrinkage=0, centering=centering).fit(toy_ratings())
    return float(model.predict(["Ana"], ["Casablanca"])[0])


def _zscore_wrong():
    means, sds = np.nanmean(TOY, axis=1), np.nanstd(TOY, axis=1, ddof=1)   # sample standard deviations
    sim = similarity_matrix(TOY, "pearson")
    voters = [1, 4]
    w = sim[0, voters]
    z = (TOY[voters, 2] - means[voters]) / sds[voters]
    sample_sd = float(means[0] + sds[0] * (w @ z) / w.sum())
    pop = np.nanstd(TOY, axis=1)
    unscaled = float(means[0] + (w @ ((TOY[voters, 2] - means[voters]) / pop[voters])) / w.sum())
    return [_toy_prediction("mean"), sample_sd, unscaled]


@register("07.3", solution=lambda: _toy_prediction("zscore"), wrong=_zscore_wrong)
def check_zscore_casablanca(answer):
    """Ana's predicted rating of Casablanca: Pearson, k = 2, z-scores, population standard deviations."""
    mean_rule, sample_sd, unscaled = _zscore_wrong()
    return check_answer(answer, _toy_prediction("zscore"), "z-score prediction for Casablanca", atol=1e-6, mistakes=[
        (mean_rule, "that is the mean-centred prediction: divide each deviation by the neighbour's standard "
                    "deviation, and scale the average back by Ana's."),
        (sample_sd, "use population standard deviations (np.nanstd with its default ddof=0), as the kit does."),
        (unscaled, "you forgot to multiply the weighted z-score by Ana's own standard deviation."),
    ], hint="the voters are the 2 most similar *positive* raters of Casablanca (Cai's similarity is negative).")


# 07.4 · shrinkage by hand on MovieLens ------------------------------------------------------
def shrinkage_pair():
    """``(other, s, n)``: the row of the user sharing the most movies with user 1 (row 0) in ``R``,
    their raw Pearson similarity and their overlap (the exercise's inputs, not its answer)."""
    R = _train_matrix()
    overlap = co_rated_counts(R, rows=[0])[0]
    other = 1 + int(np.argmax(overlap[1:]))
    s = float(similarity_matrix(R, "pearson", rows=[0], others=[other])[0, 0])
    return other, s, float(overlap[other])


def _shrunk():
    other = shrinkage_pair()[0]
    return float(similarity_matrix(_train_matrix(), "pearson", shrinkage=SHRINKAGE, rows=[0], others=[other])[0, 0])


def _shrunk_wrong():
    _, s, n = shrinkage_pair()
    return [s, s * SHRINKAGE / (n + SHRINKAGE), s * n / SHRINKAGE, s * min(n, SHRINKAGE) / SHRINKAGE]


@register("07.4", solution=_shrunk, wrong=_shrunk_wrong)
def check_shrunk_similarity(answer):
    """The similarity of user 1 and the user sharing most movies with them, with ``shrinkage=25``."""
    raw, inverse, ratio, significance = _shrunk_wrong()
    return check_answer(answer, _shrunk(), "shrunk similarity", atol=1e-6, mistakes=[
        (raw, "that is the raw similarity: shrinkage multiplies it by a factor below 1."),
        (inverse, "that factor is upside down: the more co-rated movies, the closer to 1 it must be."),
        (significance, "that is significance weighting; shrinkage is the other, smooth factor of section 3."),
    ], hint="shrinkage multiplies s by a factor that depends on the overlap and on λ; section 3 shows it.")


# 07.5 · write a similarity: mean squared difference by hand ------------------------------------
@lru_cache(maxsize=1)
def _twenty_users():
    dense = RatingData(course_split(load_movielens().ratings).fit).to_dense().numpy().astype(np.float64)[:20]
    return dense[:, ~np.isnan(dense).all(axis=0)]


def _msd_cases():
    return [("the toy matrix", TOY), ("the first 20 MovieLens users", _twenty_users())]


def _solution_msd():
    def msd_by_hand(x, y):
        co = ~np.isnan(x) & ~np.isnan(y)
        if not co.any():
            return 0.0
        return 1.0 / (1.0 + np.mean((x[co] - y[co]) ** 2))
    return msd_by_hand


def _wrong_msds():
    def zeros_as_ratings(x, y):              # missing = 0, over all movies
        return 1.0 / (1.0 + np.mean((np.nan_to_num(x) - np.nan_to_num(y)) ** 2))

    def summed(x, y):                        # sum instead of mean
        co = ~np.isnan(x) & ~np.isnan(y)
        return 1.0 / (1.0 + np.sum((x[co] - y[co]) ** 2)) if co.any() else 0.0

    def distance(x, y):                      # the mean squared difference itself, not a similarity
        co = ~np.isnan(x) & ~np.isnan(y)
        return float(np.mean((x[co] - y[co]) ** 2)) if co.any() else 0.0

    return [zeros_as_ratings, summed, distance]


def _all_pairs(fn, matrix):
    n = len(matrix)
    return np.array([[float(fn(matrix[a], matrix[b])) for b in range(n)] for a in range(n)])


@register("07.5", solution=_solution_msd, wrong=_wrong_msds)
def check_msd_function(answer):
    """``answer(x, y)``: the MSD similarity of two rating vectors (NaN = not rated; 0 without overlap)."""
    what = "your msd_by_hand"
    if answer is ...:
        return check_answer(answer, 0.0, what)
    if not callable(answer):
        print(f"❌ {what}: expected a function of two rating vectors (x, y), got {type(answer).__name__}.")
        return Verdict(False)
    zeros, summed, distance = _wrong_msds()
    for name, matrix in _msd_cases():
        try:
            got = _all_pairs(answer, matrix)
        except Exception as err:  # noqa: BLE001 - the learner's code; show what went wrong
            print(f"❌ {what}: on {name} it raised {type(err).__name__}: {err}")
            return Verdict(False)
        ref = similarity_matrix(matrix, "msd")
        if not np.isfinite(got).all():
            print(f"❌ {what}: on {name} it returned NaN or infinity for some pair; a pair that shares no movie "
                  f"has similarity 0.")
            return Verdict(False)
        if not np.allclose(got, ref, atol=1e-9):
            if np.allclose(got, _all_pairs(zeros, matrix)):
                why = "a missing rating is not a 0-star rating: compare the movies both rated only."
            elif np.allclose(got, _all_pairs(summed, matrix)):
                why = "take the *mean* squared difference over the co-rated movies, not the sum."
            elif np.allclose(got, _all_pairs(distance, matrix)):
                why = "that is a distance (0 = identical); turn it into a similarity with 1 / (1 + d)."
            else:
                why = "not right. Hint: co = ~np.isnan(x) & ~np.isnan(y); 1 / (1 + mean((x - y)² over co))."
            print(f"❌ {what}: on {name}: {why}")
            return Verdict(False)
    print(f"✅ {what}: correct (it agrees with similarity_matrix(..., 'msd') on the toy matrix and on 20 "
          f"MovieLens users).")
    return Verdict(True)


# 07.6 · open question: how much overlap does the nearest neighbour need? ------------------------
def _nearest_overlap(min_overlap: int) -> float:
    R = _train_matrix()
    sim = similarity_matrix(R, "pearson", min_overlap=int(min_overlap), rows=[0])[0].copy()
    sim[0] = -np.inf                                   # not their own neighbour
    nearest = int(order(sim)[0])                       # larger similarity first, then smaller row
    return float(co_rated_counts(R, rows=[0], others=[nearest])[0, 0])


@lru_cache(maxsize=1)
def _smallest_min_overlap() -> int:
    m = 1
    while _nearest_overlap(m) < MIN_NEIGHBOUR_OVERLAP:
        m += 1
    return m


def _min_overlap_wrong():
    m = _smallest_min_overlap()
    return sorted({MIN_NEIGHBOUR_OVERLAP, 1, m - 1, m + 1} - {m})


@register("07.6", solution=_smallest_min_overlap, wrong=_min_overlap_wrong)
def check_smallest_min_overlap(answer):
    """The smallest ``min_overlap`` at which user 1's nearest raw-Pearson neighbour in ``R`` shares
    at least 10 movies with them."""
    what = "smallest min_overlap"
    if answer is ...:
        return check_answer(answer, 0, what)
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, np.integer)) or answer < 1:
        print(f"❌ {what}: answer with a whole number >= 1 (a min_overlap), got {answer!r}.")
        return Verdict(False)
    m = _smallest_min_overlap()
    if answer == m:
        print(f"✅ {what}: correct.")
        return Verdict(True)
    if answer == MIN_NEIGHBOUR_OVERLAP:
        why = "10 works (every pair left shares at least 10 movies), but it is not the smallest threshold that does."
    elif _nearest_overlap(int(answer)) < MIN_NEIGHBOUR_OVERLAP:
        why = "not right: at that threshold user 1's nearest neighbour does not share 10 movies with them."
    else:
        why = "that threshold works, but it is not the smallest one that does."
    print(f"❌ {what}: {why}")
    return Verdict(False)
