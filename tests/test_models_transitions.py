"""ItemTransitions: transition counts and scores by hand, the planted order, recommend_next, the contract."""
import numpy as np
import pandas as pd
import pytest

from recsys_lab.models import ItemTransitions, MostPopular
from model_contract import ModelContract
from test_models_sequential import hit_rate, planted


class TestItemTransitionsContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return ItemTransitions(**kw)


def hand_example():
    """user 1: 10 -> 20 -> 30; user 2: 10 -> 20 -> 40; user 3: 20 -> 30 (rows shuffled on purpose);
    user 4 rated 40 and 50 in the same second: the tie key (item id) makes it 40 -> 50."""
    rows = [(2, 40, 9), (1, 10, 1), (3, 30, 8), (1, 30, 3), (2, 10, 5), (1, 20, 2), (3, 20, 7), (2, 20, 6),
            (4, 50, 4), (4, 40, 4)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=1.0)


def test_counts_and_probabilities_by_hand():
    model = ItemTransitions().fit(hand_example())
    ids = model.data_.items.ids.tolist()
    assert ids == [10, 20, 30, 40, 50]
    C = model.counts_.toarray()
    expected = np.zeros((5, 5))
    expected[0, 1] = 2          # 10 -> 20 twice (users 1, 2)
    expected[1, 2] = 2          # 20 -> 30 (users 1, 3)
    expected[1, 3] = 1          # 20 -> 40 (user 2)
    expected[3, 4] = 1          # 40 -> 50 (user 4, same second, by item id)
    np.testing.assert_array_equal(C, expected)     # no transition across users (user 1's 30 -> user 2's 10)
    P = model.transitions_.toarray()
    np.testing.assert_allclose(P[1], [0, 0, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(P.sum(1), [1, 1, 0, 1, 0])   # 30 and 50 are never followed


def test_scores_by_hand_first_and_second_order():
    frame = hand_example()
    first = ItemTransitions().fit(frame)
    pop = np.array([2, 3, 2, 2, 1]) / 3 * 1e-6                 # the tie-break: count / max count * 1e-6
    # after 10 -> 20: P(. | 20) = (0, 0, 2/3, 1/3, 0)
    np.testing.assert_allclose(first.recommend_next([10, 20], k=5, exclude_seen=False)
                               .set_index("item").score.sort_index(), [0, 0, 2 / 3, 1 / 3, 0] + pop, rtol=1e-12)
    second = ItemTransitions(n_last=2).fit(frame)
    # + 1/2 P(. | 10) = (0, 1, 0, 0, 0) / 2
    assert second.recommend_next([10, 20], k=2, exclude_seen=False).item.tolist() == [30, 20]
    # user 1 ends 20, 30: P(40 | 30) = 0 (30 is never followed), + 1/2 P(40 | 20) = 1/2 * 1/3
    np.testing.assert_allclose(second.predict([1, 1], [40, 30]), [1 / 6 + pop[3], 1 / 3 + pop[2]], rtol=1e-12)
    # user 2's training sequence ends 10, 20, 40: after 40 only 50 ever came
    assert first.recommend(2, k=1).item.tolist() == [50]
    assert first.explain(2, 50) == {"last_items": [40], "followed_by_item": [1], "transitions_from": [1],
                                    "score": pytest.approx(1 + pop[4])}
    # never-followed last item: every transition score is 0, so popularity orders the list
    assert first.recommend_next([30], k=3).item.tolist() == [20, 10, 40]


def test_unknown_user_gets_popularity_and_unknown_history_item_is_refused():
    model = ItemTransitions().fit(hand_example())
    assert model.recommend(99, k=2).item.tolist() == MostPopular().fit(hand_example()).recommend(99, k=2).item.tolist()
    with pytest.raises(ValueError, match=r"does not know item\(s\) \[77\]"):
        model.recommend_next([10, 77])
    assert model.recommend_next([10, 77], k=1, skip_unknown=True).item.tolist() == [20]
    with pytest.raises(ValueError, match="ordered"):
        model.recommend_next({10, 20})


def test_recommend_next_of_own_sequence_is_recommend_and_row_order_does_not_matter():
    frame = hand_example()
    model = ItemTransitions(n_last=2).fit(frame)
    shuffled = ItemTransitions(n_last=2).fit(frame.sample(frac=1.0, random_state=3))
    for user in (1, 2, 3, 4):
        one = model.recommend(user, k=3)
        assert model.recommend_next(model.sequence(user), k=3).item.tolist() == one.item.tolist()
        assert shuffled.recommend(user, k=3).item.tolist() == one.item.tolist()
    batch = model.recommend_many([1, 2, 3, 4], k=3)
    assert batch[batch.user == 2].item.tolist() == model.recommend(2, k=3).item.tolist()


def test_learns_the_planted_order():
    train, test, _ = planted()
    assert hit_rate(ItemTransitions().fit(train), test, 1) >= 0.98   # the next item always follows the last


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_n_last_is_refused(bad):
    with pytest.raises(ValueError, match="n_last must be a whole number"):
        ItemTransitions(n_last=bad).fit(hand_example())


def test_needs_a_timestamp():
    with pytest.raises(ValueError, match="no 'timestamp' column"):
        ItemTransitions().fit(hand_example().drop(columns="timestamp"))
