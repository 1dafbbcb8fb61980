"""recsys_lab/lr_finder.py: the learning-rate range test against cases with a known answer and torch."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_lab.lr_finder import (RangeTest, geometric_rates, lr_range_test, rate_at_minimum, smooth_losses,
                                  suggest_min_over_ten, suggest_steepest)
from recsys_lab.optimizers import SGD
from recsys_lab.surfaces import SURFACES, quadratic


def kit_sgd(params, learning_rate):
    return SGD(params, learning_rate=learning_rate)


def test_rates_match_torch_exponential_lr():
    start, end, steps = 1e-5, 3.0, 250
    ours = geometric_rates(start, end, steps)
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=start)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(end / start) ** (1 / (steps - 1)))
    theirs = []
    for _ in range(steps):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert np.abs(ours - np.array(theirs)).max() < 1e-12 * end
    assert ours[0] == pytest.approx(start) and ours[-1] == pytest.approx(end)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.98])
def test_smoothing_is_pandas_ewm_with_bias_correction(beta):
    losses = np.random.default_rng(0).lognormal(size=120)
    ours = smooth_losses(losses, beta)
    theirs = losses if beta == 0 else pd.Series(losses).ewm(alpha=1 - beta, adjust=True).mean().to_numpy()
    assert np.abs(ours - theirs).max() < 1e-12


@pytest.mark.parametrize("curvature", [0.5, 4.0, 50.0])
def test_blow_up_just_above_two_over_curvature_on_a_quadratic(curvature):
    # f(w) = L w² / 2: gradient descent multiplies w by (1 - ηL), so it diverges exactly for η > 2/L.
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    edge = 2.0 / curvature
    result = lr_range_test([w], lambda: 0.5 * curvature * (w ** 2).sum(), kit_sgd,
                           start_lr=edge * 1e-4, end_lr=edge * 100, steps=300, beta=0.0)
    assert result.stopped_at is not None
    assert edge <= result.stopped_at <= 1.35 * edge, result.stopped_at / edge
    # the loss falls for every rate below the edge, so its minimum is at the edge (one step later)
    assert 0.95 * edge <= rate_at_minimum(result) <= 1.1 * edge
    # the smoothed test recorded the same raw losses as its smoothing says
    assert np.allclose(result.smoothed, smooth_losses(result.losses, 0.0))


@pytest.mark.parametrize("seed", range(5))
def test_noisy_bowl_blows_up_near_the_stable_edge(seed):
    # The ill-conditioned bowl with noisy gradients (the playground's "grad noise"): stable for η < 2/κ.
    kappa = 50.0
    rng = np.random.default_rng(seed)
    w = torch.tensor(SURFACES["quadratic"].start, dtype=torch.float64, requires_grad=True)

    def loss():
        noise = torch.from_numpy(rng.normal(scale=0.5, size=2))
        return quadratic(w[0], w[1], kappa) + (noise * (w - w.detach())).sum()   # value f, gradient ∇f + noise

    result = lr_range_test([w], loss, kit_sgd, start_lr=1e-4, end_lr=1.0, steps=300, beta=0.9)
    edge = 2 / kappa
    assert edge <= result.stopped_at <= 1.7 * edge
    assert suggest_min_over_ten(result) < edge / 5


def test_kit_and_torch_optimizers_give_the_same_sweep():
    torch.manual_seed(0)
    X, y = torch.randn(64, 3, dtype=torch.float64), torch.randn(64, 1, dtype=torch.float64)
    losses = []
    for make in (kit_sgd, lambda p, lr: torch.optim.SGD(p, lr=lr)):
        model = torch.nn.Linear(3, 1).double()
        with torch.no_grad():
            model.weight.fill_(0.1)
            model.bias.zero_()
        result = lr_range_test(model, lambda: torch.nn.functional.mse_loss(model(X), y), make,
                               start_lr=1e-4, end_lr=50.0, steps=150)
        losses.append(result.losses)
    assert len(losses[0]) == len(losses[1])
    assert np.abs(losses[0] - losses[1]).max() < 1e-12


def test_parameters_are_restored_unless_asked_not_to():
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    lr_range_test([w], lambda: (w ** 2).sum(), kit_sgd, 1e-3, 10.0, 50)
    assert torch.equal(w.detach(), torch.tensor([1.0, -2.0], dtype=torch.float64)) and w.grad is None
    lr_range_test([w], lambda: (w ** 2).sum(), kit_sgd, 1e-3, 0.1, 50, restore=False)
    assert not torch.equal(w.detach(), torch.tensor([1.0, -2.0], dtype=torch.float64))


def test_non_finite_loss_stops_the_test():
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    calls = []

    def loss():
        calls.append(1)
        return (w ** 2).sum() * (math.inf if len(calls) == 7 else 1.0)

    result = lr_range_test([w], loss, kit_sgd, 1e-4, 1e-3, 50)
    assert result.steps_run == 7 and not math.isfinite(result.losses[-1])
    assert result.stopped_at == pytest.approx(result.rates[-1]) and "not finite" in result.reason
    assert rate_at_minimum(result) < result.stopped_at


def test_no_blow_up_reaches_end_lr():
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    result = lr_range_test([w], lambda: (w ** 2).sum(), kit_sgd, 1e-6, 1e-3, 40)
    assert result.stopped_at is None and result.steps_run == 40 and "without blowing up" in result.reason


def test_suggestions_on_a_curve_with_known_answers():
    rates = geometric_rates(1e-4, 1.0, 201)
    centre = 1e-2
    smoothed = 2 - np.tanh(np.log(rates / centre))           # falls fastest (per log rate) at `centre`
    smoothed[-20:] = np.linspace(smoothed[-21], 10, 20)       # then turns up, as before a blow-up
    result = RangeTest(rates, smoothed.copy(), smoothed, float(rates[-1]), "made up")
    assert suggest_steepest(result, skip_start=0, skip_end=0) == pytest.approx(centre, rel=0.05)
    low = int(np.argmin(smoothed))
    assert rate_at_minimum(result) == pytest.approx(rates[low])
    assert suggest_min_over_ten(result) == pytest.approx(rates[low] / 10)


@pytest.mark.parametrize("kwargs", [{"start_lr": 0.0}, {"start_lr": 1.0, "end_lr": 0.5}, {"steps": 1},
                                    {"beta": 1.0}, {"diverge_factor": 1.0}, {"end_lr": math.inf}])
def test_bad_settings_are_refused(kwargs):
    w = torch.tensor([1.0], requires_grad=True)
    settings = {"start_lr": 1e-4, "end_lr": 1.0, "steps": 10, **kwargs}
    with pytest.raises(ValueError):
        lr_range_test([w], lambda: (w ** 2).sum(), kit_sgd, **settings)


def test_a_single_tensor_or_nothing_is_refused():
    w = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="single tensor"):
        lr_range_test(w, lambda: (w ** 2).sum(), kit_sgd)
    with pytest.raises(ValueError, match="empty"):
        lr_range_test([], lambda: (w ** 2).sum(), kit_sgd)


def test_blow_up_rule_on_a_made_up_sequence():
    # beta = 0: stop at the first loss above diverge_factor × the lowest so far (4 × 1.0 here).
    values = iter([2.0, 1.0, 1.5, 3.9, 4.1, 100.0])
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    result = lr_range_test([w], lambda: (0 * w).sum() + next(values), kit_sgd, 1e-4, 1e-2, 6, beta=0.0)
    assert result.steps_run == 5 and result.losses.tolist() == [2.0, 1.0, 1.5, 3.9, 4.1]
    assert result.stopped_at == pytest.approx(result.rates[4])
