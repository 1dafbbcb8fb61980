"""recsys_lab/schedules.py: every schedule agrees with torch.optim.lr_scheduler."""
import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from recsys_lab.optimizers import SGD, Adam
from recsys_lab.schedules import (SCHEDULE_NAMES, CosineSchedule, ExponentialSchedule, ReduceOnPlateau,
                                  StepSchedule, WarmupCosineSchedule, cosine_lr, exponential_lr,
                                  reduce_on_plateau_lr, schedule_values, step_lr, torch_schedule_values,
                                  warmup_cosine_lr)




LR = 0.1
N = 60


def torch_lrs(make, steps=N, metrics=None, lr=LR):
    """Rates of a torch scheduler built by ``make(optimizer)`` at steps 0..steps-1 (built here, not by the kit)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = [opt.param_groups[0]["lr"]]
    for t in range(steps - 1):
        opt.step()
        sched.step(metrics[t]) if metrics is not None else sched.step()
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


T = np.arange(N)


@pytest.mark.parametrize("step_size, gamma", [(10, 0.1), (7, 0.5), (1, 0.9)])
def test_step_matches_steplr(step_size, gamma):
    ref = torch_lrs(lambda o: S.StepLR(o, step_size=step_size, gamma=gamma))
    assert np.abs(step_lr(T, LR, step_size, gamma) - ref).max() < 1e-12


@pytest.mark.parametrize("gamma", [0.95, 0.7, 1.0])
def test_exponential_matches_exponentiallr(gamma):
    ref = torch_lrs(lambda o: S.ExponentialLR(o, gamma=gamma))
    assert np.abs(exponential_lr(T, LR, gamma) - ref).max() < 1e-12


@pytest.mark.parametrize("total, min_lr", [(N - 1, 0.0), (30, 0.01), (10, 0.05)])
def test_cosine_matches_cosineannealinglr_up_to_total_steps(total, min_lr):
    ref = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=min_lr))
    ours = cosine_lr(T, LR, total, min_lr)
    assert np.abs(ours[: total + 1] - ref[: total + 1]).max() < 1e-12
    # documented difference: the kit holds min_lr after total_steps, torch's cosine rises again
    assert np.all(ours[total:] == pytest.approx(min_lr))
    if total + 2 < N:
        assert ref[total + 2] > min_lr + 1e-6


@pytest.mark.parametrize("warmup, total, start, min_lr", [(5, 40, 0.1, 0.0), (10, 59, 0.01, 0.001), (1, 20, 0.5, 0.0)])
def test_warmup_cosine_matches_sequentiallr(warmup, total, start, min_lr):
    ref = torch_lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=start, total_iters=warmup),
                                                 S.CosineAnnealingLR(o, T_max=total - warmup, eta_min=min_lr)],
                                             milestones=[warmup]))
    ours = warmup_cosine_lr(T, LR, warmup, total, min_lr, start)
    assert np.abs(ours[: total + 1] - ref[: total + 1]).max() < 1e-12


def test_warmup_from_zero_matches_lambdalr():
    w, total = 8, 50

    def factor(t):     # written independently: linear ramp from 0, then half a cosine
        return t / w if t < w else 0.5 * (1 + math.cos(math.pi * (t - w) / (total - w)))

    ref = torch_lrs(lambda o: S.LambdaLR(o, factor))
    ours = warmup_cosine_lr(T, LR, w, total)
    assert ours[0] == 0.0
    assert np.abs(ours[: total + 1] - ref[: total + 1]).max() < 1e-12


def _plateau_metrics(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([np.linspace(1.0, 0.4, 15), 0.4 + 0.02 * rng.normal(size=N)])


@pytest.mark.parametrize("rule", [
    {},
    {"factor": 0.5, "patience": 3},
    {"factor": 0.5, "patience": 2, "cooldown": 3, "min_lr": 0.01},
    {"factor": 0.3, "patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
])
def test_reduce_on_plateau_matches_torch(rule):
    m = _plateau_metrics()
    ref = torch_lrs(lambda o: S.ReduceLROnPlateau(o, **rule), metrics=m)
    ours = reduce_on_plateau_lr(m[: N - 1], LR, **rule)
    assert ours.shape == (N,)
    assert np.abs(ours - ref).max() < 1e-12
    if rule:
        assert ours[-1] < LR            # the settings above do reduce on this curve: the test is not vacuous


def test_reduce_on_plateau_max_mode_matches_torch():
    m = -_plateau_metrics(1)           # an accuracy-like metric that rises then stalls
    rule = {"mode": "max", "factor": 0.5, "patience": 2}
    ref = torch_lrs(lambda o: S.ReduceLROnPlateau(o, **rule), metrics=m)
    assert np.abs(reduce_on_plateau_lr(m[: N - 1], LR, **rule) - ref).max() < 1e-12


def test_a_wrong_parameter_is_detected():
    ref = torch_lrs(lambda o: S.StepLR(o, step_size=10, gamma=0.5))
    assert np.abs(step_lr(T, LR, 10, 0.55) - ref).max() > 1e-3
    assert np.abs(step_lr(T, LR, 9, 0.5) - ref).max() > 1e-3


def test_hand_values():
    assert step_lr(25, 0.1, 10, 0.5) == pytest.approx(0.025)
    assert exponential_lr(2, 1.0, 0.5) == pytest.approx(0.25)
    assert cosine_lr(50, 0.1, 100, 0.02) == pytest.approx(0.06)          # halfway: mean of the ends
    assert warmup_cosine_lr(5, 0.1, 10, 100) == pytest.approx(0.05)      # halfway through warm-up from 0
    assert warmup_cosine_lr(10, 0.1, 10, 100) == pytest.approx(0.1)      # peak at the end of warm-up
    assert isinstance(step_lr(3, 0.1, 2), float) and step_lr(np.arange(4), 0.1, 2).shape == (4,)


def _drive(schedule_cls, opt, steps, **kw):
    sched = schedule_cls(opt, **kw)
    lrs = [sched.learning_rate]
    for _ in range(steps - 1):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    return np.array(lrs)


@pytest.mark.parametrize("cls, kw, make_ref", [
    (StepSchedule, {"step_size": 5, "gamma": 0.5}, lambda o: S.StepLR(o, 5, 0.5)),
    (ExponentialSchedule, {"gamma": 0.9}, lambda o: S.ExponentialLR(o, 0.9)),
    (CosineSchedule, {"total_steps": 30, "min_lr": 0.001}, lambda o: S.CosineAnnealingLR(o, 30, 0.001)),
    (WarmupCosineSchedule, {"warmup_steps": 4, "total_steps": 30, "start_factor": 0.25},
     lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.25, total_iters=4), S.CosineAnnealingLR(o, 26)], milestones=[4])),
])
def test_schedule_objects_drive_our_and_torch_optimizers(cls, kw, make_ref):
    ref = torch_lrs(make_ref, steps=31)
    ours = _drive(cls, SGD([torch.zeros(1, requires_grad=True)], learning_rate=LR), 31, **kw)
    theirs = _drive(cls, torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR), 31, **kw)
    assert np.abs(ours - ref).max() < 1e-12 and np.abs(theirs - ref).max() < 1e-12


def test_training_with_schedule_matches_torch_step_for_step():
    """Our Adam + our warm-up/cosine against torch Adam + SequentialLR over 100 steps of a real loss."""
    g = torch.Generator().manual_seed(3)
    X, y = torch.randn(64, 5, generator=g, dtype=torch.float64), torch.randn(64, generator=g, dtype=torch.float64)
    w_ours = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    w_ref = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt, ref_opt = Adam([w_ours], learning_rate=0.05), torch.optim.Adam([w_ref], lr=0.05)
    sched = WarmupCosineSchedule(opt, warmup_steps=10, total_steps=100, start_factor=0.1)
    ref_sched = S.SequentialLR(ref_opt, [S.LinearLR(ref_opt, 0.1, total_iters=10), S.CosineAnnealingLR(ref_opt, 90)],
                               milestones=[10])
    for _ in range(100):
        for w, o, s in ((w_ours, opt, sched), (w_ref, ref_opt, ref_sched)):
            o.zero_grad()
            ((X @ w - y) ** 2).mean().backward()
            o.step()
            s.step()
        assert (w_ours - w_ref).abs().max().item() < 1e-6


def test_reduce_on_plateau_object_matches_torch():
    m = _plateau_metrics(2)
    opt = SGD([torch.zeros(1, requires_grad=True)], learning_rate=LR)
    sched = ReduceOnPlateau(opt, factor=0.5, patience=2)
    lrs = [sched.learning_rate]
    for t in range(N - 1):
        sched.step(m[t])
        lrs.append(sched.learning_rate)
    ref = torch_lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2), metrics=m)
    assert np.abs(np.array(lrs) - ref).max() < 1e-12


@pytest.mark.parametrize("name, kw", [
    ("constant", {}), ("step", {"step_size": 6, "gamma": 0.5}), ("exponential", {"gamma": 0.93}),
    ("cosine", {"total_steps": 40, "min_lr": 0.01}),
    ("warmup_cosine", {"warmup_steps": 6, "total_steps": 40, "start_factor": 0.1}),
    ("warmup_cosine", {"warmup_steps": 6, "total_steps": 40}),
    ("reduce_on_plateau", {"factor": 0.5, "patience": 3}),
])
def test_schedule_values_and_torch_reference_agree(name, kw):
    m = _plateau_metrics() if name == "reduce_on_plateau" else None
    ours = schedule_values(name, 41, LR, metrics=m, **kw)
    assert ours.shape == (41,)
    assert np.abs(ours - torch_schedule_values(name, 41, LR, metrics=m, **kw)).max() < 1e-12
    assert set(SCHEDULE_NAMES) >= {name}


@pytest.mark.parametrize("call, match", [
    (lambda: step_lr(1, 0.1, 0), "step_size"),
    (lambda: step_lr(1, 0.1, 5, gamma=1.5), "gamma"),
    (lambda: exponential_lr(-1, 0.1, 0.9), "step"),
    (lambda: exponential_lr(1.5, 0.1, 0.9), "whole"),
    (lambda: cosine_lr(1, -0.1, 10), "learning_rate"),
    (lambda: cosine_lr(1, 0.1, 10, min_lr=0.2), "min_lr"),
    (lambda: warmup_cosine_lr(1, 0.1, 10, 10), "warmup_steps"),
    (lambda: warmup_cosine_lr(1, 0.1, 2, 10, start_factor=2), "start_factor"),
    (lambda: schedule_values("linear", 10, 0.1), "choose one of"),
    (lambda: schedule_values("reduce_on_plateau", 10, 0.1), "metrics"),
    (lambda: reduce_on_plateau_lr([1.0, float("nan")], 0.1), "finite"),
    (lambda: reduce_on_plateau_lr([1.0], 0.1, factor=1.5), "factor"),
    (lambda: reduce_on_plateau_lr([1.0], 0.1, mode="up"), "mode"),
    (lambda: StepSchedule(SGD([torch.zeros(1, requires_grad=True)], learning_rate=0.1), step_size=0), "step_size"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
