"""Checks for the exercises of notebook 03 (backpropagation). Solutions:
``notebooks/solutions/03_backprop.ipynb``."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..autograd import Value
from ..checks import Verdict, check_answer
from . import register


# 03.1 · understanding: a gradient by the chain rule ------------------------------------------
W, X, B, Y = 0.5, 2.0, -1.0, 1.0       # L = (σ(w x + b) - y)²


def _grad_w():
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    ((torch.sigmoid(w * X + B) - Y) ** 2).backward()
    return float(w.grad)


def _grad_b():
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    ((torch.sigmoid(W * X + b) - Y) ** 2).backward()
    return float(b.grad)


def _no_sigmoid_derivative():   # 2 (σ - y) · x: the sigmoid's local derivative left out
    s = 1 / (1 + math.exp(-(W * X + B)))
    return 2 * (s - Y) * X


@register("03.1", solution=_grad_w, wrong=lambda: [-_grad_w(), _grad_b(), _no_sigmoid_derivative()])
def check_chain_rule_gradient(answer):
    """∂L/∂w for L = (σ(w x + b) - y)² at w = 0.5, x = 2, b = -1, y = 1 (reference: torch.autograd)."""
    return check_answer(answer, _grad_w(), "dL/dw", atol=1e-9, mistakes=[
        (-_grad_w(), "the sign is wrong: raising w raises σ towards y = 1, so the loss falls."),
        (_grad_b(), "that is ∂L/∂b (or the 2 of the square is missing): ∂z/∂w is x, not 1."),
        (_no_sigmoid_derivative(), "the sigmoid's local derivative σ(z)(1 − σ(z)) is missing from the chain."),
    ], hint="∂L/∂w = 2 (σ(z) − y) · σ(z)(1 − σ(z)) · x with z = w x + b.")


# 03.2 · understanding: gradient descent by hand -------------------------------------------
def _gd_10_steps(sign=1.0, steps=10):
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1 * sign, maximize=False) if sign > 0 else None
    for _ in range(steps):
        if w.grad is not None:
            w.grad = None
        ((w - 3) ** 2).sum().backward()
        if opt is not None:
            opt.step()
        else:                       # the update with the wrong sign: a step uphill
            with torch.no_grad():
                w += 0.1 * w.grad
    return float(w.detach())


@register("03.2", solution=_gd_10_steps, wrong=lambda: [_gd_10_steps(steps=1), 3.0, _gd_10_steps(sign=-1.0)])
def check_gradient_descent(answer):
    """w after 10 steps of gradient descent on (w - 3)² from w = 0, η = 0.1 (reference: torch.optim.SGD)."""
    return check_answer(answer, _gd_10_steps(), "w after 10 steps", atol=1e-6, mistakes=[
        (_gd_10_steps(steps=1), "that is w after *one* step: repeat the update 10 times."),
        (3.0, "that is the minimum itself; after 10 steps gradient descent is not there yet."),
        (_gd_10_steps(sign=-1.0), "the update goes uphill: subtract η f'(w), do not add it."),
    ], hint="repeat w ← w − 0.1 · 2 (w − 3) ten times, starting from w = 0.")


# 03.3 · change the code: the backward rule of a new operation (softplus) ------------------------
POINTS = (-2.0, 0.3, 1.5)


def _softplus_data(x):
    return math.log1p(math.exp(x))


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def _make_softplus(local=None, use_out_grad=True, accumulate=True):
    """A softplus op for Value; the keyword arguments build the plausible wrong versions."""
    def softplus(a):
        out = Value(_softplus_data(a.data), (a,), "softplus")

        def _backward():
            d = (local or _sigmoid)(a.data) * (out.grad if use_out_grad else 1.0)
            if accumulate:
                a.grad += d
            else:
                a.grad = d
        out._backward = _backward
        return out
    return softplus


def _expressions():
    """Three graphs, each with its exact gradient: softplus at the root; inside 3·sp(x)²; and
    with x used twice, sp(x)·x (which only an accumulating rule gets right)."""
    return [("softplus(x) on its own", lambda sp, v: sp(v), lambda x: _sigmoid(x)),
            ("3 · softplus(x)²", lambda sp, v: 3 * sp(v) ** 2, lambda x: 6 * _softplus_data(x) * _sigmoid(x)),
            ("softplus(x) · x", lambda sp, v: sp(v) * v, lambda x: _sigmoid(x) * x + _softplus_data(x))]


def _finite_difference(expression, x, eps=1e-6):
    """The gradient of an expression by central differences on the *true* softplus."""
    exact = _make_softplus()
    return (expression(exact, Value(x + eps)).data - expression(exact, Value(x - eps)).data) / (2 * eps)


@register("03.3", solution=_make_softplus,
          wrong=lambda: [_make_softplus(local=_softplus_data), _make_softplus(use_out_grad=False),
                         _make_softplus(accumulate=False), _make_softplus(local=lambda x: _sigmoid(x) * (1 - _sigmoid(x)))])
def check_softplus_backward(answer):
    """``answer`` is a function Value -> Value computing softplus(a) = log(1 + e^a) with its backward
    rule; it is checked on three graphs against central finite differences."""
    what = "softplus backward rule"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code (answer = softplus).")
        return Verdict(False)
    if not callable(answer):
        print(f"❌ {what}: expected your function (answer = softplus), got {type(answer).__name__}.")
        return Verdict(False)
    for x in POINTS:
        try:
            out = answer(Value(x))
        except Exception as error:  # the learner's code: report, do not crash the check
            print(f"❌ {what}: softplus(Value({x})) raised {type(error).__name__}: {error}")
            return Verdict(False)
        if not isinstance(out, Value) or abs(out.data - _softplus_data(x)) > 1e-9:
            print(f"❌ {what}: the forward value at x = {x} is wrong; it should be log(1 + e^x), as a Value.")
            return Verdict(False)
    for name, expression, _ in _expressions():
        for x in POINTS:
            v = Value(x)
            try:
                root = expression(answer, v)
                root.backward()
            except Exception as error:
                print(f"❌ {what}: backward() through {name} raised {type(error).__name__}: {error}")
                return Verdict(False)
            if not abs(v.grad - _finite_difference(expression, x)) <= 1e-6 * (1 + abs(v.grad)):
                why = {"softplus(x) on its own": "the local derivative is wrong: d/da log(1 + e^a) = e^a / (1 + e^a) = σ(a).",
                       "3 · softplus(x)²": "right at the root but wrong inside a graph: multiply the local derivative by out.grad.",
                       "softplus(x) · x": "wrong when x is used twice: add to a.grad (+=), do not overwrite it."}[name]
                print(f"❌ {what}: the gradient of {name} disagrees with finite differences at x = {x}. {why}")
                return Verdict(False)
    print(f"✅ {what}: correct — it agrees with finite differences on all three graphs.")
    return Verdict(True)


# 03.4 · open question with a checkable part: the best step for central differences ---------------
def f_cubic(x):
    return x ** 3 - 2 * x


X0, EXACT = 1.5, 3 * 1.5 ** 2 - 2
GRID = np.logspace(-14, -1, 40)


def _central_error(eps):
    return abs((f_cubic(X0 + eps) - f_cubic(X0 - eps)) / (2 * eps) - EXACT)


def _forward_error(eps):
    return abs((f_cubic(X0 + eps) - f_cubic(X0)) / eps - EXACT)


def _best_central():
    return float(GRID[int(np.argmin([_central_error(e) for e in GRID]))])


def _best_forward():
    return float(GRID[int(np.argmin([_forward_error(e) for e in GRID]))])


@register("03.4", solution=_best_central, wrong=lambda: [_best_forward(), float(GRID[0]), float(GRID[-1]), -1e-5])
def check_best_central_step(answer):
    """A step ε whose central-difference error for f(x) = x³ − 2x at 1.5 is within a factor of 10 of
    the smallest error on the notebook's grid ``np.logspace(-14, -1, 40)``."""
    what = "best step for the central difference"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    try:
        eps = float(answer)
    except (TypeError, ValueError):
        print(f"❌ {what}: expected one number ε, got {type(answer).__name__}.")
        return Verdict(False)
    if not eps > 0:
        print(f"❌ {what}: a step must be a positive number.")
        return Verdict(False)
    best = min(_central_error(e) for e in GRID)
    if _central_error(eps) <= 10 * best:
        print(f"✅ {what}: correct — its error is within a factor of 10 of the best on the grid.")
        return Verdict(True)
    if _forward_error(eps) <= 10 * min(_forward_error(e) for e in GRID):
        print(f"❌ {what}: that is about the best step for the *forward* difference; the central one's truncation "
              f"error falls like ε², so it can afford a larger step.")
    elif eps < _best_central():
        print(f"❌ {what}: too small — rounding error dominates there (f(x+ε) and f(x−ε) share most digits).")
    else:
        print(f"❌ {what}: too large — truncation error (the ε² term) dominates there.")
    return Verdict(False)
