"""recsys_lab.attention against PyTorch's own layers (copied weights), autograd, and causality."""
import math

import pytest
import torch
from torch import nn

from recsys_lab.attention import (MultiHeadAttention, PositionalEmbedding, TransformerBlock, causal_mask,
                                  padding_mask, scaled_dot_product_attention)

@pytest.fixture(autouse=True)
def _float64():
    # comparisons to 1e-10 need double precision; restore the default for the other tests
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_attention_by_hand_and_the_sqrt_scaling():
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[10.0], [20.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    e = math.exp(1 / math.sqrt(2))
    assert w.tolist()[0] == pytest.approx([e / (e + 1), 1 / (e + 1)])
    assert out.item() == pytest.approx(10 * e / (e + 1) + 20 / (e + 1))
    # with unit-variance entries, the scaled logits keep unit variance whatever the width
    gen = torch.Generator().manual_seed(0)
    for d in (4, 64, 1024):
        a, b = torch.randn(4000, d, generator=gen), torch.randn(4000, d, generator=gen)
        assert ((a * b).sum(1) / math.sqrt(d)).var().item() == pytest.approx(1.0, abs=0.1)


def test_matches_torch_functional_with_causal_and_padding_masks():
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 2, 5, 4, generator=gen) for _ in range(3))
    pad = padding_mask([5, 3, 1], 5)
    mask = causal_mask(5)
    out, _ = scaled_dot_product_attention(q, k, v, mask, pad)
    full = mask[None, None] + torch.zeros(3, 1, 5, 5).masked_fill(pad[:, None, None, :], float("-inf"))
    ref = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=full)
    rows = ~torch.isinf(full).all(-1)            # torch gives NaN on fully masked rows; ours gives 0
    assert torch.allclose(out[rows.expand(3, 2, 5)], ref[rows.expand(3, 2, 5)], atol=1e-12)
    assert (out[~rows.expand(3, 2, 5)] == 0).all()


def test_multi_head_attention_equals_torch_with_copied_weights():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(8, 2, batch_first=True)
    mine = MultiHeadAttention(8, 2).load_from_torch(ref)
    x = torch.randn(4, 6, 8)
    pad = padding_mask([6, 4, 5, 2], 6)
    mask = causal_mask(6)
    float_pad = torch.zeros(pad.shape).masked_fill(pad, float("-inf"))
    want, want_w = ref(x, x, x, attn_mask=mask, key_padding_mask=float_pad, average_attn_weights=False)
    got, got_w = mine(x, mask, pad)
    real = ~pad                    # with left padding and the causal mask, a padded query sees no key:
    assert torch.allclose(got[real], want[real], atol=1e-10)            # torch returns NaN there, we return 0
    assert torch.allclose(got_w.transpose(1, 2)[real], want_w.transpose(1, 2)[real], atol=1e-10)
    assert torch.isnan(want[pad]).all() and (got_w.transpose(1, 2)[pad] == 0).all()
    plain, _ = ref(x, x, x, need_weights=False)
    assert torch.allclose(mine(x)[0], plain, atol=1e-10)


def test_transformer_block_equals_torch_pre_norm_layer_and_its_gradients():
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True)
    mine = TransformerBlock(8, 2, d_ff=16).load_from_torch(ref)
    x = torch.randn(3, 5, 8, requires_grad=True)
    mask = causal_mask(5)
    want = ref(x, src_mask=mask, is_causal=False)
    got, _ = mine(x, mask)
    assert torch.allclose(got, want, atol=1e-10)
    g_want, = torch.autograd.grad(want.square().sum(), x)
    g_got, = torch.autograd.grad(got.square().sum(), x)
    assert torch.allclose(g_got, g_want, atol=1e-10)
    with pytest.raises(ValueError, match="pre-norm"):
        TransformerBlock(8, 2).load_from_torch(nn.TransformerEncoderLayer(8, 2, batch_first=True))


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    block = TransformerBlock(4, 2, d_ff=8)
    x = torch.randn(2, 3, 4, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: block(t, causal_mask(3))[0], (x,))


def test_causality_a_future_position_never_changes_an_earlier_output_or_gradient():
    torch.manual_seed(0)
    block = TransformerBlock(8, 2)
    x = torch.randn(1, 6, 8)
    y = x.clone()
    y[0, 4:] += torch.randn(2, 8)                 # change positions 4 and 5 only
    mask = causal_mask(6)
    out_x, w = block(x, mask)
    out_y, _ = block(y, mask)
    assert torch.allclose(out_x[0, :4], out_y[0, :4], atol=0) and not torch.allclose(out_x[0, 4:], out_y[0, 4:])
    assert (w[0][:, torch.triu(torch.ones(6, 6, dtype=torch.bool), 1)] == 0).all()
    x = x.requires_grad_()
    out, _ = block(x, mask)
    grad, = torch.autograd.grad(out[0, 3].sum(), x)  # output 3 depends on inputs 0..3 only
    assert (grad[0, 4:] == 0).all() and (grad[0, :4].abs().sum(-1) > 0).all()
    no_mask, _ = block(y, None)                       # without the mask the future does leak in
    assert not torch.allclose(no_mask[0, :4], out_x[0, :4])


def test_positional_embedding_and_bad_input():
    pe = PositionalEmbedding(5, 4)
    x = torch.zeros(2, 3, 4)
    assert torch.equal(pe(x)[0], pe.table.weight[:3]) and torch.equal(pe(x)[0], pe(x)[1])
    with pytest.raises(ValueError, match="exceeds max_length"):
        pe(torch.zeros(1, 6, 4))
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(6, 4)
    with pytest.raises(ValueError, match="shape"):
        MultiHeadAttention(4, 2)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="length"):
        causal_mask(0)
    with pytest.raises(ValueError, match="lengths"):
        padding_mask([3, 7], 5)
    assert padding_mask([2, 0], 3).tolist() == [[True, False, False], [True, True, True]]
