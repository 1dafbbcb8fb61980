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
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.dataset import RatingData
from ..data.schema import ITEM, RATING, USER
from ..topk import top_k_candidates
from .baselines import BiasFallback
from .torch_data import RatingBatches, TorchRecommender

INIT_STD = 0.1


def mf_loss(pred: torch.Tensor, target: torch.Tensor, penalty: torch.Tensor, reg: float) -> torch.Tensor:
    """Mean over the batch of ``(target − pred)² + reg · penalty``; all inputs of shape ``(B,)``."""
    return ((target - pred) ** 2 + reg * penalty).mean()


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


class MatrixFactorization(BiasFallback, TorchRecommender):
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
        missing = [c for c in (USER, ITEM, RATING) if c not in validation.columns]
        if missing:
            raise ValueError(f"validation frame lacks column(s) {missing}; it has {list(validation.columns)}")
        u = self.data_.users.to_index(validation[USER].to_numpy(), missing="minus1")
        i = self.data_.items.to_index(validation[ITEM].to_numpy(), missing="minus1")
        known = (u >= 0) & (i >= 0)
        if not known.any():
            raise ValueError("no validation rating has a user and an item seen in training")
        users = torch.as_tensor(u[known], dtype=torch.long, device=device)
        items = torch.as_tensor(i[known], dtype=torch.long, device=device)
        target = torch.as_tensor(validation[RATING].to_numpy()[known], dtype=torch.float32, device=device)
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

    # ----- what the model learned -----------------------------------------------------
    def _network_ready(self) -> None:
        """Keep numpy copies of the weights for fast scoring and for the learner to inspect."""
        net = self.network_
        for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
            setattr(self, name + "_", getattr(net, name).detach().cpu().double().numpy())

    def explain(self, user, item) -> dict:
        """The terms of the prediction: ``global_mean + user_bias + item_bias + interaction`` (clipped).

        ``interaction`` is ``p_u · q_i``; unknown users or items contribute 0.
        """
        return self._bias_terms(user, item, interaction="interaction")

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
