"""Hybrid recommenders: mixing collaborative filtering with content (notebook 12).

A hybrid *holds* other kit models (composition) and combines their scores; any fitted
:class:`~recsys_lab.models.base.Recommender` can be a part. With ``refit=True`` (default)
``fit(ratings)`` fits the parts in place on the same ratings; with ``refit=False`` they are
used as they are (already fitted) and ``fit`` only records which items each user has seen.
The hybrid's catalogue is the union of its parts' items, so an item only the content
model knows (features, no ratings) is still a candidate. Three classic designs (Burke, 2002):

- :class:`WeightedHybrid`: every part scores every item; scores are put on one scale per user
  (``normalize="zscore"``: ``z_m(u, i) = (s_m(u, i) - mean_i s_m(u, .)) / std_i s_m(u, .)``;
  ``"rank"``: the share of items scored lower, in [0, 1]; ``"none"``: raw scores; see
  :func:`normalize_scores`) and mixed with fixed weights ``w_m >= 0``:

      s(u, i) = sum_{m can score i} w_m z_m(u, i)  /  sum_{m can score i} w_m

  A part "can score" an item it knows (an item unknown to a CF model is left to the others).
- :class:`SwitchingHybrid`: one part per user. Users with at least ``min_ratings`` training
  ratings get ``warm_model`` (e.g. CF), the others, and unknown users, get ``cold_model``.
- :class:`FeatureAugmentedHybrid`: one part's output becomes the other's input (content-boosted
  CF, after Melville et al., 2002). A content model that predicts ratings from features
  (:class:`~recsys_lab.models.content.DeepContent`) rates, for every user, ``n_pseudo`` random
  items that have (almost) no ratings; these *pseudo-ratings* are added to the real ones and a
  copy of the CF model is fitted on them. New items reach the CF model through them.

**Scores.** ``recommend`` ranks by the mixed *ranking* scores of the parts (their
``_score_user``). ``predict(users, items)`` of a weighted hybrid with ``"zscore"`` / ``"rank"``
returns exactly those mixed scores; with ``"none"`` it is the weighted mean of the parts'
``predict`` pair by pair (a rating when every part predicts ratings); the switching and
feature-augmented hybrids return the chosen part's ``predict``. Unknown users get the parts'
own unknown-user scores, mixed the same way; an item no part knows scores 0 (zscore), 0.5
(rank) or the parts' fallbacks (none).

**A new user without refitting** (``fold_in``): by the parts. Each part folds in the new
user's ratings of the items it knows (:meth:`~recsys_lab.models.base.Recommender.fold_in`;
a part that knows none of them answers as for an unknown user), and the hybrid mixes the folded
parts' scores exactly as it mixes a training user's. The switching hybrid folds in only the part
it chooses for the new user's number of ratings; the feature-augmented hybrid first gives the new
user ``n_pseudo`` pseudo-ratings from the folded content model (items drawn with ``seed``), then
folds real plus pseudo ratings into its augmented CF model.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..data.dataset import IdMap, RatingData
from ..data.schema import ITEM, RATING, USER
from .base import Explanation, Recommender

NORMALIZATIONS = ("zscore", "rank", "none")


def clone(model: Recommender) -> Recommender:
    """An unfitted copy with the same hyper-parameters; parts of a hybrid are cloned too
    (and the copy refits them: ``refit=True``)."""
    def copy(value):
        if isinstance(value, Recommender):
            return clone(value)
        if isinstance(value, dict) and any(isinstance(v, Recommender) for v in value.values()):
            return {k: copy(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)) and any(isinstance(v, Recommender) for v in value):
            return type(value)(copy(v) for v in value)
        return value

    params = {name: copy(value) for name, value in model.get_params().items()}
    if "refit" in params:
        params["refit"] = True
    return type(model)(**params)


def normalize_scores(scores: np.ndarray, how: str = "zscore") -> np.ndarray:
    """Put one user's scores ``(n_items,)`` on a common scale; NaN (unscorable) entries stay NaN.

    ``"zscore"``: subtract the mean and divide by the standard deviation of the finite entries
    (all 0 if they are all equal); ``"rank"``: the share of finite entries scored lower, ties
    counted half, ``(rank - 1) / (n - 1)`` with average ranks, in ``[0, 1]`` (robust to a few huge
    scores, such as the counts of blockbusters); ``"none"``: unchanged.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if how == "none":
        return scores.copy()
    if how not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {how!r}")
    finite = np.isfinite(scores)
    out = np.full(scores.shape, np.nan)
    if finite.any():
        values = scores[finite]
        if how == "rank":
            out[finite] = (rankdata(values) - 1) / (len(values) - 1) if len(values) > 1 else 0.5
        else:
            sd = values.std()
            out[finite] = (values - values.mean()) / sd if sd > 0 else 0.0
    return out


def fit_quietly(model: Recommender, ratings) -> Recommender:
    """``model.fit(ratings)``, without a progress bar for models whose ``fit`` can show one."""
    import inspect

    if "progress" in inspect.signature(model.fit).parameters:
        return model.fit(ratings, progress=False)
    return model.fit(ratings)


def _named(models) -> dict:
    if isinstance(models, dict):
        named = dict(models)
    elif isinstance(models, (list, tuple)):
        named = {}
        for model in models:
            name, n = type(model).__name__, 2
            while name in named:
                name, n = f"{type(model).__name__}#{n}", n + 1
            named[name] = model
    else:
        raise ValueError(f"models must be a dict name -> model or a list of models, got {type(models).__name__}")
    if not named:
        raise ValueError("a hybrid needs at least one model")
    bad = [name for name, m in named.items() if not isinstance(m, Recommender)]
    if bad:
        raise ValueError(f"every part must be a kit Recommender; {bad} are not")
    return named


class _Hybrid(Recommender):
    """Shared machinery: fitting the parts, mapping their users/items onto the hybrid's."""

    def _parts(self) -> dict:  # name -> model whose scores the hybrid uses
        raise NotImplementedError

    def _fit_parts(self, data: RatingData) -> None:
        for name, model in self._parts().items():
            if self.refit:
                fit_quietly(model, data.ratings)
            elif not hasattr(model, "data_"):
                raise ValueError(f"refit=False but part {name!r} ({type(model).__name__}) is not "
                                 f"fitted; fit it first or use refit=True")

    def fit(self, ratings):
        """Fit the parts (unless ``refit=False``), then record the ratings; returns ``self``."""
        self._check_unknown()
        self._check_params()
        data = ratings if isinstance(ratings, RatingData) else RatingData(ratings)
        self._fit_parts(data)
        parts = self._parts()
        items = IdMap(np.concatenate([data.items.ids] + [m.data_.items.ids for m in parts.values()]))
        if len(items) != data.n_items:
            data = RatingData(data.ratings, users=data.users, items=items, scale=data.scale)
        return super().fit(data)

    def _check_params(self) -> None:
        pass

    def _fit(self, data: RatingData) -> None:
        parts = self._parts()
        self.user_maps_ = {n: m.data_.users.to_index(data.users.ids, missing="minus1") for n, m in parts.items()}
        self.item_maps_ = {n: m.data_.items.to_index(data.items.ids, missing="minus1") for n, m in parts.items()}
        self.n_ratings_ = np.diff(self.seen_.indptr)

    def part_scores(self, name: str, u: int) -> np.ndarray:
        """Part ``name``'s ranking scores of every hybrid item for hybrid user position ``u``
        (-1: unknown user), shape ``(n_items,)``; NaN where the part does not know the item."""
        model = self._parts()[name]
        um = int(self.user_maps_[name][u]) if u >= 0 else -1
        imap = self.item_maps_[name]
        out = np.full(self.data_.n_items, np.nan)
        known = imap >= 0
        out[known] = model._user_scores(um)[imap[known]]
        return out

    def _vector(self, u: int) -> np.ndarray:
        raise NotImplementedError

    def _score_user(self, u):
        return self._vector(u)

    def _score_unknown_user(self):
        return self._vector(-1)

    def _predict_known(self, u, i):
        out = np.empty(len(u))
        for user in np.unique(u):
            rows = u == user
            out[rows] = self._vector(int(user))[i[rows]]
        return self._fill(u, i, out)

    def _predict_fallback(self, u, i):
        out = np.full(len(u), np.nan)
        item_known = i >= 0
        if item_known.any():
            out[item_known] = self._predict_known(u[item_known], i[item_known])
        return self._fill(u, i, out)

    def _fill(self, u, i, out):
        """Replace NaN (no part could score the pair) by the parts' own fallbacks."""
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = self._unscorable(u[bad])
        return out

    def _unscorable(self, u) -> np.ndarray:
        return np.zeros(len(u))

    def _map(self, name: str, u: np.ndarray, i: np.ndarray):
        """Hybrid positions -> part ``name``'s positions (-1 where the part does not know them)."""
        um = np.where(u >= 0, self.user_maps_[name][np.maximum(u, 0)], -1)
        im = np.where(i >= 0, self.item_maps_[name][np.maximum(i, 0)], -1)
        return um, im

    def _part_predict(self, name: str, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Part ``name``'s ``predict`` for hybrid positions (its own fallback where it must)."""
        model = self._parts()[name]
        um, im = self._map(name, u, i)
        out = np.empty(len(u))
        known = (um >= 0) & (im >= 0)
        if known.any():
            out[known] = model._predict_known(um[known], im[known])
        if not known.all():
            out[~known] = model._predict_fallback(um[~known], im[~known])
        return out

    # ----- a new user without refitting -------------------------------------------------
    def _check_fold_in(self) -> None:
        cannot = [n for n, m in self._parts().items() if not m.can_fold_in()]
        if cannot:
            raise NotImplementedError(f"{type(self).__name__} folds a new user in by its parts, and part(s) "
                                      f"{cannot} cannot; refit it instead")

    def _fold_part(self, name: str, items: np.ndarray, values: np.ndarray):
        """Part ``name`` folded in on the new user's ratings of the items it knows (hybrid positions
        in), or ``None`` when it knows none of them (it then answers as for an unknown user)."""
        model = self._parts()[name]
        known = self.item_maps_[name][items] >= 0
        if not known.any():
            return None
        raw = self.data_.items.to_raw(items[known])
        return model.fold_in(pd.DataFrame({ITEM: raw, RATING: values[known]}))

    def _folded_part_scores(self, name: str, folded) -> np.ndarray:
        """As :meth:`part_scores`, for a folded part (``None``: the part's unknown-user scores)."""
        model = self._parts()[name]
        imap = self.item_maps_[name]
        out = np.full(self.data_.n_items, np.nan)
        known = imap >= 0
        source = model._user_scores(-1) if folded is None else folded.scores
        out[known] = source[imap[known]]
        return out

    def _folded_part_predict(self, name: str, folded, i: np.ndarray) -> np.ndarray:
        """Part ``name``'s predictions for the folded-in user at hybrid item positions ``i``."""
        model = self._parts()[name]
        im = self.item_maps_[name][i]
        out = np.empty(len(i))
        known = im >= 0
        if folded is not None and known.any():
            out[known] = model._folded_predict(folded.state, im[known])
        rest = ~known if folded is not None else np.ones(len(i), dtype=bool)
        if rest.any():
            out[rest] = model._predict_fallback(np.full(int(rest.sum()), -1), im[rest])
        return out

    def _positions(self, user, item) -> tuple[int, int]:
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        return u, i


def explanation_text(model: Recommender, user, item, titles=None) -> str:
    """A one-line reason from ``model.explain(user, item)``, whatever shape it has ("" if none).

    A dict with ``"text"`` gives that text; other dicts their rounded terms; a frame of
    neighbour items (``item`` and ``contribution`` columns, as kNN models give) the two items
    that contributed most; an :class:`~recsys_lab.models.base.Explanation` its reasons. ``titles``:
    optional function raw item ids -> titles (given to ``explain`` too when it takes ``titles``).
    """
    import inspect

    try:
        takes_titles = titles is not None and "titles" in inspect.signature(model.explain).parameters
        expl = model.explain(user, item, titles=titles) if takes_titles else model.explain(user, item)
    except (NotImplementedError, KeyError, IndexError, ValueError):
        return ""
    if isinstance(expl, Explanation):
        return expl.text
    if isinstance(expl, dict):
        if "text" in expl:
            return str(expl["text"])
        return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in expl.items()
                         if not isinstance(v, (dict, list)))
    if isinstance(expl, pd.DataFrame) and {ITEM, "contribution"} <= set(expl.columns):
        if len(expl) == 0:
            return str(expl.attrs.get("fallback", "no neighbour rated"))
        top = expl.reindex(expl["contribution"].abs().sort_values(ascending=False).index)[ITEM].head(2).tolist()
        names = titles(top) if titles is not None else top
        return "because you rated " + " and ".join(str(n) for n in names)
    return ""


class WeightedHybrid(_Hybrid):
    """Fixed-weight mix of per-user normalised scores (formula in the module docstring)."""

    def __init__(self, models, weights=None, normalize: str = "zscore", refit: bool = True,
                 unknown: str = "fallback"):
        super().__init__(unknown)
        self.models, self.weights, self.normalize, self.refit = models, weights, normalize, refit

    def _check_params(self) -> None:
        parts = _named(self.models)
        weights = [1.0] * len(parts) if self.weights is None else list(self.weights)
        if len(weights) != len(parts):
            raise ValueError(f"weights must give one number per model: {len(parts)} models, "
                             f"{len(weights)} weights")
        if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0, got {weights}")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}")
        self.weights_ = dict(zip(parts, map(float, weights)))

    def _parts(self) -> dict:
        return _named(self.models)

    def mix(self, u: int) -> pd.DataFrame:
        """Each part's normalised scores for hybrid user position ``u``, one column per part."""
        return pd.DataFrame({name: normalize_scores(self.part_scores(name, u), self.normalize)
                             for name in self._parts()}, index=self.data_.items.ids)

    def _vector(self, u):
        return self._mixed(np.vstack([normalize_scores(self.part_scores(n, u), self.normalize)
                                      for n in self._parts()]))

    def _fold_in(self, items, values):
        return {name: self._fold_part(name, items, values) for name in self._parts()}

    def _folded_scores(self, state):
        return self._mixed(np.vstack([normalize_scores(self._folded_part_scores(n, f), self.normalize)
                                      for n, f in state.items()]))

    def _folded_predict(self, state, i):
        if self.normalize != "none":
            out = self._folded_scores(state)[i]
            return np.where(np.isfinite(out), out, self._unscorable(i))
        num, den, everyone = np.zeros(len(i)), np.zeros(len(i)), np.zeros(len(i))
        for name, w in self.weights_.items():
            pred = self._folded_part_predict(name, state[name], i)
            can = self.item_maps_[name][i] >= 0
            num += np.where(can, w * pred, 0.0)
            den += np.where(can, w, 0.0)
            everyone += w * pred
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), everyone / sum(self.weights_.values()))

    def _mixed(self, z: np.ndarray) -> np.ndarray:
        """Weighted mean over the parts that can score each item of normalised scores ``(n_parts, n_items)``."""
        w = np.array(list(self.weights_.values()))[:, None]
        can = np.isfinite(z)
        num = np.where(can, w * np.nan_to_num(z), 0.0).sum(axis=0)
        den = np.where(can, w, 0.0).sum(axis=0)
        return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)

    def _unscorable(self, u):
        return np.full(len(u), 0.0 if self.normalize == "zscore" else 0.5)

    def _predict_known(self, u, i):
        return self._mean_prediction(u, i) if self.normalize == "none" else super()._predict_known(u, i)

    def _predict_fallback(self, u, i):
        return self._mean_prediction(u, i) if self.normalize == "none" else super()._predict_fallback(u, i)

    def _mean_prediction(self, u, i):
        """``normalize="none"``: the weighted mean of the parts' predictions, pair by pair, over the
        parts that know the item (all parts' fallbacks where none does)."""
        num, den, everyone = np.zeros(len(u)), np.zeros(len(u)), np.zeros(len(u))
        for name, w in self.weights_.items():
            pred = self._part_predict(name, u, i)
            can = self._map(name, u, i)[1] >= 0
            num += np.where(can, w * pred, 0.0)
            den += np.where(can, w, 0.0)
            everyone += w * pred
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), everyone / sum(self.weights_.values()))

    def explain(self, user, item) -> dict:
        """Each part's normalised score and weight, the mixed score, and the parts' own reasons."""
        u, i = self._positions(user, item)
        parts = {}
        for name, model in self._parts().items():
            z = normalize_scores(self.part_scores(name, u), self.normalize)[i] if i >= 0 else np.nan
            parts[name] = {"weight": self.weights_[name], "score": float(z),
                           "why": explanation_text(model, user, item)}
        score = float(self.predict([user], [item])[0])
        text = " + ".join(f"{p['weight']:.2g}×{n} ({p['score']:.2f})" for n, p in parts.items()
                          if np.isfinite(p["score"]))
        return {"score": score, "parts": parts, "text": text}


class SwitchingHybrid(_Hybrid):
    """``warm_model`` for users with at least ``min_ratings`` ratings, else ``cold_model``."""

    def __init__(self, warm_model: Recommender, cold_model: Recommender, min_ratings: int = 10,
                 refit: bool = True, unknown: str = "fallback"):
        super().__init__(unknown)
        self.warm_model, self.cold_model = warm_model, cold_model
        self.min_ratings, self.refit = min_ratings, refit

    def _check_params(self) -> None:
        _named([self.warm_model, self.cold_model])
        if isinstance(self.min_ratings, bool) or int(self.min_ratings) != self.min_ratings \
                or self.min_ratings < 0:
            raise ValueError(f"min_ratings must be a whole number >= 0, got {self.min_ratings!r}")

    def _parts(self) -> dict:
        return {"warm": self.warm_model, "cold": self.cold_model}

    def chooses(self, user) -> str:
        """``"warm"`` or ``"cold"``: the part that answers for raw ``user``."""
        self._check_fitted()
        return self._choice(int(self.data_.users.to_index([user], missing="minus1")[0]))

    def _choice(self, u: int) -> str:
        return "warm" if u >= 0 and self.n_ratings_[u] >= self.min_ratings else "cold"

    def _vector(self, u):
        return self.part_scores(self._choice(u), u)

    def _predict_known(self, u, i):
        warm = (u >= 0) & (self.n_ratings_[np.maximum(u, 0)] >= self.min_ratings)
        out = np.empty(len(u))
        for name, rows in (("warm", warm), ("cold", ~warm)):
            if rows.any():
                out[rows] = self._part_predict(name, u[rows], i[rows])
        return out

    _predict_fallback = _predict_known

    def _check_fold_in(self) -> None:
        if not (self.warm_model.can_fold_in() or self.cold_model.can_fold_in()):
            raise NotImplementedError("SwitchingHybrid folds a new user into the part it chooses, and "
                                      "neither part can fold a user in; refit it instead")

    def _fold_in(self, items, values):
        choice = "warm" if len(items) >= self.min_ratings else "cold"
        model = self._parts()[choice]
        if not model.can_fold_in():
            raise NotImplementedError(f"the new user's {len(items)} rating(s) choose the {choice} part "
                                      f"{type(model).__name__}, which cannot fold a user in; refit instead")
        return choice, self._fold_part(choice, items, values)

    def _folded_scores(self, state):
        return self._folded_part_scores(*state)

    def _folded_predict(self, state, i):
        return self._folded_part_predict(*state, i)

    def _folded_explain(self, folded, i, **options):
        choice, part = folded.state
        model = self._parts()[choice]
        item = self.data_.items.to_raw([i])[0]
        try:
            why = part.explain(item, **options) if part is not None else ""
        except NotImplementedError:
            why = ""
        sign = ">=" if choice == "warm" else "<"
        return {"score": float(folded.predict([item])[0]), "model": choice, "n_ratings": len(folded.items),
                "why": str(why.get("text", why)) if isinstance(why, dict) else str(why),
                "text": f"{type(model).__name__} answers: you have {len(folded.items)} rating(s) {sign} "
                        f"min_ratings={self.min_ratings}"}

    def explain(self, user, item) -> dict:
        u, _ = self._positions(user, item)
        choice = self._choice(u)
        n = int(self.n_ratings_[u]) if u >= 0 else 0
        sign = ">=" if choice == "warm" else "<"
        model = self._parts()[choice]
        return {"score": float(self.predict([user], [item])[0]), "model": choice,
                "n_ratings": n, "why": explanation_text(model, user, item),
                "text": f"{type(model).__name__} answers: the user has {n} rating(s) {sign} "
                        f"min_ratings={self.min_ratings}"}


class FeatureAugmentedHybrid(_Hybrid):
    """Content-boosted CF: the content model's predicted ratings of rarely rated items are added
    to the ratings as pseudo-ratings, then a copy of the CF model is fitted on them.

    For every user, ``n_pseudo`` items are drawn at random (``seed``) among the catalogue items
    with at most ``max_item_ratings`` training ratings that the user has not rated; each gets the
    pseudo-rating ``content_model.predict(user, item)``. ``content_model`` must predict *ratings*
    (e.g. :class:`~recsys_lab.models.content.DeepContent`; the cosine scores of ``ContentBased``
    are not ratings). ``augmented_model_`` is the fitted copy; ``cf_model`` itself is not touched.
    """

    def __init__(self, content_model: Recommender, cf_model: Recommender, n_pseudo: int = 10,
                 max_item_ratings: int = 0, seed: int = 0, refit: bool = True, unknown: str = "fallback"):
        super().__init__(unknown)
        self.content_model, self.cf_model = content_model, cf_model
        self.n_pseudo, self.max_item_ratings, self.seed, self.refit = n_pseudo, max_item_ratings, seed, refit

    def _check_params(self) -> None:
        from .content import ContentBased

        _named([self.content_model, self.cf_model])
        if isinstance(self.content_model, ContentBased):
            raise ValueError("content_model must predict ratings (e.g. DeepContent); ContentBased gives "
                             "cosine scores in [-1, 1], which are not ratings")
        for name in ("n_pseudo", "max_item_ratings", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")

    def _parts(self) -> dict:
        return {"augmented": self.augmented_model_}

    def _vector(self, u):
        return self.part_scores("augmented", u)

    def _predict_known(self, u, i):
        return self._part_predict("augmented", u, i)

    _predict_fallback = _predict_known

    def _fit_parts(self, data: RatingData) -> None:
        content = self.content_model
        if self.refit:
            fit_quietly(content, data.ratings)
        elif not hasattr(content, "data_"):
            raise ValueError("refit=False but content_model is not fitted; fit it first or use refit=True")
        self.pseudo_ratings_ = pseudo_ratings(content, data.ratings, int(self.n_pseudo),
                                              int(self.max_item_ratings), int(self.seed))
        augmented = pd.concat([data.ratings[[USER, ITEM, RATING]], self.pseudo_ratings_], ignore_index=True)
        self.augmented_model_ = fit_quietly(clone(self.cf_model), augmented)

    def _check_fold_in(self) -> None:
        cannot = [type(m).__name__ for m in (self.content_model, self.augmented_model_) if not m.can_fold_in()]
        if cannot:
            raise NotImplementedError(f"FeatureAugmentedHybrid folds a new user into its content and CF "
                                      f"models, and {cannot} cannot; refit it instead")

    def _fold_in(self, items, values):
        """Pseudo-ratings for the new user from the folded content model (``n_pseudo`` rare items
        they did not rate, drawn with ``np.random.default_rng(seed)``), then real plus pseudo ratings
        folded into the augmented CF model."""
        raw = self.data_.items.to_raw(items)
        content = self.content_model.fold_in(pd.DataFrame({ITEM: raw, RATING: values}))
        catalogue = self.content_model.data_.items.ids
        counts = self.data_.ratings[ITEM].value_counts().reindex(catalogue, fill_value=0).to_numpy()
        pool = np.setdiff1d(catalogue[counts <= int(self.max_item_ratings)], raw)
        pool = pool[np.isin(pool, self.augmented_model_.data_.items.ids)]
        rng = np.random.default_rng(int(self.seed))
        chosen = np.sort(rng.choice(pool, size=min(int(self.n_pseudo), len(pool)), replace=False))
        pseudo = content.predict(chosen)
        both = pd.DataFrame({ITEM: np.r_[raw, chosen], RATING: np.r_[values, pseudo]})
        known = both[ITEM].isin(self.augmented_model_.data_.items.ids)
        return self._fold_part_frame(both[known])

    def _fold_part_frame(self, frame: pd.DataFrame):
        return self.augmented_model_.fold_in(frame) if len(frame) else None

    def _folded_scores(self, state):
        return self._folded_part_scores("augmented", state)

    def _folded_predict(self, state, i):
        return self._folded_part_predict("augmented", state, i)

    def explain(self, user, item) -> dict:
        self._check_fitted()
        mine = self.pseudo_ratings_[self.pseudo_ratings_[USER] == user]
        return {"score": float(self.predict([user], [item])[0]),
                "is_pseudo_rated": bool((mine[ITEM] == item).any()),
                "why": explanation_text(self.augmented_model_, user, item),
                "text": f"{type(self.cf_model).__name__} fitted with {len(mine)} pseudo-ratings of this user "
                        f"from {type(self.content_model).__name__}"}


def pseudo_ratings(content_model: Recommender, ratings: pd.DataFrame, n_pseudo: int,
                   max_item_ratings: int = 0, seed: int = 0) -> pd.DataFrame:
    """Rows ``user, item, rating``: for every user of ``ratings``, ``n_pseudo`` random items (``seed``)
    among the fitted ``content_model``'s items with at most ``max_item_ratings`` ratings in
    ``ratings`` that the user did not rate, rated ``content_model.predict(user, item)``.

    Users are taken in ascending id order and draw from one ``np.random.default_rng(seed)``.
    """
    catalogue = content_model.data_.items.ids
    counts = ratings[ITEM].value_counts().reindex(catalogue, fill_value=0).to_numpy()
    rare = catalogue[counts <= max_item_ratings]
    rng = np.random.default_rng(seed)
    seen = ratings.groupby(USER)[ITEM].agg(set)
    users, items = [], []
    for user in seen.index:
        pool = rare if max_item_ratings == 0 else np.array([i for i in rare if i not in seen[user]])
        chosen = rng.choice(pool, size=min(n_pseudo, len(pool)), replace=False) if len(pool) else pool
        users.append(np.full(len(chosen), user))
        items.append(np.sort(chosen))
    users = np.concatenate(users) if users else np.zeros(0, dtype=int)
    items = np.concatenate(items) if items else np.zeros(0, dtype=int)
    values = content_model.predict(users, items) if len(users) else np.zeros(0)
    return pd.DataFrame({USER: users, ITEM: items, RATING: values})
