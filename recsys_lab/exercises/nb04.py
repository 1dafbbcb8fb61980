"""Checks for the exercises of notebook 04 (optimizers and learning-rate schedules). Solutions:
``notebooks/solutions/04_optimizers_schedules.ipynb``."""
from __future__ import annotations

import torch

from ..checks import Verdict, _as_array, check_answer
from ..optimizers import SGD
from ..surfaces import SURFACES, Surface
from . import register

THETA, BUFFER, GRAD = (1.0, -2.0), (0.5, 0.5), (0.2, -0.4)
LR, MU = 0.1, 0.9


# 04.1 · understanding: one momentum step ---------------------------------------------------
def _momentum_step():
    """The kit's SGD with momentum, its buffer set to BUFFER, one step with gradient GRAD."""
    p = torch.tensor(THETA, requires_grad=True)
    kit = SGD([p], learning_rate=LR, momentum=MU)
    kit.state[0]["momentum_buffer"] = torch.tensor(BUFFER)
    p.grad = torch.tensor(GRAD)
    kit.step()
    return p.detach().clone()


def _momentum_wrong():
    theta, buf, g = torch.tensor(THETA), torch.tensor(BUFFER), torch.tensor(GRAD)
    return [theta - LR * g,                       # no momentum at all
            theta - LR * (buf + MU * g),          # μ on the wrong term
            theta + LR * (MU * buf + g)]          # the step goes uphill


@register("04.1", solution=_momentum_step, wrong=_momentum_wrong)
def check_momentum_step(answer):
    """θ after one step of SGD with momentum from θ = (1, -2), buffer (0.5, 0.5), gradient (0.2, -0.4),
    η = 0.1, μ = 0.9 (reference: the kit's SGD, which matches torch.optim.SGD)."""
    wrong = _momentum_wrong()
    return check_answer(answer, _momentum_step(), "θ after one momentum step", atol=1e-6, mistakes=[
        (wrong[0], "that is plain SGD: the buffer b must be updated (b ← μ b + g) and used for the step."),
        (wrong[1], "μ multiplies the *old* buffer, not the new gradient: b ← μ b + g."),
        (wrong[2], "the step goes uphill: θ ← θ − η b."),
    ], hint="first b ← μ b + g, then θ ← θ − η b; a tensor of two numbers.")


# 04.2 · change the code: AdaGrad's update, checked against torch.optim.Adagrad ---------------------
START, ADA_LR, ADA_STEPS, CURVATURE = (-4.0, 1.0), 0.5, 30, (1.0, 20.0)


def _gradient(theta):
    return torch.tensor(CURVATURE, dtype=torch.float64) * theta      # f = ½ (x² + 20 y²)


def _torch_adagrad():
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adagrad([p], lr=ADA_LR)
    path = []
    for _ in range(ADA_STEPS):
        p.grad = _gradient(p.detach())
        opt.step()
        path.append(p.detach().clone())
    return torch.stack(path)


def _run(update):
    theta = torch.tensor(START, dtype=torch.float64)
    sum_sq = torch.zeros(2, dtype=torch.float64)
    path = []
    for _ in range(ADA_STEPS):
        theta, sum_sq = update(theta, _gradient(theta), sum_sq, ADA_LR)
        path.append(torch.as_tensor(theta, dtype=torch.float64).clone())
    return torch.stack(path)


def adagrad_solution(theta, grad, sum_sq, learning_rate, eps=1e-10):
    sum_sq = sum_sq + grad ** 2
    return theta - learning_rate * grad / (sum_sq.sqrt() + eps), sum_sq


def _adagrad_no_sqrt(theta, grad, sum_sq, learning_rate, eps=1e-10):
    sum_sq = sum_sq + grad ** 2
    return theta - learning_rate * grad / (sum_sq + eps), sum_sq


def _adagrad_no_memory(theta, grad, sum_sq, learning_rate, eps=1e-10):
    sum_sq = grad ** 2                               # only the current gradient: a sign-SGD
    return theta - learning_rate * grad / (sum_sq.sqrt() + eps), sum_sq


def _adagrad_old_sum(theta, grad, sum_sq, learning_rate, eps=1e-10):
    new_theta = theta - learning_rate * grad / (sum_sq.sqrt() + eps)    # divides before adding g²
    return new_theta, sum_sq + grad ** 2


@register("04.2", solution=lambda: adagrad_solution,
          wrong=lambda: [_adagrad_no_sqrt, _adagrad_no_memory, _adagrad_old_sum])
def check_adagrad_update(answer):
    """``answer(theta, grad, sum_sq, learning_rate, eps=1e-10) -> (theta, sum_sq)`` is AdaGrad's update;
    30 steps of it on f = ½(x² + 20y²) must follow torch.optim.Adagrad's path (lr = 0.5)."""
    what = "AdaGrad update"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code (answer = adagrad_update).")
        return Verdict(False)
    if not callable(answer):
        print(f"❌ {what}: expected your function (answer = adagrad_update), got {type(answer).__name__}.")
        return Verdict(False)
    try:
        path = _run(answer)
    except Exception as error:  # the learner's code: report, do not crash the check
        print(f"❌ {what}: running it raised {type(error).__name__}: {error}. It must return (theta, sum_sq).")
        return Verdict(False)
    reference = _torch_adagrad()
    if path.shape != reference.shape:
        print(f"❌ {what}: θ should keep the shape {tuple(reference.shape[1:])}, got {tuple(path.shape[1:])}.")
        return Verdict(False)
    close = torch.isclose(path, reference, rtol=1e-7, atol=1e-9).all(dim=1)
    if bool(close.all()):
        print(f"✅ {what}: correct — {ADA_STEPS} steps on the path of torch.optim.Adagrad.")
        return Verdict(True)
    first = int((~close).nonzero()[0])
    if first == 0:
        print(f"❌ {what}: the first step already differs. After one step sum = g², so the step should be "
              f"η g / (√(g²) + ε) ≈ η in each coordinate: add g² to the sum *before* dividing, by its square root.")
    else:
        print(f"❌ {what}: the first {first} step(s) agree, step {first + 1} does not: the sum must keep every "
              f"squared gradient since the start (sum ← sum + g²), so the steps shrink over time.")
    return Verdict(False)


# 04.3 · change the code: a schedule (polynomial decay), checked against torch's PolynomialLR --------
BASE_LR, TOTAL, POWER, HORIZON = 0.1, 50, 2.0, 70


def _torch_polynomial():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=BASE_LR)
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=TOTAL, power=POWER)
    values = []
    for _ in range(HORIZON):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return torch.tensor(values, dtype=torch.float64)


def polynomial_solution(step, learning_rate, total_steps, power):
    return learning_rate * (1 - min(step, total_steps) / total_steps) ** power


def _poly_no_clamp(step, learning_rate, total_steps, power):
    return learning_rate * (1 - step / total_steps) ** power


def _poly_linear(step, learning_rate, total_steps, power):
    return learning_rate * (1 - min(step, total_steps) / total_steps)


def _poly_inverted(step, learning_rate, total_steps, power):
    return learning_rate * (min(step, total_steps) / total_steps) ** power


@register("04.3", solution=lambda: polynomial_solution, wrong=lambda: [_poly_no_clamp, _poly_linear, _poly_inverted])
def check_polynomial_schedule(answer):
    """``answer(step, learning_rate, total_steps, power)`` is polynomial decay; its values for steps
    0..69 with η = 0.1, T = 50, power 2 must match torch.optim.lr_scheduler.PolynomialLR."""
    what = "polynomial decay schedule"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code (answer = polynomial_lr).")
        return Verdict(False)
    if not callable(answer):
        print(f"❌ {what}: expected your function (answer = polynomial_lr), got {type(answer).__name__}.")
        return Verdict(False)
    try:
        ours = torch.tensor([float(answer(t, BASE_LR, TOTAL, POWER)) for t in range(HORIZON)], dtype=torch.float64)
    except Exception as error:
        print(f"❌ {what}: calling it raised {type(error).__name__}: {error}.")
        return Verdict(False)
    reference = _torch_polynomial()
    close = torch.isclose(ours, reference, rtol=1e-6, atol=1e-9)
    if bool(close.all()):
        print(f"✅ {what}: correct — it matches torch's PolynomialLR at every step, after total_steps too.")
        return Verdict(True)
    first = int((~close).nonzero()[0])
    if first == 0:
        print(f"❌ {what}: wrong at step 0 already: the schedule starts at the full learning rate.")
    elif first <= TOTAL:
        print(f"❌ {what}: right at the start, wrong from step {first} on: check the power (η (1 − t/T)^p).")
    else:
        print(f"❌ {what}: right up to total_steps, wrong after it: the rate must stay at 0 once t ≥ T.")
    return Verdict(False)


# 04.4 · open question with a checkable part: the largest stable learning rate of a tilted bowl -----------
def tilted(x, y):
    """``x² + x y + 3 y²``: a bowl whose steep and flat directions are not the axes; minimum 0 at (0, 0)."""
    return x * x + x * y + 3 * y * y


def tilted_grad(x, y):
    """``(2 x + y,  x + 6 y)``."""
    return 2 * x + y, x + 6 * y


TILTED = Surface("tilted", "Tilted bowl x² + xy + 3y²", tilted, tilted_grad, ((0.0, 0.0),),
                 (-2.5, 2.5), (-1.5, 1.5), (-2.0, 1.0), 100)


def _curvatures():
    hessian = torch.autograd.functional.hessian(lambda v: TILTED.f(v[0], v[1]), torch.zeros(2, dtype=torch.float64))
    return torch.linalg.eigvalsh(hessian)


def _stable_limit():
    return float(2 / _curvatures().max())


def _limit_wrong():
    eig = _curvatures()
    quad = SURFACES["quadratic"]
    quad_hessian = torch.autograd.functional.hessian(lambda v: quad.f(v[0], v[1]), torch.zeros(2, dtype=torch.float64))
    return [float(2 / eig.min()), float(1 / eig.max()), 2 / 6.0, float(2 / torch.linalg.eigvalsh(quad_hessian).max()),
            0.3268]      # 1.9 % above the limit: gradient descent diverges there, slowly


LIMIT_RTOL = 0.005       # accepted: the limit itself, or a rate at most 0.5 % below it (never above: that diverges)


@register("04.4", solution=_stable_limit, wrong=_limit_wrong)
def check_stable_learning_rate(answer):
    """The largest learning rate for which plain gradient descent converges on ``TILTED``,
    ``x² + x y + 3 y²``: accepted at the limit or at most 0.5 % below it, never above it (reference:
    2 / the largest Hessian eigenvalue, by autograd)."""
    what = "largest stable learning rate"
    limit = _stable_limit()
    try:
        value = _as_array(answer)
        value = float(value) if value.shape == () else None
    except (TypeError, ValueError):
        value = None
    if value is not None and limit * (1 - LIMIT_RTOL) <= value <= limit * (1 + 1e-12):
        print(f"✅ {what}: correct.")
        return Verdict(True)
    if value is not None and limit < value <= 1.03 * limit:      # (2/6, a listed mistake, is 3.9 % above)
        print(f"❌ {what}: just above the limit: there |1 − ηλ| > 1 along the steep direction, so gradient descent "
              f"diverges (slowly). Compute 2 / λ exactly instead of rounding up.")
        return Verdict(False)
    wrong = _limit_wrong()
    return check_answer(answer, limit, what, rtol=LIMIT_RTOL, atol=0, mistakes=[
        (wrong[0], "that is the limit along the *flat* direction; the steep direction diverges first."),
        (wrong[1], "that rate empties the steep direction in one step; the limit is where |1 − ηλ| reaches 1."),
        (wrong[2], "6 is the curvature along the y axis, but the x·y term turns the bowl: the steepest curvature is "
                   "the Hessian's largest eigenvalue, a little more than 6."),
        (wrong[3], "that is section 3's limit for `quad`, not for the tilted bowl."),
    ], hint="the Hessian of x² + xy + 3y² is constant; along its eigenvector of eigenvalue λ each step multiplies the "
            "error by (1 − ηλ).")
