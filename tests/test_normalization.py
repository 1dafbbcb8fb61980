"""recsys_lab.normalization: batch norm and layer norm against torch (copied weights, float64) and autograd."""
import math

import pytest
import torch
from torch import nn

from recsys_lab import normalization as N

D = torch.float64


def _data(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3.0 * torch.randn(*shape, generator=g, dtype=D) + 1.5


def _torch_bn(d, seed=1):
    bn = nn.BatchNorm1d(d, momentum=0.2).to(D)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(d, generator=g, dtype=D))
        bn.bias.copy_(torch.randn(d, generator=g, dtype=D))
    return bn


def test_batch_norm_train_then_eval_matches_torch():
    bn = _torch_bn(6)
    mine = N.BatchNorm1d(6).load_from_torch(bn)
    for step in range(3):                                # three training batches update the running stats
        x = _data((16, 6), seed=step)
        torch.testing.assert_close(mine(x), bn(x), atol=1e-12, rtol=0)
        torch.testing.assert_close(mine.running_mean, bn.running_mean, atol=1e-12, rtol=0)
        torch.testing.assert_close(mine.running_var, bn.running_var, atol=1e-12, rtol=0)
    mine.eval(), bn.eval()
    x = _data((5, 6), seed=9)
    torch.testing.assert_close(mine(x), bn(x), atol=1e-12, rtol=0)
    assert not torch.allclose(mine(x), N.batch_norm(x, mine.weight, mine.bias, mine.running_mean,
                                                      mine.running_var, training=True)[0])


def test_batch_norm_pure_function_does_not_modify_its_inputs():
    rm, rv = torch.zeros(4, dtype=D), torch.ones(4, dtype=D)
    y, rm2, rv2 = N.batch_norm(_data((8, 4)), torch.ones(4, dtype=D), torch.zeros(4, dtype=D), rm, rv)
    assert torch.equal(rm, torch.zeros(4, dtype=D)) and torch.equal(rv, torch.ones(4, dtype=D))
    assert not torch.equal(rm2, rm) and not torch.equal(rv2, rv)
    torch.testing.assert_close(y.mean(0), torch.zeros(4, dtype=D), atol=1e-12, rtol=0)
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(4, dtype=D), atol=1e-4, rtol=0)


def test_batch_norm_needs_two_examples_in_training():
    with pytest.raises(ValueError, match="at least 2"):
        N.batch_norm(torch.ones(1, 3), torch.ones(3), torch.zeros(3), torch.zeros(3), torch.ones(3))


@pytest.mark.parametrize("shape", [(7, 5), (2, 4, 5)])
def test_layer_norm_matches_torch(shape):
    ln = nn.LayerNorm(5).to(D)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(5, generator=g, dtype=D))
        ln.bias.copy_(torch.randn(5, generator=g, dtype=D))
    mine = N.LayerNorm(5).load_from_torch(ln)
    x = _data(shape)
    torch.testing.assert_close(mine(x), ln(x), atol=1e-12, rtol=0)
    mine.eval(), ln.eval()                              # no running statistics: eval is the same computation
    torch.testing.assert_close(mine(x), ln(x), atol=1e-12, rtol=0)


def test_autograd_through_mine_equals_autograd_through_torch():
    bn = _torch_bn(6)
    mine = N.BatchNorm1d(6).load_from_torch(bn)
    x = _data((16, 6))
    dy = _data((16, 6), seed=5)
    for module in (bn, mine):
        module.zero_grad()
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    (bn(x1) * dy).sum().backward()
    (mine(x2) * dy).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(mine.weight.grad, bn.weight.grad, atol=1e-12, rtol=0)


@pytest.mark.parametrize("which", ["batch", "layer"])
def test_hand_written_backward_matches_autograd(which):
    d = 6
    x = _data((10, d)).requires_grad_()
    w = _data((d,), seed=3).requires_grad_()
    b = _data((d,), seed=4).requires_grad_()
    dy = _data((10, d), seed=5)
    if which == "batch":
        y = N.batch_norm(x, w, b, torch.zeros(d, dtype=D), torch.ones(d, dtype=D))[0]
        mine = N.batch_norm_backward(dy, x.detach(), w.detach())
    else:
        y = N.layer_norm(x, w, b)
        mine = N.layer_norm_backward(dy, x.detach(), w.detach())
    expected = torch.autograd.grad(y, (x, w, b), grad_outputs=dy)
    for got, want in zip(mine, expected):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


def test_layer_norm_backward_on_three_dimensional_input():
    x = _data((2, 3, 5)).requires_grad_()
    w = _data((5,), seed=3).requires_grad_()
    b = torch.zeros(5, dtype=D, requires_grad=True)
    dy = _data((2, 3, 5), seed=5)
    expected = torch.autograd.grad(N.layer_norm(x, w, b), (x, w, b), grad_outputs=dy)
    for got, want in zip(N.layer_norm_backward(dy, x.detach(), w.detach()), expected):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


def test_deep_stack_starts_like_nn_linear_and_keeps_the_global_rng():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    stacks = {kind: N.DeepStack(depth=3, width=8, kind=kind, seed=4) for kind in N.KINDS}
    assert torch.equal(torch.random.get_rng_state(), before)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(4)
        reference = [nn.Linear(8, 8) for _ in range(3)] + [nn.Linear(8, 1)]
    for kind, stack in stacks.items():
        for mine, ref in zip([*stack.layers, stack.head], reference):
            assert torch.equal(mine.weight, ref.weight) and torch.equal(mine.bias, ref.bias), kind


def test_deep_stack_forward_by_hand():
    x = _data((4, 8)).float()
    for kind in N.KINDS:
        stack = N.DeepStack(depth=2, width=8, kind=kind, seed=0)
        h = x
        for i, layer in enumerate(stack.layers):
            inner = h if kind != "pre-norm" else nn.functional.layer_norm(h, (8,))
            step = torch.tanh(inner @ layer.weight.T + layer.bias)
            h = step if kind == "plain" else h + step
        torch.testing.assert_close(stack(x), h @ stack.head.weight.T + stack.head.bias, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="kind"):
        N.DeepStack(kind="post-norm")


def test_layer_gradient_norms_match_autograd():
    stack = N.DeepStack(depth=4, width=8, kind="pre-norm", seed=1)
    x, y = _data((6, 8)).float(), _data((6, 1), seed=2).float()
    norms = N.layer_gradient_norms(stack, x, y)
    params = [layer.weight for layer in stack.layers]
    grads = torch.autograd.grad(((stack(x) - y) ** 2).mean(), params)
    assert norms == pytest.approx([g.norm().item() for g in grads], rel=1e-6)
    assert len(norms) == 4 and all(math.isfinite(v) and v > 0 for v in norms)


def test_load_from_torch_copies_a_non_default_eps_and_momentum():
    # small inputs, large eps: with the default eps instead of 0.5 the outputs would differ a lot
    bn = nn.BatchNorm1d(4, eps=0.5, momentum=0.3).to(D)
    ln = nn.LayerNorm(4, eps=0.5).to(D)
    mine_bn, mine_ln = N.BatchNorm1d(4).load_from_torch(bn), N.LayerNorm(4).load_from_torch(ln)
    assert (mine_bn.eps, mine_bn.momentum, mine_ln.eps) == (0.5, 0.3, 0.5)
    x = 0.3 * _data((10, 4), seed=4)
    torch.testing.assert_close(mine_bn(x), bn(x), atol=1e-12, rtol=0)
    torch.testing.assert_close(mine_bn.running_var, bn.running_var, atol=1e-12, rtol=0)
    torch.testing.assert_close(mine_ln(x), ln(x), atol=1e-12, rtol=0)
    mine_bn.eval(), bn.eval()
    torch.testing.assert_close(mine_bn(x), bn(x), atol=1e-12, rtol=0)
    default = N.BatchNorm1d(4).to(D).train()
    assert not torch.allclose(default(x), N.BatchNorm1d(4).load_from_torch(nn.BatchNorm1d(4, eps=0.5).to(D))(x))
