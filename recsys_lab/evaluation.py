"""Evaluate any recommender of the kit on a held-out split (notebook 13; used from notebook 00 on).

Works with every model of the kit's interface (:mod:`recsys_lab.models.base`):
``model.predict(users, items)`` for rating error, ``model.recommend(user, k,
exclude_seen=True)`` for ranking. The model must already be fitted on the training split;
the test frame has columns ``user``, ``item`` (and ``rating``) with raw ids.

- :func:`evaluate_ratings`: RMSE and MAE of ``predict`` on the test pairs.
- :func:`evaluate_ranking`: for each test user, asks the model for its top ``k`` among
  all items it knows that the user did not rate in training, and scores that list against
  the user's test items with the per-user metrics of :mod:`recsys_lab.metrics`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data.schema import ITEM, RATING, USER
from .metrics import (_check_k, average_precision_at_k, catalog_coverage, hit_rate_at_k, mae,
                      ndcg_at_k, novelty, popularity_bias, precision_at_k, recall_at_k,
                      reciprocal_rank, rmse)

#: Ranking metrics by name, as used for ``per_user`` columns and ``summary`` entries.
#: The mean of ``"ap"`` over users is MAP@k; the mean of ``"reciprocal_rank"`` is MRR.
RANKING_METRICS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "ap": average_precision_at_k,
    "hit_rate": hit_rate_at_k,
    "reciprocal_rank": reciprocal_rank,
}


def _check_frame(df, columns, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(df.columns)}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: nothing to evaluate")


def evaluate_ratings(model, test_df: pd.DataFrame) -> dict:
    """RMSE and MAE of ``model.predict`` on every (user, item, rating) row of ``test_df``.

    Returns ``{"rmse": float, "mae": float, "n": number of test rows}``. Pairs with users or
    items unknown to the model get whatever ``predict`` does for them (a fallback score, or a
    ``KeyError`` from a model built with ``unknown="error"``, which is passed on).
    """
    _check_frame(test_df, (USER, ITEM, RATING), "test_df")
    users, items = test_df[USER].to_numpy(), test_df[ITEM].to_numpy()
    pred = np.asarray(model.predict(users, items), dtype=np.float64)
    if pred.shape != (len(test_df),):
        raise ValueError(f"{type(model).__name__}.predict returned shape {pred.shape}, "
                         f"expected ({len(test_df)},): one score per test row")
    bad = ~np.isfinite(pred)
    if bad.any():
        j = np.flatnonzero(bad)[0]
        raise ValueError(f"{type(model).__name__}.predict returned NaN/inf for {bad.sum()} of "
                         f"{len(pred)} pairs, first (user, item) = ({users[j]!r}, {items[j]!r})")
    truth = test_df[RATING].to_numpy(dtype=np.float64)
    return {"rmse": rmse(truth, pred), "mae": mae(truth, pred), "n": len(test_df)}


@dataclass
class RankingReport:
    """What :func:`evaluate_ranking` found.

    - ``per_user``: DataFrame indexed by user, one column per metric, one row per evaluated user.
    - ``summary``: Series, the mean of each ``per_user`` column (``ap`` -> MAP@k,
      ``reciprocal_rank`` -> MRR).
    - Every test user falls in exactly one group: ``n_users_evaluated`` (rows of ``per_user``),
      ``n_users_skipped`` (the model answered but the user has no relevant test item),
      ``n_users_unknown`` (``recommend`` raised ``KeyError``; ids in ``unknown_users``).
    - ``recommendations``: user -> list of recommended item ids, for every user the model
      answered (evaluated and skipped); the beyond-accuracy numbers are computed over them.
    - ``coverage``, ``novelty``, ``popularity_bias``: ``None`` unless ``n_items`` /
      ``item_popularity`` were given.
    """

    k: int
    per_user: pd.DataFrame
    summary: pd.Series
    n_users_evaluated: int
    n_users_skipped: int
    n_users_unknown: int
    unknown_users: list = field(default_factory=list)
    recommendations: dict = field(default_factory=dict, repr=False)
    coverage: float | None = None
    novelty: float | None = None
    popularity_bias: float | None = None

    def to_dict(self) -> dict:
        """Headline numbers in one flat dict (one row of a model-comparison table)."""
        out = {f"{name}@{self.k}": float(v) for name, v in self.summary.items()}
        for name in ("coverage", "novelty", "popularity_bias"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update(n_users_evaluated=self.n_users_evaluated, n_users_skipped=self.n_users_skipped,
                   n_users_unknown=self.n_users_unknown)
        return out

    def __repr__(self) -> str:
        means = ", ".join(f"{n}={v:.4f}" for n, v in self.summary.items())
        return (f"RankingReport(k={self.k}, evaluated={self.n_users_evaluated}, "
                f"skipped={self.n_users_skipped}, unknown={self.n_users_unknown}; {means})")


def _batched_lists(model, users, k, exclude_seen):
    """Every user's top-``k`` frame from one ``recommend_many`` call (batch scoring), or ``None``
    when the model is not a kit :class:`~recsys_lab.models.base.Recommender` whose ``recommend`` is
    the base one (a model with its own ``recommend`` is asked user by user). Users a model with
    ``unknown="error"`` does not know are left out, so that ``recommend`` raises for them."""
    from .models.base import Recommender
    if not isinstance(model, Recommender) or type(model).recommend is not Recommender.recommend \
            or type(model)._candidate_scores is not Recommender._candidate_scores or not hasattr(model, "data_"):
        return None
    if model.unknown == "error":
        users = np.asarray([u for u in users if u in model.data_.users])
    many = model.recommend_many(users, k=k, exclude_seen=exclude_seen)
    lists = {user: frame.drop(columns=USER).reset_index(drop=True) for user, frame in many.groupby(USER, sort=False)}
    empty = pd.DataFrame({ITEM: pd.Series([], dtype=many[ITEM].dtype), "score": pd.Series([], dtype=float)})
    return _Lists(lists, empty, set(users.tolist()))


class _Lists(dict):
    """user -> frame; a known user with no candidate gets an empty frame; an unlisted one a KeyError."""

    def __init__(self, lists, empty, known):
        super().__init__(lists)
        self.empty, self.known = empty, known

    def __missing__(self, user):
        if user in self.known:
            return self.empty
        raise KeyError(user)


def evaluate_ranking(model, test_df: pd.DataFrame, k: int = 10, relevance_threshold=None,
                     metrics=tuple(RANKING_METRICS), item_popularity=None, n_items=None,
                     exclude_seen: bool = True) -> RankingReport:
    """Top-``k`` ranking quality of a fitted ``model`` on the users of ``test_df``.

    For each test user ``u`` (ascending id):

    1. ``relevant(u)`` = the items ``u`` has in ``test_df``, only those with
       ``rating >= relevance_threshold`` when a threshold is given.
    2. ``model.recommend(u, k=k, exclude_seen=exclude_seen)`` ranks the candidates: by default
       all items the model knows that ``u`` did not rate in training. (Relevant items the model
       never saw cannot be recommended; they still count in recall's denominator.)
    3. Each metric of ``metrics`` (names from :data:`RANKING_METRICS`) scores that list.

    Users with no relevant item are skipped (their metrics would be NaN) and counted. Users
    unknown to the model are handled by the model itself: a model with ``unknown="fallback"``
    returns its non-personalised list and the user is evaluated on it; one that raises
    ``KeyError`` has the user counted in ``n_users_unknown`` and left out.

    ``n_items`` (catalogue size) adds catalogue coverage; ``item_popularity`` (dict or Series
    item -> fraction of users, e.g. :func:`recsys_lab.metrics.popularity_from_ratings` on the
    training split) adds novelty and popularity bias (ARP). Both are computed over the lists
    of all users the model answered.
    """
    k = _check_k(k)
    _check_frame(test_df, (USER, ITEM) + ((RATING,) if relevance_threshold is not None else ()),
                 "test_df")
    if isinstance(metrics, str):
        metrics = (metrics,)
    unknown_names = [m for m in metrics if m not in RANKING_METRICS]
    if unknown_names or not metrics:
        raise ValueError(f"metrics must be a non-empty selection of {list(RANKING_METRICS)}, "
                         f"got {list(metrics)}")

    relevant_rows = test_df
    if relevance_threshold is not None:
        relevant_rows = test_df[test_df[RATING] >= relevance_threshold]
    relevant = relevant_rows.groupby(USER)[ITEM].agg(set).to_dict()

    rows, recommendations, unknown_users, n_skipped = {}, {}, [], 0
    batched = _batched_lists(model, np.sort(test_df[USER].unique()), k, exclude_seen)
    for user in np.sort(test_df[USER].unique()):
        try:
            recs = batched[user] if batched is not None else model.recommend(user, k=k, exclude_seen=exclude_seen)
        except KeyError:
            known = getattr(getattr(model, "data_", None), "users", None)
            if known is not None and user in known:
                raise  # the model knows this user: a KeyError here is a bug, not cold start
            unknown_users.append(user)
            continue
        if not isinstance(recs, pd.DataFrame) or ITEM not in recs.columns:
            raise ValueError(f"{type(model).__name__}.recommend must return a DataFrame with an "
                             f"{ITEM!r} column, got {type(recs).__name__}")
        items = recs[ITEM].tolist()
        recommendations[user] = items
        if not relevant.get(user):
            n_skipped += 1
            continue
        rows[user] = {m: RANKING_METRICS[m](items, relevant[user], k) for m in metrics}

    per_user = pd.DataFrame.from_dict(rows, orient="index", columns=list(metrics), dtype=float)
    per_user.index.name = USER
    report = RankingReport(k=k, per_user=per_user, summary=per_user.mean(),
                           n_users_evaluated=len(per_user), n_users_skipped=n_skipped,
                           n_users_unknown=len(unknown_users), unknown_users=unknown_users,
                           recommendations=recommendations)
    if n_items is not None:
        report.coverage = catalog_coverage(recommendations, n_items)
    if item_popularity is not None:
        report.novelty = novelty(recommendations, item_popularity)
        report.popularity_bias = popularity_bias(recommendations, item_popularity)
    return report
