"""Matrix factorization: users and movies as embeddings (notebook 09 · Matrix factorization).

Biased matrix factorization (Koren, Bell & Volinsky, 2009) explains a rating by a global
mean, two biases and the dot product of a user vector ``p_u`` and an item vector ``q_i``
(both of length ``n_factors``):

    r̂_ui = μ + b_u + b_i + p_u · q_i

It is trained by mini-batch gradient descent on the squared error plus an L2 penalty on the
parameters each rating touches (as Surprise's SVD does, rating by rating):

    L(B) = (1/|B|) Σ_{(u,i) in B} [ (r_ui − r̂_ui)² + reg (‖p_u‖² + ‖q_i‖² + b_u² + b_i²) ]

``μ`` is the training mean and stays fixed. Factors start as ``N(0, 0.1²)`` draws from a
seeded ``torch.Generator``, biases at 0. Predictions are clipped to the training rating range;
rankings use the unclipped score. Cold start: an unknown user has ``p_u = 0, b_u = 0`` (the
value the penalty pulls every user towards), so a new user is scored ``μ + b_i``; likewise
an unknown item gets ``μ + b_u``.

**A new user without refitting** (``fold_in``, notebook 12). With the item parameters fixed,
the part of the training objective that depends on one user ``u`` with ``n_u`` ratings is
(summed over an epoch; the mini-batch means only rescale it)

    J(p_u, b_u) = Σ_{i in I_u} (r_ui − μ − b_i − b_u − p_u · q_i)²  +  n_u · reg · (‖p_u‖² + b_u²)

because the penalty is paid once per rating. Its minimiser is one ridge regression: with
``A`` the rows ``[q_i, 1]`` of the rated items and ``y_i = r_ui − μ − b_i``,

    (AᵀA + n_u · reg · I) [p_u; b_u] = Aᵀ y          (:func:`ridge_user`)

a ``(n_factors + 1)``-square solve: microseconds instead of a refit, with the same penalty
the training objective applies (``reg = 0`` gives the minimum-norm least-squares solution).

**Explanations** (:meth:`MatrixFactorization.explain`) read as reasons: the average, how you
rate, how others rate the movie (all in stars), and the taste term ``p_u · q_i`` with the movies
you rated highly that lie nearest to this one in the learned space (cosine of ``q``). The
returned :class:`~recsys_lab.models.base.Explanation` is also the dict of exact terms, which
add up to the prediction before clipping.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.dataset import RatingData
from ..data.schema import ITEM
from ..topk import top_k, top_k_candidates
from .base import Explanation
from .baselines import BiasFallback
from .torch_data import RatingBatches, TorchRecommender, known_validation_pairs

INIT_STD = 0.1


def mf_loss(pred: torch.Tensor, target: torch.Tensor, penalty: torch.Tensor, reg: float) -> torch.Tensor:
    """Mean over the batch of ``(target − pred)² + reg · penalty``; all inputs of shape ``(B,)``."""
    return ((target - pred) ** 2 + reg * penalty).mean()


def ridge_user(item_factors: np.ndarray, item_bias: np.ndarray, global_mean: float, items: np.ndarray,
               ratings: np.ndarray, reg: float) -> tuple[np.ndarray, float]:
    """One user's ``(p_u, b_u)`` with the item parameters fixed (formula in the module docstring).

    ``item_factors`` ``(n_items, k)``, ``item_bias`` ``(n_items,)``, ``items`` positions ``(n,)``,
    ``ratings`` ``(n,)``; minimises ``Σ (r − μ − b_i − b_u − p·q_i)² + n · reg · (‖p‖² + b_u²)``.
    Returns ``p_u`` ``(k,)`` and ``b_u``.
    """
    items, ratings = np.asarray(items), np.asarray(ratings, dtype=np.float64)
    a = np.column_stack([np.asarray(item_factors, dtype=np.float64)[items], np.ones(len(items))])
    y = ratings - global_mean - np.asarray(item_bias, dtype=np.float64)[items]
    lam = len(items) * float(reg)
    if lam > 0:
        x = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y)
    else:
        x = np.linalg.lstsq(a, y, rcond=None)[0]  # minimum-norm least squares
    return x[:-1], float(x[-1])


def _stars(value: float) -> str:
    return f"{abs(value):.2f}★"


def factor_explanation(mu: float, b_u: float | None, b_i: float | None, p_u, item_factors: np.ndarray,
                       i: int, rated: np.ndarray, values: np.ndarray, rating_range, item_ids,
                       titles=None, interaction: str = "interaction",
                       item_phrase: str = "others rate this movie", prediction: float | None = None) -> Explanation:
    """Reasons for ``μ + b_u + b_i + p_u · q_i`` in words, the exact terms as the dict.

    ``b_u`` / ``p_u`` ``None``: an unknown user (0); ``b_i`` ``None``: an unknown item (0, and
    ``i`` is ignored). ``rated`` / ``values``: the user's rated item positions and ratings;
    ``item_ids`` maps positions to raw ids; ``titles``: a function raw ids -> names, or a mapping;
    ``item_phrase`` says where the item bias comes from; ``prediction``: the model's own clipped
    prediction when it computes it another way (e.g. in float32), else the clipped sum.
    The terms ``global_mean + user_bias + item_bias + <interaction>`` add up to the prediction
    before it is clipped into ``rating_range``.
    """
    known_user, known_item = b_u is not None, b_i is not None
    dot = float(np.dot(p_u, item_factors[i])) if known_user and known_item else 0.0
    bu, bi = (float(b_u) if known_user else 0.0), (float(b_i) if known_item else 0.0)
    raw = mu + bu + bi + dot
    prediction = float(np.clip(raw, *rating_range)) if prediction is None else float(prediction)
    terms = {"global_mean": float(mu), "user_bias": bu, "item_bias": bi, interaction: dot,
             "prediction": prediction}
    name = (lambda j: f"movie {j}") if titles is None else \
        (lambda j: str(titles([j])[0]) if callable(titles) else str(titles.get(j, f"movie {j}")))
    reasons = [f"movies average {mu:.2f}★"]
    reasons.append(f"you rate {_stars(bu)} {'above' if bu >= 0 else 'below'} average" if known_user
                   else "nothing is known about you yet (0★ for you)")
    reasons.append(f"{item_phrase} {_stars(bi)} {'above' if bi >= 0 else 'below'} average" if known_item
                   else "nobody has rated this movie yet (0★ for it)")
    near = []
    if known_user and known_item:
        rated, values = np.asarray(rated), np.asarray(values, dtype=np.float64)
        liked = (values >= values.mean()) & (values >= mu) & (rated != i)
        q = item_factors
        norms = np.linalg.norm(q[rated], axis=1) * np.linalg.norm(q[i])
        cos = np.divide(q[rated] @ q[i], norms, out=np.zeros(len(rated)), where=norms > 0)
        ok = np.flatnonzero(liked & (cos > 0))
        best = ok[top_k(cos[ok], 2, rated[ok])]
        near = [item_ids[rated[j]] for j in best]
        taste = f"{'+' if dot >= 0 else '−'}{_stars(dot)} from your taste"
        if near and dot >= 0:
            liked_text = " and ".join(f"{name(item_ids[rated[j]])} ({values[j]:.1f}★)" for j in best)
            reasons.append(f"you rated {liked_text} highly, and this movie sits near "
                           f"{'it' if len(best) == 1 else 'them'} in the learned space: {taste}")
        else:
            reasons.append(f"this movie lies {'along' if dot >= 0 else 'against'} the direction of your "
                           f"taste in the learned space: {taste}")
            near = [] if dot < 0 else near
    clipped = "" if prediction == raw else f" (shown as {prediction:.2f}★, the {'top' if raw > prediction else 'bottom'} of the scale)"
    text = "; ".join(reasons) + f". Together: {raw:.2f}★{clipped}."
    return Explanation(terms, text[0].upper() + text[1:], reasons, near)


class FactorFoldIn:
    """Folding a new user into a model that scores ``mu + b_u + b_i + p_u . q_i`` with fitted item
    parameters ``item_factors_`` ``(n_items, k)``, ``item_bias_`` ``(n_items,)``, ``global_mean_``
    and penalty ``reg`` (MatrixFactorization; DeepContent, whose item tower gives the ``q_i``):
    ``(p_u, b_u)`` by :func:`ridge_user`, no refit. ``_explain_options`` tunes the wording."""

    _explain_options: dict = {}

    def _fold_in(self, items, values):
        """``(p_u, b_u)`` by :func:`ridge_user` with the fitted item parameters and ``reg``: the
        penalty ``n_u * reg * (||p_u||^2 + b_u^2)`` is the training loss's, paid once per rating."""
        return ridge_user(self.item_factors_, self.item_bias_, self.global_mean_, items, values, float(self.reg))

    def _folded_scores(self, state):
        p, b = state
        return self.global_mean_ + b + self.item_bias_ + self.item_factors_ @ p

    def _folded_predict(self, state, i):
        return np.clip(self._folded_scores(state)[i], *self.rating_range_)

    def _folded_explain(self, folded, i, titles=None):
        p, b = folded.state
        return factor_explanation(self.global_mean_, b, self.item_bias_[i], p, self.item_factors_, i,
                                  folded.items, folded.ratings, self.rating_range_, self.data_.items.ids,
                                  titles, **self._explain_options)


class BiasedMF(nn.Module):
    """``forward(users, items) = μ + b_u + b_i + p_u · q_i`` for position tensors of shape ``(B,)``.

    Parameters: ``user_factors`` ``(n_users, n_factors)``, ``item_factors`` ``(n_items, n_factors)``,
    ``user_bias`` ``(n_users,)``, ``item_bias`` ``(n_items,)``; ``global_mean`` is a fixed buffer.
    """

    def __init__(self, n_users: int, n_items: int, n_factors: int, global_mean: float = 0.0):
        super().__init__()
        self.user_factors = nn.Parameter(torch.zeros(n_users, n_factors))
        self.item_factors = nn.Parameter(torch.zeros(n_items, n_factors))
        self.user_bias = nn.Parameter(torch.zeros(n_users))
        self.item_bias = nn.Parameter(torch.zeros(n_items))
        self.register_buffer("global_mean", torch.tensor(float(global_mean)))

    def reset_parameters(self, generator: torch.Generator, std: float = INIT_STD) -> None:
        """Factors ~ N(0, std²) from ``generator``; biases 0."""
        with torch.no_grad():
            nn.init.normal_(self.user_factors, 0.0, std, generator=generator)
            nn.init.normal_(self.item_factors, 0.0, std, generator=generator)
            self.user_bias.zero_()
            self.item_bias.zero_()

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        p, q = self.user_factors[users], self.item_factors[items]       # (B, k)
        return self.global_mean + self.user_bias[users] + self.item_bias[items] + (p * q).sum(-1)

    def penalty(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``‖p_u‖² + ‖q_i‖² + b_u² + b_i²`` per pair, shape ``(B,)``."""
        p, q = self.user_factors[users], self.item_factors[items]
        return (p * p).sum(-1) + (q * q).sum(-1) + self.user_bias[users] ** 2 + self.item_bias[items] ** 2


class MatrixFactorization(FactorFoldIn, BiasFallback, TorchRecommender):
    """Biased matrix factorization for explicit ratings, trained with the kit's loop.

    Hyper-parameters: ``n_factors`` (embedding size), ``epochs``, ``learning_rate``, ``reg``
    (L2 weight, see the module docstring), ``batch_size``, ``optimizer`` (a kit optimizer name
    such as ``"adam"`` or ``"sgd"``, a ``recsys_lab.optimizers`` class or a ``torch.optim``
    class), ``seed``, ``device`` (``"auto"``: a GPU when present) and ``unknown``.

    The defaults were chosen on a validation split carved out of the *training* part of
    ml-latest-small (``benchmarks/bench_mf.py`` compares them with Surprise's SVD).

    After ``fit``: ``history_`` (per-epoch losses), ``global_mean_``, and as numpy arrays
    ``user_factors_``, ``item_factors_``, ``user_bias_``, ``item_bias_`` (rows follow
    ``data_.users`` / ``data_.items``).
    """

    def __init__(self, n_factors: int = 64, epochs: int = 10, learning_rate: float = 0.01,
                 reg: float = 0.1, batch_size: int = 1024, optimizer="adam", seed: int = 0,
                 device: str = "auto", unknown: str = "fallback"):
        super().__init__(unknown)
        self.n_factors, self.epochs, self.learning_rate, self.reg = n_factors, epochs, learning_rate, reg
        self.batch_size, self.optimizer, self.seed, self.device = batch_size, optimizer, seed, device

    # ----- training (called by TorchRecommender.fit) -----------------------------------
    def _prepare(self, data: RatingData) -> None:
        self.global_mean_ = float(data.values.mean())
        self.rating_range_ = (float(data.values.min()), float(data.values.max()))

    def _build_network(self, n_users, n_items, generator) -> BiasedMF:
        net = BiasedMF(n_users, n_items, int(self.n_factors), self.global_mean_)
        net.reset_parameters(generator)
        return net

    def _train_batches(self, data: RatingData, device) -> RatingBatches:
        return RatingBatches(data.user_index, data.item_index, data.values, int(self.batch_size),
                             seed=int(self.seed), device=device)

    def _batch_loss(self, net: BiasedMF, batch) -> torch.Tensor:
        users, items, ratings = batch
        return mf_loss(net(users, items), ratings, net.penalty(users, items), float(self.reg))

    def _val_fn(self, validation: pd.DataFrame, device):
        """Validation MSE (the recorded "loss") and RMSE on the pairs whose user and item are known."""
        u, i, ratings = known_validation_pairs(self, validation)
        users = torch.as_tensor(u, dtype=torch.long, device=device)
        items = torch.as_tensor(i, dtype=torch.long, device=device)
        target = torch.as_tensor(ratings, dtype=torch.float32, device=device)
        low, high = self.rating_range_

        def val_fn(net):
            mse = float(((net(users, items).clamp(low, high) - target) ** 2).mean())
            return {"loss": mse, "val_rmse": mse ** 0.5}

        return val_fn

    # ----- scoring ------------------------------------------------------------------
    def _predict_known(self, u, i):
        return np.clip(self._scores(u, i), *self.rating_range_)


    def _score_user(self, u):
        # Unclipped, so several items above the top of the scale still rank among themselves.
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_ + self.item_factors_ @ self.user_factors_[u]

    def _score_users(self, us):
        """``_score_user`` for many users: one (n_users, k) x (k, n_items) product."""
        return ((self.global_mean_ + self.user_bias_[us])[:, None] + self.item_bias_[None, :]
                + self.user_factors_[us] @ self.item_factors_.T)

    # ----- what the model learned -----------------------------------------------------
    def _network_ready(self) -> None:
        """Keep numpy copies of the weights for fast scoring and for the learner to inspect."""
        net = self.network_
        for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
            setattr(self, name + "_", getattr(net, name).detach().cpu().double().numpy())

    def _user_history(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Item positions and ratings of known user position ``u`` (rows are in (user, item) order)."""
        start, stop = np.searchsorted(self.data_.user_index, [u, u + 1])
        return self.data_.item_index[start:stop], self.data_.values[start:stop]

    def explain(self, user, item, titles=None) -> Explanation:
        """Why ``user`` gets this prediction for ``item``, as reasons a learner reads.

        The result prints as sentences (the average, how you rate, how others rate the movie, and
        the taste term ``p_u · q_i`` with the two movies you rated highly that sit nearest to this
        one in the learned space), and is the dict of exact terms ``global_mean``, ``user_bias``,
        ``item_bias``, ``interaction`` (``p_u · q_i``) and ``prediction``: the first four add up to
        the prediction before clipping. Unknown users or items contribute 0. ``titles``: a function
        raw ids -> titles (or a mapping) to name movies in the text.
        """
        self._check_fitted()
        prediction = self.predict([user], [item])[0]  # refuses bad ids (and unknown ones with "error")
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        rated, values = self._user_history(u) if u >= 0 else (np.zeros(0, int), np.zeros(0))
        return factor_explanation(self.global_mean_, self.user_bias_[u] if u >= 0 else None,
                                  self.item_bias_[i] if i >= 0 else None,
                                  self.user_factors_[u] if u >= 0 else None, self.item_factors_,
                                  max(i, 0), rated, values, self.rating_range_, self.data_.items.ids, titles,
                                  prediction=prediction)

    def similar_items(self, item, k: int = 10, candidates=None) -> pd.DataFrame:
        """The ``k`` items whose factor vectors have the highest cosine similarity with ``item``'s.

        ``cos(q_i, q_j) = q_i · q_j / (‖q_i‖ ‖q_j‖)``. ``candidates`` (raw item ids) restricts the
        answer to those items, e.g. to movies with enough ratings to have a well-estimated vector.
        Returns a frame (``item``, ``similarity``), most similar first, ``item`` itself excluded.
        """
        self._check_fitted()
        if int(k) != k or k < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        i = int(self.data_.items.to_index([item], missing="minus1")[0])
        if i < 0:
            raise KeyError(f"{type(self).__name__} was not fitted on item {item!r}")
        q = self.item_factors_
        norms = np.linalg.norm(q, axis=1)
        sims = q @ q[i] / np.maximum(norms * norms[i], 1e-12)
        allowed = np.ones(len(sims), dtype=bool)
        if candidates is not None:
            allowed[:] = False
            allowed[self.data_.items.to_index(np.asarray(list(candidates)))] = True
        allowed[i] = False
        order = top_k_candidates(sims, allowed, k)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(order), "similarity": sims[order]})
