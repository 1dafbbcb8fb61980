"""Checks for the exercises of notebook 14 (attention and the transformer block). Solutions:
``notebooks/solutions/14_attention.ipynb``."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from ..attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from ..checks import Verdict, check_answer
from ..network import one_thread as _one_thread   # the references are tiny: one thread is faster
from . import register


def _shape(answer):
    """``answer`` as a tuple of ints, or None if it is not a shape."""
    try:
        shape = tuple(answer)
    except TypeError:
        return None
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        return None
    return tuple(int(n) for n in shape)


# 14.1 · understanding: the shape of the attention weights -----------------------------------------
BATCH, HEADS, LENGTH, WIDTH = 3, 4, 7, 16


@lru_cache(maxsize=None)
def _weights(causal: bool = True) -> torch.Tensor:
    with torch.random.fork_rng(devices=[]), _one_thread():
        torch.manual_seed(14)
        mha = MultiHeadAttention(WIDTH, HEADS)
        x = torch.randn(BATCH, LENGTH, WIDTH)
        with torch.no_grad():
            return mha(x, causal_mask(LENGTH) if causal else None)[1]


def _weights_shape():
    return tuple(_weights().shape)


def _shape_wrong():
    d_head = WIDTH // HEADS
    return [(BATCH, LENGTH, LENGTH), (BATCH, HEADS, LENGTH, d_head), (BATCH, LENGTH, HEADS, LENGTH),
            (BATCH, HEADS, LENGTH, WIDTH), (HEADS, LENGTH, LENGTH)]


@register("14.1", solution=_weights_shape, wrong=_shape_wrong)
def check_weights_shape(answer):
    """The shape (a tuple) of the weights ``MultiHeadAttention(16, 4)`` returns for a batch of 3
    sequences of length 7."""
    what = "shape of the attention weights"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    shape = _shape(answer)
    if shape is None:
        print(f"❌ {what}: a shape is a tuple of whole numbers, like (2, 5), got {type(answer).__name__}.")
        return Verdict(False)
    if shape == _weights_shape():
        print(f"✅ {what}: correct.")
        return Verdict(True)
    hints = dict(zip(_shape_wrong(), [
        "every head has its own weights: the head axis is missing.",
        "the last axis is a key *position*, not a feature: a weight says how much query i attends to key j.",
        "the kit puts the head axis right after the batch axis, (batch, heads, ...): see `_split`.",
        "the last axis runs over the keys, i.e. over positions, not over the model width.",
        "each of the 3 sequences of the batch has its own weights: the batch axis is missing.",
    ]))
    print(f"❌ {what}: " + hints.get(shape, "not right. Hint: one weight per (sequence, head, query position, "
                                           "key position)."))
    return Verdict(False)


# 14.2 · understanding: what the causal mask zeroes ------------------------------------------------

def _zeroed():
    return int((_weights(causal=True) == 0).sum())


def _zeroed_wrong():
    per_matrix = LENGTH * (LENGTH - 1) // 2
    return [per_matrix, BATCH * HEADS * LENGTH * (LENGTH + 1) // 2, per_matrix * HEADS, per_matrix * BATCH,
            BATCH * HEADS * LENGTH * LENGTH]


@register("14.2", solution=_zeroed, wrong=_zeroed_wrong)
def check_causal_zeros(answer):
    """How many entries of the ``(3, 4, 7, 7)`` weights the causal mask forces to exactly 0."""
    if isinstance(answer, (bool, np.bool_)) or (answer is not ... and answer is not None
                                                 and not float(np.asarray(answer)).is_integer()):
        print("❌ weights zeroed by the causal mask: a count is a whole number.")
        return Verdict(False)
    wrong = _zeroed_wrong()
    return check_answer(answer, _zeroed(), "weights zeroed by the causal mask", atol=0, rtol=0, mistakes=[
        (wrong[0], "that is one matrix: the mask applies to every sequence of the batch and every head."),
        (wrong[1], "that counts the weights that are *kept* (on and below the diagonal): a query sees itself."),
        (wrong[2], "that is one sequence's heads: there are 3 sequences in the batch."),
        (wrong[3], "that is one head per sequence: every head is masked."),
        (wrong[4], "that is every weight; only the keys after the query (above the diagonal) are zeroed."),
    ], hint="per (sequence, head) the zeros are the entries strictly above the diagonal of an n x n matrix.")


# 14.3 · write code: single-head causal attention by hand ------------------------------------------

def single_head_inputs():
    """``(x, w_q, w_k, w_v)``, float64: 6 positions of width 8 and three ``(8, 4)`` projections
    (one head of width 4)."""
    gen = torch.Generator().manual_seed(143)
    x = torch.randn(6, 8, generator=gen, dtype=torch.float64)
    w_q, w_k, w_v = (torch.randn(8, 4, generator=gen, dtype=torch.float64) / math.sqrt(8) for _ in range(3))
    return x, w_q, w_k, w_v


def _single_head():
    x, w_q, w_k, w_v = single_head_inputs()
    out, _ = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v, causal_mask(6).double())
    return out.numpy()


def _single_head_wrong():
    x, w_q, w_k, w_v = single_head_inputs()
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    mask = causal_mask(6).double()
    unscaled = torch.softmax(q @ k.T + mask, -1) @ v
    no_mask = torch.softmax(q @ k.T / 2, -1) @ v
    by_width = torch.softmax(q @ k.T / math.sqrt(8) + mask, -1) @ v
    wrong_axis = torch.nan_to_num(torch.softmax(q @ k.T / 2 + mask, 0)) @ v
    lower_mask = torch.softmax(q @ k.T / 2 + mask.T, -1) @ v
    return [t.numpy() for t in (unscaled, no_mask, by_width, wrong_axis, lower_mask)]


def _as_numpy(answer):
    return answer.detach().numpy() if torch.is_tensor(answer) else answer


@register("14.3", solution=_single_head, wrong=_single_head_wrong)
def check_single_head(answer):
    """The ``(6, 4)`` output of causal single-head attention on :func:`single_head_inputs`."""
    wrong = _single_head_wrong()
    return check_answer(_as_numpy(answer), _single_head(), "causal single-head attention", atol=1e-8, rtol=1e-8,
                        mistakes=[
        (wrong[0], "the logits are not divided by sqrt(d_head) = sqrt(4)."),
        (wrong[1], "no causal mask: position i must not see the positions after it."),
        (wrong[2], "divide by the square root of the *head* width (4, the width of q and k), not of x's width."),
        (wrong[3], "the softmax runs over the keys, the last axis (each row sums to 1), not over the queries."),
        (wrong[4], "the mask is transposed: -inf goes *above* the diagonal (key j > query i), as causal_mask gives."),
    ], hint="q, k, v = x @ w_q, x @ w_k, x @ w_v; logits q @ k.T / sqrt(4) plus causal_mask(6); softmax over the "
            "last axis; times v.")


# 14.4 · open question, checkable part: when does unscaled attention saturate? ----------------------
N_QUERIES, N_KEYS, SEEDS, STEP, THRESHOLD = 1000, 10, (0, 1, 2, 3, 4), 8, 0.9


def unit_queries_keys(d: int, seed: int):
    """``(q, k)``: 1 000 queries and 10 keys of width ``d``, entries standard normal, float64,
    drawn from ``torch.Generator().manual_seed(seed)`` (q first)."""
    gen = torch.Generator().manual_seed(int(seed))
    q = torch.randn(N_QUERIES, int(d), generator=gen, dtype=torch.float64)
    return q, torch.randn(N_KEYS, int(d), generator=gen, dtype=torch.float64)


def mean_largest_weight(d: int, scaled: bool = False) -> float:
    """Over seeds 0-4 and their 1 000 queries: the mean of each query's largest attention weight
    over the 10 keys, logits ``q . k`` (``scaled``: divided by ``sqrt(d)``)."""
    with _one_thread():
        values = []
        for seed in SEEDS:
            q, k = unit_queries_keys(d, seed)
            logits = q @ k.T / (math.sqrt(d) if scaled else 1.0)
            values.append(torch.softmax(logits, -1).max(-1).values.mean().item())
    return float(np.mean(values))


@lru_cache(maxsize=None)
def _saturating_d():
    for d in range(STEP, 4096 + 1, STEP):
        if mean_largest_weight(d) > THRESHOLD:
            return d
    raise AssertionError("unscaled attention never saturates")


def _saturating_wrong():
    d = _saturating_d()
    return [128, d - STEP, d + STEP, 64]


@register("14.4", solution=_saturating_d, wrong=_saturating_wrong)
def check_saturating_width(answer):
    """The smallest multiple of 8, ``d``, at which unscaled attention's largest weight exceeds 0.9
    on average (:func:`mean_largest_weight`)."""
    if isinstance(answer, (bool, np.bool_)) or (answer is not ... and answer is not None
                                                 and not float(np.asarray(answer)).is_integer()):
        print("❌ smallest saturating width: a width is a whole number (a multiple of 8).")
        return Verdict(False)
    d = _saturating_d()
    return check_answer(answer, d, "smallest saturating width", atol=0, rtol=0, mistakes=[
        (128, "a power of two is a guess from section 3's table; walk d = 8, 16, 24, ... instead."),
        (d - STEP, "one step too small: there the mean largest weight is still (just) at or below 0.9."),
        (d + STEP, "one step too far: the previous multiple of 8 already exceeds 0.9."),
        (64, "at d = 64 the mean largest weight is still below 0.9 (section 3 prints it)."),
    ], hint="for d in range(8, 1000, 8): compute nb14.mean_largest_weight(d) (or by hand from "
            "nb14.unit_queries_keys) and stop at the first d above 0.9.")
