"""Learning-rate schedules from scratch (notebook 04 · Optimizers and learning-rate schedules).

Each schedule exists twice:

- a **pure function** ``lr = f(step, learning_rate, ...)`` (``step`` an int or an array of
  ints, counted from 0; returns a float or an array of the same shape), used for plots;
- an **object** that drives an optimizer (a kit optimizer or a ``torch.optim`` one) the way
  ``torch.optim.lr_scheduler`` does: building it sets the step-0 rate, each ``.step()``
  moves one step on. ``learning_rate`` is the optimizer's rate when the object is built.

Formulas, with η the base learning rate, t the step, T = ``total_steps``:

==================  ======================================================================
step                η · γ^⌊t / step_size⌋                             (torch StepLR)
exponential         η · γ^t                                           (torch ExponentialLR)
cosine              η_min + (η − η_min) · (1 + cos(π t / T)) / 2,  t ≤ T (torch CosineAnnealingLR)
warmup_cosine       linear from s·η to η over W steps, then cosine from η to η_min by step T
                    (torch SequentialLR of LinearLR and CosineAnnealingLR, or a LambdaLR)
reduce_on_plateau   multiply by ``factor`` when the monitored metric has not improved for
                    more than ``patience`` steps                       (torch ReduceLROnPlateau)
==================  ======================================================================

One deliberate difference: after ``total_steps`` torch's CosineAnnealingLR follows the cosine
back *up* (it is periodic); the kit's cosine schedules stay at ``min_lr``, which is what a
"decay to the end of training" schedule means.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .optimizers import get_learning_rate, set_learning_rate

#: Names accepted by :func:`schedule_values`, in the order the notebook introduces them.
SCHEDULE_NAMES = ("constant", "step", "exponential", "cosine", "warmup_cosine", "reduce_on_plateau")


def _steps(step):
    t = np.asarray(step)
    if not np.issubdtype(t.dtype, np.integer) and not np.all(t == np.floor(t)):
        raise ValueError(f"step must be a whole number (or an array of them), got {step!r}.")
    if np.any(t < 0):
        raise ValueError(f"step counts from 0 and must be >= 0, got {step!r}.")
    return t.astype(np.int64)


def _out(values, step):
    return float(values) if np.ndim(step) == 0 else values


def _positive(name, value):
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")


def _whole(name, value, minimum):
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}.")


def _gamma(gamma):
    if not (math.isfinite(gamma) and 0 < gamma <= 1):
        raise ValueError(f"gamma is the factor per decay and must be in (0, 1], got {gamma!r}.")


def _min_lr(min_lr, learning_rate):
    if not (math.isfinite(min_lr) and 0 <= min_lr <= learning_rate):
        raise ValueError(f"min_lr must be in [0, learning_rate={learning_rate}], got {min_lr!r}.")


# ----- pure functions ---------------------------------------------------------------------

def constant_lr(step, learning_rate: float):
    """The same rate at every step (the baseline)."""
    t = _steps(step)
    _positive("learning_rate", learning_rate)
    return _out(np.full(t.shape, float(learning_rate)), step)


def step_lr(step, learning_rate: float, step_size: int, gamma: float = 0.1):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``η γ^⌊t / step_size⌋``."""
    t = _steps(step)
    _positive("learning_rate", learning_rate)
    _whole("step_size", step_size, 1)
    _gamma(gamma)
    return _out(learning_rate * gamma ** (t // int(step_size)), step)


def exponential_lr(step, learning_rate: float, gamma: float):
    """Multiply the rate by ``gamma`` at every step: ``η γ^t``."""
    t = _steps(step)
    _positive("learning_rate", learning_rate)
    _gamma(gamma)
    return _out(learning_rate * gamma ** t.astype(float), step)


def cosine_lr(step, learning_rate: float, total_steps: int, min_lr: float = 0.0):
    """Half a cosine from ``learning_rate`` at step 0 to ``min_lr`` at ``total_steps``; ``min_lr`` after."""
    t = _steps(step)
    _positive("learning_rate", learning_rate)
    _whole("total_steps", total_steps, 1)
    _min_lr(min_lr, learning_rate)
    frac = np.minimum(t, total_steps) / total_steps
    return _out(min_lr + (learning_rate - min_lr) * (1 + np.cos(np.pi * frac)) / 2, step)


def warmup_cosine_lr(step, learning_rate: float, warmup_steps: int, total_steps: int,
                     min_lr: float = 0.0, start_factor: float = 0.0):
    """Linear warm-up from ``start_factor · learning_rate`` to ``learning_rate`` over ``warmup_steps``,
    then a cosine down to ``min_lr`` at ``total_steps`` (``min_lr`` after that).

    Warm-up keeps the first steps small while the weights are random (Goyal et al. 2017, with
    SGD and large batches) and, for Adam-like optimizers, while their running averages are still
    poor estimates.
    """
    t = _steps(step)
    _positive("learning_rate", learning_rate)
    _whole("warmup_steps", warmup_steps, 0)
    _whole("total_steps", total_steps, 1)
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be smaller than total_steps ({total_steps}).")
    if not (math.isfinite(start_factor) and 0 <= start_factor <= 1):
        raise ValueError(f"start_factor must be in [0, 1], got {start_factor!r}.")
    _min_lr(min_lr, learning_rate)
    w = max(int(warmup_steps), 1)
    warm = learning_rate * (start_factor + (1 - start_factor) * np.minimum(t, w) / w)
    decay = cosine_lr(np.maximum(t - warmup_steps, 0), learning_rate, total_steps - warmup_steps, min_lr)
    return _out(np.where(t < warmup_steps, warm, decay), step)


class PlateauRule:
    """The bookkeeping of reduce-on-plateau, shared by :class:`ReduceOnPlateau` and
    :func:`reduce_on_plateau_lr` (same rule as ``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    A metric value counts as an improvement when it beats the best so far by more than
    ``threshold`` (relative: ``best · (1 − threshold)`` in ``"min"`` mode; absolute:
    ``best − threshold``). After more than ``patience`` steps without improvement the rate is
    multiplied by ``factor`` (never below ``min_lr``), then ``cooldown`` steps pass before
    counting again.
    """

    def __init__(self, mode: str = "min", factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' (loss) or 'max' (accuracy-like metric), got {mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}.")
        if not (math.isfinite(factor) and 0 < factor < 1):
            raise ValueError(f"factor must be in (0, 1) so the rate shrinks, got {factor!r}.")
        _whole("patience", patience, 0)
        _whole("cooldown", cooldown, 0)
        if not (math.isfinite(threshold) and threshold >= 0):
            raise ValueError(f"threshold must be >= 0, got {threshold!r}.")
        if not (math.isfinite(min_lr) and min_lr >= 0):
            raise ValueError(f"min_lr must be >= 0, got {min_lr!r}.")
        self.mode, self.factor, self.patience, self.threshold = mode, float(factor), int(patience), float(threshold)
        self.threshold_mode, self.cooldown, self.min_lr, self.eps = threshold_mode, int(cooldown), float(min_lr), eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bar

    def update(self, value: float, lr: float) -> float:
        """Record one metric value; return the learning rate to use from now on."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"the monitored metric must be finite, got {value!r} (did training diverge?).")
        if self._is_better(value):
            self.best, self.num_bad_steps = value, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:
            new_lr = max(lr * self.factor, self.min_lr)
            if lr - new_lr > self.eps:
                lr = new_lr
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0
        return lr


def reduce_on_plateau_lr(metrics, learning_rate: float, **rule) -> np.ndarray:
    """Rates produced by reduce-on-plateau for a sequence of metric values.

    ``metrics`` has shape ``(n,)``; the result has shape ``(n + 1,)``: entry 0 is the starting
    rate and entry ``i`` the rate after seeing ``metrics[:i]``. ``rule`` goes to :class:`PlateauRule`.
    """
    _positive("learning_rate", learning_rate)
    plateau = PlateauRule(**rule)
    lrs = [float(learning_rate)]
    for m in np.asarray(metrics, dtype=float).ravel():
        lrs.append(plateau.update(m, lrs[-1]))
    return np.array(lrs)


_FUNCTIONS = {"constant": constant_lr, "step": step_lr, "exponential": exponential_lr,
              "cosine": cosine_lr, "warmup_cosine": warmup_cosine_lr}


def schedule_values(name: str, steps: int, learning_rate: float, metrics=None, **params) -> np.ndarray:
    """The rate at steps ``0 .. steps-1`` for the schedule called ``name``; shape ``(steps,)``.

    ``params`` are that schedule's arguments (e.g. ``step_size=10, gamma=0.5``). For
    ``"reduce_on_plateau"`` pass ``metrics`` (at least ``steps - 1`` values) instead of a formula.
    """
    _whole("steps", steps, 1)
    if name == "reduce_on_plateau":
        if metrics is None or len(metrics) < steps - 1:
            raise ValueError(f"reduce_on_plateau reacts to a metric: pass metrics with at least {steps - 1} values.")
        return reduce_on_plateau_lr(np.asarray(metrics)[: steps - 1], learning_rate, **params)
    if name not in _FUNCTIONS:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}.")
    return np.asarray(_FUNCTIONS[name](np.arange(steps), learning_rate, **params), dtype=float)


# ----- objects that drive an optimizer ------------------------------------------------------

class Schedule:
    """Set an optimizer's rate to ``lr_at(step)`` at every step (like ``torch.optim.lr_scheduler.LambdaLR``,
    but ``lr_at`` returns the rate itself, not a factor)."""

    def __init__(self, optimizer, lr_at):
        self.optimizer = optimizer
        self.base_lr = get_learning_rate(optimizer)
        self.lr_at = lr_at
        self.last_step = 0
        set_learning_rate(optimizer, float(lr_at(0)))  # bad settings raise here, before any step

    def step(self) -> None:
        """Move to the next step (call once per step or epoch, after ``optimizer.step()``)."""
        self.last_step += 1
        set_learning_rate(self.optimizer, float(self.lr_at(self.last_step)))

    @property
    def learning_rate(self) -> float:
        return get_learning_rate(self.optimizer)

    def get_last_lr(self) -> list[float]:
        """The current rate as a one-element list (torch's method of the same name)."""
        return [self.learning_rate]


class StepSchedule(Schedule):
    """:func:`step_lr` driving ``optimizer``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        base = get_learning_rate(optimizer)
        super().__init__(optimizer, lambda t: step_lr(t, base, step_size, gamma))


class ExponentialSchedule(Schedule):
    """:func:`exponential_lr` driving ``optimizer``."""

    def __init__(self, optimizer, gamma: float):
        base = get_learning_rate(optimizer)
        super().__init__(optimizer, lambda t: exponential_lr(t, base, gamma))


class CosineSchedule(Schedule):
    """:func:`cosine_lr` driving ``optimizer``."""

    def __init__(self, optimizer, total_steps: int, min_lr: float = 0.0):
        base = get_learning_rate(optimizer)
        super().__init__(optimizer, lambda t: cosine_lr(t, base, total_steps, min_lr))


class WarmupCosineSchedule(Schedule):
    """:func:`warmup_cosine_lr` driving ``optimizer``."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0,
                 start_factor: float = 0.0):
        base = get_learning_rate(optimizer)
        super().__init__(optimizer, lambda t: warmup_cosine_lr(t, base, warmup_steps, total_steps,
                                                               min_lr, start_factor))


class ReduceOnPlateau:
    """Shrink ``optimizer``'s rate when a monitored metric stops improving; ``step(metric)`` once per epoch.

    Arguments as in :class:`PlateauRule` (and torch's ``ReduceLROnPlateau``).
    """

    needs_metric = True

    def __init__(self, optimizer, **rule):
        self.optimizer = optimizer
        self.base_lr = get_learning_rate(optimizer)
        self.rule = PlateauRule(**rule)
        self.last_step = 0

    def step(self, metric: float) -> None:
        self.last_step += 1
        set_learning_rate(self.optimizer, self.rule.update(metric, get_learning_rate(self.optimizer)))

    @property
    def learning_rate(self) -> float:
        return get_learning_rate(self.optimizer)

    def get_last_lr(self) -> list[float]:
        return [self.learning_rate]


# ----- the torch reference, for notebook comparisons and the explorer --------------------

def torch_schedule_values(name: str, steps: int, learning_rate: float, metrics=None, **params) -> np.ndarray:
    """The same rates as :func:`schedule_values`, produced by ``torch.optim.lr_scheduler``.

    Used to show (and test) that the from-scratch schedules agree with torch. For
    ``"cosine"`` and ``"warmup_cosine"`` the agreement holds up to ``total_steps`` (see the
    module docstring); ``"warmup_cosine"`` is built as ``SequentialLR(LinearLR, CosineAnnealingLR)``
    when ``start_factor > 0`` and as a ``LambdaLR`` otherwise (LinearLR cannot start at 0).
    """
    S = torch.optim.lr_scheduler
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=learning_rate)
    if name == "constant":
        sched = S.LambdaLR(opt, lambda t: 1.0)
    elif name == "step":
        sched = S.StepLR(opt, step_size=params["step_size"], gamma=params.get("gamma", 0.1))
    elif name == "exponential":
        sched = S.ExponentialLR(opt, gamma=params["gamma"])
    elif name == "cosine":
        sched = S.CosineAnnealingLR(opt, T_max=params["total_steps"], eta_min=params.get("min_lr", 0.0))
    elif name == "warmup_cosine":
        w, total = params["warmup_steps"], params["total_steps"]
        start, min_lr = params.get("start_factor", 0.0), params.get("min_lr", 0.0)
        if start > 0 and w > 0:
            warm = S.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=w)
            cosine = S.CosineAnnealingLR(opt, T_max=total - w, eta_min=min_lr)
            sched = S.SequentialLR(opt, [warm, cosine], milestones=[w])
        else:
            def factor(t):
                if t < w:
                    return start + (1 - start) * t / w
                cos = (1 + math.cos(math.pi * (t - w) / (total - w))) / 2
                return (min_lr + (learning_rate - min_lr) * cos) / learning_rate
            sched = S.LambdaLR(opt, factor)
    elif name == "reduce_on_plateau":
        sched = S.ReduceLROnPlateau(opt, **params)
    else:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}.")
    lrs = [opt.param_groups[0]["lr"]]
    for t in range(steps - 1):
        opt.step()
        sched.step(metrics[t]) if name == "reduce_on_plateau" else sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return np.array(lrs)
