"""Attention and the transformer block, from scratch (notebook 14; used by the sequence models of 15).

Shapes: ``B`` sequences in a batch, ``L`` positions, ``d`` model width, ``h`` heads of width
``d_head = d / h``. Every function is a few lines of tensor algebra and is checked in
``tests/test_attention.py`` against PyTorch's own layers with the same weights
(``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer(norm_first=True)``) and against autograd.
Before such a comparison, :func:`randomise_parameters` redraws every parameter of the reference:
torch initialises the layer norms to weight 1, bias 0 and the attention's biases to 0, values at
which a version that forgot them would agree all the same.

- :func:`scaled_dot_product_attention`: ``softmax(Q K^T / sqrt(d_head) + mask) V``. Why the
  ``sqrt(d_head)``: if a query and a key are independent, each with independent entries of mean 0
  and variance 1, their dot product over ``d_head`` terms has variance ``d_head``; divided by its
  square root it has variance 1 at any width, so in that (initialisation-like) case the softmax
  does not saturate (one weight near 1, gradients near 0) as the width grows. It is a statement
  about that case, not a promise that trained logits or the outputs have unit variance.
- :func:`causal_mask` (position ``t`` sees ``<= t`` only: the next item is never an input to its
  own prediction) and :func:`padding_mask` (short sequences are left-padded; padded keys get
  weight 0).
- :class:`MultiHeadAttention`: ``h`` attentions over learned projections, concatenated and
  projected back to ``d``.
- :class:`TransformerBlock`: pre-norm, ``x + Attn(LN(x))`` then ``x + FFN(LN(x))`` (Xiong et al.
  2020: pre-norm trains without a learning-rate warm-up more reliably than the original post-norm).
- :class:`PositionalEmbedding`: a learned vector per position (what SASRec uses), added to the
  item embeddings, since attention itself ignores order.
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import nn

NEG_INF = float("-inf")


def causal_mask(length: int, device=None) -> torch.Tensor:
    """``(L, L)`` additive mask: 0 where key ``j <= `` query ``i``, ``-inf`` above the diagonal."""
    if int(length) != length or length < 1:
        raise ValueError(f"length must be a whole number >= 1, got {length!r}")
    return torch.triu(torch.full((int(length), int(length)), NEG_INF, device=device), diagonal=1)


def padding_mask(lengths, max_length: int) -> torch.Tensor:
    """``(B, L)`` bool, True at padding. Sequences are **left**-padded: the real items of a
    sequence of length ``n`` sit in the last ``n`` positions (so position ``L - 1`` is always the
    latest item, the one whose output predicts the next)."""
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or (lengths < 0).any() or (lengths > max_length).any():
        raise ValueError(f"lengths must be a 1-d list of whole numbers in [0, {max_length}], got {lengths.tolist()}")
    positions = torch.arange(max_length)
    return positions[None, :] < (max_length - lengths)[:, None]


def scaled_dot_product_attention(q, k, v, attn_mask=None, key_padding_mask=None):
    """Attention for ``q``: ``(..., L_q, d_head)``, ``k``, ``v``: ``(..., L_k, d_head)``.

    ``attn_mask``: additive ``(L_q, L_k)`` (e.g. :func:`causal_mask`); ``key_padding_mask``: bool
    ``(B, L_k)``, True = ignore that key (broadcast over heads and queries). Returns ``(output,
    weights)`` with weights ``(..., L_q, L_k)``, each row summing to 1. A query whose every key is
    masked (a fully padded row) gets weights 0 and output 0 instead of NaN."""
    d_head = q.shape[-1]
    logits = q @ k.transpose(-2, -1) / math.sqrt(d_head)
    if attn_mask is not None:
        logits = logits + attn_mask
    if key_padding_mask is not None:
        pad = key_padding_mask.bool()
        while pad.ndim < logits.ndim:      # (B, L_k) -> (B, 1, ..., 1, L_k)
            pad = pad.unsqueeze(1)
        logits = logits.masked_fill(pad, NEG_INF)
    all_masked = torch.isinf(logits).all(dim=-1, keepdim=True)
    weights = torch.softmax(logits.masked_fill(all_masked, 0.0), dim=-1).masked_fill(all_masked, 0.0)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """``h`` heads of scaled dot-product attention over one input (self-attention).

    ``forward(x)`` with ``x``: ``(B, L, d)`` returns ``(B, L, d)`` and the weights ``(B, h, L, L)``.
    The projections ``w_q, w_k, w_v, w_o`` are ``nn.Linear(d, d)``; :meth:`load_from_torch` copies
    an ``nn.MultiheadAttention``'s weights (its ``in_proj_weight`` stacks q, k and v)."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))

    def _split(self, x):      # (B, L, d) -> (B, h, L, d_head)
        b, length, _ = x.shape
        return x.view(b, length, self.n_heads, self.d_head).transpose(1, 2)

    def forward(self, x, attn_mask=None, key_padding_mask=None):
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (batch, length, {self.d_model}), got {tuple(x.shape)}")
        out, weights = scaled_dot_product_attention(self._split(self.w_q(x)), self._split(self.w_k(x)),
                                                    self._split(self.w_v(x)), attn_mask, key_padding_mask)
        b, _, length, _ = out.shape
        return self.w_o(out.transpose(1, 2).reshape(b, length, self.d_model)), weights

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        q, k, v = mha.in_proj_weight.chunk(3)
        bq, bk, bv = mha.in_proj_bias.chunk(3)
        for lin, w, bias in ((self.w_q, q, bq), (self.w_k, k, bk), (self.w_v, v, bv),
                             (self.w_o, mha.out_proj.weight, mha.out_proj.bias)):
            lin.weight.copy_(w)
            lin.bias.copy_(bias)
        return self


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: ``x + Attn(LN(x))``, then ``x + FFN(LN(x))`` with
    ``FFN = Linear(d, d_ff) -> ReLU -> dropout -> Linear(d_ff, d)``. Shapes ``(B, L, d) -> (B, L, d)``.
    ``forward`` also returns the attention weights ``(B, h, L, L)`` (for the explorer)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int | None = None, dropout: float = 0.0):
        super().__init__()
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.ff1, self.ff2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, attn_mask=None, key_padding_mask=None):
        attended, weights = self.attn(self.norm1(x), attn_mask, key_padding_mask)
        x = x + self.dropout(attended)
        x = x + self.dropout(self.ff2(self.dropout(torch.relu(self.ff1(self.norm2(x))))))
        return x, weights

    @torch.no_grad()
    def load_from_torch(self, layer: nn.TransformerEncoderLayer) -> "TransformerBlock":
        """Copy a ``nn.TransformerEncoderLayer(norm_first=True, activation="relu")``'s weights."""
        if not layer.norm_first:
            raise ValueError("the block is pre-norm: compare with nn.TransformerEncoderLayer(norm_first=True)")
        self.attn.load_from_torch(layer.self_attn)
        for mine, theirs in ((self.norm1, layer.norm1), (self.norm2, layer.norm2),
                             (self.ff1, layer.linear1), (self.ff2, layer.linear2)):
            mine.load_state_dict(theirs.state_dict())
        return self


@torch.no_grad()
def randomise_parameters(module: nn.Module, seed: int, std: float = 0.5) -> nn.Module:
    """Redraw every parameter of ``module`` from ``N(0, std^2)`` (one ``torch.Generator`` seeded
    with ``seed``, parameters in ``module.parameters()`` order; the global generator is untouched)
    and return ``module``. For reference comparisons: a default-initialised ``nn.LayerNorm`` has
    weight 1 and bias 0 and ``nn.MultiheadAttention`` zero biases, so a copy of those defaults
    cannot tell a from-scratch version that ignores them from a correct one."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    if not (isinstance(std, (int, float)) and not isinstance(std, bool) and math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive finite number, got {std!r}")
    gen = torch.Generator().manual_seed(int(seed))
    for p in module.parameters():
        p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
    return module


class PositionalEmbedding(nn.Module):
    """A learned ``d``-vector per position ``0 .. max_length - 1``, added to ``x``: ``(B, L, d)``."""

    def __init__(self, max_length: int, d_model: int):
        super().__init__()
        self.max_length = int(max_length)
        self.table = nn.Embedding(self.max_length, d_model)

    def forward(self, x):
        length = x.shape[1]
        if length > self.max_length:
            raise ValueError(f"sequence length {length} exceeds max_length {self.max_length}")
        return x + self.table(torch.arange(length, device=x.device))[None]


def sinusoidal_positions(length: int, d_model: int, dtype=None) -> torch.Tensor:
    """The fixed positional encodings of Vaswani et al. (2017), ``(L, d)``: column ``2k`` is
    ``sin(t / 10000^(2k/d))``, column ``2k + 1`` is ``cos`` of the same angle (``d`` even). Each pair
    of columns is a rotation at its own frequency, so ``P[t] . P[t + s]`` depends on ``s`` only.
    ``dtype``: the tensor's dtype (default: torch's default dtype)."""
    if int(length) != length or length < 1 or int(d_model) != d_model or d_model < 2 or d_model % 2:
        raise ValueError(f"length must be a whole number >= 1 and d_model an even number >= 2, "
                         f"got length={length!r}, d_model={d_model!r}")
    t = torch.arange(int(length), dtype=dtype or torch.get_default_dtype())[:, None]
    angle = t / 10000 ** (torch.arange(0, int(d_model), 2, dtype=t.dtype) / d_model)
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).reshape(int(length), int(d_model))
