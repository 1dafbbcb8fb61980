"""Gradient-descent optimizers written from scratch (notebook 04 · Optimizers and learning-rate schedules).

Each class updates a list of tensors in place from their ``.grad``, with the same calling
pattern as ``torch.optim``::

    opt = Adam(model.parameters(), learning_rate=1e-3)
    for batch in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

and produces the same numbers as the matching ``torch.optim`` class (tests/test_optimizers.py
checks 100 steps against torch for several settings). Per-parameter state uses torch's names
(``momentum_buffer``, ``sum``, ``square_avg``, ``exp_avg``, ``exp_avg_sq``, ``step``).

Hyper-parameter names follow torch except the step size, which is ``learning_rate``
everywhere in the kit (torch calls it ``lr``); ``opt.torch_kwargs()`` gives the torch names.
With ``g`` the gradient (plus ``weight_decay · θ`` where the method adds L2 to the gradient)
and ``η`` the learning rate, one step is:

===========  ==================================================================================
SGD          θ ← θ − η g
momentum     b ← μ b + (1 − dampening) g   (b = g on the first step);  θ ← θ − η b
Nesterov     b as above;  θ ← θ − η (g + μ b)
AdaGrad      s ← s + g²;  θ ← θ − η_t g / (√s + ε),  η_t = η / (1 + (t − 1) lr_decay)
RMSProp      v ← α v + (1 − α) g²;  θ ← θ − η g / (√v + ε)
             (centered: √(v − ḡ²) instead of √v, with ḡ ← α ḡ + (1 − α) g)
Adam         m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
             θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
AdamW        θ ← θ (1 − η λ) first (decoupled weight decay, not added to g), then the Adam step
===========  ==================================================================================

Sparse gradients (``nn.Embedding(sparse=True)``) are not supported: use dense embeddings.
"""
from __future__ import annotations

import math

import torch

#: Names accepted by :func:`make_optimizer`, in the order notebook 04 introduces them.
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def _check_range(name: str, value: float, low: float, high: float | None = None,
                 low_open: bool = False, high_open: bool = True) -> None:
    ok = math.isfinite(value) and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        lo = f"{'(' if low_open else '['}{low}"
        hi = f"{high}{')' if high_open else ']'}" if high is not None else "inf)"
        raise ValueError(f"{name} must be a finite number in {lo}, {hi}, got {value!r}.")


class Optimizer:
    """Base class: holds the parameters, their state and ``learning_rate``; subclasses write ``_update``.

    ``params`` is an iterable of floating-point leaf tensors (``model.parameters()`` or a
    list) or an ``nn.Module``. ``learning_rate`` may be changed between steps (schedules do).
    """

    #: torch.optim class with the same update rule (set by subclasses)
    torch_class: type = torch.optim.Optimizer

    def __init__(self, params, learning_rate: float):
        if isinstance(params, torch.nn.Module):
            params = params.parameters()
        if isinstance(params, torch.Tensor):
            raise ValueError("params must be an iterable of tensors, e.g. [w] or model.parameters(),"
                             " not a single tensor.")
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: pass the tensors to optimize, e.g. model.parameters().")
        for i, p in enumerate(self.params):
            if not isinstance(p, torch.Tensor) or not p.is_floating_point() or not p.is_leaf:
                raise ValueError(f"params[{i}] must be a floating-point leaf tensor (e.g. an nn.Parameter),"
                                 f" got {type(p).__name__}" + (f" of dtype {p.dtype}" if
                                                                isinstance(p, torch.Tensor) else "") + ".")
        _check_range("learning_rate", float(learning_rate), 0.0, low_open=True)
        self.learning_rate = float(learning_rate)
        self.state: dict[int, dict] = {i: {} for i in range(len(self.params))}

    # ----- the torch.optim-like interface ---------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``, as torch does by default, or zeros)."""
        for p in self.params:
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # 0 is allowed here (not in __init__): a schedule may end there
        if not (math.isfinite(self.learning_rate) and self.learning_rate >= 0):
            raise ValueError(f"learning_rate must be >= 0 and finite, got {self.learning_rate!r}"
                             " (was it set by a schedule?).")
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise ValueError("sparse gradients are not supported; use nn.Embedding(..., sparse=False).")
            self._update(p, p.grad, self.state[i])
        return loss

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    # ----- helpers ---------------------------------------------------------------------
    def hyper_parameters(self) -> dict:
        """The kit's names and values, e.g. ``{"learning_rate": 0.01, "momentum": 0.9, ...}``."""
        return {"learning_rate": self.learning_rate, **self._hyper()}

    def _hyper(self) -> dict:
        return {}

    def torch_kwargs(self) -> dict:
        """The same hyper-parameters under torch's names (``learning_rate`` becomes ``lr``)."""
        kw = self.hyper_parameters()
        kw["lr"] = kw.pop("learning_rate")
        return kw

    def torch_equivalent(self, params) -> torch.optim.Optimizer:
        """Build the ``torch.optim`` optimizer that follows the same update rule on ``params``."""
        return self.torch_class(params, **self.torch_kwargs())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper_parameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """(Stochastic) gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    Whether it is full-batch, mini-batch or stochastic depends only on how many samples the
    loss behind ``.grad`` averaged over; the update rule is the same.
    """

    torch_class = torch.optim.SGD

    def __init__(self, params, learning_rate: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, learning_rate)
        _check_range("momentum", momentum, 0.0, 1.0)
        _check_range("dampening", dampening, 0.0, 1.0, high_open=False)
        _check_range("weight_decay", weight_decay, 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum!r}, dampening={dampening!r}.")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def _hyper(self):
        return {"momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p                      # L2 penalty λ/2·|θ|² adds λθ
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()           # first step: the buffer is the gradient
            else:
                buf = state["momentum_buffer"]
                buf.mul_(self.momentum).add_((1 - self.dampening) * g)
            buf = state["momentum_buffer"]
            g = g + self.momentum * buf if self.nesterov else buf
        p.sub_(self.learning_rate * g)


class AdaGrad(Optimizer):
    """AdaGrad: divide each coordinate's step by the root of its summed squared gradients."""

    torch_class = torch.optim.Adagrad

    def __init__(self, params, learning_rate: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, learning_rate)
        _check_range("lr_decay", lr_decay, 0.0)
        _check_range("weight_decay", weight_decay, 0.0)
        _check_range("initial_accumulator_value", initial_accumulator_value, 0.0)
        _check_range("eps", eps, 0.0)
        self.lr_decay, self.weight_decay = float(lr_decay), float(weight_decay)
        self.initial_accumulator_value, self.eps = float(initial_accumulator_value), float(eps)

    def _hyper(self):
        return {"lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        lr_t = self.learning_rate / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"].add_(g * g)
        p.sub_(lr_t * g / (state["sum"].sqrt() + self.eps))


class RMSProp(Optimizer):
    """RMSProp: divide each coordinate's step by a running root-mean-square of its gradient.

    This *rescales* steps (large where gradients are small, small where they are large);
    it is not a regulariser and does not by itself prevent over-fitting (notebook 05).
    """

    torch_class = torch.optim.RMSprop

    def __init__(self, params, learning_rate: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, learning_rate)
        _check_range("alpha", alpha, 0.0, 1.0)
        _check_range("eps", eps, 0.0)
        _check_range("weight_decay", weight_decay, 0.0)
        _check_range("momentum", momentum, 0.0, 1.0)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)

    def _hyper(self):
        return {"alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered}

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)
            if self.centered:
                state["grad_avg"] = torch.zeros_like(p)
            if self.momentum:
                state["momentum_buffer"] = torch.zeros_like(p)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = state["square_avg"]
        v.mul_(self.alpha).add_((1 - self.alpha) * g * g)
        if self.centered:                                      # variance instead of raw second moment
            m = state["grad_avg"]
            m.mul_(self.alpha).add_((1 - self.alpha) * g)
            denom = (v - m * m).sqrt() + self.eps
        else:
            denom = v.sqrt() + self.eps
        if self.momentum:
            buf = state["momentum_buffer"]
            buf.mul_(self.momentum).add_(g / denom)
            p.sub_(self.learning_rate * buf)
        else:
            p.sub_(self.learning_rate * g / denom)


class Adam(Optimizer):
    """Adam: momentum on the gradient (``m``) and RMSProp-style scaling (``v``), both bias-corrected.

    ``weight_decay`` here is an L2 term added to the gradient (then rescaled like it);
    :class:`AdamW` decays the weights directly instead.
    """

    torch_class = torch.optim.Adam
    _decoupled = False

    def __init__(self, params, learning_rate: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, learning_rate)
        if len(tuple(betas)) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}.")
        _check_range("betas[0]", betas[0], 0.0, 1.0)
        _check_range("betas[1]", betas[1], 0.0, 1.0)
        _check_range("eps", eps, 0.0)
        _check_range("weight_decay", weight_decay, 0.0)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay, self.amsgrad = float(eps), float(weight_decay), bool(amsgrad)

    def _hyper(self):
        return {"betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}

    def _update(self, p, g, state):
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if self.weight_decay:
            if self._decoupled:
                p.mul_(1 - self.learning_rate * self.weight_decay)     # AdamW: shrink θ directly
            else:
                g = g + self.weight_decay * p                          # Adam: L2 through the gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_((1 - beta1) * g)
        v.mul_(beta2).add_((1 - beta2) * g * g)
        if self.amsgrad:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        m_hat = m / (1 - beta1 ** t)            # both averages start at 0: undo that bias
        v_hat = v / (1 - beta2 ** t)
        p.sub_(self.learning_rate * m_hat / (v_hat.sqrt() + self.eps))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``θ ← θ (1 − η λ)`` before the Adam step."""

    torch_class = torch.optim.AdamW
    _decoupled = True

    def __init__(self, params, learning_rate: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, learning_rate, betas, eps, weight_decay, amsgrad)


# ----- by name (the playground and training code pick optimizers by name) ---------------

#: Class and fixed settings behind each name of :data:`OPTIMIZER_NAMES`.
_REGISTRY = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (AdaGrad, {}),
    "rmsprop": (RMSProp, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
}


def make_optimizer(name: str, params, **hyper) -> Optimizer:
    """Build the optimizer called ``name`` (see :data:`OPTIMIZER_NAMES`) with ``hyper``-parameters.

    ``"momentum"`` and ``"nesterov"`` are :class:`SGD` with ``momentum=0.9`` (and ``nesterov=True``)
    unless ``hyper`` overrides them. ``lr`` is accepted as an alias of ``learning_rate``.
    """
    key = str(name).lower()
    if key not in _REGISTRY:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}.")
    if "lr" in hyper:
        if "learning_rate" in hyper:
            raise ValueError("give learning_rate or its torch alias lr, not both.")
        hyper["learning_rate"] = hyper.pop("lr")
    cls, fixed = _REGISTRY[key]
    return cls(params, **{**fixed, **hyper})


# ----- learning rate of any optimizer (ours or torch's), for schedules and training ----

def get_learning_rate(optimizer) -> float:
    """Current learning rate of a kit optimizer or of a ``torch.optim`` optimizer (its first group)."""
    if isinstance(optimizer, Optimizer):
        return optimizer.learning_rate
    if isinstance(optimizer, torch.optim.Optimizer):
        return float(optimizer.param_groups[0]["lr"])
    raise TypeError(f"expected a recsys_lab or torch.optim optimizer, got {type(optimizer).__name__}.")


def set_learning_rate(optimizer, value: float) -> None:
    """Set the learning rate of a kit optimizer, or of every group of a ``torch.optim`` optimizer."""
    _check_range("learning_rate", float(value), 0.0)
    if isinstance(optimizer, Optimizer):
        optimizer.learning_rate = float(value)
    elif isinstance(optimizer, torch.optim.Optimizer):
        for group in optimizer.param_groups:
            group["lr"] = float(value)
    else:
        raise TypeError(f"expected a recsys_lab or torch.optim optimizer, got {type(optimizer).__name__}.")
