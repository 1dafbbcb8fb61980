"""The learning-rate range test, a.k.a. the learning-rate finder (notebook 04 · Optimizers and schedules).

Smith (2017) and fastai's ``lr_find``: start with a tiny learning rate and multiply it by the
same factor after every step, so that it sweeps ``start_lr → end_lr`` geometrically in ``steps``
steps, while recording the loss. At first the rate is too small to matter and the loss hardly
moves; then it falls; then the rate is too large, the steps overshoot and the loss explodes —
the test stops there. A rate is picked from the plot of loss against rate (log scale): see
:func:`suggest_min_over_ten` and :func:`suggest_steepest`.

Step ``k`` (``k = 0 … steps − 1``) uses the rate

    η_k = start_lr · (end_lr / start_lr) ** (k / (steps − 1))

(the same numbers as ``torch.optim.lr_scheduler.ExponentialLR`` with
``gamma = (end_lr / start_lr) ** (1 / (steps − 1))``). The loss recorded at step ``k`` is the one
``loss_fn()`` returns just before the step with ``η_k`` is taken (as fastai records it), so it
shows the effect of the rates *before* ``η_k``. It is smoothed by a bias-corrected exponential
moving average,

    a_k = β a_{k−1} + (1 − β) loss_k  (a_{−1} = 0),    smoothed_k = a_k / (1 − β^{k+1}),

which equals ``pandas.Series(losses).ewm(alpha=1 − β, adjust=True).mean()``. The test stops at
the first step whose loss is not finite or whose smoothed loss exceeds ``diverge_factor`` times the
lowest smoothed loss so far (fastai: 4).

:func:`lr_range_test` is pure in the sense that matters: it puts the parameters back as they were
(``restore=True``), so the sweep does not change the model you go on to train.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .optimizers import set_learning_rate


@dataclass
class RangeTest:
    """The outcome of :func:`lr_range_test`; arrays have one entry per step taken, shape ``(n,)``.

    ``rates``: the learning rate used at each step; ``losses``: the raw loss recorded at that step
    (before its update); ``smoothed``: their bias-corrected moving average; ``stopped_at``: the
    rate at which the loss blew up (the last entry of ``rates``), or ``None`` if the sweep reached
    ``end_lr`` without blowing up; ``reason``: why it stopped, in words.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped_at: float | None
    reason: str

    @property
    def steps_run(self) -> int:
        return len(self.rates)


def geometric_rates(start_lr: float, end_lr: float, steps: int) -> np.ndarray:
    """``steps`` rates from ``start_lr`` to ``end_lr``, each a constant factor times the last; shape ``(steps,)``."""
    if not (math.isfinite(start_lr) and math.isfinite(end_lr) and 0 < start_lr < end_lr):
        raise ValueError(f"need 0 < start_lr < end_lr (finite), got {start_lr!r} and {end_lr!r}.")
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps must be a whole number >= 2, got {steps!r}.")
    k = np.arange(int(steps))
    return start_lr * (end_lr / start_lr) ** (k / (int(steps) - 1))


def smooth_losses(losses, beta: float = 0.98) -> np.ndarray:
    """The bias-corrected exponential moving average of ``losses`` (shape ``(n,)``, same shape out).

    ``beta = 0`` returns the losses unchanged; larger ``beta`` averages over about
    ``1 / (1 − beta)`` recent steps.
    """
    if not (0.0 <= beta < 1.0):
        raise ValueError(f"beta must be in [0, 1), got {beta!r}.")
    losses = np.asarray(losses, dtype=float)
    out = np.empty_like(losses)
    average = 0.0
    for k, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out[k] = average / (1 - beta ** (k + 1))
    return out


def _parameters(params) -> list[torch.Tensor]:
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    if isinstance(params, torch.Tensor):
        raise ValueError("params must be a model or an iterable of tensors, e.g. [w], not a single tensor.")
    params = list(params)
    if not params:
        raise ValueError("params is empty: pass the tensors to optimize, e.g. model.parameters().")
    return params


def lr_range_test(params, loss_fn, make_optimizer, start_lr: float = 1e-6, end_lr: float = 10.0,
                  steps: int = 200, beta: float = 0.98, diverge_factor: float = 4.0,
                  restore: bool = True) -> RangeTest:
    """Sweep the learning rate geometrically and record the loss until it blows up.

    ``params``: an ``nn.Module`` or a list of leaf tensors; ``loss_fn()``: a closure without
    arguments that returns the scalar loss tensor of the current parameters (for mini-batches, on
    the next batch); ``make_optimizer(params, learning_rate)``: builds the optimizer — a kit
    optimizer or a ``torch.optim`` one, e.g. ``lambda p, lr: SGD(p, learning_rate=lr)``. The rate
    is set before every step with :func:`recsys_lab.optimizers.set_learning_rate`.
    ``start_lr``, ``end_lr`` (same unit as the optimizer's learning rate) and ``steps`` set the
    sweep; ``beta`` the smoothing (0: none); ``diverge_factor`` the blow-up rule. With
    ``restore=True`` the parameters are put back afterwards. Returns a :class:`RangeTest`.
    """
    if not (math.isfinite(diverge_factor) and diverge_factor > 1):
        raise ValueError(f"diverge_factor must be a finite number > 1, got {diverge_factor!r}.")
    rates = geometric_rates(start_lr, end_lr, steps)
    if not (0.0 <= beta < 1.0):
        raise ValueError(f"beta must be in [0, 1), got {beta!r}.")
    tensors = _parameters(params)
    saved = [p.detach().clone() for p in tensors]
    optimizer = make_optimizer(tensors, float(rates[0]))
    raw, smoothed = [], []
    average, best = 0.0, math.inf
    stopped_at, reason = None, f"reached end_lr = {end_lr:g} without blowing up"
    try:
        for k, rate in enumerate(rates):
            set_learning_rate(optimizer, float(rate))
            optimizer.zero_grad()
            loss = loss_fn()
            value = float(loss.detach())
            raw.append(value)
            if not math.isfinite(value):
                smoothed.append(math.nan)
                stopped_at, reason = float(rate), f"the loss was not finite at rate {rate:.3g}"
                break
            average = beta * average + (1 - beta) * value
            smooth = average / (1 - beta ** (k + 1))
            smoothed.append(smooth)
            if smooth > diverge_factor * best:
                stopped_at = float(rate)
                reason = (f"the smoothed loss {smooth:.4g} exceeded {diverge_factor:g} × its lowest value "
                          f"{best:.4g} at rate {rate:.3g}")
                break
            best = min(best, smooth)
            loss.backward()
            optimizer.step()
    finally:
        if restore:
            with torch.no_grad():
                for p, s in zip(tensors, saved):
                    p.copy_(s)
                    p.grad = None
    n = len(raw)
    return RangeTest(rates[:n].copy(), np.array(raw), np.array(smoothed), stopped_at, reason)


def _curve(result: RangeTest, skip_start: int = 0, skip_end: int = 0):
    """The finite part of the smoothed curve, without its first ``skip_start`` steps and, when the
    test blew up, its last ``skip_end`` steps (where the curve turns up)."""
    rates, smoothed = result.rates, result.smoothed
    stop = len(rates) - (skip_end if result.stopped_at is not None else 0)
    rates, smoothed = rates[skip_start:stop], smoothed[skip_start:stop]
    keep = np.isfinite(smoothed)
    if not keep.any():
        raise ValueError("too few finite losses before the blow-up: use more steps or a smaller start_lr.")
    return rates[keep], smoothed[keep]


def rate_at_minimum(result: RangeTest) -> float:
    """The rate at which the smoothed loss was lowest."""
    rates, smoothed = _curve(result)
    return float(rates[int(np.argmin(smoothed))])


def suggest_min_over_ten(result: RangeTest) -> float:
    """fastai's "minimum / 10" rule: a tenth of the rate at which the smoothed loss was lowest.

    The minimum of a range test already sits close to the edge of stability (the rate was still
    growing, and the loss there is the effect of the rates before it), so one order of magnitude
    below it leaves a safety margin while staying fast.
    """
    return rate_at_minimum(result) / 10.0


def suggest_steepest(result: RangeTest, skip_start: int = 10, skip_end: int = 5) -> float:
    """The rate where the smoothed loss falls fastest per factor of rate: the minimum of
    ``d smoothed / d log(rate)`` (``numpy.gradient``), ignoring the first ``skip_start`` steps
    (where the moving average rests on few losses) and the last ``skip_end`` before a blow-up."""
    rates, smoothed = _curve(result, skip_start, skip_end)
    if len(rates) < 3:
        raise ValueError("too few steps to take a slope: use more steps or a smaller start_lr.")
    slope = np.gradient(smoothed, np.log(rates))
    return float(rates[int(np.argmin(slope))])
