"""Content-based recommenders: profiles of features, and a deep content model (notebook 11).

Both models take the item feature table at construction (``item_features``, an
:class:`recsys_lab.features.ItemFeatures`). Their item catalogue is the union of the
rated items and the items with features, so an item with features but **no ratings**
(a brand-new movie) is scored and can be recommended like any other.

**ContentBased** (a profile per user, cosine scoring). With ``x_i`` item ``i``'s feature row
scaled to unit length, ``I_u`` the items user ``u`` rated and ``n_u = |I_u|``:

    rbar_u = (sum_{i in I_u} r_ui + damping * mu) / (n_u + damping)   (user mean, shrunk to mu)
    p_u    = (1 / n_u) * sum_{i in I_u} (r_ui - rbar_u) * x_i          (rating-weighted, centred)
    s_ui   = cos(p_u, x_i) = p_u . x_i / ||p_u||                       (in [-1, 1])

Items rated above the user's mean pull the profile towards their features, items rated below
push it away. ``damping = 0`` centres on the plain user mean (then a user whose ratings are
all equal has no profile); the default shrinks it towards the global mean ``mu`` so that a new
user with three 5-star ratings already has a profile. ``predict`` returns ``s_ui``: a relevance
score, not a rating. :meth:`ContentBased.explain` splits ``s_ui`` into one term per feature.

**DeepContent** (a neural item tower). A small network ``f`` maps item features to an
embedding and a bias, ``f(x_i) = (q_i, c_i)``; users keep free embeddings ``p_u`` and biases:

    r_ui ~ mu + b_u + c_i + p_u . q_i,   [q_i, c_i] = W2 relu(W1 x_i + a1) + a2

trained on the ratings (mean squared error + ``reg`` times the squared norms of the user
vectors and item outputs in the batch, Adam, :func:`recsys_lab.training.fit_loop`). Items
appear only through their features, so a new item is scored by the same formula.

**Unknown users and items** (``unknown="fallback"``; ``"error"`` raises ``KeyError``):

- ContentBased: an unknown user, or a known user without a profile (no feature of any rated
  item, or all ratings equal to the centre) is recommended the most-rated items; ``predict``
  gives 0 (no evidence either way) for unknown users and for items without features.
- DeepContent: an unknown user gets ``mu + c_i`` (what the features say about the item);
  an unknown item (no features, no ratings) ``mu + b_u``; predictions are clipped to the
  training range.

**A new user without refitting** (``fold_in``, notebook 12): ContentBased computes the new
user's profile by the formula above from their ratings alone (a training user's own ratings give
back exactly their fitted profile and scores); DeepContent solves the ridge regression of
:func:`recsys_lab.models.mf.ridge_user` for ``(p_u, b_u)`` over the tower's fixed item outputs,
with the penalty the training loss pays (``reg`` per rating).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from ..data.dataset import IdMap, RatingData
from ..data.schema import ITEM
from ..features import GENRE_PREFIX, TAG_PREFIX, ItemFeatures, l2_normalize_rows
from ..network import one_thread
from ..topk import order as ranked, top_k
from .base import Explanation, Recommender
from .baselines import BiasFallback
from .mf import FactorFoldIn, factor_explanation


# --------------------------------------------------------------------------------------
# pure profile math
# --------------------------------------------------------------------------------------

def user_means(ratings: sp.csr_matrix, damping: float = 0.0, global_mean: float | None = None) -> np.ndarray:
    """Damped mean rating per user, shape ``(n_users,)``: ``(sum_u + damping*mu) / (n_u + damping)``.

    ``ratings``: CSR ``(n_users, n_items)`` whose stored entries are the ratings. ``mu`` defaults
    to the mean of all stored ratings. A user without ratings gets ``mu`` (or NaN if ``damping=0``).
    """
    ratings = sp.csr_matrix(ratings)
    mu = float(ratings.data.mean()) if global_mean is None else float(global_mean)
    sums = np.asarray(ratings.sum(axis=1)).ravel()
    counts = np.diff(ratings.indptr).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums + damping * mu) / (counts + damping)


def user_profiles(ratings: sp.csr_matrix, item_matrix, damping: float = 0.0,
                  global_mean: float | None = None) -> np.ndarray:
    """Rating-weighted, mean-centred average of the rated items' feature rows.

    ``ratings``: CSR ``(n_users, n_items)``; ``item_matrix``: ``(n_items, n_features)`` (sparse or
    dense). Returns the dense ``(n_users, n_features)`` array of
    ``p_u = (1/n_u) sum_{i in I_u} (r_ui - rbar_u) x_i`` with ``rbar_u`` from :func:`user_means`.
    Users without ratings get a zero row.
    """
    ratings = sp.csr_matrix(ratings, dtype=np.float64)
    if ratings.shape[1] != item_matrix.shape[0]:
        raise ValueError(f"ratings has {ratings.shape[1]} item columns but item_matrix has "
                         f"{item_matrix.shape[0]} rows; they must describe the same items")
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping}")
    counts = np.diff(ratings.indptr)
    means = user_means(ratings, damping, global_mean)
    weights = ratings.copy()
    weights.data = weights.data - np.repeat(means, counts)
    weights = sp.diags(np.divide(1.0, counts, out=np.zeros(len(counts)), where=counts > 0)) @ weights
    profiles = weights @ item_matrix
    return profiles.toarray() if sp.issparse(profiles) else np.asarray(profiles)


def cosine_scores(profiles, item_matrix) -> np.ndarray:
    """Cosine similarity of every profile with every item row, shape ``(n_profiles, n_items)``.

    ``profiles``: ``(n_profiles, F)`` or ``(F,)``; ``item_matrix``: ``(n_items, F)``. A zero vector
    on either side gives 0 (cosine is undefined there; 0 means "no evidence").
    """
    profiles = np.atleast_2d(np.asarray(profiles, dtype=np.float64))
    unit_items = l2_normalize_rows(item_matrix)
    norms = np.linalg.norm(profiles, axis=1)
    unit_profiles = profiles / np.where(norms > 0, norms, 1.0)[:, None]
    return np.asarray((unit_items @ unit_profiles.T).T)


def _feature_phrase(names: list[str]) -> str:
    genres = [n[len(GENRE_PREFIX):] for n in names if n.startswith(GENRE_PREFIX)]
    tags = [f"'{n[len(TAG_PREFIX):]}'" for n in names if n.startswith(TAG_PREFIX)]
    other = [n for n in names if not n.startswith((GENRE_PREFIX, TAG_PREFIX))]
    join = lambda xs: xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]
    parts = []
    if genres:
        parts.append(("the genre " if len(genres) == 1 else "the genres ") + join(genres))
    if tags:
        parts.append(("the tag " if len(tags) == 1 else "the tags ") + join(tags))
    if other:
        parts.append(("the feature " if len(other) == 1 else "the features ") + join(other))
    return join(parts)


class _FeatureCatalogue(Recommender):
    """Shared by the content models: ``item_features`` stored, catalogue = rated + featured items."""

    def _check_features(self) -> None:
        if not isinstance(self.item_features, ItemFeatures):
            raise ValueError(f"item_features must be an ItemFeatures (see recsys_lab.features, e.g. "
                             f"movie_features(movies, tags)), got {type(self.item_features).__name__}")

    def fit(self, ratings):
        """Learn from ``ratings``; the item catalogue also holds every item of ``item_features``."""
        self._check_features()
        data = ratings if isinstance(ratings, RatingData) else RatingData(ratings)
        items = IdMap(np.concatenate([data.items.ids, self.item_features.items]))
        if len(items) != data.n_items:
            data = RatingData(data.ratings, users=data.users, items=items, scale=data.scale)
        return super().fit(data)

    def _item_rows(self) -> sp.csr_matrix:
        return self.item_features.rows(self.data_.items.ids)


# --------------------------------------------------------------------------------------
# profile model
# --------------------------------------------------------------------------------------

class ContentBased(_FeatureCatalogue):
    """User profiles of item features, cosine scoring (formulas in the module docstring)."""

    def __init__(self, item_features: ItemFeatures, damping: float = 5.0, unknown: str = "fallback"):
        super().__init__(unknown)
        self.item_features, self.damping = item_features, damping

    def _fit(self, data: RatingData) -> None:
        if not np.isfinite(self.damping) or self.damping < 0:
            raise ValueError(f"damping must be a number >= 0, got {self.damping!r}")
        self.items_unit_ = l2_normalize_rows(self._item_rows())                 # (n_items, F)
        self.ratings_ = ratings = data.to_csr()                                 # (n_users, n_items)
        self.global_mean_ = float(data.values.mean())
        self.user_means_ = user_means(ratings, self.damping, self.global_mean_)
        self.profiles_ = user_profiles(ratings, self.items_unit_, self.damping, self.global_mean_)
        self.profile_norms_ = np.linalg.norm(self.profiles_, axis=1)

    def has_profile(self, user) -> bool:
        """Whether ``user`` is known and has a non-zero profile (else recommendations fall back)."""
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        return u >= 0 and self.profile_norms_[u] > 0

    def profile(self, user, top: int = 10) -> pd.Series:
        """The ``top`` largest-magnitude entries of ``user``'s profile, by feature name."""
        self._check_fitted()
        u = int(self.data_.users.to_index([user])[0])
        p = self.profiles_[u]
        order = top_k(np.abs(p), top)
        return pd.Series(p[order], index=[self.item_features.names[j] for j in order], name="weight")

    def _predict_known(self, u, i):
        rows = self.items_unit_[i]                                               # (n, F)
        dots = np.asarray(rows.multiply(self.profiles_[u]).sum(axis=1)).ravel()
        norms = self.profile_norms_[u]
        return np.divide(dots, norms, out=np.zeros(len(u)), where=norms > 0)

    def _predict_fallback(self, u, i):
        return np.zeros(len(u))  # no profile or no features: no match (cosine 0)

    def _score_user(self, u):
        if self.profile_norms_[u] == 0:
            return self._score_unknown_user()
        return self.items_unit_ @ (self.profiles_[u] / self.profile_norms_[u])

    def similar_items(self, item, n: int = 10) -> pd.DataFrame:
        """The ``n`` items whose features are most like ``item``'s (cosine), best first."""
        self._check_fitted()
        i = int(self.data_.items.to_index([item])[0])
        sims = np.asarray((self.items_unit_ @ self.items_unit_[i].T).todense()).ravel()
        sims[i] = -np.inf
        order = top_k(sims, n)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(order), "similarity": sims[order]})

    def explain(self, user, item, top: int = 3) -> dict:
        """Why ``item`` scores what it does for ``user``.

        ``contributions``: the ``top`` features with the largest positive terms
        ``p_uf * x_if / ||p_u||`` (all terms sum to the score); ``liked_items``: up to three items
        the user rated above their mean that share the leading feature (best rated first);
        ``text``: one sentence.
        """
        self._check_fitted()
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        if u < 0:
            return self._explain_profile(None, 0.0, None, None, 0.0, i, top)
        start, end = self.ratings_.indptr[u], self.ratings_.indptr[u + 1]
        return self._explain_profile(self.profiles_[u], self.profile_norms_[u], self.ratings_.indices[start:end],
                                     self.ratings_.data[start:end], self.user_means_[u], i, top)

    def _explain_profile(self, profile, norm, rated, values, mean, i, top) -> dict:
        """:meth:`explain` for a profile ``(F,)`` of norm ``norm``, the rated item positions and
        ratings, the user's (damped) mean, and item position ``i`` (-1: unknown)."""
        if profile is None or norm == 0:
            return {"score": 0.0, "contributions": {}, "liked_items": [],
                    "text": "no taste profile yet: a popular item"}
        if i < 0:
            return {"score": 0.0, "contributions": {}, "liked_items": [],
                    "text": "the item has no known features"}
        row = self.items_unit_[i]
        terms = row.data * profile[row.indices] / norm
        order = [j for j in ranked(terms, row.indices) if terms[j] > 0][:top]
        contributions = {self.item_features.names[row.indices[j]]: float(terms[j]) for j in order}
        liked = []
        if order:
            lead = row.indices[order[0]]
            has_lead = np.asarray(self.items_unit_[rated][:, lead].todense()).ravel() > 0
            good = np.flatnonzero(has_lead & (values > mean))
            good = good[top_k(values[good], 3, rated[good])]
            liked = self.data_.items.to_raw(rated[good]).tolist()
        text = (f"recommended because of {_feature_phrase(list(contributions))} you liked"
                if contributions else "no feature of this item matches what you liked")
        return {"score": float(terms.sum()), "contributions": contributions, "liked_items": liked,
                "text": text}

    # ----- a new user without refitting ---------------------------------------------------
    def _fold_in(self, items, values):
        """The new user's profile by the training formula (:func:`user_profiles`), shape ``(F,)``,
        and their damped mean: a training user's own ratings give back exactly their profile."""
        order = np.argsort(items)
        one = sp.csr_matrix((values[order], (np.zeros(len(items), dtype=np.int64), items[order])),
                            shape=(1, self.data_.n_items))
        profile = user_profiles(one, self.items_unit_, self.damping, self.global_mean_)[0]
        mean = float(user_means(one, self.damping, self.global_mean_)[0])
        return profile, float(np.linalg.norm(profile)), mean

    def _folded_scores(self, state):
        profile, norm, _ = state
        if norm == 0:
            return self._score_unknown_user()
        return np.asarray(self.items_unit_ @ (profile / norm)).ravel()

    def _folded_predict(self, state, i):
        profile, norm, _ = state
        if norm == 0:
            return np.zeros(len(i))
        return np.asarray(self.items_unit_[i] @ (profile / norm)).ravel()

    def _folded_explain(self, folded, i, titles=None, top: int = 3):
        profile, norm, mean = folded.state
        return self._explain_profile(profile, norm, folded.items, folded.ratings, mean, i, top)


# --------------------------------------------------------------------------------------
# deep content model
# --------------------------------------------------------------------------------------

def _csr_bags(matrix: sp.csr_matrix, rows: torch.Tensor):
    """Flattened (feature index, value, offsets) of CSR ``rows``, the input of ``embedding_bag``."""
    indptr = torch.as_tensor(matrix.indptr, dtype=torch.long)
    starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
    offsets = torch.cumsum(lengths, 0) - lengths
    flat = torch.repeat_interleave(starts - offsets, lengths) + torch.arange(int(lengths.sum()))
    return flat, offsets


class ContentNet(nn.Module):
    """User embeddings and biases, and an item tower ``features -> (embedding, bias)``.

    ``forward(users, items)``: long tensors ``(b,)`` of positions -> predicted ratings ``(b,)``.
    """

    def __init__(self, features: sp.csr_matrix, n_users: int, n_factors: int, hidden: int,
                 global_mean: float, generator: torch.Generator):
        super().__init__()
        self.features = sp.csr_matrix(features, dtype=np.float32)
        self.register_buffer("feature_index", torch.as_tensor(self.features.indices, dtype=torch.long))
        self.register_buffer("feature_value", torch.as_tensor(self.features.data, dtype=torch.float32))
        n_features = self.features.shape[1]
        g = generator
        self.layer1 = nn.Parameter(torch.randn(n_features, hidden, generator=g) / np.sqrt(max(n_features, 1)))
        self.bias1 = nn.Parameter(torch.zeros(hidden))
        self.layer2 = nn.Parameter(torch.randn(hidden, n_factors + 1, generator=g) * 0.1 / np.sqrt(hidden))
        self.bias2 = nn.Parameter(torch.zeros(n_factors + 1))
        self.user_factors = nn.Parameter(torch.randn(n_users, n_factors, generator=g) * 0.1)
        self.user_bias = nn.Parameter(torch.zeros(n_users))
        self.global_mean = float(global_mean)

    def item_outputs(self, items: torch.Tensor) -> torch.Tensor:
        """``[q_i, c_i]`` for item positions ``items`` ``(b,)`` -> ``(b, n_factors + 1)``."""
        flat, offsets = _csr_bags(self.features, items)
        hidden = nn.functional.embedding_bag(self.feature_index[flat], self.layer1, offsets, mode="sum",
                                             per_sample_weights=self.feature_value[flat])
        return torch.relu(hidden + self.bias1) @ self.layer2 + self.bias2

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        out = self.item_outputs(items)
        return (self.global_mean + self.user_bias[users] + out[:, -1]
                + (self.user_factors[users] * out[:, :-1]).sum(dim=1))


DEEP_ITEM_PHRASE = "from its features, the item tower rates this movie"


class DeepContent(FactorFoldIn, BiasFallback, _FeatureCatalogue):
    """Neural content model: an item tower over features, trained on ratings (see module docstring)."""

    _explain_options = {"interaction": "dot", "item_phrase": DEEP_ITEM_PHRASE}   # the new user's reasons

    def __init__(self, item_features: ItemFeatures, n_factors: int = 16, hidden: int = 32,
                 epochs: int = 5, learning_rate: float = 0.01, reg: float = 0.01,
                 batch_size: int = 1024, seed: int = 0, unknown: str = "fallback"):
        super().__init__(unknown)
        self.item_features, self.n_factors, self.hidden = item_features, n_factors, hidden
        self.epochs, self.learning_rate, self.reg = epochs, learning_rate, reg
        self.batch_size, self.seed = batch_size, seed

    def _check_params(self) -> None:
        for name in ("n_factors", "hidden", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not self.reg >= 0:
            raise ValueError(f"reg must be >= 0, got {self.reg!r}")

    def _fit(self, data: RatingData) -> None:
        from ..training import fit_loop
        from .torch_data import RatingBatches

        self._check_params()
        generator = torch.Generator().manual_seed(int(self.seed))
        self.global_mean_ = float(data.values.mean())
        self.rating_range_ = (float(data.values.min()), float(data.values.max()))
        net = ContentNet(self._item_rows(), data.n_users, int(self.n_factors), int(self.hidden),
                         self.global_mean_, generator)
        batches = RatingBatches(data.user_index, data.item_index, data.values,
                                batch_size=int(self.batch_size), seed=int(self.seed))
        reg = float(self.reg)

        def batch_loss(model, batch):
            users, items, ratings = batch
            out = model.item_outputs(items)
            pred = (model.global_mean + model.user_bias[users] + out[:, -1]
                    + (model.user_factors[users] * out[:, :-1]).sum(dim=1))
            penalty = (model.user_factors[users] ** 2).sum(1) + model.user_bias[users] ** 2 \
                + (out ** 2).sum(1)
            return nn.functional.mse_loss(pred, ratings) + reg * penalty.mean()

        optimizer = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
        with one_thread():  # the tower's operations are tiny: one thread is much faster
            self.history_ = fit_loop(net, None, batches, optimizer, int(self.epochs), seed=int(self.seed),
                                     batch_loss_fn=batch_loss)
        if self.history_.diverged:
            raise ValueError(f"DeepContent: {self.history_.message}; lower learning_rate")
        self.network_ = net.eval()
        with torch.no_grad():
            outputs = net.item_outputs(torch.arange(data.n_items)).double().numpy()
        self.item_factors_, self.item_bias_ = outputs[:, :-1], outputs[:, -1]
        self.user_factors_ = net.user_factors.detach().double().numpy()
        self.user_bias_ = net.user_bias.detach().double().numpy()

    def embed(self, features) -> np.ndarray:
        """Item-tower outputs ``[q, c]`` for feature rows ``(n, F)`` (any items, rated or not), ``(n, n_factors + 1)``.

        Columns must follow ``item_features.names``.
        """
        self._check_fitted()
        features = sp.csr_matrix(features, dtype=np.float32)
        if features.shape[1] != self.item_features.n_features:
            raise ValueError(f"features must have {self.item_features.n_features} columns "
                             f"(item_features.names), got {features.shape[1]}")
        tower = ContentNet(features, 1, int(self.n_factors), int(self.hidden), self.global_mean_,
                           torch.Generator().manual_seed(0))
        tower.load_state_dict({k: v for k, v in self.network_.state_dict().items()
                               if not k.startswith(("user_", "feature_"))}, strict=False)
        with torch.no_grad():
            return tower.item_outputs(torch.arange(features.shape[0])).double().numpy()

    def _raw(self, u, i):
        return (self.global_mean_ + self.user_bias_[u] + self.item_bias_[i]
                + np.sum(self.user_factors_[u] * self.item_factors_[i], axis=1))

    def _predict_known(self, u, i):
        return np.clip(self._raw(u, i), *self.rating_range_)

    def _score_user(self, u):
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_ + self.item_factors_ @ self.user_factors_[u]

    def _score_users(self, us):
        return ((self.global_mean_ + self.user_bias_[us])[:, None] + self.item_bias_[None, :]
                + self.user_factors_[us] @ self.item_factors_.T)

    def explain(self, user, item, titles=None) -> Explanation:
        """Why ``user`` gets this prediction for ``item``, as reasons a learner reads.

        As :meth:`recsys_lab.models.mf.MatrixFactorization.explain`, with the item's vector and
        bias computed by the tower from its features (so a movie nobody rated has them too); the
        dict holds the exact terms ``global_mean``, ``user_bias``, ``item_bias``, ``dot`` and
        ``prediction``, the first four adding up to the prediction before clipping.
        """
        self._check_fitted()
        self.predict([user], [item])  # refuses bad ids, and unknown ones in unknown="error" mode
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        if u >= 0:
            start, stop = np.searchsorted(self.data_.user_index, [u, u + 1])
            rated, values = self.data_.item_index[start:stop], self.data_.values[start:stop]
        else:
            rated, values = np.zeros(0, dtype=np.int64), np.zeros(0)
        return factor_explanation(self.global_mean_, self.user_bias_[u] if u >= 0 else None,
                                  self.item_bias_[i] if i >= 0 else None,
                                  self.user_factors_[u] if u >= 0 else None, self.item_factors_,
                                  max(i, 0), rated, values, self.rating_range_, self.data_.items.ids,
                                  titles, interaction="dot", item_phrase=DEEP_ITEM_PHRASE)

