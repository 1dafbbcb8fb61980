"""keep_frequent_items counts in train only: a movie popular only thanks to its test ratings is dropped."""
import pandas as pd
import pytest

from recsys_lab.data import keep_frequent_items


def test_counts_come_from_train_only_and_both_parts_are_restricted():
    train = pd.DataFrame({"user": [1, 2, 3, 1, 2], "item": [10, 10, 10, 20, 20], "rating": [4.0] * 5})
    test = pd.DataFrame({"user": [4, 5, 6, 4], "item": [20, 20, 20, 10], "rating": [3.0] * 4})
    tr, te = keep_frequent_items(train, test, 3)          # item 20: 2 in train + 3 in test = 5 >= 3, still dropped
    assert set(tr.item) == {10} and set(te.item) == {10} and len(te) == 1
    tr2, te2 = keep_frequent_items(train.iloc[::-1], test.iloc[::-1], 3)
    pd.testing.assert_frame_equal(tr, tr2)
    pd.testing.assert_frame_equal(te, te2)
    tr3, _ = keep_frequent_items(train, test, 2)
    assert set(tr3.item) == {10, 20}
    with pytest.raises(ValueError, match="min_ratings"):
        keep_frequent_items(train, test, 0)
