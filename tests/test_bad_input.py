"""Bad input is refused at every door, with a message naming row, column and value, and changes nothing.

Doors: a ratings frame given to any model's ``fit`` (checked once, where it becomes ``RatingData``),
the arguments of ``predict`` / ``recommend``, and the values a learner types into a widget. The
item-feature frames are covered in ``test_features.py``, the loader in ``test_data_loaders.py``.
"""
import html

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lab.data import RatingData, RatingScale
from recsys_lab.features import ItemFeatures
from recsys_lab.models import (EASE, GMF, IALS, IAutoRec, ImplicitAutoRec, BiasBaseline, ContentBased, GlobalMean, ItemKNN,
                               MatrixFactorization, MostPopular, UserKNN, WeightedHybrid)
from recsys_lab.models.hybrid import fit_quietly

TORCH_SMALL = dict(n_factors=4, epochs=2, batch_size=64, device="cpu", seed=0)


@pytest.fixture
def good():
    """5 users x 4 items with index labels 100.. (messages must name labels, not positions)."""
    return pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4, 5, 5], "item": [10, 20, 10, 30, 20, 40, 10, 30, 40],
                         "rating": [4.0, 3.0, 5.0, 2.0, 4.5, 1.0, 3.5, 4.0, 2.5]},
                        index=range(100, 109))


def _with(frame, column, label, value):
    out = frame.astype({column: object})
    out.loc[label, column] = value
    return out


# Every class of bad ratings frame, and the message that must name row, column and value.
BAD_FRAMES = {
    "nan rating": (lambda f: _with(f, "rating", 102, np.nan),
                   r"ratings frame: row 102, column 'rating': rating nan is missing \(1 such rows\)"),
    "inf rating": (lambda f: _with(f, "rating", 102, np.inf),
                   r"row 102, column 'rating': rating inf is not finite.*must be a finite number"),
    "string rating": (lambda f: _with(f, "rating", 103, "four"),
                      r"row 103, column 'rating': rating 'four' is not a number"),
    "nan user id": (lambda f: _with(f, "user", 104, np.nan),
                    r"row 104, column 'user': missing user id nan \(1 such rows\)"),
    "None item id": (lambda f: _with(f, "item", 101, None),
                     r"row 101, column 'item': missing item id None"),
    "mixed ids": (lambda f: _with(f, "item", 105, "40"),
                  r"row 105, column 'item': item id '40' is text but row 100 holds a number \(10\)"),
    "list id": (lambda f: _with(f, "user", 106, [4]),
                r"row 106, column 'user': user id \[4\] is a list; an id must be a number or a string"),
    "missing column": (lambda f: f.drop(columns="item"),
                       r"ratings frame: missing column\(s\) 'item'; found \['user', 'rating'\]"),
    "duplicate pair": (lambda f: pd.concat([f, f.loc[[101]].rename(index={101: 200})]),
                       r"1 duplicate \(user, item\) pair\(s\); the first is user 1, item 20 at row 101 and row 200"),
    "empty frame": (lambda f: f.iloc[:0], r"ratings frame: no rating rows"),
    "not a frame": (lambda f: f.to_numpy().tolist(), r"expected a pandas DataFrame"),
}

MODELS = {
    "BiasBaseline": lambda: BiasBaseline(),
    "MatrixFactorization": lambda: MatrixFactorization(**TORCH_SMALL),
    "ItemKNN": lambda: ItemKNN(k=2, min_overlap=1),
    "EASE (implicit)": lambda: EASE(reg=10.0),
    "IALS (implicit)": lambda: IALS(n_factors=2, iterations=1),
    "GMF (implicit)": lambda: GMF(**TORCH_SMALL),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_fit_refuses_every_class_of_bad_frame(good, case, model_name):
    corrupt, message = BAD_FRAMES[case]
    model = MODELS[model_name]()
    error = TypeError if case == "not a frame" else ValueError
    with pytest.raises(error, match=message):
        fit_quietly(model, corrupt(good))
    assert not hasattr(model, "data_")                                    # nothing half-fitted


def test_ratingdata_is_the_one_check(good):
    # the same refusals without any model: the frame is checked where it becomes RatingData
    with pytest.raises(ValueError, match=r"row 102, column 'rating': rating nan is missing"):
        RatingData(_with(good, "rating", 102, np.nan))
    # only what is never valid is refused by default: other scales and implicit 1s are ratings too
    assert RatingData(good.assign(rating=np.linspace(-3, 7, len(good)))).values.min() == -3
    assert RatingData(good.assign(rating=1)).values.dtype == np.float64
    # numeric text is a number (as load_ratings reads it); the checked floats are kept
    data = RatingData(good.astype({"rating": str}))
    assert data.values.tolist() == good.rating.tolist() and data.ratings.rating.dtype == np.float64
    # with a scale given, off-scale ratings are refused as load_ratings does
    with pytest.raises(ValueError, match=r"row 100, column 'rating': rating 4.0 is outside the scale 1..3"):
        RatingData(good, scale=RatingScale(1, 3))
    # a repeated index label is named with its position
    repeated = pd.concat([good, good.loc[[101]]])
    with pytest.raises(ValueError, match=r"row 101 \(position 1\) and row 101 \(position 9\)"):
        RatingData(repeated)


def test_bool_ids_are_refused(good):
    with pytest.raises(ValueError, match=r"row 100, column 'user': user id False is a bool"):
        RatingData(good.assign(user=good.user > 2))


# ----- a failed fit changes nothing ---------------------------------------------------------

def _features():
    items = np.array([10, 20, 30, 40])
    rows = np.array([[1.0, 0], [0, 1], [0.6, 0.8], [1, 1]])
    return ItemFeatures(items, sp.csr_matrix(rows), ["genre:a", "genre:b"])


EVERY_MODEL = {
    "GlobalMean": lambda: GlobalMean(),
    "MostPopular": lambda: MostPopular(),
    "BiasBaseline": lambda: BiasBaseline(),
    "UserKNN": lambda: UserKNN(k=2, min_overlap=1),
    "ItemKNN": lambda: ItemKNN(k=2, min_overlap=1),
    "EASE": lambda: EASE(reg=10.0),
    "IALS": lambda: IALS(n_factors=2, iterations=1),
    "MatrixFactorization": lambda: MatrixFactorization(**TORCH_SMALL),
    "GMF": lambda: GMF(**TORCH_SMALL),
    "ImplicitAutoRec": lambda: ImplicitAutoRec(n_factors=4, epochs=2, batch_size=8, device="cpu"),
    "IAutoRec": lambda: IAutoRec(n_factors=4, epochs=2, batch_size=8, device="cpu"),
    "ContentBased": lambda: ContentBased(_features()),
    "WeightedHybrid": lambda: WeightedHybrid({"pop": MostPopular(), "bias": BiasBaseline()}, [0.5, 0.5]),
}


def _snapshot(model, users, items):
    return (model.predict(users, items), model.recommend(1, k=3), model.data_, dict(vars(model)))


@pytest.mark.parametrize("name", list(EVERY_MODEL))
def test_failed_fit_leaves_a_fitted_model_as_it_was(good, name):
    model = fit_quietly(EVERY_MODEL[name](), good)
    users, items = good.user.to_numpy(), good.item.to_numpy()
    pred, recs, data, attrs = _snapshot(model, users, items)
    other = good.assign(user=good.user + 100)                     # good data, other users
    for bad in (_with(other, "rating", 103, np.nan), other.drop(columns="user"), other.iloc[:0]):
        with pytest.raises(ValueError):
            fit_quietly(model, bad)
    np.testing.assert_array_equal(model.predict(users, items), pred)
    pd.testing.assert_frame_equal(model.recommend(1, k=3), recs)
    assert model.data_ is data and 101 not in model.data_.users
    assert vars(model).keys() == attrs.keys()
    for key, value in vars(model).items():    # the very objects of the fit (or equal settings)
        assert value is attrs[key] or (not hasattr(value, "shape") and value == attrs[key]), key


def test_diverged_training_restores_the_previous_fit(good):
    model = MatrixFactorization(**{**TORCH_SMALL, "epochs": 5, "optimizer": "sgd"}).fit(good, progress=False)
    before = model.predict(good.user, good.item)
    network, history = model.network_, model.history_
    model.learning_rate = 1e6                                      # now training blows up
    with pytest.raises(ValueError, match="diverged"):
        model.fit(good.assign(user=good.user + 100), progress=False)
    np.testing.assert_array_equal(model.predict(good.user, good.item), before)
    assert model.network_ is network and model.history_ is history and 1 in model.data_.users
    assert not hasattr(model, "_fit_options")


def test_failed_fit_of_an_unfitted_model_leaves_it_unfitted(good):
    model = MatrixFactorization(**{**TORCH_SMALL, "epochs": 5, "optimizer": "sgd", "learning_rate": 1e6})
    with pytest.raises(ValueError, match="diverged"):
        model.fit(good, progress=False)
    assert not hasattr(model, "data_") and not hasattr(model, "network_")


# ----- predict / recommend arguments --------------------------------------------------------

@pytest.fixture
def fitted(good):
    return BiasBaseline().fit(good)


@pytest.mark.parametrize("users, items, message", [
    ([1, np.nan], [10, 20], r"users\[1\] is nan, which is missing"),
    ([1, 2], [None, 20], r"items\[0\] is None, which is missing"),
    ([1, [2]], [10, 20], r"users must be a 1-D array of raw ids"),
    ([[1, 2]], [[10, 20]], r"users must be a 1-D array of raw ids \(one per pair\), got shape \(1, 2\)"),
    ([1, 2], [10], r"users and items must be 1-D arrays of equal length, got shapes \(2,\) and \(1,\)"),
    ([True, False], [10, 20], r"users\[0\] is True, which is a bool"),
    ([{1}], [10], r"users\[0\] is \{1\}, which is a set"),
])
def test_predict_refuses_bad_ids(fitted, users, items, message):
    with pytest.raises(ValueError, match=message):
        fitted.predict(users, items)


def test_predict_still_scores_unknown_ids_on_purpose(fitted):
    # unknown (but well-formed) ids are cold start, handled by unknown=..., not bad input
    assert np.isfinite(fitted.predict([999, 1], [10, 999])).all()
    assert fitted.predict(1, 10).shape == (1,)                     # a scalar is one pair


@pytest.mark.parametrize("kwargs, message", [
    (dict(k=True), r"k must be a positive whole number, got True"),
    (dict(k=2.5), r"k must be a positive whole number, got 2.5"),
    (dict(k=float("nan")), r"k must be a positive whole number, got nan"),
    (dict(k=float("inf")), r"k must be a positive whole number, got inf"),
    (dict(k="5"), r"k must be a positive whole number, got '5'"),
    (dict(k=None), r"k must be a positive whole number, got None"),
    (dict(k=0), r"k must be a positive whole number, got 0"),
    (dict(exclude_seen="no"), r"exclude_seen must be True or False, got 'no'"),
    (dict(exclude_seen=None), r"exclude_seen must be True or False, got None"),
])
def test_recommend_refuses_bad_k_and_exclude_seen(fitted, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fitted.recommend(1, **kwargs)


@pytest.mark.parametrize("user, message", [
    ([1], r"user must be one raw user id \(a number or a string\), got list \[1\]; call once per user"),
    (np.array([1, 2]), r"got ndarray array\(\[1, 2\]\)"),
    (None, r"got None, which is missing"),
    (float("nan"), r"got nan, which is missing"),
    (True, r"got True, which is a bool"),
])
def test_recommend_refuses_a_user_that_is_not_one_id(fitted, user, message):
    with pytest.raises(ValueError, match=message):
        fitted.recommend(user)


def test_recommend_accepts_whole_float_k_and_numpy_values(fitted):
    assert len(fitted.recommend(np.int64(1), k=2.0, exclude_seen=np.True_)) == 2


# ----- widget inputs -----------------------------------------------------------------------

@pytest.fixture
def movies():
    return pd.DataFrame({"item": [10, 20, 30, 40], "title": ["A (2000)", "B (2001)", "C (2002)", "D (2003)"],
                         "genres": [["Comedy"], ["Drama"], ["Comedy", "Drama"], []]})


def test_new_user_rating_entry_shows_a_message_for_bad_values(movies, good):
    from recsys_lab.widgets.common import InputError
    from recsys_lab.widgets.new_user import NewUserRatings, add_rating

    new = NewUserRatings(movies, good)
    for rating, shown in [("abc", "got 'abc'"), (None, "got None"), (float("nan"), "got nan"),
                          (True, "got True"), (7.0, "got 7.0")]:
        assert not new.rate("A (2000)", rating)
        assert "A rating must lie in 0.5..5.0 in steps of 0.5; " + shown in html.unescape(new.message.value)
    assert not new.rate(["A (2000)"], 4.0) and "Give a movie title (text) or a movie id" in new.message.value
    assert not new.rate(True, 4.0) and "Give a movie title" in new.message.value
    assert len(new.ratings) == 0                                   # nothing was added
    assert new.rate("A (2000)", "4.5") and new.ratings.rating.tolist() == [4.5]  # typed numbers are fine
    with pytest.raises(InputError, match="got 'four'"):
        add_rating(new.ratings, movies, 20, "four", user=9)


def test_movie_tables_with_missing_titles(movies, good):
    from recsys_lab.widgets.common import InputError
    from recsys_lab.widgets.new_user import NewUserRatings, find_movie
    from recsys_lab.widgets.similarity_explorer import SimilarityExplorer, find_movies

    holey = movies.assign(title=["A (2000)", np.nan, "C (2002)", "D (2003)"])
    # the pure search functions skip a missing title instead of crashing
    assert find_movie(holey, "c (2002)") == 30
    assert find_movies(holey, "(200")["item"].tolist() == [10, 30, 40]
    # the explorers refuse such a table up front, naming the row
    for make in (lambda: NewUserRatings(holey, good), lambda: SimilarityExplorer(good, holey)):
        with pytest.raises(InputError, match=r"movies frame: row 1, column 'title': title nan is not text"):
            make()
    with pytest.raises(InputError, match=r"movies frame: missing column\(s\) 'title'"):
        NewUserRatings(movies.drop(columns="title"), good)


def test_recommendation_lists_refuse_bool_k(movies, good):
    from recsys_lab.widgets.common import InputError
    from recsys_lab.widgets.recommendation_explorer import recommendation_lists

    with pytest.raises(InputError, match="k must be a whole number in 1..100, got True"):
        recommendation_lists({"pop": MostPopular().fit(good)}, 1, True, movies, ratings=good)


def test_network_playground_seed_and_max_steps_show_messages():
    from recsys_lab.widgets.network_playground import NetworkPlayground

    play = NetworkPlayground(n_points=40, max_steps=20)
    play.seed.value = -1                                           # was a numpy traceback
    assert play.trainer is None
    assert "The seed must be a whole number >= 0; got -1." in html.unescape(play.message.value)
    play.seed.value = 0
    assert play.trainer is not None
    play.max_steps.value = -3
    assert not play.start() and "max steps must be at least 1; got -3." in play.message.value


def test_a_bad_validation_frame_is_refused_before_training():
    """A NaN in the validation frame names the frame, row and value (it used to report divergence)."""
    import numpy as np
    import pandas as pd
    import pytest

    from recsys_lab.models import MatrixFactorization

    train = pd.DataFrame({"user": [1, 1, 2, 2], "item": [1, 2, 1, 3], "rating": [4.0, 3.0, 5.0, 2.0]})
    validation = pd.DataFrame({"user": [1], "item": [3], "rating": [np.nan]})
    with pytest.raises(ValueError, match=r"validation frame: row 0, column 'rating'"):
        MatrixFactorization(epochs=1).fit(train, validation=validation, progress=False)
