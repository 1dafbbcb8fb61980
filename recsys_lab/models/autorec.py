"""AutoRec: item-based auto-encoders (notebook 10 · Neural collaborative filtering).

Item-based AutoRec (Sedhain, Menon, Sanner & Xie, 2015) reads one *item* at a time: its column of
the user x item matrix, a vector ``x_i`` of length ``n_users``, squeezes it through a hidden layer
of ``n_factors`` units and rebuilds it:

    h_i = sigmoid(V x_i + c),      s_i = W h_i + d        (V: n_factors x n_users, W: n_users x n_factors)

and ``s_i[u]`` is the model's answer for user ``u`` and item ``i``. Two models share that network:

- :class:`IAutoRec` is **the paper's I-AutoRec**, for explicit ratings: ``x_i`` holds the item's
  observed training ratings (0 where the user did not rate it), and the loss counts the observed
  entries only (``O_i``, the users who rated ``i``), plus the paper's weight decay:

      J = Σ_i Σ_{u in O_i} (r_ui − s_i[u])² + (λ / 2) (‖W‖² + ‖V‖²)        (λ = ``reg``)

  An unobserved entry neither enters the loss nor, being 0 in the input, the gradient of ``V``.
  Predictions ``s_i[u]`` are ratings (clipped to the training range), scored by RMSE. The hidden
  layer is a sigmoid and the output the identity, the paper's best I-AutoRec.
- :class:`ImplicitAutoRec` is an **implicit-feedback variant, not the paper's model**: ``x_i`` is
  0/1 (who interacted with the item), and the loss is the binary cross-entropy of ``σ(s_i)``
  against ``x_i`` over *all* entries, so every unobserved pair counts as a negative (nothing is
  sampled) and the scores are logits that rank unwatched items. ``AutoRec`` is an alias of it,
  kept for the benchmark and notebook 13.

Cold start. I-AutoRec: an item without training ratings has no input column and a user without
them no output unit, so both are answered by the bias baseline ``μ + b_u + b_i`` fitted on the same
training ratings (:class:`recsys_lab.models.BiasBaseline` with its defaults; an unknown side's bias
is 0, as for matrix factorization); a new user's ranking is by ``μ + b_i``. ImplicitAutoRec: an
unknown user gets the average over users of the item's score; an unknown item the average over
items of the user's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.dataset import RatingData
from .base import Recommender
from .baselines import BiasBaseline, BiasFallback
from .ncf import leave_one_out_val_fn
from .torch_data import RowBatches, TorchRecommender, known_validation_pairs


class AutoRecNet(nn.Module):
    """``forward(x) = W sigmoid(V x + c) + d`` for item rows ``x`` of shape ``(B, n_users)``; same output shape."""

    def __init__(self, n_users: int, n_factors: int):
        super().__init__()
        self.encoder = nn.Linear(n_users, n_factors)   # V, c
        self.decoder = nn.Linear(n_factors, n_users)   # W, d

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Xavier-uniform weights from ``generator``, zero biases."""
        with torch.no_grad():
            for layer in (self.encoder, self.decoder):
                nn.init.xavier_uniform_(layer.weight, generator=generator)
                nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.sigmoid(self.encoder(x)))

    def penalty(self) -> torch.Tensor:
        """``(‖V‖² + ‖W‖²) / 2``."""
        return ((self.encoder.weight ** 2).sum() + (self.decoder.weight ** 2).sum()) / 2


class _ItemAutoEncoder(TorchRecommender):
    """What both AutoRecs share: an :class:`AutoRecNet` of ``n_factors`` hidden units over item
    rows, trained on shuffled batches of ``batch_size`` items (:class:`RowBatches`)."""

    def _build_network(self, n_users, n_items, generator) -> AutoRecNet:
        net = AutoRecNet(n_users, int(self.n_factors))
        net.reset_parameters(generator)
        return net

    def _train_batches(self, data: RatingData, device) -> RowBatches:
        return RowBatches(data.n_items, int(self.batch_size), seed=int(self.seed), device=device)


class ImplicitAutoRec(_ItemAutoEncoder):
    """An implicit-feedback variant of item-based AutoRec (not the paper's model; see :class:`IAutoRec`).

    Every training row is an interaction (its rating is ignored); the loss is the binary
    cross-entropy over every entry of an item's 0/1 column, plus ``reg · (‖V‖² + ‖W‖²) / 2``.
    Hyper-parameters: ``n_factors`` (hidden units), ``epochs``, ``learning_rate``, ``reg``,
    ``batch_size`` (items per batch), ``optimizer``, ``seed``, ``device``, ``unknown``.
    Scores are logits, not ratings.
    """

    implicit_feedback = True

    def __init__(self, n_factors: int = 200, epochs: int = 10, learning_rate: float = 0.01, reg: float = 0.0,
                 batch_size: int = 128, optimizer="adam", seed: int = 0, device: str = "auto",
                 unknown: str = "fallback"):
        Recommender.__init__(self, unknown)
        self.n_factors, self.epochs, self.learning_rate, self.reg = n_factors, epochs, learning_rate, reg
        self.batch_size, self.optimizer, self.seed, self.device = batch_size, optimizer, seed, device

    # ----- training -----------------------------------------------------------------
    def _prepare(self, data: RatingData) -> None:
        """The binary item x user input matrix, ``(n_items, n_users)``, on the model's device."""
        x = torch.zeros(data.n_items, data.n_users)
        x[torch.tensor(data.item_index), torch.tensor(data.user_index)] = 1.0
        self._x = x.to(self.device_)

    def _batch_loss(self, net: AutoRecNet, batch) -> torch.Tensor:
        (rows,) = batch
        x = self._x[rows]
        loss = nn.functional.binary_cross_entropy_with_logits(net(x), x)
        return loss + float(self.reg) * net.penalty() if self.reg else loss

    def _val_fn(self, validation: pd.DataFrame, device):
        """As the NCF models: full-catalogue leave-one-out HR@10 and NDCG@10; "loss" is 1 − NDCG@10."""
        return leave_one_out_val_fn(self, validation)

    # ----- scoring ------------------------------------------------------------------
    @torch.no_grad()
    def _network_ready(self) -> None:
        """Rebuild every item's column once: ``scores_[i, u]`` is the score of user ``u`` for item ``i``."""
        self.network_.eval()
        self.scores_ = self.network_(self._x).cpu().double().numpy()       # (n_items, n_users)

    def _predict_known(self, u, i):
        return self.scores_[i, u]

    def _predict_fallback(self, u, i):
        out = np.full(len(u), self.scores_.mean())                         # neither known
        only_user, only_item = (u >= 0) & (i < 0), (u < 0) & (i >= 0)
        out[only_user] = self.scores_[:, u[only_user]].mean(axis=0)        # the user's average over items
        out[only_item] = self.scores_[i[only_item]].mean(axis=1)           # the item's average over users
        return out

    def _score_user(self, u):
        return self.scores_[:, u]

    def _score_users(self, us):
        return np.asarray(self.scores_[:, us].T, dtype=np.float64)

    def _score_unknown_user(self):
        return self.scores_.mean(axis=1)


AutoRec = ImplicitAutoRec  # the old name, kept for the benchmark and notebook 13


def masked_squared_error(net: AutoRecNet, ratings: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """``Σ over observed (b, u) of (ratings[b, u] − net(x)[b, u])²`` with input ``x = ratings · observed``.

    ``ratings``: item rows ``(B, n_users)`` (any value where nothing was observed); ``observed``: a
    0/1 mask of the same shape. Masking the input as well as the error means an unobserved entry
    changes neither the loss nor any gradient (the I-AutoRec loss of Sedhain et al., 2015)."""
    if ratings.shape != observed.shape:
        raise ValueError(f"ratings and observed must have the same shape, got {tuple(ratings.shape)} "
                         f"and {tuple(observed.shape)}")
    x = ratings * observed
    return (((x - net(x)) * observed) ** 2).sum()


def iautorec_objective(net: AutoRecNet, ratings: torch.Tensor, observed: torch.Tensor, reg: float,
                       n_items: int, n_observed: int) -> torch.Tensor:
    """One mini-batch's estimate of the paper's objective, divided by the number of training ratings:

        [ (n_items / B) · masked_squared_error + (reg / 2)(‖W‖² + ‖V‖²) ] / n_observed

    Over all items at once (``B = n_items``) it is ``J / n_observed`` exactly (``J``: the module
    docstring); the division only puts the loss on the scale of a mean squared error (the minimiser
    and ``reg``'s meaning are the paper's)."""
    batch = ratings.shape[0]
    fit = masked_squared_error(net, ratings, observed) * (n_items / batch)
    return (fit + reg * net.penalty()) / n_observed


class IAutoRec(BiasFallback, _ItemAutoEncoder):
    """The paper's item-based AutoRec for explicit ratings (Sedhain et al., 2015): see the module docstring.

    Hyper-parameters: ``n_factors`` (hidden units; the paper's best on MovieLens-1M is 500; the
    defaults here were chosen on ``course_split(...).validation``, where 50-100 units with
    ``reg`` 30-100 did best and 500 over-fitted within a few epochs), ``epochs``,
    ``learning_rate``, ``reg`` (the paper's λ), ``batch_size`` (items per batch), ``optimizer``
    (the paper used L-BFGS / Rprop; the kit trains with Adam by default), ``seed``, ``device``,
    ``unknown``. ``predict`` returns ratings clipped to the training range; ``recommend`` ranks by
    the unclipped reconstruction. ``fit(..., validation=frame)`` records the validation MSE (the
    "loss" early stopping watches) and RMSE every epoch.

    After ``fit``: ``scores_`` ``(n_items, n_users)``, every item's rebuilt column; the fallback's
    ``global_mean_``, ``user_bias_``, ``item_bias_``; ``rating_range_``.
    """

    def __init__(self, n_factors: int = 100, epochs: int = 25, learning_rate: float = 0.003, reg: float = 100.0,
                 batch_size: int = 256, optimizer="adam", seed: int = 0, device: str = "auto",
                 unknown: str = "fallback"):
        Recommender.__init__(self, unknown)
        self.n_factors, self.epochs, self.learning_rate, self.reg = n_factors, epochs, learning_rate, reg
        self.batch_size, self.optimizer, self.seed, self.device = batch_size, optimizer, seed, device

    # ----- training -----------------------------------------------------------------
    def _prepare(self, data: RatingData) -> None:
        """The item x user rating matrix and its 0/1 mask, ``(n_items, n_users)``; the bias fallback."""
        items, users = torch.tensor(data.item_index), torch.tensor(data.user_index)
        r = torch.zeros(data.n_items, data.n_users)
        r[items, users] = torch.tensor(data.values, dtype=torch.float32)
        mask = torch.zeros(data.n_items, data.n_users)
        mask[items, users] = 1.0
        self._r, self._mask = r.to(self.device_), mask.to(self.device_)
        self.rating_range_ = (float(data.values.min()), float(data.values.max()))
        bias = BiasBaseline().fit(data)
        self.global_mean_, self.user_bias_, self.item_bias_ = bias.global_mean_, bias.user_bias_, bias.item_bias_

    def _batch_loss(self, net: AutoRecNet, batch) -> torch.Tensor:
        (rows,) = batch
        return iautorec_objective(net, self._r[rows], self._mask[rows], float(self.reg),
                                  n_items=self._r.shape[0], n_observed=len(self.data_.values))

    def _val_fn(self, validation: pd.DataFrame, device):
        """Validation MSE (the recorded "loss") and RMSE of the clipped predictions on the pairs
        whose user and item are known."""
        u, i, ratings = known_validation_pairs(self, validation)
        items, inverse = np.unique(i, return_inverse=True)   # rebuild only the columns asked for
        rows = torch.as_tensor(items, dtype=torch.long, device=device)
        cols = torch.as_tensor(u, dtype=torch.long, device=device)
        inverse = torch.as_tensor(inverse, dtype=torch.long, device=device)
        target = torch.as_tensor(ratings, dtype=torch.float32, device=device)
        low, high = self.rating_range_

        def val_fn(net):
            with torch.no_grad():
                out = net(self._r[rows])[inverse, cols].clamp(low, high)
            mse = float(((out - target) ** 2).mean())
            return {"loss": mse, "val_rmse": mse ** 0.5}

        return val_fn

    # ----- scoring ------------------------------------------------------------------
    @torch.no_grad()
    def _network_ready(self) -> None:
        """Rebuild every item's column once from its training ratings: ``scores_[i, u]``."""
        self.network_.eval()
        self.scores_ = self.network_(self._r).cpu().double().numpy()       # (n_items, n_users)

    def _predict_known(self, u, i):
        return np.clip(self.scores_[i, u], *self.rating_range_)

    def _score_user(self, u):
        return self.scores_[:, u]

    def _score_users(self, us):
        return np.asarray(self.scores_[:, us].T, dtype=np.float64)
