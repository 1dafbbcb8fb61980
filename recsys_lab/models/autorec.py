"""AutoRec: an item-based autoencoder for implicit feedback (notebook 10 · Neural collaborative filtering).

Item-based AutoRec (Sedhain et al., 2015) reads one *item* at a time: its column of the
interaction matrix, ``x_i`` of length ``n_users`` (1 where the user interacted with the item,
0 elsewhere), squeezes it through a hidden layer of ``n_factors`` units and rebuilds it:

    h_i = sigmoid(V x_i + c),      s_i = W h_i + d        (V: n_factors x n_users, W: n_users x n_factors)

``s_i[u]`` is the score (a logit) of user ``u`` for item ``i``. The loss is the binary
cross-entropy of ``σ(s_i)`` against ``x_i`` over *all* its entries, plus ``reg · (‖V‖² + ‖W‖²) / 2``:
every unobserved pair counts as a negative, so, unlike the NCF models, no negatives are sampled.
The bottleneck is what makes it generalise: it cannot copy ``x_i``, it must rebuild it from a few
"taste" units, and so gives high scores to users who resemble the item's actual audience.

(The original paper also trains AutoRec on star ratings, with the loss on observed entries only;
on ml-latest-small that variant did worse than the bias baseline in our trials, so the kit keeps
the implicit one.) Cold start: an unknown user (no input coordinate) gets the average over users
of the item's score; an unknown item the average over items of the user's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..data.dataset import RatingData
from .base import Recommender
from .ncf import leave_one_out_val_fn
from .torch_data import RowBatches, TorchRecommender


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


class AutoRec(TorchRecommender):
    """Item-based AutoRec on implicit feedback: every training row is an interaction (its rating is ignored).

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

    def _build_network(self, n_users, n_items, generator) -> AutoRecNet:
        net = AutoRecNet(n_users, int(self.n_factors))
        net.reset_parameters(generator)
        return net

    def _train_batches(self, data: RatingData, device) -> RowBatches:
        return RowBatches(data.n_items, int(self.batch_size), seed=int(self.seed), device=device)

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

    def _score_unknown_user(self):
        return self.scores_.mean(axis=1)
