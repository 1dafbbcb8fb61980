"""Weight initialization from scratch: Xavier/Glorot and Kaiming/He (notebook 02 · Layers and forward propagation).

A layer computes ``z = a @ W.T`` with ``W`` of shape ``(fan_out, fan_in)`` (the ``nn.Linear``
layout). If the entries of ``W`` are independent with mean 0 and variance ``s²``, and the
inputs ``a`` have second moment ``E[a²]``, then ``Var(z) = fan_in · s² · E[a²]``. A deep
stack multiplies by that factor once per layer, so unless ``fan_in · s² · E[a²] / Var(z)`` is
close to 1 the signal explodes or vanishes geometrically with depth.

- **Xavier/Glorot** (Glorot & Bengio 2010): ``std = gain · sqrt(2 / (fan_in + fan_out))``, the
  compromise between keeping the forward variance (``1/fan_in``) and the backward variance
  (``1/fan_out``); meant for activations that are linear near 0 (tanh, with ``gain = 5/3``).
- **Kaiming/He** (He et al. 2015): ``std = gain / sqrt(fan)`` with ``gain = sqrt(2)`` for ReLU,
  because ReLU zeroes half of its inputs, ``E[relu(z)²] = Var(z) / 2``.
- The uniform versions draw from ``U(-bound, bound)`` with ``bound = sqrt(3) · std`` (a uniform
  on ``[-b, b]`` has variance ``b² / 3``).

The formulas and fan conventions are those of ``torch.nn.init`` (``calculate_gain``,
``_calculate_fan_in_and_fan_out``); ``tests/test_initialization.py`` checks that the same
``torch.Generator`` state gives bit-identical tensors. :func:`stack_variances` pushes a batch
through a deep stack and records the variance per layer, for the notebook's plot.
"""
from __future__ import annotations

import math

import torch

#: The gain of each nonlinearity (``torch.nn.init.calculate_gain``'s table).
GAINS = {
    "linear": 1.0,
    "identity": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


def gain(nonlinearity: str, negative_slope: float | None = None) -> float:
    """The recommended gain for a nonlinearity: the factor by which to scale a unit-variance-keeping std.

    ``leaky_relu`` with slope ``α`` (default 0.01) gets ``sqrt(2 / (1 + α²))``: the fraction of
    the second moment it keeps is ``(1 + α²) / 2``. Others come from :data:`GAINS`.
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if negative_slope is None else float(negative_slope)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    try:
        return GAINS[nonlinearity]
    except KeyError:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose from "
                         f"{sorted(GAINS) + ['leaky_relu']}") from None


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    For an ``nn.Linear`` weight ``(out, in)`` this is ``(in, out)``; a convolution kernel
    multiplies both by the receptive field size ``prod(kernel)``. Needs at least 2 dimensions.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Glorot's standard deviation ``gain · sqrt(2 / (fan_in + fan_out))``."""
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(fan: int, gain: float = math.sqrt(2.0)) -> float:
    """He's standard deviation ``gain / sqrt(fan)`` (``fan`` = fan_in keeps the forward variance)."""
    return gain / math.sqrt(fan)


def uniform_bound(std: float) -> float:
    """The half-width ``b = sqrt(3) · std`` of the uniform ``U(-b, b)`` with that standard deviation."""
    return math.sqrt(3.0) * std


def _fill(tensor: torch.Tensor, std: float, distribution: str, generator) -> torch.Tensor:
    with torch.no_grad():
        if distribution == "normal":
            return tensor.normal_(0.0, std, generator=generator)
        if distribution == "uniform":
            b = uniform_bound(std)
            return tensor.uniform_(-b, b, generator=generator)
    raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}")


def xavier_(tensor: torch.Tensor, gain: float = 1.0, distribution: str = "normal",
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``tensor`` (shape ``(out, in, ...)``) in place with Xavier/Glorot values; returns it."""
    fan_in, fan_out = fan_in_and_fan_out(tensor.shape)
    return _fill(tensor, xavier_std(fan_in, fan_out, gain), distribution, generator)


def kaiming_(tensor: torch.Tensor, nonlinearity: str = "relu", negative_slope: float | None = None,
             mode: str = "fan_in", distribution: str = "normal",
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``tensor`` in place with Kaiming/He values ``std = gain(nonlinearity) / sqrt(fan)``; returns it.

    ``mode="fan_in"`` keeps the variance of the forward pass, ``"fan_out"`` that of the backward pass.
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor.shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return _fill(tensor, kaiming_std(fan, gain(nonlinearity, negative_slope)), distribution, generator)


def stack_variances(activation: str, std, depth: int = 30, width: int = 256, n: int = 128,
                    seed: int = 0) -> dict:
    """Push ``n`` standard-normal inputs through ``depth`` bias-free layers of ``width`` units.

    Layer ``l`` computes ``a_l = f(a_{l-1} @ W_l.T)`` with ``W_l`` of shape ``(width, width)``
    drawn from ``N(0, std²)``; ``std`` is a number or a function ``std(fan_in, fan_out)``.
    ``activation`` is ``"tanh"`` or ``"relu"``. Runs in float64 (an exploding stack passes 1e38,
    float32's limit). Returns ``{"input": Var(x), "input_second_moment": E[x²], "variance": [Var(a_1), ..., Var(a_depth)],
    "second_moment": [E[a_1²], ..., E[a_depth²]], "saturated": [fraction of |a_l| > 0.99, per layer]}``,
    variances and second moments over all ``n · width`` entries. Kaiming's derivation keeps the second
    moment ``E[a²]`` (not the variance) constant; for a ReLU output the two differ by the squared mean.
    """
    f = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, width, generator=g, dtype=torch.float64)
    s = std(width, width) if callable(std) else float(std)
    out = {"input": a.var().item(), "input_second_moment": a.pow(2).mean().item(), "variance": [], "second_moment": [], "saturated": []}
    W = torch.empty(width, width, dtype=torch.float64)
    for _ in range(depth):
        W.normal_(0.0, s, generator=g)
        a = f(a @ W.T)
        out["variance"].append(a.var().item())
        out["second_moment"].append(a.pow(2).mean().item())
        out["saturated"].append((a.abs() > 0.99).double().mean().item())
    return out
