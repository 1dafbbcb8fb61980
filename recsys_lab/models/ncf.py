"""Neural collaborative filtering on implicit feedback (notebook 10 · Neural collaborative filtering).

Implicit feedback only says *which* items a user interacted with. Every observed pair is a
positive; unobserved pairs are sampled as negatives (:mod:`~recsys_lab.models.torch_data`).
A model outputs a score (a logit) ``s(u, i)``; higher means "more likely to interact".

Scorers (embeddings ``p_u``, ``q_i`` of size ``n_factors``):

- :class:`DotProduct`: ``s = p_u · q_i + b_i`` — matrix factorization, the baseline that
  Rendle et al. (2020) showed beats NCF when tuned well;
- :class:`GMF`: ``s = h · (p_u ⊙ q_i) + b`` — a dot product with learned weights per factor;
- :class:`NCFMLP`: ``s = MLP([p_u, q_i])`` — a multi-layer perceptron on the concatenation;
- :class:`NeuMF`: ``s = h · [p_u^G ⊙ q_i^G, MLP([p_u^M, q_i^M])] + b`` — GMF and MLP side by
  side, each with its own embeddings (He et al., 2017).

Losses (``reg`` adds ``reg · mean(‖embeddings used‖²)``):

- pointwise ``loss="bce"``: binary cross-entropy of ``σ(s)`` against label 1 (positive) or 0
  (each of ``n_negatives`` sampled items per positive) — :func:`bce_loss`;
- pairwise ``loss="bpr"``: Bayesian personalised ranking, ``−log σ(s(u,i) − s(u,j))`` for a
  positive ``i`` and a sampled negative ``j`` (Rendle et al., 2009) — :func:`bpr_loss`.

Scores are logits, not ratings. Cold start: an unknown user is scored as the *average* user
embedding (an unknown item as the average item), so a new user gets a non-personalised list.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.dataset import RatingData
from ..topk import ranked_above
from .base import Recommender
from .torch_data import PairwiseBatches, PointwiseBatches, TorchRecommender, _whole, single_threaded

INIT_STD = 0.1
LOSSES = ("bce", "bpr")


def bce_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of ``σ(logits)`` against ``labels`` in {0, 1}; shapes ``(B,)``.

    ``−[y log σ(s) + (1 − y) log(1 − σ(s))] = softplus(s) − y s``, written this way so that
    large ``|s|`` never computes ``log 0``.
    """
    return (F.softplus(logits) - labels * logits).mean()


def bpr_loss(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Mean ``−log σ(s_pos − s_neg) = softplus(s_neg − s_pos)`` over pairs; shapes ``(B,)``."""
    return F.softplus(negative - positive).mean()


def _init_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    nn.init.xavier_uniform_(layer.weight, generator=generator)
    nn.init.zeros_(layer.bias)


class _EmbeddingNet(nn.Module):
    """Shared parts: embedding tables (``tables`` names them; ``user_*`` tables are looked up by
    user, the others by item), their seeded reset, the L2 penalty and the average rows."""

    tables: tuple = ("user_factors", "item_factors")

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Embeddings ~ N(0, 0.1²), linear layers Xavier-uniform, all biases 0; from ``generator``."""
        with torch.no_grad():
            for name in self.tables:
                table = getattr(self, name).weight
                if name.endswith("bias"):
                    table.zero_()
                else:
                    nn.init.normal_(table, 0.0, INIT_STD, generator=generator)
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    _init_linear(module, generator)

    def lookup(self, users: torch.Tensor, items: torch.Tensor) -> dict:
        """Rows of every table for a batch: name -> ``(B, width)``."""
        return {n: getattr(self, n)(users if n.startswith("user") else items) for n in self.tables}

    def average_rows(self) -> dict:
        """Mean row of every table (the stand-in for an unknown user or item): name -> ``(width,)``."""
        return {n: getattr(self, n).weight.mean(0) for n in self.tables}

    def penalty(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Squared norm of every embedding row a pair uses, summed; shape ``(B,)``."""
        return sum((rows * rows).sum(-1) for rows in self.lookup(users, items).values())

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores (logits) of position tensors ``users``, ``items`` of shape ``(B,)``; shape ``(B,)``."""
        return self.score(self.lookup(users, items))


class DotNet(_EmbeddingNet):
    """``s = p_u · q_i + b_i``."""

    tables = ("user_factors", "item_factors", "item_bias")

    def __init__(self, n_users, n_items, n_factors):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.item_bias = nn.Embedding(n_items, 1)

    def score(self, rows):
        return (rows["user_factors"] * rows["item_factors"]).sum(-1) + rows["item_bias"].squeeze(-1)


class GMFNet(_EmbeddingNet):
    """``s = h · (p_u ⊙ q_i) + b`` (``self.out`` is the linear layer ``h, b``)."""

    def __init__(self, n_users, n_items, n_factors):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.out = nn.Linear(n_factors, 1)

    def score(self, rows):
        return self.out(rows["user_factors"] * rows["item_factors"]).squeeze(-1)


def _tower(n_in: int, layers) -> nn.Sequential:
    parts, width = [], n_in
    for size in layers:
        parts += [nn.Linear(width, int(size)), nn.ReLU()]
        width = int(size)
    return nn.Sequential(*parts)


class MLPNet(_EmbeddingNet):
    """``s = w · ReLU(... ReLU(W_1 [p_u, q_i] + b_1) ...) + b`` with hidden sizes ``layers``."""

    def __init__(self, n_users, n_items, n_factors, layers):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.tower = _tower(2 * n_factors, layers)
        self.out = nn.Linear(int(layers[-1]), 1)

    def score(self, rows):
        return self.out(self.tower(torch.cat([rows["user_factors"], rows["item_factors"]], -1))).squeeze(-1)


class NeuMFNet(_EmbeddingNet):
    """GMF and MLP with separate embeddings, fused by one output layer over both last layers."""

    tables = ("user_gmf", "item_gmf", "user_mlp", "item_mlp")

    def __init__(self, n_users, n_items, n_factors, layers):
        super().__init__()
        self.user_gmf, self.item_gmf = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.user_mlp, self.item_mlp = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.tower = _tower(2 * n_factors, layers)
        self.out = nn.Linear(n_factors + int(layers[-1]), 1)

    def score(self, rows):
        gmf = rows["user_gmf"] * rows["item_gmf"]
        mlp = self.tower(torch.cat([rows["user_mlp"], rows["item_mlp"]], -1))
        return self.out(torch.cat([gmf, mlp], -1)).squeeze(-1)


class ImplicitRecommender(TorchRecommender):
    """Base of the implicit-feedback models: every training row is a positive (its rating is ignored).

    ``loss`` is ``"bce"`` (pointwise, ``n_negatives`` sampled items per positive) or ``"bpr"``
    (pairwise, ``n_negatives`` sampled items per positive, one triple each).
    """

    implicit_feedback = True

    def __init__(self, n_factors: int = 32, epochs: int = 10, learning_rate: float = 0.005, reg: float = 0.0,
                 batch_size: int = 1024, loss: str = "bce", n_negatives: int = 4, optimizer="adam",
                 seed: int = 0, device: str = "auto", unknown: str = "fallback"):
        Recommender.__init__(self, unknown)
        self.n_factors, self.epochs, self.learning_rate, self.reg = n_factors, epochs, learning_rate, reg
        self.batch_size, self.loss, self.n_negatives = batch_size, loss, n_negatives
        self.optimizer, self.seed, self.device = optimizer, seed, device

    def _check_params(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be 'bce' (pointwise) or 'bpr' (pairwise), got {self.loss!r}")
        _whole("n_negatives", self.n_negatives)
        layers = getattr(self, "layers", None)
        if layers is not None and (isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__")
                                   or len(layers) == 0):
            raise ValueError(f"layers must be a non-empty tuple of hidden sizes such as (64, 32, 16), got {layers!r}")
        for size in layers or ():
            _whole("every entry of layers", size)

    def _prepare(self, data: RatingData) -> None:
        pass

    def _build_network(self, n_users, n_items, generator):
        net = self._make_net(n_users, n_items)
        net.reset_parameters(generator)
        return net

    def _train_batches(self, data: RatingData, device):
        cls = PointwiseBatches if self.loss == "bce" else PairwiseBatches
        return cls(data.user_index, data.item_index, data.n_items, int(self.n_negatives),
                   int(self.batch_size), seed=int(self.seed), device=device)

    def _batch_loss(self, net, batch) -> torch.Tensor:
        reg = float(self.reg)
        if self.loss == "bce":
            users, items, labels = batch
            loss = bce_loss(net(users, items), labels)
            return loss + reg * net.penalty(users, items).mean() if reg else loss
        users, pos, neg = batch
        loss = bpr_loss(net(users, pos), net(users, neg))
        return loss + reg * (net.penalty(users, pos) + net.penalty(users, neg)).mean() if reg else loss

    def _val_fn(self, validation: pd.DataFrame, device):
        return leave_one_out_val_fn(self, validation)

    # ----- scoring ------------------------------------------------------------------
    def _network_ready(self) -> None:
        with torch.no_grad():
            self._average = self.network_.average_rows()

    @single_threaded
    @torch.no_grad()
    def _predict_fallback(self, u, i):
        """Scores where ``u`` or ``i`` is -1: the average row stands in for the unknown one."""
        net, dev = self.network_, self.device_
        unknown = {"user": torch.as_tensor(u < 0, device=dev)[:, None],
                   "item": torch.as_tensor(i < 0, device=dev)[:, None]}
        rows = net.lookup(torch.as_tensor(np.maximum(u, 0), device=dev), torch.as_tensor(np.maximum(i, 0), device=dev))
        rows = {n: torch.where(unknown["user" if n.startswith("user") else "item"], self._average[n], r)
                for n, r in rows.items()}
        return net.score(rows).cpu().double().numpy()

    def _predict_known(self, u, i):
        return self._scores(u, i)

    def _score_user(self, u):
        n = self.data_.n_items
        return self._scores(np.full(n, u), np.arange(n))

    def _score_unknown_user(self):
        n = self.data_.n_items
        return self._predict_fallback(np.full(n, -1), np.arange(n))


class DotProduct(ImplicitRecommender):
    """``s = p_u · q_i + b_i``: plain matrix factorization for implicit feedback."""

    def _make_net(self, n_users, n_items):
        return DotNet(n_users, n_items, int(self.n_factors))


class GMF(ImplicitRecommender):
    """Generalized matrix factorization (He et al., 2017): ``s = h · (p_u ⊙ q_i) + b``."""

    def _make_net(self, n_users, n_items):
        return GMFNet(n_users, n_items, int(self.n_factors))


class _TowerRecommender(ImplicitRecommender):
    """The implicit models with an MLP tower on ``[p_u, q_i]``: ``layers`` are its hidden widths."""

    def __init__(self, n_factors: int = 32, layers=(64, 32, 16), epochs: int = 10, learning_rate: float = 0.005,
                 reg: float = 0.0, batch_size: int = 1024, loss: str = "bce", n_negatives: int = 4,
                 optimizer="adam", seed: int = 0, device: str = "auto", unknown: str = "fallback"):
        self.layers = layers
        super().__init__(n_factors, epochs, learning_rate, reg, batch_size, loss, n_negatives, optimizer, seed,
                         device, unknown)


class NCFMLP(_TowerRecommender):
    """The MLP model of neural collaborative filtering (He et al., 2017) on ``[p_u, q_i]``."""

    def _make_net(self, n_users, n_items):
        return MLPNet(n_users, n_items, int(self.n_factors), tuple(self.layers))


class NeuMF(_TowerRecommender):
    """Neural matrix factorization (He et al., 2017): GMF and MLP fused by one output layer."""

    def _make_net(self, n_users, n_items):
        return NeuMFNet(n_users, n_items, int(self.n_factors), tuple(self.layers))


# ----------------------------------------------------------------------------------------
# Leave-one-out ranking: over the full catalogue, or over sampled negatives
# ----------------------------------------------------------------------------------------

def leave_one_out_ranks(model, test: pd.DataFrame, n_negatives: int | None = 100, seed: int = 0) -> pd.DataFrame:
    """Where a fitted ``model`` ranks each held-out ``(user, item)`` row of ``test``; 0 is the top.

    The *candidates* of a user are the items ``model.recommend(user, exclude_seen=True)`` can
    return: every item the model knows that the user did not interact with in training, ranked by
    the same scores with the same tie rule (computed directly, without sorting the whole list).

    - ``rank`` (full catalogue): the item's position in the user's full ranked list of candidates,
      so ``rank < k`` exactly when the item is in ``recommend(user, k)``;
    - ``sampled_rank`` (when ``n_negatives`` is given, as in He et al., 2017): draw ``n_negatives``
      other candidates uniformly without replacement (``np.random.default_rng(seed)``, rows in
      test order) and count how many of them the model ranks above the item: its rank among
      ``n_negatives + 1`` items. Both come from the same ranked list, so they always agree on
      the order; only the competition differs.

    A held-out item the model cannot recommend (unknown to it, or already in the user's
    training history) is ranked last (``rankable`` False). Returns a frame with columns
    ``user, item, rank, n_candidates, [sampled_rank,] rankable``.
    """
    if n_negatives is not None:
        _whole("n_negatives", n_negatives)
    model._check_fitted()
    rng = np.random.default_rng(seed)
    users = model.data_.users.to_index(test["user"].to_numpy(), missing="minus1")
    items = model.data_.items.to_index(test["item"].to_numpy(), missing="minus1")
    rows = []
    for user, item, u, i in zip(test["user"].to_numpy(), test["item"].to_numpy(), users, items):
        scores, candidate = model._candidate_scores(u)  # what recommend(user) ranks, without sorting
        rankable = bool(i >= 0 and candidate[i])
        positions = np.flatnonzero(candidate)
        if rankable:  # recommend's tie rule (recsys_lab.topk): an equal score earlier in the catalogue wins
            beats = ranked_above(scores[positions], positions, i)
            others = positions != i
            position = int(beats.sum())
        else:
            beats, others, position = np.ones(len(positions), dtype=bool), np.ones(len(positions), dtype=bool), len(positions)
        row = {"user": user, "item": item, "rank": position, "n_candidates": len(positions)}
        if n_negatives is not None:
            pool = beats[others]                                  # for each other candidate: is it above?
            picks = rng.choice(len(pool), size=min(int(n_negatives), len(pool)), replace=False)
            row["sampled_rank"] = int(pool[picks].sum())
        rows.append({**row, "rankable": rankable})
    return pd.DataFrame(rows)


def hit_rate_ndcg(ranks, k: int = 10) -> dict:
    """Leave-one-out HitRate@k and NDCG@k from 0-based ranks of one held-out item per row.

    ``HR@k = mean(rank < k)``; with a single relevant item ``NDCG@k = mean(1[rank < k] / log2(rank + 2))``.
    """
    _whole("k", k)
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.ndim != 1 or len(ranks) == 0:
        raise ValueError(f"ranks must be a non-empty 1-D array, got shape {ranks.shape}")
    hit = ranks < k
    return {"hit_rate": float(hit.mean()), "ndcg": float(np.where(hit, 1.0 / np.log2(ranks + 2), 0.0).mean())}


def leave_one_out_metrics(model, test: pd.DataFrame, k: int = 10, n_negatives: int | None = 100,
                          seed: int = 0) -> dict:
    """HitRate@k and NDCG@k over the full catalogue (``hit_rate``, ``ndcg``) and, when ``n_negatives``
    is given, among sampled negatives (``sampled_hit_rate``, ``sampled_ndcg``); ``n`` rows.

    See :func:`leave_one_out_ranks` for the protocol.
    """
    ranks = leave_one_out_ranks(model, test, n_negatives, seed)
    out = hit_rate_ndcg(ranks["rank"].to_numpy(), k)
    if n_negatives is not None:
        out.update({f"sampled_{name}": v for name, v in hit_rate_ndcg(ranks["sampled_rank"].to_numpy(), k).items()})
    return {**out, "n": len(ranks)}


def leave_one_out_val_fn(model, validation: pd.DataFrame, k: int = 10):
    """The per-epoch validation of an implicit model in ``fit_loop``: full-catalogue leave-one-out
    HitRate@k and NDCG@k of ``model`` with the epoch's network; the recorded "loss" is 1 − NDCG@k."""
    def val_fn(net):
        model.network_ = net  # score the model as it is at the end of this epoch
        model._network_ready()
        scores = leave_one_out_metrics(model, validation, k=k, n_negatives=None)
        return {"loss": 1.0 - scores["ndcg"], f"hit_rate@{k}": scores["hit_rate"], f"ndcg@{k}": scores["ndcg"]}

    return val_fn


def expected_sampled_metrics(ranks, n_candidates, n_negatives: int = 100, k: int = 10) -> dict:
    """The sampled HitRate@k and NDCG@k to *expect* from full-catalogue ranks (Krichene & Rendle, 2020).

    An item at full rank ``r`` (0-based) among ``N`` candidates has ``r`` candidates above it. If
    ``m`` of the ``N − 1`` others are drawn without replacement, the number ``X`` of drawn ones above
    it is hypergeometric, ``X ~ Hypergeom(N − 1, r, m)``, and its sampled rank is ``X``. So

        E[sampled HR@k] = mean_u P(X_u < k),   E[sampled NDCG@k] = mean_u Σ_{x<k} P(X_u = x) / log2(x + 2).

    ``ranks`` and ``n_candidates``: arrays of shape ``(n,)`` (or a scalar ``n_candidates``). A rank equal
    to ``n_candidates`` is an item the model cannot rank (see :func:`leave_one_out_ranks`): every drawn
    candidate is above it, so ``X = min(m, N)``, as that function's ``sampled_rank`` says.
    """
    from scipy.stats import hypergeom

    _whole("k", k)
    _whole("n_negatives", n_negatives)
    ranks = np.asarray(ranks, dtype=np.int64)
    n_candidates = np.broadcast_to(np.asarray(n_candidates, dtype=np.int64), ranks.shape)
    if ranks.ndim != 1 or len(ranks) == 0 or (ranks < 0).any() or (ranks > n_candidates).any():
        raise ValueError("ranks must be a non-empty 1-D array with 0 <= rank <= n_candidates")
    lost = ranks == n_candidates
    m = np.where(lost, np.minimum(n_negatives, n_candidates), np.minimum(n_negatives, n_candidates - 1))
    x = np.arange(k)[:, None]                                     # (k, 1) possible sampled ranks
    pmf = np.where(lost, (x == m).astype(float),                  # (k, n)
                   hypergeom.pmf(x, np.maximum(n_candidates - 1, 0), np.minimum(ranks, n_candidates - 1), m))
    return {"hit_rate": float(pmf.sum(0).mean()), "ndcg": float((pmf / np.log2(x + 2)).sum(0).mean())}
