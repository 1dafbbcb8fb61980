"""Checks for the exercises of notebook 08 (item-based collaborative filtering). Solutions:
``notebooks/solutions/08_item_based_cf.ipynb``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import Verdict, check_answer
from ..data import course_split, load_movielens
from ..metrics import rmse
from ..models import ItemKNN
from ..similarity import similarity_matrix
from ..topk import top_k
from . import register

# the toy matrix of the notebook's section 1: people x films, NaN = not rated
TOY = np.array([[5, 3, np.nan, 4, 1, np.nan],
                [4, 2, 3, 4, 1, 4],
                [1, 4, 5, 2, 5, 2],
                [np.nan, np.nan, np.nan, 5, np.nan, 5],
                [3, 2, 2, 3, 1, 3]])
ALIEN, ET = 0, 4
USER = 1                        # the user of section 6
MIN_RATINGS = 50                # section 6's evidence threshold
KEEP_GRID = (100, 125, 150, 175, 200)   # 08.4's candidate list lengths
TOLERANCE = 0.01                # validation RMSE one may give up for shorter lists (08.4)


@lru_cache(maxsize=1)
def _split():
    return course_split(load_movielens().ratings)


# 08.1 · understanding: the cosine without centring ------------------------------------------
def _both():
    return ~np.isnan(TOY[:, ALIEN]) & ~np.isnan(TOY[:, ET])


def _raw_cosine():
    a, e = TOY[_both(), ALIEN], TOY[_both(), ET]
    return float(a @ e / np.sqrt((a @ a) * (e @ e)))


def _raw_cosine_wrong():
    both = _both()
    a, e = TOY[both, ALIEN], TOY[both, ET]
    ca, ce = a - a.mean(), e - e.mean()                       # centred on the movies' means (Pearson)
    return [float(similarity_matrix(TOY.T, "adjusted_cosine")[ALIEN, ET]), float(ca @ ce / np.sqrt((ca @ ca) * (ce @ ce))),
            float(a @ e)]


@register("08.1", solution=_raw_cosine, wrong=_raw_cosine_wrong)
def check_raw_cosine(answer):
    """The plain cosine (no centring) of Alien and E.T. over the people who rated both."""
    adjcos, pearson, dot = _raw_cosine_wrong()
    return check_answer(answer, _raw_cosine(), "cosine(Alien, E.T.) without centring", atol=1e-4, mistakes=[
        (adjcos, "that is the *adjusted* cosine of section 1's table; here no mean is subtracted."),
        (pearson, "you subtracted each movie's mean (that is a Pearson correlation); use the raw ratings."),
        (dot, "that is the dot product alone: divide by the two vectors' lengths."),
    ], hint="both = ~np.isnan(toy[:, 0]) & ~np.isnan(toy[:, 4]); a, e = toy[both, 0], toy[both, 4]; then "
            "the cosine formula of section 1 without the means.")


# 08.2 · understanding: the strongest reason *against* -----------------------------------------
@lru_cache(maxsize=1)
def chosen_item_model() -> ItemKNN:
    """Section 5's chosen item model, ``item_knn``: adjusted cosine, shrinkage 100, baseline-centred,
    fitted on the course split's whole training part (cached: the solutions notebook reuses it)."""
    return ItemKNN(similarity="adjusted_cosine", shrinkage=100, centering="baseline").fit(_split().train)


@lru_cache(maxsize=1)
def fit_part_model() -> ItemKNN:
    """Section 3's ``wide``: adjusted cosine, shrinkage 100, mean-centred, ``keep=500``, fitted on the
    course split's fit part (cached: the solutions notebook reuses it)."""
    return ItemKNN(similarity="adjusted_cosine", shrinkage=100, keep=500).fit(_split().fit)


@lru_cache(maxsize=1)
def _why():
    model = chosen_item_model()
    counts = _split().train.item.value_counts()
    everything = model.recommend(USER, k=model.data_.n_items)
    top = everything[everything["item"].map(counts) >= MIN_RATINGS]["item"].iloc[0]
    return model.explain(USER, top)


def _is_whole(x) -> bool:
    """A whole number (int, numpy int, or a float like 260.0), not a bool or a string."""
    if isinstance(x, (bool, np.bool_)):
        return False
    try:
        return float(x).is_integer()
    except (TypeError, ValueError):
        return False


def _first(frame, column, ascending):
    return int(frame.sort_values([column, "item"], ascending=[ascending, True])["item"].iloc[0])


def _against():
    return _first(_why(), "contribution", True)


def _against_wrong():
    why = _why()
    wrong = [_first(why, "contribution", False), _first(why, "weight", False), _first(why, "rating", True),
             _first(why, "weight", True)]
    return [w for w in dict.fromkeys(wrong) if w != _against()]


@register("08.2", solution=_against, wrong=_against_wrong)
def check_reason_against(answer):
    """Raw item id of the watched movie that pulls the top recommendation (>= 50 ratings) down most."""
    what = "the strongest reason against"
    if answer is ... or answer is None:
        return check_answer(answer, 0, what)
    if not _is_whole(answer):
        print(f"❌ {what}: answer with a raw movie id (an int from why['item']).")
        return Verdict(False)
    strongest_for, heaviest, lowest_rated, lightest = _against_wrong()
    return check_answer(answer, _against(), what, atol=0, rtol=0, mistakes=[
        (strongest_for, "that movie pushes the prediction *up* the most (the largest contribution); look for the "
                        "most negative one."),
        (heaviest, "that is the movie with the largest weight (the most similar); weight is not direction: the "
                   "contribution is weight x deviation."),
        (lowest_rated, "that is the movie the user rated lowest; what counts is the rating *against its baseline* "
                       "(the deviation), times the weight."),
        (lightest, "that is the least similar voter; look at the contribution column."),
    ], hint="why.sort_values('contribution') puts the most negative contribution first.")


# 08.3 · write code: prune one similarity row -------------------------------------------------
@lru_cache(maxsize=1)
def _toy_story_row():
    data_items = _split().fit
    from ..data import RatingData

    data = RatingData(data_items)
    row_index = int(data.items.to_index([1])[0])
    row = similarity_matrix(data.to_csr().T.tocsr(), "adjusted_cosine", shrinkage=100, rows=[row_index])[0]
    row[row_index] = -np.inf
    return row


def _prune_cases():
    tiny = np.array([0.2, 0.9, 0.5, 0.9, 0.1, 0.5, 0.3])       # ties inside the top 4, none at its edge
    return [("a 7-movie row with ties", tiny, 4), ("Toy Story's row, keep=5", _toy_story_row(), 5),
            ("Toy Story's row, keep=40", _toy_story_row(), 40)]


def _solution_prune():
    def prune_row(sims, keep):
        best = np.argpartition(-sims, keep - 1)[:keep]
        return best[np.lexsort((best, -sims[best]))]
    return prune_row


def _wrong_prunes():
    def least_first(sims, keep):                                 # the right set, sorted the wrong way round
        best = np.argpartition(-sims, keep - 1)[:keep]
        return best[np.lexsort((best, sims[best]))]

    def least_similar(sims, keep):
        return np.argsort(sims, kind="stable")[:keep]

    def ties_last(sims, keep):                                   # ties broken by the larger position
        best = np.argpartition(-sims, keep - 1)[:keep]
        return best[np.lexsort((-best, -sims[best]))]

    return [least_first, least_similar, ties_last]


@register("08.3", solution=_solution_prune, wrong=_wrong_prunes)
def check_prune_row(answer):
    """``answer(sims, keep)``: the positions of the ``keep`` largest ``sims``, most similar first, ties by
    smaller position (the kit's rule, :func:`recsys_lab.topk.top_k`)."""
    what = "your prune_row"
    if answer is ...:
        return check_answer(answer, 0.0, what)
    if not callable(answer):
        print(f"❌ {what}: expected a function of (sims, keep), got {type(answer).__name__}.")
        return Verdict(False)
    for name, sims, keep in _prune_cases():
        try:
            got = np.asarray(answer(sims.copy(), keep)).ravel()
        except Exception as err:  # noqa: BLE001 - the learner's code; show what went wrong
            print(f"❌ {what}: on {name} it raised {type(err).__name__}: {err}")
            return Verdict(False)
        ref = top_k(sims, keep)
        if got.shape != ref.shape:
            print(f"❌ {what}: on {name} it returned {got.size} positions; expected keep={keep}.")
            return Verdict(False)
        if not np.array_equal(got, ref):
            if set(got.tolist()) == set(ref.tolist()):
                ranked_by_sim = np.all(np.diff(sims[got]) <= 0)
                why = ("the right movies, but ties are broken the wrong way: equal similarities go smaller position "
                       "first." if ranked_by_sim else
                       "the right movies in the wrong order: order the kept positions by similarity, largest "
                       "first (argpartition does not promise any order).")
            elif np.all(sims[got] <= np.sort(sims)[keep - 1] + 1e-12):
                why = "you kept the *least* similar movies; partition on -sims."
            else:
                why = ("not the `keep` most similar movies: read np.argpartition's docstring — which values does it "
                       "put before position kth?")
            print(f"❌ {what}: on {name}: {why}")
            return Verdict(False)
    print(f"✅ {what}: correct (it matches the kit's top_k on a row with ties and on Toy Story's row).")
    return Verdict(True)


# 08.4 · open question: how short can the lists be? -------------------------------------------
@lru_cache(maxsize=1)
def _keep_costs():
    """Validation RMSE of ``wide`` pruned to each keep of KEEP_GRID, minus that of keep=500."""
    wide, v = fit_part_model(), _split().validation
    full = rmse(v.rating, wide.predict(v.user, v.item))
    return {keep: rmse(v.rating, wide.prune(keep).predict(v.user, v.item)) - full for keep in KEEP_GRID}


def _smallest_keep():
    return min(keep for keep, cost in _keep_costs().items() if cost <= TOLERANCE)


def _smallest_keep_wrong():
    answer, costs = _smallest_keep(), _keep_costs()
    over = [keep for keep in KEEP_GRID if keep < answer and costs[keep] > TOLERANCE]
    return sorted({max(KEEP_GRID), *over[-1:], 500} - {answer})


@register("08.4", solution=_smallest_keep, wrong=_smallest_keep_wrong)
def check_smallest_keep(answer):
    """The smallest keep of KEEP_GRID whose validation RMSE is at most TOLERANCE above keep=500's."""
    what = "the smallest keep within 0.01 of keep=500"
    if answer is ... or answer is None:
        return check_answer(answer, 0, what)
    if not _is_whole(answer) or int(answer) not in (*KEEP_GRID, 500):
        print(f"❌ {what}: answer with one of 100, 125, 150, 175, 200.")
        return Verdict(False)
    answer = int(answer)
    if answer == _smallest_keep():
        print(f"✅ {what}: correct.")
        return Verdict(True)
    if answer == 500:
        why = "keep=500 costs nothing against itself; the question is how far below it you can go."
    else:                       # one neutral message: "too short" / "too long" would allow guessing by bisection
        why = "not that one: compute the cost of each of the five against keep=500, then pick."
    print(f"❌ {what}: {why} Hint: loop over the five values with wide.prune(keep) and valid_rmse.")
    return Verdict(False)
