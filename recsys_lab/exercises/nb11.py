"""Checks for the exercises of notebook 11 (content-based recommendation). Solutions:
``notebooks/solutions/11_content_based.ipynb``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..checks import Verdict, check_answer
from ..features import ItemFeatures, idf
from ..models.content import ContentBased, user_profiles
from . import register

# 11.1 · understanding: one tag's idf ----------------------------------------------------------
#: Five movies' tag lists (one list per movie), as in section 2.
TAG_DOCS = [["pixar", "pixar", "funny"], ["pixar", "animation"], ["funny"], ["dark", "funny"], ["space"]]


def _idf_of(term: str, documents=TAG_DOCS) -> float:
    vocab = sorted({t for doc in documents for t in doc})
    counts = sp.csr_matrix([[doc.count(t) for t in vocab] for doc in documents], dtype=np.float64)
    return float(idf(counts)[vocab.index(term)])


def _idf_wrong():
    n, df, occurrences = len(TAG_DOCS), 2, 3
    return [float(np.log(n / df)), float(np.log((1 + n) / (1 + df))), float(np.log((1 + n) / (1 + occurrences)) + 1)]


@register("11.1", solution=lambda: _idf_of("pixar"), wrong=_idf_wrong)
def check_idf_pixar(answer):
    """The smoothed idf of 'pixar' over :data:`TAG_DOCS`, as the kit computes it."""
    wrong = _idf_wrong()
    return check_answer(answer, _idf_of("pixar"), "idf of 'pixar'", atol=1e-6, mistakes=[
        (wrong[0], "that is the unsmoothed ln(n / df); the kit adds 1 inside and 1 outside the log."),
        (wrong[1], "the smoothing inside the log is right; the kit also adds 1 *after* the log, so no tag gets 0."),
        (wrong[2], "df counts *documents* that contain the tag, not how often it occurs."),
    ], hint="count the documents (movies) and the documents whose list contains 'pixar', then apply "
            "section 2's smoothed formula.")


# 11.2 · change the code: a user's profile ----------------------------------------------------

def profile_inputs():
    """A tiny example: ``(X, items, ratings, damping, global_mean)``: unit feature rows ``X`` (5 movies
    x 3 features), the positions of the movies one user rated, their ratings, the damping and the
    global mean of the training ratings."""
    x = np.array([[1.0, 0, 0], [0, 1, 0], [0.6, 0, 0.8], [0, 0, 1], [0.8, 0.6, 0]])
    return x, np.array([0, 2, 3]), np.array([5.0, 4.5, 2.0]), 5.0, 3.5


def _profile():
    x, items, ratings, damping, mu = profile_inputs()
    one = sp.csr_matrix((ratings, (np.zeros(len(items), dtype=int), items)), shape=(1, len(x)))
    return user_profiles(one, x, damping, mu)[0]


def _profile_wrong():
    x, items, ratings, damping, mu = profile_inputs()
    n = len(items)
    plain_mean = ratings.mean()
    damped = (ratings.sum() + damping * mu) / (n + damping)
    return [((ratings - plain_mean) @ x[items]) / n,          # centred on the plain mean
            (ratings @ x[items]) / n,                        # not centred
            (ratings - damped) @ x[items],                   # a sum, not a mean
            ((damped - ratings) @ x[items]) / n]             # the sign flipped


@register("11.2", solution=_profile, wrong=_profile_wrong)
def check_profile(answer):
    """The profile ``(1/n) sum (r_ui - rbar_u) x_i`` with the damped mean, shape ``(3,)``."""
    wrong = _profile_wrong()
    return check_answer(answer, _profile(), "the user's profile", atol=1e-6, mistakes=[
        (wrong[0], "centred on the plain mean of the user's ratings; the kit's mean is damped towards the "
                   "global mean: (sum of ratings + damping * mu) / (n + damping)."),
        (wrong[1], "not centred: every liked or disliked movie pulls the same way; subtract the user's mean first."),
        (wrong[2], "that is the sum of the weighted rows; the profile divides it by the number of ratings."),
        (wrong[3], "the sign is flipped: a movie rated above the mean must pull the profile *towards* its features."),
    ], hint="start from the damped mean of this user's ratings (section 4's formula for r̄_u); each rated row "
            "is weighted by how far its rating is from that mean, and the profile is the average of the weighted rows.")


# 11.3 · open question, checkable part: steer a new user's first recommendation --------------
#: Six movies with features a, b, c: 1 = a, 2 = b, 3 = c, 4 = a+b, 5 = a+c, 6 = b+c.
TINY_ROWS = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]])
TARGET = 6


@lru_cache(maxsize=1)
def tiny_content() -> ContentBased:
    """ContentBased fitted on a few ratings of the six movies of :data:`TINY_ROWS` (mean 3.0, ratings 1-5)."""
    feats = ItemFeatures(np.arange(1, 7), sp.csr_matrix(TINY_ROWS), ["genre:a", "genre:b", "genre:c"])
    ratings = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3], "item": [1, 2, 3, 4, 5, 6],
                            "rating": [5.0, 1.0, 3.0, 3.0, 1.0, 5.0]})
    return ContentBased(feats).fit(ratings)


def _steer_solution():
    return {1: 1.0, 2: 5.0, 3: 5.0}


def _steer_wrong():
    return [{2: 5.0}, {1: 5.0, 2: 5.0}, {3: 1.0}, {6: 5.0}, {2: 5.0, 3: 5.0, 9: 4.0}, [2, 3]]


@register("11.3", solution=_steer_solution, wrong=_steer_wrong)
def check_steer(answer):
    """Ratings (dict movie -> stars) of a new user of :func:`tiny_content` whose first recommendation is movie 6."""
    if answer is ...:
        print("⏳ ratings of the new user: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    if not isinstance(answer, dict):
        print(f"❌ ratings of the new user: give a dict movie -> stars, e.g. {{1: 4.0}}, not {type(answer).__name__}.")
        return Verdict(False)
    if TARGET in answer:
        print(f"❌ you rated movie {TARGET} yourself, so it is not recommended to you: rate only movies 1-5.")
        return Verdict(False)
    try:
        folded = tiny_content().fold_in(answer)
    except ValueError as err:
        print(f"❌ the model refuses these ratings: {err}")
        return Verdict(False)
    first = int(folded.recommend(k=1).item.iloc[0])
    if first == TARGET:
        print(f"✅ movie {TARGET} comes first for your new user.")
        return Verdict(True)
    print(f"❌ your new user's first recommendation is movie {first}, not {TARGET}. Hint: the profile is "
          f"centred on the user's (damped) mean; which features should it pull towards, and which away from? "
          f"A low rating pushes the profile away from that movie's features.")
    return Verdict(False)


# 11.4 · check yourself: the cosine score of Up, from the profile ------------------------------
#: "You" (user 0) of section 4: movie -> stars.
YOU = {1: 5.0, 2355: 5.0, 6377: 4.5, 4886: 4.5, 1258: 1.5, 8957: 1.0, 1387: 2.0}
UP = 68954


@lru_cache(maxsize=1)
def _content_context():
    from ..data import load_movielens, random_split
    from ..features import movie_features
    ml = load_movielens()
    train, _ = random_split(ml.ratings, 0.2, seed=0)
    you = pd.DataFrame({"user": 0, "item": list(YOU), "rating": list(YOU.values())})
    model = ContentBased(movie_features(ml.movies, ml.tags, train), damping=5.0)
    return {"model": model.fit(pd.concat([train, you], ignore_index=True))}


def _content_ctx():
    return dict(_content_context())


def _up_score(model):
    return float(model.predict([0], [UP])[0])


def _up_wrong(model):
    u = int(model.data_.users.to_index([0])[0])
    p = np.asarray(model.profiles_[u], dtype=float)
    x = np.asarray(model.item_features.rows([UP]).toarray()[0], dtype=float)
    return [float(p @ x),                                   # a dot product, not a cosine
            float(p @ x / np.linalg.norm(x)),               # the profile's length not divided out
            float(p @ x / np.linalg.norm(p)) * 2 + 1]       # not a cosine at all (outside the scale)


@register("11.4", solution=_up_score, wrong=_up_wrong, context=_content_ctx)
def check_up_score(answer, model):
    """Your (user 0's) cosine score for Up (68954) under ``model``, from its profile and Up's features."""
    wrong = _up_wrong(model)
    if answer is not ... and isinstance(answer, (int, float, np.floating)) and abs(float(answer)) > 1 + 1e-9:
        print("❌ cosine score of Up: a cosine lies between -1 and 1; divide by the lengths of both vectors.")
        return Verdict(False)
    return check_answer(answer, _up_score(model), "cosine score of Up", atol=1e-6, mistakes=[
        (wrong[0], "that is the dot product; a cosine divides it by the lengths of both vectors."),
        (wrong[1], "you divided by the length of Up's vector only; the profile's length matters too."),
    ], hint="the score is the cosine between your profile row and Up's feature row.")
