"""recsys_lab/optimizers.py: every optimizer matches torch.optim step for step (100 steps, 1e-6)."""
import math

import pytest
import torch

from recsys_lab.optimizers import (OPTIMIZER_NAMES, SGD, AdaGrad, Adam, AdamW, RMSProp, get_learning_rate,
                                   make_optimizer, set_learning_rate)




STEPS = 100
TOL = 1e-6

# (our class, our hyper-parameters, one hyper-parameter to perturb on the torch side and its wrong value)
CASES = {
    "sgd": (SGD, {"learning_rate": 0.05}, ("lr", 0.051)),
    "sgd-momentum": (SGD, {"learning_rate": 0.02, "momentum": 0.9}, ("momentum", 0.85)),
    "sgd-dampening-wd": (SGD, {"learning_rate": 0.02, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05},
                         ("dampening", 0.0)),
    "nesterov": (SGD, {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                 ("nesterov", False)),
    "adagrad": (AdaGrad, {"learning_rate": 0.1}, ("eps", 1e-2)),
    "adagrad-decay": (AdaGrad, {"learning_rate": 0.1, "lr_decay": 0.01, "weight_decay": 0.02,
                                "initial_accumulator_value": 0.1}, ("lr_decay", 0.0)),
    "rmsprop": (RMSProp, {"learning_rate": 0.01}, ("alpha", 0.9)),
    "rmsprop-centered-momentum": (RMSProp, {"learning_rate": 0.005, "alpha": 0.9, "momentum": 0.5,
                                            "centered": True, "weight_decay": 0.01}, ("centered", False)),
    "adam": (Adam, {"learning_rate": 0.01}, ("betas", (0.9, 0.99))),
    "adam-betas": (Adam, {"learning_rate": 0.02, "betas": (0.8, 0.95), "eps": 1e-6}, ("betas", (0.85, 0.95))),
    "adam-l2-amsgrad": (Adam, {"learning_rate": 0.01, "weight_decay": 0.05, "amsgrad": True}, ("amsgrad", False)),
    "adamw": (AdamW, {"learning_rate": 0.01}, ("weight_decay", 0.0)),
    "adamw-strong-amsgrad": (AdamW, {"learning_rate": 0.01, "weight_decay": 0.2, "amsgrad": True},
                             ("weight_decay", 0.15)),
}


def _problem(dtype=torch.float64, seed=0):
    """A small non-quadratic loss over two parameter tensors (3x4 matrix and bias), with fixed data."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g, dtype=dtype)
    Y = torch.randn(32, 3, generator=g, dtype=dtype)
    W0 = torch.randn(3, 4, generator=g, dtype=dtype)
    b0 = torch.randn(3, generator=g, dtype=dtype)

    def loss(W, b):
        return ((torch.tanh(X @ W.T + b) - Y) ** 2).mean() + 0.1 * (W ** 4).mean()

    return loss, W0, b0


def _run_pair(cls, hyper, torch_override=None, dtype=torch.float64, steps=STEPS):
    """Run ours and torch's side by side; return the largest parameter difference seen after any step."""
    loss, W0, b0 = _problem(dtype)
    ours = [W0.clone().requires_grad_(), b0.clone().requires_grad_()]
    ref = [W0.clone().requires_grad_(), b0.clone().requires_grad_()]
    opt = cls(ours, **hyper)
    kwargs = opt.torch_kwargs()
    kwargs.update(torch_override or {})
    ropt = cls.torch_class(ref, **kwargs)
    worst = 0.0
    for _ in range(steps):
        for params, o in ((ours, opt), (ref, ropt)):
            o.zero_grad()
            loss(*params).backward()
            o.step()
        worst = max(worst, max((a - b).abs().max().item() for a, b in zip(ours, ref)))
    assert all(torch.isfinite(p).all() for p in ours)
    return worst


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_for_100_steps(case):
    cls, hyper, _ = CASES[case]
    assert _run_pair(cls, hyper) < TOL


@pytest.mark.parametrize("case", list(CASES))
def test_comparison_detects_a_changed_hyper_parameter(case):
    """The same check fails when torch runs a slightly different rule: the test can catch a wrong formula."""
    cls, hyper, (name, wrong) = CASES[case]
    assert _run_pair(cls, hyper, torch_override={name: wrong}) > 100 * TOL


def test_a_mutated_formula_is_caught():
    """Adam without bias correction is a plausible mistake; it must not pass the comparison."""
    class AdamNoBiasCorrection(Adam):
        def _update(self, p, g, state):
            state.setdefault("m", torch.zeros_like(p)).mul_(0.9).add_(0.1 * g)
            state.setdefault("v", torch.zeros_like(p)).mul_(0.999).add_(0.001 * g * g)
            p.sub_(self.learning_rate * state["m"] / (state["v"].sqrt() + self.eps))

    AdamNoBiasCorrection.torch_class = torch.optim.Adam
    assert _run_pair(AdamNoBiasCorrection, {"learning_rate": 0.01}) > 1e-3


@pytest.mark.parametrize("case", ["sgd-momentum", "rmsprop", "adam", "adamw"])
def test_float32_agrees_too(case):
    cls, hyper, _ = CASES[case]
    assert _run_pair(cls, hyper, dtype=torch.float32) < 1e-5


def test_one_hand_computed_step_each():
    """First steps worked out by hand for a scalar parameter θ = 1 with loss θ² (gradient 2)."""
    def first_step(opt_cls, **hyper):
        p = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
        opt = opt_cls([p], **hyper)
        (p ** 2).sum().backward()
        opt.step()
        return p.item()

    assert first_step(SGD, learning_rate=0.1) == pytest.approx(0.8)                 # 1 - 0.1·2
    assert first_step(SGD, learning_rate=0.1, momentum=0.9, nesterov=True) == pytest.approx(1 - 0.1 * 3.8)
    assert first_step(AdaGrad, learning_rate=0.1) == pytest.approx(0.9)              # 1 - 0.1·2/√4
    # RMSProp: v = 0.01 · 2² = 0.04 after one step
    assert first_step(RMSProp, learning_rate=0.1, alpha=0.99) == pytest.approx(1 - 0.1 * 2 / math.sqrt(0.04), abs=1e-6)
    assert first_step(Adam, learning_rate=0.1) == pytest.approx(0.9)                 # bias-corrected m̂/√v̂ = 1
    assert first_step(AdamW, learning_rate=0.1, weight_decay=0.5) == pytest.approx(1 * (1 - 0.05) - 0.1)


def test_state_uses_torch_names_and_counts_steps():
    p = torch.ones(2, requires_grad=True)
    opt = Adam([p], learning_rate=0.1)
    for _ in range(3):
        opt.zero_grad()
        (p ** 2).sum().backward()
        opt.step()
    assert set(opt.state[0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert opt.state[0]["step"] == 3


def test_zero_grad_and_parameters_without_gradient():
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    opt = SGD([a, b], learning_rate=0.5)
    (a ** 2).sum().backward()                 # b gets no gradient and must not move
    opt.step()
    assert torch.equal(b, torch.ones(2)) and torch.allclose(a, torch.zeros(2))
    opt.zero_grad(set_to_none=False)
    assert torch.equal(a.grad, torch.zeros(2))
    opt.zero_grad()
    assert a.grad is None


def test_closure_returns_loss_and_module_is_accepted():
    model = torch.nn.Linear(2, 1)
    opt = Adam(model, learning_rate=0.01)
    x = torch.ones(4, 2)

    def closure():
        opt.zero_grad()
        out = model(x).pow(2).mean()
        out.backward()
        return out

    assert torch.is_tensor(opt.step(closure))
    assert len(opt.params) == 2


def test_make_optimizer_names_and_aliases():
    p = [torch.zeros(2, requires_grad=True)]
    assert {type(make_optimizer(n, p, learning_rate=0.1)).__name__ for n in OPTIMIZER_NAMES} == {
        "SGD", "AdaGrad", "RMSProp", "Adam", "AdamW"}
    nest = make_optimizer("nesterov", p, lr=0.1)
    assert nest.nesterov and nest.momentum == 0.9 and nest.learning_rate == 0.1
    assert make_optimizer("momentum", p, learning_rate=0.1, momentum=0.5).momentum == 0.5
    with pytest.raises(ValueError, match="choose one of"):
        make_optimizer("adamax", p)
    with pytest.raises(ValueError, match="not both"):
        make_optimizer("sgd", p, lr=0.1, learning_rate=0.1)


@pytest.mark.parametrize("build, match", [
    (lambda p: SGD(p, learning_rate=0), "learning_rate"),
    (lambda p: SGD(p, learning_rate=-0.1), "learning_rate"),
    (lambda p: SGD(p, learning_rate=float("nan")), "learning_rate"),
    (lambda p: SGD(p, learning_rate=0.1, momentum=1.0), "momentum"),
    (lambda p: SGD(p, learning_rate=0.1, nesterov=True), "nesterov"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda p: Adam(p, betas=(0.9,)), "pair"),
    (lambda p: RMSProp(p, alpha=-0.1), "alpha"),
    (lambda p: AdaGrad(p, eps=-1), "eps"),
    (lambda p: AdamW(p, weight_decay=-0.01), "weight_decay"),
    (lambda p: SGD([], learning_rate=0.1), "empty"),
    (lambda p: SGD(p[0], learning_rate=0.1), "iterable"),
    (lambda p: SGD([torch.zeros(2, dtype=torch.long)], learning_rate=0.1), "floating-point"),
])
def test_bad_hyper_parameters_are_named(build, match):
    with pytest.raises(ValueError, match=match):
        build([torch.zeros(2, requires_grad=True)])


def test_learning_rate_helpers_work_for_ours_and_torch():
    p = [torch.zeros(2, requires_grad=True)]
    ours, theirs = SGD(p, learning_rate=0.1), torch.optim.SGD(p, lr=0.1)
    for opt in (ours, theirs):
        set_learning_rate(opt, 0.25)
        assert get_learning_rate(opt) == 0.25
    with pytest.raises(ValueError, match="learning_rate"):
        set_learning_rate(ours, -1.0)
    with pytest.raises(TypeError):
        get_learning_rate(object())


def test_torch_equivalent_is_the_matching_class():
    p = [torch.zeros(2, requires_grad=True)]
    assert isinstance(RMSProp(p).torch_equivalent(p), torch.optim.RMSprop)
    assert AdamW(p, learning_rate=0.3).torch_kwargs()["lr"] == 0.3
