"""recsys_lab.initialization: gains, fans and fills against torch.nn.init (same generator, same tensors)."""
import math

import pytest
import torch
from torch import nn

from recsys_lab import initialization as I


@pytest.mark.parametrize("name", ["linear", "sigmoid", "tanh", "relu", "selu"])
def test_gain_matches_torch(name):
    assert I.gain(name) == pytest.approx(nn.init.calculate_gain(name), rel=1e-15)


@pytest.mark.parametrize("slope", [None, 0.0, 0.2, math.sqrt(5)])
def test_leaky_relu_gain_matches_torch(slope):
    assert I.gain("leaky_relu", slope) == pytest.approx(nn.init.calculate_gain("leaky_relu", slope), rel=1e-15)


def test_unknown_nonlinearity_is_an_error():
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        I.gain("swish")


@pytest.mark.parametrize("shape", [(3, 5), (7, 2), (8, 3, 5), (4, 6, 3, 3), (2, 2, 2, 2, 2)])
def test_fans_match_torch(shape):
    assert I.fan_in_and_fan_out(shape) == nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.fan_in_and_fan_out((5,))


def test_std_formulas():
    assert I.xavier_std(100, 300) == pytest.approx(math.sqrt(2 / 400))
    assert I.xavier_std(100, 300, gain=5 / 3) == pytest.approx(5 / 3 * math.sqrt(2 / 400))
    assert I.kaiming_std(128) == pytest.approx(math.sqrt(2 / 128))
    assert I.uniform_bound(1.0) == pytest.approx(math.sqrt(3))
    # nn.Linear's default, kaiming_uniform with a = sqrt(5), is U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    fan = 64
    assert I.uniform_bound(I.kaiming_std(fan, I.gain("leaky_relu", math.sqrt(5)))) == pytest.approx(1 / math.sqrt(fan))


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_xavier_is_bit_identical_to_torch(shape, gain, distribution):
    mine = I.xavier_(torch.empty(shape), gain, distribution, generator=torch.Generator().manual_seed(3))
    ref_fn = nn.init.xavier_normal_ if distribution == "normal" else nn.init.xavier_uniform_
    theirs = ref_fn(torch.empty(shape), gain=gain, generator=torch.Generator().manual_seed(3))
    assert torch.equal(mine, theirs)


@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
@pytest.mark.parametrize("nonlinearity,slope", [("relu", None), ("leaky_relu", 0.2), ("tanh", None)])
def test_kaiming_is_bit_identical_to_torch(shape, mode, distribution, nonlinearity, slope):
    mine = I.kaiming_(torch.empty(shape), nonlinearity, slope, mode, distribution,
                      generator=torch.Generator().manual_seed(5))
    ref_fn = nn.init.kaiming_normal_ if distribution == "normal" else nn.init.kaiming_uniform_
    theirs = ref_fn(torch.empty(shape), a=0 if slope is None else slope, mode=mode,
                    nonlinearity=nonlinearity, generator=torch.Generator().manual_seed(5))
    assert torch.equal(mine, theirs)


def test_empirical_std_matches_the_formula():
    w = I.kaiming_(torch.empty(512, 256, dtype=torch.float64), generator=torch.Generator().manual_seed(0))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.01)
    w = I.xavier_(torch.empty(512, 256, dtype=torch.float64), distribution="uniform",
                  generator=torch.Generator().manual_seed(0))
    assert w.std().item() == pytest.approx(math.sqrt(2 / 768), rel=0.01)


def test_bad_mode_and_distribution():
    with pytest.raises(ValueError, match="mode"):
        I.kaiming_(torch.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="distribution"):
        I.xavier_(torch.empty(3, 3), distribution="cauchy")


def test_stack_variances_shapes_and_the_three_regimes():
    kaiming = I.stack_variances("relu", lambda fi, fo: I.kaiming_std(fi), depth=10, width=64, n=32)
    assert len(kaiming["variance"]) == len(kaiming["saturated"]) == 10
    assert 0.2 < kaiming["variance"][-1] / kaiming["input"] < 5
    assert I.stack_variances("relu", 1.0, depth=10, width=64, n=32)["variance"][-1] > 1e6
    assert I.stack_variances("tanh", 0.01, depth=10, width=64, n=32)["variance"][-1] < 1e-6
    # the first layer by hand: Var(relu(x @ W.T)) with the same generator draws
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 64, generator=g, dtype=torch.float64)
    W = torch.empty(64, 64, dtype=torch.float64).normal_(0.0, 0.5, generator=g)
    one = I.stack_variances("relu", 0.5, depth=1, width=64, n=32)
    assert one["variance"][0] == pytest.approx(torch.relu(x @ W.T).var().item(), rel=1e-12)


def test_stack_variances_draws_a_new_matrix_per_layer_and_counts_saturation_at_0_99():
    # two layers by hand with the same generator draws: W_1, then a fresh W_2 (not W_1 again)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16, 32, generator=g, dtype=torch.float64)
    W1 = torch.empty(32, 32, dtype=torch.float64).normal_(0.0, 0.4, generator=g)
    W2 = torch.empty(32, 32, dtype=torch.float64).normal_(0.0, 0.4, generator=g)
    a1 = torch.tanh(x @ W1.T)
    a2 = torch.tanh(a1 @ W2.T)
    out = I.stack_variances("tanh", 0.4, depth=2, width=32, n=16, seed=3)
    assert out["input"] == pytest.approx(x.var().item(), rel=1e-12)
    assert out["input_second_moment"] == pytest.approx(x.pow(2).mean().item(), rel=1e-12)
    for layer, a in enumerate([a1, a2]):
        assert out["variance"][layer] == pytest.approx(a.var().item(), rel=1e-12)
        assert out["second_moment"][layer] == pytest.approx(a.pow(2).mean().item(), rel=1e-12)
        assert out["saturated"][layer] == pytest.approx((a.abs() > 0.99).double().mean().item(), abs=1e-15)
    # the threshold is 0.99, neither 0.9 nor 0.999: with N(0, 1) weights the three counts differ
    big = I.stack_variances("tanh", 1.0, depth=3, width=64, n=32, seed=0)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(32, 64, generator=g, dtype=torch.float64)
    for _ in range(3):
        a = torch.tanh(a @ torch.empty(64, 64, dtype=torch.float64).normal_(0.0, 1.0, generator=g).T)
    fractions = {t: (a.abs() > t).double().mean().item() for t in (0.9, 0.99, 0.999)}
    assert len(set(fractions.values())) == 3
    assert big["saturated"][-1] == pytest.approx(fractions[0.99], abs=1e-15)


def test_kaiming_relu_variance_is_about_one_minus_one_over_pi_of_the_second_moment():
    out = I.stack_variances("relu", lambda fi, fo: I.kaiming_std(fi), depth=5, width=256, n=128, seed=0)
    ratio = [v / m for v, m in zip(out["variance"], out["second_moment"])]
    assert all(0.6 < r < 0.8 for r in ratio)
    assert sum(ratio) / len(ratio) == pytest.approx(1 - 1 / math.pi, abs=0.03)
