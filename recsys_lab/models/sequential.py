"""Sequence-aware recommenders: GRU4Rec and SASRec (notebook 15 · Sequence-aware recommendation).

What a user watched *last* predicts what they watch next. Both models read a user's items in
time order (:mod:`~recsys_lab.models.sequence_data`: by timestamp, then item id; the last
``max_length`` items, left-padded) and turn every prefix into a state ``h_t`` (width
``d = n_factors``). The score of item ``i`` as the next one is a dot product with the *same*
item embedding table the input looks items up in (weight tying): ``s_t(i) = h_t · e_i``.

- :class:`GRU4Rec` (Hidasi et al. 2016, in its simple modern form): ``e_{x_1..x_t}`` ->
  ``nn.GRU`` -> ``h_t``. Padding never enters the recurrence (the sequences are packed).
- :class:`SASRec` (Kang & McAuley 2018): ``sqrt(d) e_{x_t} + p_t`` (a learned position vector,
  :class:`~recsys_lab.attention.PositionalEmbedding`) -> ``n_blocks`` pre-norm transformer
  blocks (:class:`~recsys_lab.attention.TransformerBlock`) with a causal mask (position ``t``
  attends to ``<= t`` only) and a padding mask -> layer norm -> ``h_t``.

Training: every position of every sequence predicts the item that came next. Losses
(``reg`` adds ``reg · mean_i ‖e_i‖²`` over the item table):

- ``loss="ce"`` (default): full softmax cross-entropy over the catalogue,
  ``-log softmax(s_t)[x_{t+1}]`` (Klenitskiy & Vasilev 2023: better than the original, and
  faster to converge) — :func:`softmax_cross_entropy`;
- ``loss="bce"``: the original SASRec loss, one sampled negative ``j != x_{t+1}`` per position,
  ``-log σ(s_t(x_{t+1})) - log(1 - σ(s_t(j)))`` — :func:`sampled_bce`.

Scoring runs a float64 copy of the trained network (so a user's list does not depend on which
other users share the batch: float64 noise is far below the kit's 1e-9 tie rounding).
``recommend(user)`` continues the user's training sequence; :meth:`SequenceRecommender.recommend_next`
continues any history of known items (an anonymous session) without refitting, and ``fold_in``
treats the order of the given ratings as the sequence. Scores are logits, not ratings.
Unknown users get the base class's fallback (the most popular items; ``predict``: the training
mean).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..attention import PositionalEmbedding, TransformerBlock, causal_mask
from ..data.dataset import RatingData, query_id, query_ids
from ..data.schema import ITEM, RATING, check_ratings_frame
from ..topk import top_k_candidates
from .base import Recommender, check_top_k
from .ncf import leave_one_out_val_fn
from .sequence_data import SequenceBatches, left_padded, timestamp_key, user_sequences
from .torch_data import TorchRecommender, _whole, single_threaded

LOSSES = ("ce", "bce")


def softmax_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of ``logsumexp(logits_r) - logits_r[targets_r] = -log softmax(logits_r)[targets_r]``.

    ``logits``: ``(N, n_items)`` scores of every item at ``N`` positions; ``targets``: long ``(N,)``."""
    return (torch.logsumexp(logits, dim=-1) - logits.gather(1, targets[:, None]).squeeze(1)).mean()


def sampled_bce(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log σ(s⁺) - log(1 - σ(s⁻)) = softplus(-s⁺) + softplus(s⁻)``; shapes ``(N,)``:
    the score of the true next item and of one sampled other item at each of ``N`` positions."""
    return (F.softplus(-positive) + F.softplus(negative)).mean()


class _SequenceNet(nn.Module):
    """Item table ``(n_items + 1, d)`` whose last row is the (zero) padding; subclasses map
    ``(B, L)`` item positions to states ``(B, L, d)``."""

    def __init__(self, n_items: int, n_factors: int):
        super().__init__()
        self.pad = int(n_items)
        self.items = nn.Embedding(n_items + 1, n_factors, padding_idx=n_items)

    def item_vectors(self) -> torch.Tensor:
        """The output layer: ``e_i`` for every item, ``(n_items, d)`` (the input table, tied)."""
        return self.items.weight[:-1]

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """Embeddings ~ N(0, 1/d), linear layers Xavier-uniform with zero biases, GRU weights
        U(±1/sqrt(d)), layer norms 1 and 0; all from ``generator``. The padding row is 0."""
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, 0.0, module.embedding_dim ** -0.5, generator=generator)
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                module.reset_parameters()
            elif isinstance(module, nn.GRU):
                for p in module.parameters():
                    nn.init.uniform_(p, -module.hidden_size ** -0.5, module.hidden_size ** -0.5, generator=generator)
        self.items.weight[self.pad].zero_()


class GRU4RecNet(_SequenceNet):
    """``h_t = GRU(dropout(e_{x_1}), ..., dropout(e_{x_t}))``, then dropout; ``(B, L) -> (B, L, d)``."""

    def __init__(self, n_items: int, n_factors: int, n_layers: int = 1, dropout: float = 0.0):
        super().__init__(n_items, n_factors)
        self.gru = nn.GRU(n_factors, n_factors, num_layers=n_layers, batch_first=True,
                          dropout=dropout if n_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        length = seq.shape[1]
        n = (seq != self.pad).sum(1)
        shift = (length - n)[:, None]                     # padding on the left of each row
        steps = torch.arange(length, device=seq.device)[None]
        right = seq.gather(1, (steps + shift) % length)   # the same rows with the padding moved right
        packed = pack_padded_sequence(self.dropout(self.items(right)), n.clamp(min=1).cpu(),
                                      batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.gru(packed)[0], batch_first=True, total_length=length)
        back = ((steps - shift) % length)[..., None].expand(-1, -1, out.shape[-1])
        return self.dropout(out.gather(1, back))          # padding back on the left (its states: 0)


class SASRecNet(_SequenceNet):
    """``x = dropout(sqrt(d) e_{x_t} + p_t)`` (0 at padding) -> ``n_blocks`` causal pre-norm
    transformer blocks (feed-forward width ``d``, as in the paper) -> layer norm; ``(B, L) -> (B, L, d)``."""

    def __init__(self, n_items: int, n_factors: int, max_length: int, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.0):
        super().__init__(n_items, n_factors)
        self.positions = PositionalEmbedding(max_length, n_factors)
        self.blocks = nn.ModuleList(TransformerBlock(n_factors, n_heads, d_ff=n_factors, dropout=dropout)
                                    for _ in range(n_blocks))
        self.norm = nn.LayerNorm(n_factors)
        self.dropout = nn.Dropout(dropout)

    def forward(self, seq: torch.Tensor, return_weights: bool = False):
        """States ``(B, L, d)``; with ``return_weights`` also every block's attention ``(B, h, L, L)``."""
        padding = seq == self.pad
        x = self.positions(self.items(seq) * math.sqrt(self.items.embedding_dim))
        x = self.dropout(x).masked_fill(padding[..., None], 0.0)
        mask = causal_mask(seq.shape[1], seq.device).to(x.dtype)
        weights = []
        for block in self.blocks:
            x, w = block(x, mask, padding)
            weights.append(w)
        return (self.norm(x), weights) if return_weights else self.norm(x)


class NextItemMixin:
    """``sequence(user)`` and ``recommend_next(history)`` for a model that keeps every user's
    training sequence (``_seq_items``, ``_seq_indptr``, :func:`~.sequence_data.user_sequences`) and
    turns an ordered history into scores with ``_fold_in(positions, values)`` then
    ``_folded_scores(state)``: the sequence models here and :class:`~.transitions.ItemTransitions`."""

    def sequence(self, user) -> np.ndarray:
        """Raw item ids of known user ``user``'s training sequence, oldest first (``recommend``'s input)."""
        self._check_fitted()
        user = query_id(user, "user")
        u = int(self.data_.users.to_index([user], missing="minus1")[0])
        if u < 0:
            raise KeyError(f"{type(self).__name__} was not fitted on user {user!r}")
        return self.data_.items.to_raw(self._seq_items[self._seq_indptr[u]:self._seq_indptr[u + 1]])

    def _history_positions(self, history, skip_unknown: bool) -> np.ndarray:
        name = type(self).__name__
        if isinstance(history, (set, frozenset, dict)):
            raise ValueError(f"history must be ordered (a list of raw item ids, oldest first), got a "
                             f"{type(history).__name__}")
        raw = query_ids(history, "history")
        if len(raw) == 0:
            raise ValueError(f"the history is empty: give {name} at least one raw item id, oldest first")
        pos = self.data_.items.to_index(raw, missing="minus1")
        unknown = np.flatnonzero(pos < 0)
        if len(unknown) and not skip_unknown:
            raise ValueError(f"{name} does not know item(s) {raw[unknown][:5].tolist()} (position(s) "
                             f"{unknown[:5].tolist()} of the history); it continues histories of items it "
                             f"was trained on: drop them, or pass skip_unknown=True to leave them out")
        if len(unknown) == len(raw):
            raise ValueError(f"{name} knows none of the history's items {raw[:5].tolist()}: nothing to continue")
        return pos[pos >= 0].astype(np.int64)

    def recommend_next(self, history, k: int = 10, exclude_seen: bool = True,
                       skip_unknown: bool = False) -> pd.DataFrame:
        """Top-``k`` next items after ``history`` (raw item ids, oldest first; e.g. an anonymous
        session), as ``recommend``'s frame (``item``, ``score``), without refitting.

        Only the items the model reads count (the last ``max_length``, or ``n_last``). With
        ``exclude_seen`` the history's items are not candidates. An item the model does not know is refused (``ValueError``) unless
        ``skip_unknown``, which leaves it out. For a user's own :meth:`sequence` this is
        ``recommend(user, k)``."""
        self._check_fitted()
        k = check_top_k(k, exclude_seen)
        positions = self._history_positions(history, bool(skip_unknown))
        scores = self._folded_scores(self._fold_in(positions, np.ones(len(positions))))
        candidates = np.isfinite(scores)
        if exclude_seen:
            candidates[positions] = False
        order = top_k_candidates(scores, candidates, k)  # the kit's tie rule (recsys_lab.topk)
        return pd.DataFrame({ITEM: self.data_.items.to_raw(order), "score": scores[order]})


class SequenceRecommender(NextItemMixin, TorchRecommender):
    """Shared base of :class:`GRU4Rec` and :class:`SASRec`: sequences, losses, scoring, ``recommend_next``.

    ``fit(ratings)`` needs a ``timestamp`` column (numbers or datetimes); every row is an
    interaction (a ``rating`` column is optional and ignored). ``validation`` (e.g. each user's
    next item, :func:`recsys_lab.data.leave_one_out`) is scored every epoch by full-catalogue
    HitRate@10 and NDCG@10 of ``recommend``; the "loss" ``EarlyStopping`` watches is 1 − NDCG@10.
    Subclasses set ``_make_net(n_items)`` and ``_check_architecture()``.
    """

    implicit_feedback = True

    def fit(self, ratings, validation=None, callbacks=(), early_stopping=None, progress: bool = True):
        """Train on ``ratings`` (see the class docstring); returns ``self``."""
        self._check_unknown()
        self._check_common()
        self._check_params()
        frame = ratings.ratings if isinstance(ratings, RatingData) else ratings
        if isinstance(frame, pd.DataFrame):  # the ordinary checks first, then the timestamps, by row label
            check_ratings_frame(frame if RATING in frame.columns else frame.assign(**{RATING: 1.0}))
            timestamp_key(frame)
        return super().fit(ratings, validation, callbacks, early_stopping, progress)

    def _check_params(self) -> None:
        _whole("max_length", self.max_length)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be 'ce' (full softmax cross-entropy) or 'bce' (one sampled "
                             f"negative per position, binary cross-entropy), got {self.loss!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float, np.number)) \
                or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1) (the fraction of units dropped), "
                             f"got {self.dropout!r}")
        self._check_architecture()

    def _prepare(self, data: RatingData) -> None:
        """Every user's sequence of item positions, oldest first (``user_sequences``)."""
        if self.loss == "bce" and data.n_items < 2:
            raise ValueError(f"loss='bce' samples a negative other than the next item, but the "
                             f"training data hold {data.n_items} item; use loss='ce'")
        self._seq_items, self._seq_indptr = user_sequences(data)

    def _saved_extras(self) -> dict:
        return {"train_timestamps": torch.tensor(timestamp_key(self.data_.ratings))}

    def _build_network(self, n_users, n_items, generator):
        net = self._make_net(n_items)
        net.reset_parameters(generator)
        return net

    def _train_batches(self, data: RatingData, device) -> SequenceBatches:
        return SequenceBatches(self._seq_items, self._seq_indptr, data.n_items, int(self.max_length),
                               int(self.batch_size), n_negatives=int(self.loss == "bce"), seed=int(self.seed),
                               device=device)

    def _batch_loss(self, net: _SequenceNet, batch) -> torch.Tensor:
        inputs, targets = batch[0], batch[1]
        real = targets != net.pad                          # positions that have a next item
        states, items = net(inputs)[real], net.item_vectors()   # (N, d), (n_items, d)
        if self.loss == "ce":
            loss = softmax_cross_entropy(states @ items.T, targets[real])
        else:
            loss = sampled_bce((states * items[targets[real]]).sum(-1), (states * items[batch[2][real]]).sum(-1))
        return loss + float(self.reg) * (items * items).sum(-1).mean() if self.reg else loss

    def _val_fn(self, validation: pd.DataFrame, device):
        return leave_one_out_val_fn(self, validation)

    # ----- scoring ------------------------------------------------------------------
    def _network_ready(self) -> None:
        """The float64 scoring copy, the item vectors ``item_factors_`` ``(n_items, d)`` and every
        user's state after their whole training sequence, ``user_states_`` ``(n_users, d)``."""
        self._scorer = copy.deepcopy(self.network_).double().eval()
        self.item_factors_ = self._scorer.item_vectors().detach().cpu().numpy()
        starts, ends = self._seq_indptr[:-1], self._seq_indptr[1:]
        self.user_states_ = self._states(left_padded(self._seq_items, starts, ends, int(self.max_length),
                                                     self.data_.n_items))

    @single_threaded
    @torch.no_grad()
    def _states(self, inputs: np.ndarray, chunk: int = 512) -> np.ndarray:
        """The state after the last position of each left-padded row of ``inputs`` ``(n, L)``: ``(n, d)``."""
        x = torch.from_numpy(inputs)
        out = [self._scorer(x[s:s + chunk].to(self.device_))[:, -1].cpu() for s in range(0, len(x), chunk)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.item_factors_.shape[1]))

    def _predict_known(self, u, i):
        return np.einsum("nd,nd->n", self.user_states_[u], self.item_factors_[i])

    def _score_user(self, u):
        return self.item_factors_ @ self.user_states_[u]

    def _score_users(self, us):
        return self.user_states_[us] @ self.item_factors_.T

    def _fold_in(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The state after ``items`` in the order given (the ratings' values play no part)."""
        return self._states(left_padded(items, [0], [len(items)], int(self.max_length), self.data_.n_items))[0]

    def _folded_scores(self, state: np.ndarray) -> np.ndarray:
        return self.item_factors_ @ state


class GRU4Rec(SequenceRecommender):
    """GRU4Rec (Hidasi et al. 2016), simple modern form: item embedding -> GRU -> tied output.

    Hyper-parameters: ``n_factors`` (embedding and GRU width ``d``), ``max_length`` (items of
    history used), ``n_layers`` (stacked GRUs), ``dropout``, ``loss`` (``"ce"`` or ``"bce"``),
    ``epochs``, ``learning_rate``, ``reg``, ``batch_size`` (sequences per batch), ``optimizer``,
    ``seed``, ``device``, ``unknown``.
    """

    def __init__(self, n_factors: int = 64, max_length: int = 50, n_layers: int = 1, dropout: float = 0.1,
                 loss: str = "ce", epochs: int = 20, learning_rate: float = 0.002, reg: float = 0.0,
                 batch_size: int = 128, optimizer="adam", seed: int = 0, device: str = "auto",
                 unknown: str = "fallback"):
        Recommender.__init__(self, unknown)
        self.n_factors, self.max_length, self.n_layers, self.dropout = n_factors, max_length, n_layers, dropout
        self.loss, self.epochs, self.learning_rate, self.reg = loss, epochs, learning_rate, reg
        self.batch_size, self.optimizer, self.seed, self.device = batch_size, optimizer, seed, device

    def _check_architecture(self) -> None:
        _whole("n_layers", self.n_layers)

    def _make_net(self, n_items: int) -> GRU4RecNet:
        return GRU4RecNet(n_items, int(self.n_factors), int(self.n_layers), float(self.dropout))


class SASRec(SequenceRecommender):
    """SASRec (Kang & McAuley 2018): self-attention over the history, causal, tied output.

    Hyper-parameters: ``n_factors`` (width ``d``), ``max_length`` (positions, so items of history
    used), ``n_blocks`` (transformer blocks), ``n_heads`` (must divide ``n_factors``), ``dropout``,
    ``loss`` (``"ce"``, or ``"bce"`` as in the paper), ``epochs``, ``learning_rate``, ``reg``,
    ``batch_size`` (sequences per batch), ``optimizer``, ``seed``, ``device``, ``unknown``.
    :meth:`attention` returns the weights behind a history's next-item scores.
    """

    def __init__(self, n_factors: int = 64, max_length: int = 50, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.2, loss: str = "ce", epochs: int = 20, learning_rate: float = 0.001,
                 reg: float = 0.0, batch_size: int = 128, optimizer="adam", seed: int = 0, device: str = "auto",
                 unknown: str = "fallback"):
        Recommender.__init__(self, unknown)
        self.n_factors, self.max_length, self.n_blocks, self.n_heads = n_factors, max_length, n_blocks, n_heads
        self.dropout, self.loss, self.epochs, self.learning_rate, self.reg = dropout, loss, epochs, learning_rate, reg
        self.batch_size, self.optimizer, self.seed, self.device = batch_size, optimizer, seed, device

    def _check_architecture(self) -> None:
        _whole("n_blocks", self.n_blocks)
        _whole("n_heads", self.n_heads)
        if int(self.n_factors) % int(self.n_heads):
            raise ValueError(f"n_heads ({self.n_heads}) must divide n_factors ({self.n_factors}): each head "
                             f"attends in n_factors / n_heads dimensions")

    def _make_net(self, n_items: int) -> SASRecNet:
        return SASRecNet(n_items, int(self.n_factors), int(self.max_length), int(self.n_blocks),
                         int(self.n_heads), float(self.dropout))

    @single_threaded
    @torch.no_grad()
    def attention(self, history, skip_unknown: bool = False) -> np.ndarray:
        """How the last position attends over ``history`` (raw item ids, oldest first; the last
        ``max_length`` count): ``(n_blocks, n_heads, n)`` weights, each row summing to 1 over
        the ``n`` items used, in history order."""
        self._check_fitted()
        positions = self._history_positions(history, bool(skip_unknown))[-int(self.max_length):]
        row = left_padded(positions, [0], [len(positions)], int(self.max_length), self.data_.n_items)
        _, weights = self._scorer(torch.from_numpy(row).to(self.device_), return_weights=True)
        return np.stack([w[0, :, -1, -len(positions):].cpu().numpy() for w in weights])
