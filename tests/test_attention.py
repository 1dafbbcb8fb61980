"""recsys_lab.attention against PyTorch's own layers (copied weights), autograd, and causality.

Every torch reference has *all* its parameters redrawn (``randomise_parameters``) before they are
copied: at torch's defaults (layer norm weight 1 and bias 0, attention biases 0) a version that
ignored them would agree as well. ``test_dropping_any_bias_or_norm_parameter_is_caught`` shows that
with redrawn parameters it does not."""
import math

import pytest
import torch
from torch import nn

from recsys_lab.attention import (MultiHeadAttention, PositionalEmbedding, TransformerBlock, causal_mask,
                                  padding_mask, randomise_parameters, scaled_dot_product_attention)

TOL = 1e-10     # float64 agreement; a dropped term must move the output far more than this

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
    # q and k independent with independent mean-0, variance-1 entries: q.k / sqrt(d) has variance 1 at any width
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


def _torch_mha(seed=0):
    return randomise_parameters(nn.MultiheadAttention(8, 2, batch_first=True), seed)


def _torch_layer(seed=0):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True)
    return randomise_parameters(layer, seed)


def test_randomise_parameters_moves_every_parameter_off_its_default_and_is_seeded():
    default = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, norm_first=True)
    assert (default.norm1.weight == 1).all() and (default.self_attn.in_proj_bias == 0).all()   # why we redraw
    a, b, c = _torch_layer(0), _torch_layer(0), _torch_layer(1)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc), name
        assert (pa != 0).all() and (pa != 1).all() and pa.std() > 0.2, name
    layer = nn.Linear(4, 4)
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    randomise_parameters(layer, 3)
    assert torch.equal(torch.rand(1), before)                     # the global generator is left alone
    for seed in (-1, 1.5, True, "0", None):
        with pytest.raises(ValueError, match="seed must be a whole number"):
            randomise_parameters(nn.Linear(2, 2), seed)
    with pytest.raises(ValueError, match="std must be a positive"):
        randomise_parameters(nn.Linear(2, 2), 0, std=0)


def test_multi_head_attention_equals_torch_with_copied_weights():
    ref = _torch_mha()
    mine = MultiHeadAttention(8, 2).load_from_torch(ref)
    x = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(0))
    pad = padding_mask([6, 4, 5, 2], 6)
    mask = causal_mask(6)
    float_pad = torch.zeros(pad.shape).masked_fill(pad, float("-inf"))
    want, want_w = ref(x, x, x, attn_mask=mask, key_padding_mask=float_pad, average_attn_weights=False)
    got, got_w = mine(x, mask, pad)
    real = ~pad                    # with left padding and the causal mask, a padded query sees no key:
    assert torch.allclose(got[real], want[real], atol=TOL)            # torch returns NaN there, we return 0
    assert torch.allclose(got_w.transpose(1, 2)[real], want_w.transpose(1, 2)[real], atol=TOL)
    assert torch.isnan(want[pad]).all() and (got_w.transpose(1, 2)[pad] == 0).all()
    plain, _ = ref(x, x, x, need_weights=False)
    assert torch.allclose(mine(x)[0], plain, atol=TOL)


def test_transformer_block_equals_torch_pre_norm_layer_and_its_gradients():
    ref = _torch_layer()
    mine = TransformerBlock(8, 2, d_ff=16).load_from_torch(ref)
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(0), requires_grad=True)
    mask = causal_mask(5)
    want = ref(x, src_mask=mask, is_causal=False)
    got, _ = mine(x, mask)
    assert torch.allclose(got, want, atol=TOL)
    g_want, = torch.autograd.grad(want.square().sum(), x)
    g_got, = torch.autograd.grad(got.square().sum(), x)
    assert torch.allclose(g_got, g_want, atol=TOL)
    # and with respect to every parameter, in the same order on both sides
    mine_params = [mine.attn.w_q.weight, mine.attn.w_k.weight, mine.attn.w_v.weight, mine.attn.w_o.weight,
                   mine.attn.w_q.bias, mine.attn.w_v.bias, mine.attn.w_o.bias, mine.norm1.weight, mine.norm1.bias,
                   mine.norm2.weight, mine.norm2.bias, mine.ff1.weight, mine.ff1.bias, mine.ff2.weight, mine.ff2.bias]
    q, k, v = ref.self_attn.in_proj_weight, ref.self_attn.in_proj_bias, ref.self_attn.out_proj
    g_mine = torch.autograd.grad(mine(x, mask)[0].square().sum(), mine_params)
    g_ref = torch.autograd.grad(ref(x, src_mask=mask).square().sum(),
                                [q, k, v.weight, v.bias, ref.norm1.weight, ref.norm1.bias, ref.norm2.weight,
                                 ref.norm2.bias, ref.linear1.weight, ref.linear1.bias, ref.linear2.weight,
                                 ref.linear2.bias])
    g_in_w, g_in_b = g_ref[0].chunk(3), g_ref[1].chunk(3)
    expected = [*g_in_w, g_ref[2], g_in_b[0], g_in_b[2], g_ref[3], *g_ref[4:]]
    for got_g, want_g in zip(g_mine, expected, strict=True):
        assert torch.allclose(got_g, want_g, atol=1e-9)
    assert torch.allclose(g_in_b[1], torch.zeros(8), atol=1e-12)    # the key bias gets no gradient (see below)
    with pytest.raises(ValueError, match="pre-norm"):
        TransformerBlock(8, 2).load_from_torch(nn.TransformerEncoderLayer(8, 2, batch_first=True))


# Each term a from-scratch block could forget, and the value that forgetting it amounts to.
DROPPABLE = {
    "query bias": (lambda b: b.attn.w_q.bias, 0.0), "value bias": (lambda b: b.attn.w_v.bias, 0.0),
    "output-projection bias": (lambda b: b.attn.w_o.bias, 0.0),
    "first layer norm's weight": (lambda b: b.norm1.weight, 1.0), "first layer norm's bias": (lambda b: b.norm1.bias, 0.0),
    "second layer norm's weight": (lambda b: b.norm2.weight, 1.0), "second layer norm's bias": (lambda b: b.norm2.bias, 0.0),
    "feed-forward bias 1": (lambda b: b.ff1.bias, 0.0), "feed-forward bias 2": (lambda b: b.ff2.bias, 0.0),
}


@pytest.mark.parametrize("term", list(DROPPABLE))
def test_dropping_any_bias_or_norm_parameter_is_caught(term):
    """A mutation test: replace one copied term by its default (bias 0, norm weight 1), as a version
    that ignored it would compute. Against redrawn torch parameters the outputs then differ by far
    more than the tolerance; against torch's defaults the norms' and attention's terms would not."""
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    mask = causal_mask(5)
    param, default = DROPPABLE[term]
    for ref, caught in ((_torch_layer(), True),
                        (nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True), None)):
        mutant = TransformerBlock(8, 2, d_ff=16).load_from_torch(ref)
        with torch.no_grad():
            param(mutant).fill_(default)
        gap = (mutant(x, mask)[0] - ref(x, src_mask=mask)).abs().max().item()
        if caught:
            assert gap > 1e-3, (term, gap)
        elif not term.startswith("feed-forward"):      # torch's default Linear biases are random, the rest are not
            assert gap < TOL, (term, gap)               # ... which is why the references are redrawn


def test_the_key_bias_is_the_one_term_no_comparison_can_catch():
    """Softmax ignores a constant added to a row of logits, and the key bias adds exactly that:
    (W_q x_i + b_q) . (W_k x_j + b_k) = ... + (W_q x_i + b_q) . b_k, the same for every key j. So
    dropping it changes neither output nor gradient, in our block or in torch's."""
    ref = _torch_mha()
    mine = MultiHeadAttention(8, 2).load_from_torch(ref)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(2))
    before = mine(x, causal_mask(5))[0]
    with torch.no_grad():
        mine.w_k.bias.zero_()
    assert torch.allclose(mine(x, causal_mask(5))[0], before, atol=TOL)


def test_gradients_match_finite_differences():
    block = randomise_parameters(TransformerBlock(4, 2, d_ff=8), 0)
    x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: block(t, causal_mask(3))[0], (x,))


def test_causality_a_future_position_never_changes_an_earlier_output_or_gradient():
    # a test on one example; the general argument is in notebook 14, section 4.2
    block = randomise_parameters(TransformerBlock(8, 2), 0)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 6, 8, generator=gen)
    y = x.clone()
    y[0, 4:] += torch.randn(2, 8, generator=gen)  # change positions 4 and 5 only
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
