"""Batch norm, layer norm and residual stacks, from scratch (notebook 02 · Layers and forward propagation).

Both normalizations standardize and then rescale with learned parameters ``γ`` (weight) and ``β`` (bias)::

    x̂ = (x - μ) / sqrt(σ² + ε),    y = γ · x̂ + β

They differ in *which* entries share ``μ`` and ``σ²`` (the biased variance, divided by the count):

- **Batch norm** (Ioffe & Szegedy 2015), input ``(n, d)``: per feature, over the ``n`` examples of
  the batch. In training mode it also keeps exponential moving averages ``running_mean``,
  ``running_var`` (``new = (1 - momentum) · old + momentum · batch``, the variance in that update
  *unbiased*, divided by ``n - 1``, as torch does); in eval mode it normalizes with those instead,
  so a prediction does not depend on the other examples of the batch.
- **Layer norm** (Ba et al. 2016), input ``(..., d)``: per example, over its ``d`` features; no
  running statistics, the same computation in training and eval. This is the norm of the
  transformer block (:class:`recsys_lab.attention.TransformerBlock`).

The backward pass of ``x̂`` has one formula for both, along the normalized axis (``g = γ · ∂L/∂y``)::

    ∂L/∂x = (g - mean(g) - x̂ · mean(g · x̂)) / sqrt(σ² + ε),   ∂L/∂γ = Σ ∂L/∂y · x̂,   ∂L/∂β = Σ ∂L/∂y

:class:`DeepStack` builds a deep ``tanh`` stack in three variants (``plain``: ``h ← f(W h + b)``;
``residual``: ``h ← h + f(W h + b)``; ``pre-norm``: ``h ← h + f(W LN(h) + b)``, the block shape of
the transformer) and :func:`layer_gradient_norms` measures ``‖∂L/∂W_l‖`` per layer after one
backward pass. ``tests/test_normalization.py`` checks everything against ``torch.nn.BatchNorm1d``,
``torch.nn.LayerNorm`` (copied weights, float64) and autograd.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .initialization import kaiming_

EPS = 1e-5
MOMENTUM = 0.1


# ---- pure functions -----------------------------------------------------------------------

def _standardize(x, dim, eps):
    mean = x.mean(dim=dim, keepdim=True)
    var = x.var(dim=dim, unbiased=False, keepdim=True)
    std = torch.sqrt(var + eps)
    return (x - mean) / std, mean, var, std


def batch_norm(x, weight, bias, running_mean, running_var, training: bool = True,
               momentum: float = MOMENTUM, eps: float = EPS):
    """Batch norm of ``x`` ``(n, d)`` per feature. Returns ``(y, running_mean, running_var)``.

    ``weight``, ``bias``, ``running_mean``, ``running_var``: shape ``(d,)``. In training mode
    ``y`` uses the batch's mean and biased variance and the returned running statistics are
    updated (new tensors; the inputs are not modified); in eval mode ``y`` uses the running
    statistics and they are returned unchanged.
    """
    if training:
        n = x.shape[0]
        if n < 2:
            raise ValueError("batch norm in training mode needs at least 2 examples per batch")
        x_hat, mean, var, _ = _standardize(x, 0, eps)
        mean, var = mean.squeeze(0), var.squeeze(0)
        running_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        running_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        x_hat = (x - running_mean) / torch.sqrt(running_var + eps)
    return weight * x_hat + bias, running_mean, running_var


def layer_norm(x, weight, bias, eps: float = EPS):
    """Layer norm of ``x`` ``(..., d)`` over its last axis; ``weight``, ``bias``: ``(d,)``. Same shape out."""
    x_hat, _, _, _ = _standardize(x, -1, eps)
    return weight * x_hat + bias


def _backward(dy, x, weight, dim, eps):
    x_hat, _, _, std = _standardize(x, dim, eps)
    g = dy * weight
    dx = (g - g.mean(dim=dim, keepdim=True) - x_hat * (g * x_hat).mean(dim=dim, keepdim=True)) / std
    lead = tuple(range(dy.dim() - 1))
    return dx, (dy * x_hat).sum(dim=lead), dy.sum(dim=lead)


def batch_norm_backward(dy, x, weight, eps: float = EPS):
    """Gradients ``(∂L/∂x, ∂L/∂γ, ∂L/∂β)`` of training-mode batch norm, given ``dy = ∂L/∂y`` ``(n, d)``."""
    return _backward(dy, x, weight, 0, eps)


def layer_norm_backward(dy, x, weight, eps: float = EPS):
    """Gradients ``(∂L/∂x, ∂L/∂γ, ∂L/∂β)`` of layer norm over the last axis, given ``dy = ∂L/∂y``."""
    return _backward(dy, x, weight, -1, eps)


# ---- modules ------------------------------------------------------------------------------

class BatchNorm1d(nn.Module):
    """:func:`batch_norm` as a module, with ``nn.BatchNorm1d``'s parameters and buffers (input ``(n, d)``)."""

    def __init__(self, d: int, momentum: float = MOMENTUM, eps: float = EPS):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight, self.bias = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))
        self.register_buffer("running_mean", torch.zeros(d))
        self.register_buffer("running_var", torch.ones(d))

    def forward(self, x):
        y, mean, var = batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
                                  self.training, self.momentum, self.eps)
        if self.training:
            self.running_mean, self.running_var = mean, var
        return y

    def load_from_torch(self, bn: nn.BatchNorm1d) -> "BatchNorm1d":
        """Copy ``bn``'s weight, bias and running statistics (and its dtype); returns ``self``."""
        self.momentum, self.eps = bn.momentum, bn.eps
        self.to(bn.weight.dtype)
        with torch.no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(self, name).copy_(getattr(bn, name))
        return self


class LayerNorm(nn.Module):
    """:func:`layer_norm` as a module, with ``nn.LayerNorm(d)``'s parameters (input ``(..., d)``)."""

    def __init__(self, d: int, eps: float = EPS):
        super().__init__()
        self.eps = eps
        self.weight, self.bias = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return layer_norm(x, self.weight, self.bias, self.eps)

    def load_from_torch(self, ln: nn.LayerNorm) -> "LayerNorm":
        """Copy ``ln``'s weight and bias (and its dtype); returns ``self``."""
        self.eps = ln.eps
        self.to(ln.weight.dtype)
        with torch.no_grad():
            self.weight.copy_(ln.weight)
            self.bias.copy_(ln.bias)
        return self


# ---- deep stacks --------------------------------------------------------------------------

KINDS = ("plain", "residual", "pre-norm")


class DeepStack(nn.Module):
    """``depth`` tanh layers of ``width`` units and a linear head to 1 output. Input ``(n, width)``.

    ``kind``: ``"plain"`` ``h ← tanh(W h + b)``; ``"residual"`` ``h ← h + tanh(W h + b)``;
    ``"pre-norm"`` ``h ← h + tanh(W LN(h) + b)``. All three start from the same weights for the
    same ``seed``: ``nn.Linear``'s default initialization (``kaiming_uniform`` with slope
    ``a = sqrt(5)``, i.e. ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases), each
    drawn by a ``torch.Generator`` (the global random state is left as it was).
    """

    def __init__(self, depth: int = 30, width: int = 64, kind: str = "plain", seed: int = 0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        with torch.random.fork_rng(devices=[]):   # nn.Linear draws on creation; keep the global state
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.head = nn.Linear(width, 1)
        self.norms = nn.ModuleList(LayerNorm(width) for _ in range(depth)) if kind == "pre-norm" else None
        g = torch.Generator().manual_seed(seed)
        for layer in [*self.layers, self.head]:
            kaiming_(layer.weight, "leaky_relu", math.sqrt(5), distribution="uniform", generator=g)
            with torch.no_grad():
                b = 1.0 / math.sqrt(layer.in_features)
                layer.bias.uniform_(-b, b, generator=g)

    def forward(self, x):
        h = x
        for i, layer in enumerate(self.layers):
            if self.kind == "plain":
                h = torch.tanh(layer(h))
            elif self.kind == "residual":
                h = h + torch.tanh(layer(h))
            else:
                h = h + torch.tanh(layer(self.norms[i](h)))
        return self.head(h)


def layer_gradient_norms(model: DeepStack, x, y) -> list[float]:
    """One backward pass of the mean squared error ``mean((model(x) - y)²)``; returns ``‖∂L/∂W_l‖`` per layer.

    ``x``: ``(n, width)``, ``y``: ``(n, 1)``. The Frobenius norm of each hidden layer's weight
    gradient, first layer first. Gradients are reset before and left in the parameters after.
    """
    model.zero_grad(set_to_none=True)
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    return [layer.weight.grad.norm().item() for layer in model.layers]
