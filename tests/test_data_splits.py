import pandas as pd
import pytest

from recsys_lab.data import kfold_split, leave_one_out, random_split, temporal_split

KEY = ["user", "item"]


def assert_partition(full, train, test):
    """train and test together are exactly the input rows, and no (user, item) pair is in both."""
    assert len(train) + len(test) == len(full)
    both = pd.concat([train, test]).sort_values(KEY).reset_index(drop=True)
    pd.testing.assert_frame_equal(both, full.sort_values(KEY).reset_index(drop=True))
    assert not set(map(tuple, train[KEY].values)) & set(map(tuple, test[KEY].values))


def test_random_split_partitions_and_is_seeded(movielens):
    r = movielens.ratings
    train, test = random_split(r, 0.2, seed=1)
    assert_partition(r, train, test)
    assert len(test) == round(0.2 * len(r))
    again, _ = random_split(r, 0.2, seed=1)
    other, _ = random_split(r, 0.2, seed=2)
    pd.testing.assert_frame_equal(train, again)
    assert not train.equals(other)


def test_kfold_every_row_tested_once(tiny_ratings):
    tests = []
    for train, test in kfold_split(tiny_ratings, n_folds=3, seed=0):
        assert_partition(tiny_ratings, train, test)
        tests.append(test)
    assert_partition(tiny_ratings, tiny_ratings.iloc[:0], pd.concat(tests))
    with pytest.raises(ValueError, match="n_folds"):
        next(kfold_split(tiny_ratings, n_folds=1))


def test_temporal_split_holds_out_each_users_latest(tiny_ratings):
    train, test = temporal_split(tiny_ratings, test_n=1)
    assert_partition(tiny_ratings, train, test)
    # user 1: latest t=3 (item 30); user 2: t=5 (item 10); user 3: t=9 (item 20); user 4 keeps its only rating
    assert sorted(map(tuple, test[KEY].values)) == [(1, 30), (2, 10), (3, 20)]


def test_temporal_split_no_future_in_train(movielens):
    r = movielens.ratings
    train, test = temporal_split(r, test_fraction=0.2)
    assert_partition(r, train, test)
    last_train = train.groupby("user").timestamp.max()
    first_test = test.groupby("user").timestamp.min()
    assert (last_train.loc[first_test.index] <= first_test).all()
    assert set(train.user) == set(r.user)  # every user keeps a history
    assert abs(len(test) / len(r) - 0.2) < 0.01


def test_leave_one_out(movielens, tiny_ratings):
    train, test = leave_one_out(tiny_ratings)
    assert_partition(tiny_ratings, train, test)
    assert sorted(map(tuple, test[KEY].values)) == [(1, 30), (2, 10), (3, 20)]
    r = movielens.ratings
    train, test = leave_one_out(r, by="random", seed=3)
    assert_partition(r, train, test)
    assert test.user.is_unique and len(test) == r.user.nunique()
    with pytest.raises(ValueError, match="by must be"):
        leave_one_out(r, by="oldest")


def test_split_argument_errors(tiny_ratings):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        random_split(tiny_ratings, 1.0)
    with pytest.raises(ValueError, match="exactly one"):
        temporal_split(tiny_ratings, test_fraction=0.2, test_n=1)
    with pytest.raises(ValueError, match="needs a 'timestamp' column"):
        temporal_split(tiny_ratings.drop(columns="timestamp"))
