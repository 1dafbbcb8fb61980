"""The one interface every recommender of the kit shares (notebook 00; used from 07 on).

    model = SomeModel(hyper=...)      # __init__ only stores hyper-parameters
    model.fit(ratings)                # tidy frame (user, item, rating) or RatingData; returns model
    model.predict(users, items)       # arrays of raw ids, equal length -> np.ndarray of scores
    model.recommend(user, k=10)       # DataFrame (item, score), best first, seen items excluded
    model.recommend_many(users, k=10) # the same lists for many users at once (batch scoring)
    model.explain(user, item)         # where the model allows it: why this score

Unknown users and items (cold start) are handled on purpose, by the ``unknown``
setting every model takes:

- ``"fallback"`` (default): the model answers with its documented fallback (a
  baseline score for ``predict``, a non-personalised list for ``recommend``);
- ``"error"``: a ``KeyError`` names the unknown ids.

``recommend`` orders by score rounded to 1e-9, then by item position (ascending raw id):
the kit's one tie rule (:mod:`recsys_lab.topk`), so a ranking never rests on float noise.

**A new user without refitting** (notebook 12). Models that can say how a user's parameters
follow from that user's ratings with everything else fixed implement ``_fold_in``:

    folded = model.fold_in({318: 5.0, 260: 4.5})   # ratings of one new user (item -> rating)
    folded.recommend(k=10)                          # same frame as recommend, rated items excluded
    folded.predict([296, 593])                      # that user's scores of raw items
    folded.explain(296)                             # where the model explains
    model.recommend_for({318: 5.0}, k=10)           # shortcut: fold_in(...).recommend(k=10)

The new ratings may be a mapping ``item -> rating``, a Series indexed by item, or a frame with
``item`` and ``rating`` columns (a ``user`` column, if any, must hold one user). They are
refused with a ``ValueError`` naming the bad rows when empty, holding an item the model does
not know, a rating that is not a number or is off the training scale (``data_.scale``, else
the training range), or one item twice. Nothing of the fitted model changes.
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from ..data.dataset import RatingData, query_id, query_ids
from ..data.schema import ITEM, RATING, USER
from ..topk import top_k_candidates, top_k_rows


def check_top_k(k, exclude_seen) -> int:
    """``k`` as an int after checking it is a positive whole number and ``exclude_seen`` a bool."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.integer, np.floating)) \
            or not np.isfinite(k) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    if not isinstance(exclude_seen, (bool, np.bool_)):
        raise ValueError(f"exclude_seen must be True or False, got {exclude_seen!r}")
    return int(k)


class Recommender:
    """Base class: subclasses implement ``_fit``, ``_predict_known`` and ``_score_user``.

    Optional overrides: ``_predict_fallback`` (unknown pairs) and ``_score_unknown_user``.
    """

    def __init__(self, unknown: str = "fallback"):
        self.unknown = unknown

    # ----- parameters ---------------------------------------------------------------
    def get_params(self) -> dict:
        """Hyper-parameters as passed to ``__init__`` (``type(m)(**m.get_params())`` clones m)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----- fitting ------------------------------------------------------------------
    def _check_unknown(self) -> None:
        if self.unknown not in ("fallback", "error"):
            raise ValueError(f"unknown must be 'fallback' or 'error', got {self.unknown!r}")

    def fit(self, ratings) -> "Recommender":
        """Learn from ``ratings`` (forgetting any earlier fit); returns ``self``.

        Bad ratings are refused by :class:`RatingData` before anything changes; if fitting fails
        later (e.g. training diverges), the model is put back as it was before the call.
        """
        self._check_unknown()
        data = ratings if isinstance(ratings, RatingData) else RatingData(ratings)
        before = dict(self.__dict__)  # _fit only assigns attributes, so a shallow copy restores
        try:
            self.data_ = data
            self.seen_ = data.to_csr(binary=True)
            self._fit(data)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit(self, data: RatingData) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call .fit(ratings) first")

    # ----- scoring ------------------------------------------------------------------
    def predict(self, users, items) -> np.ndarray:
        """Scores of (user, item) pairs given as equal-length arrays of raw ids, shape ``(n,)``."""
        self._check_fitted()
        users, items = query_ids(users, "users"), query_ids(items, "items")  # 1-D, no missing ids
        if users.shape != items.shape:
            raise ValueError(f"users and items must be 1-D arrays of equal length, "
                             f"got shapes {users.shape} and {items.shape}")
        u = self.data_.users.to_index(users, missing="minus1")
        i = self.data_.items.to_index(items, missing="minus1")
        known = (u >= 0) & (i >= 0)
        if not known.all() and self.unknown == "error":
            bad_u, bad_i = users[u < 0], items[i < 0]
            raise KeyError(f"{type(self).__name__} was not fitted on user(s) {list(bad_u[:5])} "
                           f"/ item(s) {list(bad_i[:5])}; use unknown='fallback' to score them")
        out = np.empty(len(users), dtype=np.float64)
        if known.any():
            out[known] = self._predict_known(u[known], i[known])
        if not known.all():
            out[~known] = self._predict_fallback(u[~known], i[~known])
        return out

    def _predict_known(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _predict_fallback(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Scores for pairs where ``u`` or ``i`` is -1 (unknown). Default: the training mean."""
        return np.full(len(u), self.data_.values.mean())

    def _score_user(self, u: int) -> np.ndarray:
        """Scores of every known item for known user position ``u``, shape ``(n_items,)``."""
        return self._predict_known(np.full(self.data_.n_items, u), np.arange(self.data_.n_items))

    def _score_unknown_user(self) -> np.ndarray:
        """Scores of every item for a user the model has never seen. Default: item popularity."""
        return np.asarray(self.seen_.sum(axis=0)).ravel().astype(np.float64)

    # ----- ranking ------------------------------------------------------------------
    def _seen_items(self, u: int) -> np.ndarray:
        """Positions of the items known user position ``u`` interacted with in training."""
        return self.seen_.indices[self.seen_.indptr[u]:self.seen_.indptr[u + 1]]

    def _user_scores(self, u: int) -> np.ndarray:
        """Every item's ranking score (float64) for user position ``u``; -1 is an unknown user."""
        return np.asarray(self._score_user(u) if u >= 0 else self._score_unknown_user(), dtype=np.float64)

    def _candidate_scores(self, u: int, exclude_seen: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """What ``recommend`` ranks for user position ``u`` (-1: unknown): every item's score
        and which items are candidates (a finite score, not seen when ``exclude_seen``)."""
        scores = self._user_scores(u)
        candidates = np.isfinite(scores)
        if exclude_seen and u >= 0:
            candidates[self._seen_items(u)] = False
        return scores, candidates

    def recommend(self, user, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items for raw user id ``user`` as a frame (``item``, ``score``), best first.

        With ``exclude_seen`` the items the user rated in training are not candidates. May return
        fewer than ``k`` rows when fewer candidates exist.
        """
        self._check_fitted()
        k = check_top_k(k, exclude_seen)
        user = query_id(user, "user")
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        if u < 0 and self.unknown == "error":
            raise KeyError(f"{type(self).__name__} was not fitted on user {user!r}; "
                           f"use unknown='fallback' for a non-personalised list")
        scores, candidates = self._candidate_scores(u, exclude_seen)
        order = top_k_candidates(scores, candidates, k)  # the kit's one tie rule (recsys_lab.topk)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(order), "score": scores[order]})

    # ----- batch scoring -------------------------------------------------------------
    def _score_users(self, us: np.ndarray) -> np.ndarray:
        """Scores of every item for known user positions ``us``, shape ``(len(us), n_items)``.

        Default: one :meth:`_score_user` row per user. Models whose scores are a matrix product
        (MF, EASE, the baselines, ...) override it with one vectorized product."""
        return np.vstack([np.asarray(self._score_user(int(u)), dtype=np.float64) for u in us]) \
            if len(us) else np.zeros((0, self.data_.n_items))

    def _batch_scorer(self):
        """``_score_users`` when it is defined with (or below) the class that defines ``_score_user``;
        otherwise the row-by-row default, so a subclass that changes ``_score_user`` only is never
        scored by its parent's matrix product."""
        def owner(name):
            return next(c for c in type(self).__mro__ if name in c.__dict__)
        batch, single = owner("_score_users"), owner("_score_user")
        if batch is not Recommender and issubclass(batch, single):
            return self._score_users
        return lambda us: Recommender._score_users(self, us)

    def recommend_many(self, users, k: int = 10, exclude_seen: bool = True,
                       batch_size: int = 1024) -> pd.DataFrame:
        """Top-``k`` lists for many raw user ids at once: a frame (``user``, ``item``, ``score``),
        each user's rows best first, users in the order given.

        The same lists as ``recommend(user, k, exclude_seen)`` for each user (same candidates,
        same tie rule, :func:`recsys_lab.topk.top_k_rows`), scored ``batch_size`` users at a time
        by one matrix product where the model has one. Users the model does not know get the
        fallback list, or a ``KeyError`` naming them when ``unknown="error"``."""
        self._check_fitted()
        k = check_top_k(k, exclude_seen)
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        users = query_ids(users, "users")
        positions = np.asarray(self.data_.users.to_index(users, missing="minus1"), dtype=np.int64)
        if (positions < 0).any() and self.unknown == "error":
            raise KeyError(f"{type(self).__name__} was not fitted on user(s) {list(users[positions < 0][:5])}; "
                           f"use unknown='fallback' for a non-personalised list")
        score_users = self._batch_scorer()
        frames = []
        for start in range(0, len(users), int(batch_size)):
            us = positions[start:start + int(batch_size)]
            known = us >= 0
            scores = np.empty((len(us), self.data_.n_items))
            if known.any():
                scores[known] = score_users(us[known])
            if not known.all():
                scores[~known] = self._user_scores(-1)
            key = np.where(np.isfinite(scores), scores, -np.inf)     # a non-finite score is no candidate
            exclude = None
            if exclude_seen and known.any():
                exclude = np.zeros(scores.shape, dtype=bool)
                seen = self.seen_[us[known]].tocoo()
                exclude[np.flatnonzero(known)[seen.row], seen.col] = True
            top = top_k_rows(key, int(k), exclude)
            rows, ranks = np.nonzero(top >= 0)
            cols = top[rows, ranks]
            frames.append(pd.DataFrame({USER: np.asarray(users[start:start + int(batch_size)])[rows],
                                        ITEM: self.data_.items.to_raw(cols), "score": scores[rows, cols]}))
        if not frames:
            return pd.DataFrame({USER: [], ITEM: [], "score": []})
        return pd.concat(frames, ignore_index=True)

    def explain(self, user, item):
        """Why the model scores ``item`` for ``user``; not every model can say."""
        raise NotImplementedError(f"{type(self).__name__} does not explain its scores")

    # ----- a new user without refitting -------------------------------------------------
    def can_fold_in(self) -> bool:
        """Whether :meth:`fold_in` works for this (fitted) model, without refitting."""
        try:
            self._check_fold_in()
        except NotImplementedError:
            return False
        return True

    def _check_fold_in(self) -> None:
        """Raise ``NotImplementedError`` (saying why) when this model cannot fold a user in."""
        if type(self)._fold_in is Recommender._fold_in:
            raise NotImplementedError(f"{type(self).__name__} cannot fold a new user in; refit it instead")

    def fold_in(self, ratings, user=None) -> "FoldedUser":
        """One new user's parameters from their ``ratings`` alone, the fitted model unchanged.

        ``ratings``: see the module docstring; ``user``: the raw id to answer for (default: the
        frame's ``user`` value, else ``"new user"``). Returns a :class:`FoldedUser`.
        """
        self._check_fitted()
        self._check_fold_in()
        items, values, user = self._new_user_ratings(ratings, user)
        return FoldedUser(self, user, items, values, self._fold_in(items, values))

    def recommend_for(self, ratings, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """``fold_in(ratings).recommend(k=k, exclude_seen=exclude_seen)``: top-``k`` for a new user."""
        return self.fold_in(ratings).recommend(k=k, exclude_seen=exclude_seen)

    def _fold_in(self, items: np.ndarray, values: np.ndarray):
        """The new user's state (model-specific) from item positions ``(n,)`` and ratings ``(n,)``."""
        raise NotImplementedError

    def _folded_scores(self, state) -> np.ndarray:
        """Ranking scores of every item, ``(n_items,)``, for a folded-in user's ``state``."""
        raise NotImplementedError

    def _folded_predict(self, state, i: np.ndarray) -> np.ndarray:
        """``predict`` for a folded-in user at known item positions ``i``. Default: the ranking scores."""
        return self._folded_scores(state)[i]

    def _folded_explain(self, folded: "FoldedUser", i: int, titles=None):
        raise NotImplementedError(f"{type(self).__name__} does not explain a folded-in user's scores")

    def _new_user_ratings(self, ratings, user=None):
        """Validated ``(item positions, ratings, user)`` of one new user's ``ratings``."""
        name = type(self).__name__
        if isinstance(ratings, pd.DataFrame):
            missing = [c for c in (ITEM, RATING) if c not in ratings.columns]
            if missing:
                raise ValueError(f"the new user's ratings lack column(s) {missing}; they have "
                                 f"{list(ratings.columns)} (give item and rating columns)")
            if USER in ratings.columns and ratings[USER].nunique() > 1:
                raise ValueError(f"the new user's ratings hold several users "
                                 f"{sorted(ratings[USER].unique().tolist())[:5]}; fold in one user at a time")
            if user is None and USER in ratings.columns and len(ratings):
                user = ratings[USER].iloc[0]
            raw_items, raw_values = ratings[ITEM].to_numpy(), ratings[RATING].to_numpy()
        elif isinstance(ratings, (dict, pd.Series)):
            series = pd.Series(ratings)
            raw_items, raw_values = series.index.to_numpy(), series.to_numpy()
        else:
            raise ValueError(f"the new user's ratings must be a dict item -> rating, a Series indexed by "
                             f"item or a frame with item and rating columns, got {type(ratings).__name__}")
        if len(raw_items) == 0:
            raise ValueError(f"the new user has no ratings: rate at least one item to fold them into {name}")
        shown = pd.Series(raw_items).tolist()  # plain Python ids for the messages
        values = pd.to_numeric(pd.Series(raw_values), errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"the new user's rating of item {shown[j]!r} (row {j}) is "
                             f"{raw_values[j]!r}, not a number")
        scale = self.data_.scale
        low, high = (scale.low, scale.high) if scale is not None else             (float(self.data_.values.min()), float(self.data_.values.max()))
        off = (values < low) | (values > high)
        if off.any():
            j = int(np.flatnonzero(off)[0])
            raise ValueError(f"the new user's rating of item {shown[j]!r} (row {j}) is {values[j]:g}, "
                             f"off the scale {low:g}..{high:g} of {name}'s training ratings")
        pos = self.data_.items.to_index(raw_items, missing="minus1")
        if (pos < 0).any():
            unknown = [shown[j] for j in np.flatnonzero(pos < 0)][:5]
            raise ValueError(f"{name} does not know item(s) {unknown} (rows "
                             f"{np.flatnonzero(pos < 0)[:5].tolist()} of the new user's ratings); "
                             f"rate items of its catalogue")
        twice = pd.Series(pos).duplicated(keep=False).to_numpy()
        if twice.any():
            raise ValueError(f"the new user rated item {shown[int(np.flatnonzero(twice)[0])]!r} more than once "
                             f"(rows {np.flatnonzero(twice).tolist()[:5]}); keep one rating per item")
        return pos.astype(np.int64), values, ("new user" if user is None else user)


class Explanation(dict):
    """A prediction split into exact numeric terms (the dict), with reasons in words.

    The dict maps term names to floats (e.g. ``global_mean``, ``user_bias``, ``item_bias``,
    ``interaction``, ``prediction``), so code can add the terms up; ``text`` is the reason a
    learner reads (``str(explanation)``), ``reasons`` its parts, one per term, and ``near`` the
    raw ids of the rated items the text names. Printing shows the text, then the terms.
    """

    def __init__(self, terms: dict, text: str, reasons=(), near=()):
        super().__init__(terms)
        self.text, self.reasons, self.near = text, list(reasons), list(near)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        numbers = ", ".join(f"{k} {v:+.3f}" if k != "prediction" else f"{k} {v:.3f}" for k, v in self.items())
        return f"{self.text}\n  ({numbers})"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the reasons, not a bare dict
        printer.text(repr(self))


class FoldedUser:
    """A fitted model answering for one new user folded in by :meth:`Recommender.fold_in`.

    ``model`` (unchanged), ``user`` (raw id), ``items`` / ``ratings`` (the new ratings: item
    positions and values), ``state`` (the model's per-user parameters, e.g. MF's ``p_u, b_u``)
    and ``scores`` (every item's ranking score, ``(n_items,)``). ``recommend``, ``predict``
    and ``explain`` take ``user`` first, like a model, so a ``FoldedUser`` stands in for one:
    any other user is answered by ``model`` itself.
    """

    def __init__(self, model: Recommender, user, items: np.ndarray, ratings: np.ndarray, state):
        self.model, self.user, self.items, self.ratings, self.state = model, user, items, ratings, state
        self.scores = np.asarray(model._folded_scores(state), dtype=np.float64)

    def __repr__(self) -> str:
        return f"FoldedUser({type(self.model).__name__}, user={self.user!r}, {len(self.items)} ratings)"

    def _is_me(self, user) -> bool:
        return user is None or user == self.user

    def recommend(self, user=None, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` (``item``, ``score``) for the folded-in user, by the kit's tie rule; items the
        user rated are excluded with ``exclude_seen``. Another ``user`` is the model's answer."""
        if not self._is_me(user):
            return self.model.recommend(user, k=k, exclude_seen=exclude_seen)
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        candidates = np.isfinite(self.scores)
        if exclude_seen:
            candidates[self.items] = False
        order = top_k_candidates(self.scores, candidates, int(k))
        return pd.DataFrame({ITEM: self.model.data_.items.to_raw(order), "score": self.scores[order]})

    def predict(self, items, users=None) -> np.ndarray:
        """The folded-in user's predictions of raw ``items`` (unknown items: the model's fallback)."""
        items = query_ids(items, "items")
        i = self.model.data_.items.to_index(items, missing="minus1")
        if (i < 0).any() and self.model.unknown == "error":
            raise KeyError(f"{type(self.model).__name__} was not fitted on item(s) {list(items[i < 0][:5])}")
        out = np.empty(len(items))
        if (i >= 0).any():
            out[i >= 0] = self.model._folded_predict(self.state, i[i >= 0])
        if (i < 0).any():
            out[i < 0] = self.model._predict_fallback(np.full(int((i < 0).sum()), -1), i[i < 0])
        return out

    def explain(self, user, item=None, titles=None):
        """Why ``item`` scores what it does for the folded-in user (``explain(item)`` works too).

        ``titles`` (a function raw ids -> titles) names movies where the model's text does."""
        if item is None:
            user, item = self.user, user
        options = {} if titles is None else {"titles": titles}
        if not self._is_me(user):
            import inspect
            takes = "titles" in inspect.signature(self.model.explain).parameters
            return self.model.explain(user, item, **(options if takes else {}))
        i = int(self.model.data_.items.to_index([query_id(item, "item")], missing="minus1")[0])
        if i < 0:
            raise KeyError(f"{type(self.model).__name__} was not fitted on item {item!r}")
        return self.model._folded_explain(self, i, **options)
