"""Checks for the exercises of notebook 15 (sequence-aware recommendation). Solutions:
``notebooks/solutions/15_sequences.ipynb``.

Every check receives the notebook's ``train`` and ``test`` (leave-last-out on ml-latest-small,
restricted to the movies with at least 50 training interactions) and computes its reference from
them with the kit, so nothing in the learner's notebook shows the answer."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..checks import Verdict, check_answer
from ..data import keep_frequent_items, leave_one_out, load_movielens
from ..models import ItemTransitions
from ..models.sequence_data import user_sequences
from . import register

MIN_ITEM_RATINGS = 50
FROM, TO = 260, 1196        # Star Wars: Episode IV, then Episode V
DAYS = 30                   # the recency window of 15.2
DAY = 86_400                # seconds


@lru_cache(maxsize=1)
def _split():
    return keep_frequent_items(*leave_one_out(load_movielens().ratings), MIN_ITEM_RATINGS)


def _protocol():
    """The notebook's split (leave-last-out, MIN_ITEM_RATINGS = 50)."""
    train, test = _split()
    return {"train": train, "test": test}


def _sequences(train: pd.DataFrame) -> dict:
    """user -> raw item ids in time order (timestamp, then item id), as the kit orders them."""
    ordered = train.sort_values(["user", "timestamp", "item"])
    return {u: g.to_numpy() for u, g in ordered.groupby("user").item}


# 15.1 · understanding: one transition count --------------------------------------------------------
def _transition_count(train, test=None, a=FROM, b=TO):
    model = ItemTransitions().fit(train)
    i, j = model.data_.items.to_index([a, b])
    return int(model.counts_[i, j])


def _count_wrong(train, test=None):
    solution = _transition_count(train)
    later = sum(bool(len(s)) and FROM in s and TO in s and np.flatnonzero(s == TO)[0] > np.flatnonzero(s == FROM)[0]
                for s in _sequences(train).values())
    both = solution + _transition_count(train, a=TO, b=FROM)
    by_rows = sum(int(((s[:-1] == FROM) & (s[1:] == TO)).sum())
                  for s in (g.to_numpy() for _, g in train.groupby("user").item))   # file order, not time
    return [w for w in dict.fromkeys([_transition_count(train, a=TO, b=FROM), both, later, by_rows]) if w != solution]


@register("15.1", solution=_transition_count, wrong=_count_wrong, context=_protocol)
def check_transition_count(answer, train, test=None):
    """How many training sequences have movie 260 *directly* followed by movie 1196 (C[260, 1196])."""
    if isinstance(answer, (bool, np.bool_)) or (answer is not ... and answer is not None
                                                 and not float(np.asarray(answer)).is_integer()):
        print("❌ transitions 260 -> 1196: a count is a whole number.")
        return Verdict(False)
    solution = _transition_count(train)
    wrong = dict.fromkeys(_count_wrong(train))
    reverse = _transition_count(train, a=TO, b=FROM)
    hints = {reverse: "that counts 1196 directly followed by 260: the order of the pair matters.",
             solution + reverse: "that counts both directions; C[i, j] counts j right *after* i only."}
    later = [w for w in wrong if w not in hints]
    mistakes = [(w, why) for w, why in hints.items() if w != solution]
    mistakes += [(w, "that is not the count of *adjacent* pairs in time order: sort each user's rows by "
                     "timestamp (then item id) and count 1196 immediately after 260.") for w in later]
    return check_answer(answer, solution, "transitions 260 -> 1196", atol=0, rtol=0, mistakes=mistakes,
                        hint="per user, sort by (timestamp, item); count positions t with s[t] == 260 and s[t+1] == 1196.")


# 15.2 · change the code: popularity over a window of days -------------------------------------------
def _window_top(frame: pd.DataFrame, end, days=DAYS, k=10):
    """Top-k of ``frame`` by count inside ``[end - days, end]``, ties by all-time count, then id."""
    recent = frame[frame.timestamp >= end - days * DAY].item.value_counts()
    table = pd.DataFrame({"recent": recent, "all": frame.item.value_counts()}).fillna(0)
    table = table.reset_index(names="item").sort_values(["recent", "all", "item"], ascending=[False, False, True])
    return [int(i) for i in table.item[:k]]


def _recent_top(train, test=None):
    return _window_top(train, train.timestamp.max())


def _recent_wrong(train, test):
    everything = pd.concat([train, test])
    wrong = [_window_top(train, train.timestamp.max(), days=1e9),                    # all time: MostPopular
             _window_top(everything, everything.timestamp.max()),                    # the test rows leak in
             _window_top(train, train.timestamp.max(), days=DAYS * 7)]               # weeks for days
    solution = _recent_top(train)
    return [w for w in wrong if w != solution]


@register("15.2", solution=_recent_top, wrong=_recent_wrong, context=_protocol)
def check_recent_top(answer, train, test):
    """The 10 movies rated most in the last 30 days of ``train`` (ties: all-time training count, then id)."""
    what = f"top 10 of the last {DAYS} days"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    try:
        answer = [int(i) for i in answer]
    except (TypeError, ValueError):
        print(f"❌ {what}: give a list of 10 movie ids, best first.")
        return Verdict(False)
    solution = _recent_top(train)
    if answer == solution:
        print(f"✅ {what}: correct.")
        return Verdict(True)
    everything = pd.concat([train, test])
    if answer == _window_top(everything, everything.timestamp.max()):
        print(f"❌ {what}: that window includes the test interactions; use the training rows only, ending at "
              "the latest training timestamp.")
    elif answer == _window_top(train, train.timestamp.max(), days=1e9):
        print(f"❌ {what}: that is the all-time order (MostPopular); count only the rows inside the window.")
    elif len(answer) != 10:
        print(f"❌ {what}: give exactly 10 movie ids.")
    elif set(answer) == set(solution):
        print(f"❌ {what}: the right movies in the wrong order: sort by the window count, then the all-time "
              "count, then the movie id.")
    else:
        print(f"❌ {what}: not right. Hint: timestamps are seconds; the window is timestamp >= "
              f"train.timestamp.max() - {DAYS} * 86400.")
    return Verdict(False)


# 15.3 · open question with a checkable part: how often can a second-order chain answer? ----------
def _followed_pairs(train) -> tuple[set, set]:
    """(a, b) pairs and single items a that are followed by something in some training sequence."""
    pairs, singles = set(), set()
    for s in _sequences(train).values():
        singles.update(s[:-1].tolist())
        pairs.update(zip(s[:-2].tolist(), s[1:-1].tolist()))
    return pairs, singles


def _second_order_answers(train, test) -> dict:
    """The right share and the plausible wrong ones, over the test users with two or more training items."""
    pairs, singles = _followed_pairs(train)
    seqs = _sequences(train)
    users = [u for u in test.user if len(seqs.get(u, ())) >= 2]
    last_two = [(int(seqs[u][-2]), int(seqs[u][-1])) for u in users]
    return {"share": float(np.mean([pair in pairs for pair in last_two])),
            "first": float(np.mean([b in singles for _, b in last_two])),
            "count": float(sum(pair in pairs for pair in last_two)),
            "reversed": float(np.mean([(b, a) in pairs for a, b in last_two]))}


def _second_order_share(train, test):
    return _second_order_answers(train, test)["share"]


def _second_order_wrong(train, test):
    answers = _second_order_answers(train, test)
    return [w for w in dict.fromkeys([answers["first"], answers["count"], answers["reversed"]])
            if not np.isclose(w, answers["share"])]


@register("15.3", solution=_second_order_share, wrong=_second_order_wrong, context=_protocol)
def check_second_order_share(answer, train, test):
    """The share of test users whose last two training items (a, b), in that order, are followed by
    some item somewhere in the training sequences."""
    answers = _second_order_answers(train, test)
    first, count, reversed_pair, solution = answers["first"], answers["count"], answers["reversed"], answers["share"]
    mistakes = [(w, why) for w, why in [
        (first, "that is the first-order share (the last item alone is followed by something); the second-order "
                "context is the last *two* items."),
        (count, "that is a number of users; give the share of the test users."),
        (reversed_pair, "that looks the pair up in the wrong order: (second-to-last, last)."),
    ] if not np.isclose(w, solution)]
    return check_answer(answer, solution, "share of test users a second-order chain can answer", atol=1e-9,
                        mistakes=mistakes, hint="collect every consecutive (a, b) followed by a third item in a "
                                                "training sequence, then look up each test user's last two.")
