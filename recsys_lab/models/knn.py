"""Neighbourhood collaborative filtering: user-based and item-based kNN (notebooks 07 and 08).

**UserKNN** predicts user ``u``'s rating of item ``i`` from the users most like ``u`` who
rated ``i``. With ``N`` = the ``k`` users ``v`` of largest similarity ``s_uv > min_similarity``
among those who rated ``i`` (ties, at 1e-9: lower position first; :mod:`recsys_lab.topk`):

    centering="mean":    r_ui = mu_u + sum_N s_uv (r_vi - mu_v) / sum_N s_uv
    centering="zscore":  r_ui = mu_u + sigma_u * sum_N s_uv (r_vi - mu_v) / sigma_v / sum_N s_uv
    centering=None:      r_ui = sum_N s_uv r_vi / sum_N s_uv
    centering="baseline": r_ui = b_ui + sum_N s_uv (r_vi - b_vi) / sum_N s_uv,  b_ui = mu + b_u + b_i

``mu_v`` / ``sigma_v`` are user ``v``'s mean and (population) standard deviation; a user whose
ratings are all equal gets the standard deviation of all training ratings instead. Negative
similarities never vote. These are Surprise's ``KNNWithMeans`` / ``KNNWithZScore`` /
``KNNBasic`` rules, neighbours chosen per prediction among the raters of ``i``; ``"baseline"``
centres on the :class:`~recsys_lab.models.BiasBaseline` prediction ``b_ui`` instead (Koren's
``KNNBaseline``), removing the item's popularity as well as the user's generosity.

**ItemKNN** is the mirror image: the neighbours of item ``i`` are the items ``j`` the user
rated, ``mu_i`` / ``sigma_i`` are item statistics. Its similarities are computed once and
pruned to the ``keep`` most similar items per item (:func:`recsys_lab.similarity.top_k_neighbours`);
``keep=None`` keeps them all, which reproduces the unpruned rule exactly.

**Fallbacks**, used on purpose: with no usable neighbour, the prediction is the baseline
(the user's mean for UserKNN, the item's mean for ItemKNN, ``b_ui`` with ``"baseline"``).
For an unknown item the prediction is the user's mean, for an unknown user the item's mean,
for both the global mean (``unknown="error"`` raises ``KeyError`` instead). Predictions are
clipped to the range of the training ratings. An unknown user is recommended the most-rated
items. ``recommend`` ranks by predicted rating: an item predicted from one weakly similar
neighbour can reach the top (notebook 08 shows it and two remedies). ``ItemKNN(ranking="sum")``
is the second remedy: it ranks by the *sum* of the voters' similarities,
``score(u, i) = sum_N s_ij`` (Deshpande & Karypis, 2004), which rewards items close to many of
the user's items; ``predict`` still returns ratings.

**A new user without refitting** (``ItemKNN.fold_in``, notebook 12): the new user's ratings are
centred by the fitted item statistics and vote through the fitted neighbourhoods, so a training
user's own ratings give back exactly their scores. Not for ``centering="baseline"`` (its ``b_u``
comes from BiasBaseline's alternating fit over all users) nor for UserKNN (a new user would need
their similarity to every user, i.e. the user-user part of a refit).

**Defaults** (UserKNN: ``msd``, ``shrinkage=10``; ItemKNN: ``adjusted_cosine``,
``shrinkage=100``, ``keep=500``; both ``k=40``, ``centering="mean"``) are safe choices within
a few thousandths of a star of the best mean-centred settings on a validation split carved
out of MovieLens' training part (notebooks 07 and 08 show the search; ``centering="baseline"``
is better still). How much shrinkage matters depends on the measure: without it, pairs that
share one or two ratings look perfectly similar, which costs Pearson and adjusted cosine
clearly, while MSD does as well without it as with it (notebook 07).

**The baseline UserKNN centres on** (``centering="baseline"``) is ``BiasBaseline()`` with its
default penalties; ``UserKNN(baseline_params={"reg_user": ..., "reg_item": ...})`` fits
``BiasBaseline(**baseline_params)`` instead (keys: ``reg_user``, ``reg_item``, ``epochs``), so a
bias baseline tuned on its own can be the one the neighbours' votes are added to (notebook 07).
``None`` (the default) keeps ``BiasBaseline()``; the option is ignored by the other centrings.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.dataset import RatingData
from ..data.schema import ITEM, USER
from ..similarity import (check_settings, co_rated_counts, row_entries, similarity_matrix,
                          top_k_neighbours)
from ..topk import grouped_order, order as ranked
from .base import Recommender
from .baselines import BiasBaseline

CENTERINGS = ("mean", "zscore", "baseline", None)
RANKINGS = ("rating", "sum")  # what ItemKNN.recommend ranks by
BASELINE_PARAMS = ("reg_user", "reg_item", "epochs")  # what baseline_params may set
_CHUNK = 2_000_000  # candidate (pair, neighbour) rows handled at once; bounds memory


def _lookup(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Position of each query in the sorted ``keys``, or -1 where it is absent."""
    pos = np.searchsorted(keys, queries)
    pos_ok = np.minimum(pos, len(keys) - 1)
    return np.where((pos < len(keys)) & (keys[pos_ok] == queries), pos_ok, -1) if len(keys) else \
        np.full(len(queries), -1)


def _top_k(pair, cand, sim, dev, k: int):
    """Keep, for each pair, the ``k`` candidates of largest ``sim`` (the kit's tie rule,
    :mod:`recsys_lab.topk`: similarity rounded to 1e-9, then lower ``cand`` first).

    Returns the kept rows sorted by pair, then in voting order.
    """
    order, rank = grouped_order(pair, sim, cand)
    order = order[rank < k]
    return pair[order], cand[order], sim[order], dev[order]


class _KNN(Recommender):
    """What user- and item-based kNN share: statistics, centring, aggregation, fallbacks."""

    user_based = True

    def __init__(self, k: int = 40, similarity: str = "msd", min_overlap: int = 1,
                 min_similarity: float = 0.0, shrinkage: float = 10.0, centering: str | None = "mean",
                 unknown: str = "fallback", baseline_params: dict | None = None):
        super().__init__(unknown)
        self.k, self.similarity, self.min_overlap = k, similarity, min_overlap
        self.min_similarity, self.shrinkage, self.centering = min_similarity, shrinkage, centering
        self.baseline_params = baseline_params

    # ----- fitting ------------------------------------------------------------------
    def _check_params(self) -> None:
        if isinstance(self.k, bool) or int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k must be a whole number >= 1 (neighbours per prediction), got {self.k!r}")
        check_settings(self.similarity, self.min_overlap, self.shrinkage)
        if not self.min_similarity >= 0:
            raise ValueError(f"min_similarity must be >= 0 (negative similarities never vote), "
                             f"got {self.min_similarity!r}")
        if self.centering not in CENTERINGS:
            raise ValueError(f"centering must be 'mean', 'zscore', 'baseline' or None, got {self.centering!r}")
        params = getattr(self, "baseline_params", None)
        if params is not None:
            if not isinstance(params, dict):
                raise ValueError(f"baseline_params must be None or a dict of BiasBaseline settings "
                                 f"({', '.join(BASELINE_PARAMS)}), got {params!r}")
            unknown_keys = sorted(set(params) - set(BASELINE_PARAMS))
            if unknown_keys:
                raise ValueError(f"baseline_params may set only {', '.join(BASELINE_PARAMS)} "
                                 f"(BiasBaseline's settings), got {', '.join(map(repr, unknown_keys))}")

    @staticmethod
    def _stats(index: np.ndarray, values: np.ndarray, n: int, overall_sd: float):
        count = np.bincount(index, minlength=n)
        mean = np.bincount(index, values, n) / np.maximum(count, 1)
        var = np.bincount(index, (values - mean[index]) ** 2, n) / np.maximum(count, 1)
        sd = np.sqrt(var)
        return mean, np.where(sd > 0, sd, overall_sd)

    def _fit(self, data: RatingData) -> None:
        self._check_params()
        r = data.values
        self.global_mean_ = float(r.mean())
        overall_sd = float(r.std()) if r.std() > 0 else 1.0
        self.user_mean_, self.user_sd_ = self._stats(data.user_index, r, data.n_users, overall_sd)
        self.item_mean_, self.item_sd_ = self._stats(data.item_index, r, data.n_items, overall_sd)
        self.rating_range_ = (float(r.min()), float(r.max()))
        # the deviation every neighbour contributes, in the neighbour's own units
        if self.user_based:
            mean, sd, who = self.user_mean_, self.user_sd_, data.user_index
        else:
            mean, sd, who = self.item_mean_, self.item_sd_, data.item_index
        if self.centering == "mean":
            dev = r - mean[who]
        elif self.centering == "zscore":
            dev = (r - mean[who]) / sd[who]
        elif self.centering == "baseline":
            self.biases_ = BiasBaseline(**(getattr(self, "baseline_params", None) or {})).fit(data)
            dev = r - self._bias(data.user_index, data.item_index)
        else:
            dev = r.copy()
        deviations = sp.csr_matrix((dev, (data.user_index, data.item_index)),
                                   shape=(data.n_users, data.n_items))
        ratings = data.to_csr()
        for m in (deviations, ratings):  # explicit zero deviations must stay stored
            m.sort_indices()
        self._fit_neighbours(data, ratings, deviations)

    def _fit_neighbours(self, data, ratings, deviations) -> None:
        raise NotImplementedError

    # ----- prediction ---------------------------------------------------------------
    def _baseline(self, u, i) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: the value the neighbours' weighted deviation is added to, and its scale."""
        mean, sd = ((self.user_mean_, self.user_sd_) if self.user_based
                    else (self.item_mean_, self.item_sd_))
        target = u if self.user_based else i
        base = mean[target]
        if self.centering is None:
            return np.zeros(len(target)), np.ones(len(target))
        if self.centering == "baseline":
            return self._bias(u, i), np.ones(len(target))
        return base, (sd[target] if self.centering == "zscore" else np.ones(len(target)))

    def _bias(self, u, i) -> np.ndarray:
        """``mu + b_u + b_i`` of :class:`BiasBaseline` (unclipped), shape like ``u``."""
        b = self.biases_
        return b.global_mean_ + b.user_bias_[u] + b.item_bias_[i]

    def _neighbours(self, u: np.ndarray, i: np.ndarray):
        """Selected neighbours of known pairs: ``(pair, neighbour, similarity, deviation)``."""
        raise NotImplementedError

    def _predict_known(self, u, i):
        out = np.empty(len(u))
        for chunk in self._chunks(u, i):
            pair, _, sim, dev = self._neighbours(u[chunk], i[chunk])
            out[chunk] = self._aggregate(u[chunk], i[chunk], np.bincount(pair, sim * dev, len(chunk)),
                                         np.bincount(pair, sim, len(chunk)))
        return out

    def _aggregate(self, u, i, num, den) -> np.ndarray:
        """Predictions of pairs ``(u, i)`` from their votes: ``num`` = sum of similarity x
        deviation, ``den`` = sum of similarities (0: nobody voted, use the baseline); clipped."""
        base, scale = self._baseline(u, i)
        target = u if self.user_based else i
        no_vote = (base if self.centering == "baseline" else
                   (self.user_mean_ if self.user_based else self.item_mean_)[target])
        out = np.where(den > 0, base + scale * num / np.where(den > 0, den, 1.0), no_vote)
        return np.clip(out, *self.rating_range_)

    def _candidate_counts(self, u, i) -> np.ndarray:
        raise NotImplementedError

    def _chunks(self, u, i):
        """Slices of the pairs whose candidate lists together stay below ``_CHUNK`` rows."""
        ends = np.cumsum(self._candidate_counts(u, i))
        start = 0
        while start < len(u):
            budget = (ends[start - 1] if start else 0) + _CHUNK
            stop = max(start + 1, int(np.searchsorted(ends, budget, side="right")))
            yield np.arange(start, min(stop, len(u)))
            start = stop

    def _predict_fallback(self, u, i):
        return np.where(u >= 0, self.user_mean_[np.maximum(u, 0)],
                        np.where(i >= 0, self.item_mean_[np.maximum(i, 0)], self.global_mean_))

    # ----- explanations ---------------------------------------------------------------
    def _explain_frame(self, user, item, id_map, name: str) -> pd.DataFrame:
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        prediction = float(self.predict([user], [item])[0])  # raises in unknown="error" mode
        columns = [name, "similarity", "rating", "deviation", "weight", "contribution"]
        if u < 0 or i < 0:
            frame = pd.DataFrame(columns=columns)
            frame.attrs.update(baseline=prediction, prediction=prediction,
                               fallback="unknown user or item: " + ("user mean" if u >= 0 else
                                                                    "item mean" if i >= 0 else "global mean"))
            return frame
        pair, cand, sim, dev = self._neighbours(np.array([u]), np.array([i]))
        base, scale = self._baseline(np.array([u]), np.array([i]))
        weight = sim / sim.sum() if len(sim) else sim
        if self.user_based:
            rating = np.asarray(self._ratings_csc[cand, i].todense()).ravel()
        else:
            rating = np.asarray(self._ratings_csr[u, cand].todense()).ravel()
        frame = pd.DataFrame({name: id_map.to_raw(cand), "similarity": sim, "rating": rating,
                              "deviation": dev, "weight": weight, "contribution": weight * dev * scale[0]})
        frame.attrs.update(baseline=float(base[0]) if len(sim) else prediction, prediction=prediction,
                           fallback=None if len(sim) else "no usable neighbour: "
                           + ("bias baseline" if self.centering == "baseline" else
                              "user mean" if self.user_based else "item mean"))
        return frame


class UserKNN(_KNN):
    """User-based kNN. Keeps the dense user x user similarity matrix (``n_users^2`` floats).

    ``baseline_params`` (``centering="baseline"`` only): the settings of the
    :class:`~recsys_lab.models.BiasBaseline` the ratings are centred on, e.g. tuned penalties
    ``{"reg_user": 2.0, "reg_item": 3.0}``; ``None`` = ``BiasBaseline()``'s defaults.

    ``similarity_[u, v]`` is the similarity used for voting (diagonal and values
    ``<= min_similarity`` set to 0).
    """

    user_based = True

    def _fit_neighbours(self, data, ratings, deviations) -> None:
        sim = similarity_matrix(ratings, self.similarity, int(self.min_overlap), float(self.shrinkage))
        np.fill_diagonal(sim, 0.0)
        sim[sim <= self.min_similarity] = 0.0
        self.similarity_ = sim
        self._dev_csc = deviations.tocsc()
        self._ratings_csc = ratings.tocsc()
        self._ratings_csr = ratings

    def _candidate_counts(self, u, i):
        return np.diff(self._dev_csc.indptr)[i]

    def _neighbours(self, u, i):
        pair, entry = row_entries(self._dev_csc.indptr, i)
        cand = self._dev_csc.indices[entry]
        sim = self.similarity_[u[pair], cand]
        ok = sim > 0  # similarities <= min_similarity were zeroed at fit time
        return _top_k(pair[ok], cand[ok], sim[ok], self._dev_csc.data[entry][ok], int(self.k))

    def similar_users(self, user, n: int = 10) -> pd.DataFrame:
        """The ``n`` users most similar to raw user ``user``: (user, similarity, overlap)."""
        self._check_fitted()
        u = int(self.data_.users.to_index([user])[0])
        sim = self.similarity_[u]
        order = ranked(sim)
        order = order[sim[order] > 0][:n]
        overlap = co_rated_counts(self._ratings_csr, rows=[u], others=order)[0]
        return pd.DataFrame({USER: self.data_.users.to_raw(order), "similarity": sim[order],
                             "overlap": overlap.astype(int)})

    def explain(self, user, item) -> pd.DataFrame:
        """The neighbours who voted on ``(user, item)``, most similar first.

        Columns: ``neighbour`` (raw user id), ``similarity``, their ``rating`` of the item,
        ``deviation`` (centred as ``centering`` says), ``weight`` (similarity share) and
        ``contribution`` (weight x deviation, in stars). ``frame.attrs`` holds ``baseline``
        (the user's mean), ``prediction`` and ``fallback`` (why no neighbour voted, or None);
        ``baseline + contribution.sum()`` is the prediction before clipping.
        """
        return self._explain_frame(user, item, self.data_.users, "neighbour")


class ItemKNN(_KNN):
    """Item-based kNN: "because you rated X". Keeps the ``keep`` most similar items per item.

    ``ranking`` says what ``recommend`` orders by: ``"rating"`` (the predicted rating) or
    ``"sum"`` (the sum of the voters' similarities; better top-N lists, see the module notes).
    ``neighbours_`` is the pruned item x item similarity (float32 CSR, diagonal excluded).
    """

    user_based = False

    def __init__(self, k: int = 40, similarity: str = "adjusted_cosine", min_overlap: int = 1,
                 min_similarity: float = 0.0, shrinkage: float = 100.0, centering: str | None = "mean",
                 keep: int | None = 500, ranking: str = "rating", unknown: str = "fallback"):
        super().__init__(k, similarity, min_overlap, min_similarity, shrinkage, centering, unknown)
        self.keep, self.ranking = keep, ranking

    @staticmethod
    def _check_keep(keep) -> None:
        if keep is not None and (isinstance(keep, bool) or int(keep) != keep or keep < 1):
            raise ValueError(f"keep must be a whole number >= 1 or None (keep all), got {keep!r}")

    def _fit_neighbours(self, data, ratings, deviations) -> None:
        self._check_keep(self.keep)
        if self.ranking not in RANKINGS:
            raise ValueError(f"ranking must be 'rating' (by predicted rating) or 'sum' (by the sum of the "
                             f"voters' similarities), got {self.ranking!r}")
        self._dev_csr = deviations
        self._ratings_csr = ratings
        rows = np.repeat(np.arange(data.n_users, dtype=np.int64), np.diff(deviations.indptr))
        self._rated_keys = rows * data.n_items + deviations.indices  # sorted: CSR with sorted indices
        self._set_neighbours(top_k_neighbours(ratings.T.tocsr(), self.keep, self.similarity,
                                              int(self.min_overlap), float(self.min_similarity),
                                              float(self.shrinkage)))

    def _set_neighbours(self, w: sp.csr_matrix) -> None:
        w.sort_indices()
        self.neighbours_ = w
        w_rows = np.repeat(np.arange(w.shape[0], dtype=np.int64), np.diff(w.indptr))
        self._neighbour_keys = w_rows * w.shape[0] + w.indices
        # the same entries, each row ranked by the kit's tie rule (similarity, then item): the
        # neighbours in voting order, the order _top_k and top_k_neighbours use
        order, _ = grouped_order(w_rows, w.data, w.indices)
        self._ranked_rows = w_rows[order].astype(np.int32)
        self._ranked_items = w.indices[order].astype(np.int32)
        self._ranked_sims = w.data[order]
        # W^T (float64, so sums of similarities are float64 sums) and its pattern, for batch scoring
        self._neighbours_t = w.T.astype(np.float64).tocsr()
        self._neighbours_t.sort_indices()
        self._neighbour_ones_t = sp.csr_matrix((np.ones(w.nnz), self._neighbours_t.indices,
                                                self._neighbours_t.indptr), shape=w.shape)

    def prune(self, keep: int) -> "ItemKNN":
        """A copy of this fitted model keeping only the ``keep`` most similar items per item.

        No similarity is recomputed: the top ``keep`` of a longer top list are the top ``keep``
        (both ranked by the kit's one tie rule), so this equals fitting with ``keep`` exactly.
        """
        self._check_fitted()
        self._check_keep(keep)
        if keep is None or (self.keep is not None and keep > self.keep):
            raise ValueError(f"prune can only keep fewer neighbours than the fitted keep={self.keep!r}, "
                             f"got {keep!r}; refit with keep={keep!r} instead")
        w = self.neighbours_
        lengths = np.diff(w.indptr)
        rank = np.arange(w.nnz) - np.repeat(w.indptr[:-1], lengths)  # entries are ranked per row
        top = rank < int(keep)
        pruned = copy.copy(self)
        pruned.keep = int(keep)
        pruned._set_neighbours(sp.csr_matrix(
            (self._ranked_sims[top], (self._ranked_rows[top], self._ranked_items[top])), shape=w.shape))
        return pruned

    def _candidate_counts(self, u, i):
        return np.minimum(np.diff(self.neighbours_.indptr)[i], np.diff(self._dev_csr.indptr)[u])

    def _neighbours(self, u, i):
        # Two ways to list the candidates of pair (u, i), both giving the same set: walk i's kept
        # neighbours and keep those u rated, or walk the items u rated and look up their
        # similarity to i. Each pair takes the shorter walk.
        n, w = self.data_.n_items, self.neighbours_
        by_neighbours = np.diff(w.indptr)[i] <= np.diff(self._dev_csr.indptr)[u]
        parts = []
        p = np.flatnonzero(by_neighbours)
        pair, entry = row_entries(w.indptr, i[p])
        cand = w.indices[entry]
        pos = _lookup(self._rated_keys, u[p][pair].astype(np.int64) * n + cand)
        ok = pos >= 0
        parts.append((p[pair[ok]], cand[ok], w.data[entry[ok]], self._dev_csr.data[pos[ok]]))
        p = np.flatnonzero(~by_neighbours)
        pair, entry = row_entries(self._dev_csr.indptr, u[p])
        cand = self._dev_csr.indices[entry]
        pos = _lookup(self._neighbour_keys, i[p][pair].astype(np.int64) * n + cand)
        ok = pos >= 0
        parts.append((p[pair[ok]], cand[ok], w.data[pos[ok]], self._dev_csr.data[entry[ok]]))
        pair, cand, sim, dev = (np.concatenate(col) for col in zip(*parts))
        return _top_k(pair, cand, sim.astype(np.float64), dev, int(self.k))

    def _score_user(self, u):
        """Every item's score for user ``u``: the predicted rating (``_predict_known`` for all
        items at once), or with ``ranking="sum"`` the sum of the voters' similarities
        (one row of :meth:`_score_users`, so single and batch scoring agree bit for bit)."""
        return self._score_users(np.array([u]))[0]

    def _score_users(self, us):
        """Scores of every item for the users at positions ``us``: shape ``(len(us), n_items)``."""
        return self._scores_of(self._dev_csr[np.asarray(us)], np.asarray(us))

    def _scores_from(self, rated_items: np.ndarray, deviations: np.ndarray, u: int) -> np.ndarray:
        """Every item's score from a user's rated item positions and their centred deviations
        (``u``: the user's position, used only by ``centering="baseline"``)."""
        order = np.argsort(rated_items, kind="stable")
        row = sp.csr_matrix((np.asarray(deviations, dtype=np.float64)[order], np.asarray(rated_items)[order],
                             [0, len(order)]), shape=(1, self.data_.n_items))
        return self._scores_of(row, np.array([u]))[0]

    def _scores_of(self, rows: sp.csr_matrix, us: np.ndarray) -> np.ndarray:
        """Scores from users' rows of centred deviations (CSR, ``len(us)`` x n_items, sorted).

        The voters of pair ``(u, i)`` are the first ``k`` of item ``i``'s ranked neighbours that ``u``
        rated. Where ``u`` rated at most ``k`` of them (every pair of a user with at most ``k``
        ratings), they all vote, and the sums are sparse products with the neighbour matrix:
        ``sum of similarities = 1_rated @ W^T``, ``sum of similarity x deviation = rows @ W^T``.
        Only the other pairs ("overflow": a user who rated more than ``k`` of ``i``'s neighbours)
        walk ``i``'s ranked row with the user's rated mask and keep the first ``k`` (a running
        count, no sort). Each pair's sum depends only on that user's ratings, so a user's scores
        are the same in any batch.
        """
        n, k = self.data_.n_items, int(self.k)
        present = sp.csr_matrix((np.ones(rows.nnz), rows.indices, rows.indptr), shape=rows.shape)
        den = (present @ self._neighbours_t).toarray()
        num = (rows @ self._neighbours_t).toarray() if self.ranking == "rating" else None
        heavy = np.flatnonzero(np.diff(rows.indptr) > k)  # only these users can overflow
        if len(heavy):
            counts = (present[heavy] @ self._neighbour_ones_t).toarray()
            for r, b in enumerate(heavy):
                over = np.flatnonzero(counts[r] > k)
                if len(over):
                    self._vote_walk(rows, b, over, den, num)
        if self.ranking == "sum":
            return den
        u = np.repeat(us, n)
        i = np.tile(np.arange(n), len(us))
        return self._aggregate(u, i, num.ravel(), den.ravel()).reshape(len(us), n)

    def _vote_walk(self, rows, b, items, den, num) -> None:
        """Exact sums for row ``b`` of ``rows`` at ``items``: the first ``k`` rated entries of
        each item's ranked neighbour row vote (written into ``den`` and ``num``)."""
        n = self.data_.n_items
        start, stop = rows.indptr[b], rows.indptr[b + 1]
        rated = np.zeros(n, dtype=bool)
        rated[rows.indices[start:stop]] = True
        pair, entry = row_entries(self.neighbours_.indptr, items)
        votes = rated[self._ranked_items[entry]]
        seen = np.cumsum(votes, dtype=np.int32)
        lengths = np.diff(self.neighbours_.indptr)[items]
        before = np.r_[0, seen][np.cumsum(lengths) - lengths]  # votes before each item's row
        voters = votes & (seen - np.repeat(before, lengths) <= int(self.k))
        pair, entry = pair[voters], entry[voters]
        sim = self._ranked_sims[entry].astype(np.float64)
        den[b, items] = np.bincount(pair, sim, len(items))
        if num is not None:
            deviation = np.zeros(n)
            deviation[rows.indices[start:stop]] = rows.data[start:stop]
            num[b, items] = np.bincount(pair, sim * deviation[self._ranked_items[entry]], len(items))

    # ----- a new user without refitting ---------------------------------------------------
    def _check_fold_in(self) -> None:
        if self.centering == "baseline":
            raise NotImplementedError("ItemKNN(centering='baseline') centres on mu + b_u + b_i, and b_u comes from "
                                      "BiasBaseline's alternating fit over all users; refit it, or use "
                                      "centering='mean', 'zscore' or None, which fold a new user in")

    def _fold_in(self, items, values):
        """The new user's deviations, centred as in training by the fitted item statistics; the
        fitted neighbourhoods then vote exactly as for a training user with these ratings."""
        if self.centering == "mean":
            dev = values - self.item_mean_[items]
        elif self.centering == "zscore":
            dev = (values - self.item_mean_[items]) / self.item_sd_[items]
        else:
            dev = values.astype(np.float64)
        return items, dev

    def _folded_scores(self, state):
        items, dev = state
        return self._scores_from(items, dev, 0)  # item-based centring never reads the user position

    def _folded_predict(self, state, i):
        if self.ranking == "rating":
            return self._folded_scores(state)[i]
        with_rating = copy.copy(self)
        with_rating.ranking = "rating"
        return with_rating._folded_scores(state)[i]

    def _folded_explain(self, folded, i, **_):
        """The rated items that voted on item ``i`` (columns as :meth:`explain`)."""
        items, dev = folded.state
        w = self.neighbours_
        cols, sims = w.indices[w.indptr[i]:w.indptr[i + 1]], w.data[w.indptr[i]:w.indptr[i + 1]]
        mine = np.isin(cols, items)
        cols, sims = cols[mine], sims[mine].astype(np.float64)
        keep = ranked(sims, cols)[:int(self.k)]
        cols, sims = cols[keep], sims[keep]
        where = {int(j): k for k, j in enumerate(items)}
        d = np.array([dev[where[int(j)]] for j in cols])
        r = np.array([folded.ratings[where[int(j)]] for j in cols])
        scale = self.item_sd_[i] if self.centering == "zscore" else 1.0
        weight = sims / sims.sum() if len(sims) else sims
        # the predicted rating from these voters, as _scores_from aggregates them (no full pass)
        prediction = float(self._aggregate(np.zeros(1, dtype=np.int64), np.array([i]), np.array([sims @ d]),
                                           np.array([sims.sum()]))[0])
        frame = pd.DataFrame({ITEM: self.data_.items.to_raw(cols), "similarity": sims, "rating": r,
                              "deviation": d, "weight": weight, "contribution": weight * d * scale})
        base = 0.0 if self.centering is None else float(self.item_mean_[i])
        frame.attrs.update(baseline=base if len(sims) else prediction, prediction=prediction,
                           fallback=None if len(sims) else "no usable neighbour: item mean")
        return frame

    def similar_items(self, item, n: int = 10) -> pd.DataFrame:
        """The (kept) items most similar to raw item ``item``: (item, similarity, overlap)."""
        self._check_fitted()
        i = int(self.data_.items.to_index([item])[0])
        w = self.neighbours_
        cols, sims = w.indices[w.indptr[i]:w.indptr[i + 1]], w.data[w.indptr[i]:w.indptr[i + 1]]
        order = ranked(sims, cols)[:n]
        overlap = co_rated_counts(self._ratings_csr.T.tocsr(), rows=[i], others=cols[order])[0]
        return pd.DataFrame({ITEM: self.data_.items.to_raw(cols[order]),
                             "similarity": sims[order].astype(np.float64), "overlap": overlap.astype(int)})

    def explain(self, user, item) -> pd.DataFrame:
        """The items ``user`` rated that voted on ``item`` ("because you watched X").

        Columns: ``item`` (raw id), ``similarity`` to the target item, the user's ``rating``
        of it, ``deviation`` from that item's mean (centred as ``centering`` says), ``weight``
        and ``contribution`` (stars). ``frame.attrs``: ``baseline`` (the target item's mean),
        ``prediction``, ``fallback``; ``baseline + contribution.sum()`` is the prediction
        before clipping.
        """
        return self._explain_frame(user, item, self.data_.items, ITEM)
