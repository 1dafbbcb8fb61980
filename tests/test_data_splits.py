import numpy as np
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


def test_global_temporal_split_by_hand_and_future_leakage():
    from recsys_lab.data import future_leakage, global_temporal_split

    frame = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": [10, 11, 12, 10, 13, 11],
                          "rating": 4.0, "timestamp": [1, 5, 9, 2, 7, 9]})
    train, test = global_temporal_split(frame, 0.5)
    assert sorted(train.timestamp) == [1, 2, 5] and sorted(test.timestamp) == [7, 9, 9]
    assert train.timestamp.max() < test.timestamp.min()
    shuffled = frame.sample(frac=1.0, random_state=3)
    for a, b in zip((train, test), global_temporal_split(shuffled, 0.5)):
        pd.testing.assert_frame_equal(a, b)
    assert (future_leakage(train, test) == 0).all()
    # a per-user split leaks other users' future: train keeps t = 1, 5 (user 1), 2 (user 2) and 9
    # (user 3's only rating); user 2's held-out rating is at t = 7, so 1 of the 4 is from its future
    per_user_train, per_user_test = temporal_split(frame, test_n=1)
    leak = future_leakage(per_user_train, per_user_test)
    assert leak.to_dict() == {1: 0.0, 2: 0.25}


def test_every_split_ignores_the_order_of_the_input_rows():
    from recsys_lab.data import global_temporal_split, make_synthetic_ratings

    ratings = make_synthetic_ratings(n_users=30, n_items=40, density=0.3, seed=2).ratings
    ratings = ratings.assign(timestamp=np.random.default_rng(0).integers(0, 50, len(ratings)))  # ties in time
    shuffled = ratings.sample(frac=1.0, random_state=7)
    splits = [lambda r: random_split(r, 0.2, seed=1), lambda r: temporal_split(r, 0.3),
              lambda r: leave_one_out(r), lambda r: leave_one_out(r, by="random", seed=4),
              lambda r: global_temporal_split(r, 0.25), lambda r: list(kfold_split(r, 3, seed=0))[1]]
    for split in splits:
        for a, b in zip(split(ratings), split(shuffled)):
            pd.testing.assert_frame_equal(a, b)


def test_course_split_is_the_documented_pair_of_random_splits(movielens):
    from recsys_lab.data import course_split

    r = movielens.ratings
    split = course_split(r)
    train, test = split                                   # unpacks as (train, test)
    want_train, want_test = random_split(r, 0.2, seed=0)
    want_fit, want_validation = random_split(want_train, 0.2, seed=1)
    for got, want in ((train, want_train), (test, want_test), (split.fit, want_fit),
                      (split.validation, want_validation)):
        pd.testing.assert_frame_equal(got, want)
    assert split.train is train and split.test is test
    # not just "some" split: another seed gives another test set
    assert not test.equals(random_split(r, 0.2, seed=1)[1])


def test_course_split_parts_partition_the_rows(movielens):
    from recsys_lab.data import course_split

    r = movielens.ratings
    split = course_split(r)
    assert_partition(r, split.train, split.test)
    assert_partition(split.train, split.fit, split.validation)
    assert len(split.test) == round(0.2 * len(r))
    assert len(split.validation) == round(0.2 * len(split.train))


def test_course_split_ignores_the_order_of_the_input_rows(movielens):
    from recsys_lab.data import course_split

    r = movielens.ratings
    shuffled = r.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert not shuffled.equals(r)
    a, b = course_split(r), course_split(shuffled)
    for name in ("train", "test", "fit", "validation"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


# --- cold_start_split (notebook 12) -----------------------------------------------------------
def _cold_log(n_users=60, n_items=40, seed=3):
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6)), int(rng.integers(0, 10_000)))
            for u in range(n_users) for i in range(n_items) if rng.random() < 0.6]
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def test_cold_start_split_keeps_each_newcomers_own_future_out():
    from recsys_lab.data import cold_start_split
    log = _cold_log()
    s = cold_start_split(log, n_new_items=5, min_item_ratings=10, n_new_users=6, n_given=3, seed=1)
    assert not s.train.item.isin(s.new_items).any()
    assert s.test_new_items.item.isin(s.new_items).all() and s.test_new_items.user.isin(s.train.user).all()
    given = s.train[s.train.user.isin(s.new_users)]
    assert (given.groupby("user").size() == 3).all() and given.user.nunique() == 6
    later = s.test_new_users.groupby("user").timestamp.min()
    assert (given.groupby("user").timestamp.max() <= later.reindex(given.user.unique())).all()  # first ratings kept
    assert not s.test_warm.user.isin(s.new_users).any() and not s.test_warm.item.isin(s.new_items).any()
    # a partition of the log, except the new movies' ratings by users train never saw
    parts = pd.concat([s.train, s.test_warm, s.test_new_users, s.test_new_items])
    assert not parts.duplicated(["user", "item"]).any()
    dropped = log[log.item.isin(s.new_items) & ~log.user.isin(s.train.user)]
    assert len(parts) + len(dropped) == len(log)


def test_cold_start_split_depends_on_the_seed_only():
    from recsys_lab.data import cold_start_split
    log = _cold_log()
    a = cold_start_split(log, 5, 10, 6, 3, seed=1)
    b = cold_start_split(log.sample(frac=1, random_state=7), 5, 10, 6, 3, seed=1)   # rows shuffled
    for x, y in zip(a, b):
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True))
        else:
            np.testing.assert_array_equal(x, y)
    c = cold_start_split(log, 5, 10, 6, 3, seed=2)
    assert not np.array_equal(a.new_items, c.new_items) or not np.array_equal(a.new_users, c.new_users)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_new_items": 500}, "too many"), ({"n_new_users": 500}, "too many"), ({"n_given": 0}, "n_given"),
    ({"warm_test_fraction": 1.0}, "warm_test_fraction")])
def test_cold_start_split_refuses_impossible_settings(kwargs, message):
    from recsys_lab.data import cold_start_split
    with pytest.raises(ValueError, match=message):
        cold_start_split(_cold_log(), **{"n_new_items": 5, "min_item_ratings": 10, "n_new_users": 6, "n_given": 3, **kwargs})


def test_cold_start_split_needs_timestamps():
    from recsys_lab.data import cold_start_split
    with pytest.raises(ValueError, match="timestamp"):
        cold_start_split(_cold_log().drop(columns="timestamp"), 5, 10, 6, 3)
