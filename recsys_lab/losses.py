"""Losses from maximum likelihood: softmax and cross-entropy (notebook 03 · Backpropagation and gradient descent).

A loss is the **negative log-likelihood** of the targets under the distribution the model
predicts, averaged over the batch:

* a real-valued target with a Gaussian of fixed spread around the prediction gives the
  mean squared error, :func:`mse` (up to the factor ``1/(2σ²)`` and a constant);
* a yes/no target with a Bernoulli of probability ``σ(z)`` gives the binary cross-entropy,
  :func:`binary_cross_entropy_with_logits`;
* a one-of-``C`` target with a categorical distribution ``softmax(z)`` gives the
  cross-entropy, :func:`cross_entropy`.

Shapes: ``logits`` is ``(batch, classes)`` (one row of scores per example, any real numbers)
and ``y`` is ``(batch,)`` of integer class indices in ``0 .. classes-1``. The softmax
functions keep the shape; the losses return ``(batch,)`` with ``reduction="none"`` and one
number (the mean over the batch) with ``reduction="mean"``. Losses are in **nats** (natural
logarithm). Every function accepts NumPy arrays or ``torch.Tensor``s and returns the kind it got.

Numerical stability rests on one identity, the log-sum-exp trick: for any constant ``m``,
``log Σ_j e^{z_j} = m + log Σ_j e^{z_j - m}``. With ``m = max_j z_j`` every exponent is ``<= 0``,
so nothing overflows, and the largest term is ``e^0 = 1``, so the sum never underflows to 0.
:func:`naive_logsumexp` leaves the trick out, to show what goes wrong.

The gradient of the mean cross-entropy with respect to the logits is
``(softmax(z) - onehot(y)) / batch`` (:func:`cross_entropy_grad`).
"""
from __future__ import annotations

import numpy as np
import torch

REDUCTIONS = ("mean", "sum", "none")


def _as_logits(z):
    """Return ``(z, is_torch)``: tensors pass through, anything else becomes a float ndarray."""
    if isinstance(z, torch.Tensor):
        if not z.is_floating_point():
            z = z.double()
        return z, True
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return z, False


def _check_classification(logits, y):
    """Validate ``(batch, classes)`` logits and ``(batch,)`` integer labels; return both."""
    z, t = _as_logits(logits)
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {tuple(z.shape)}; "
                         "for one example use logits[None, :].")
    labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"y must have shape ({z.shape[0]},): one class index per row of logits,"
                         f" got {tuple(labels.shape)}.")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {labels.dtype}.")
    if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
        raise ValueError(f"class indices must lie in 0..{z.shape[1] - 1}, got values from"
                         f" {labels.min()} to {labels.max()}.")
    idx = torch.as_tensor(labels, dtype=torch.long, device=z.device) if t else labels.astype(np.int64)
    return z, idx, t


def _reduce(values, reduction: str):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
    if reduction == "none":
        return values
    return values.sum() if reduction == "sum" else values.mean()


# ---- log-sum-exp and softmax ----------------------------------------------------------------

def naive_logsumexp(z, axis: int = -1):
    """``log Σ_j e^{z_j}`` straight from the formula: overflows to ``inf`` once a logit exceeds ~709.

    Shape ``(..., n) -> (...)``. For teaching only; use :func:`logsumexp`.
    """
    z, t = _as_logits(z)
    if t:
        return torch.log(torch.exp(z).sum(dim=axis))
    with np.errstate(over="ignore", divide="ignore"):
        return np.log(np.exp(z).sum(axis=axis))


def logsumexp(z, axis: int = -1, keepdims: bool = False):
    """``log Σ_j e^{z_j}`` along ``axis``, computed as ``m + log Σ_j e^{z_j - m}`` with ``m = max_j z_j``.

    Shape ``(..., n) -> (...)`` (or ``(..., 1)`` with ``keepdims``). Finite for any finite input.
    A row of all ``-inf`` gives ``-inf`` (the log of an empty sum), as in torch.
    """
    z, t = _as_logits(z)
    if t:
        m = z.amax(dim=axis, keepdim=True)
        m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))   # all -inf: shift by 0
        out = m + torch.log(torch.exp(z - m).sum(dim=axis, keepdim=True))
        return out if keepdims else out.squeeze(axis)
    m = z.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z, axis: int = -1):
    """``log softmax(z)_i = z_i - logsumexp(z)``: log-probabilities, shape ``(..., n) -> (..., n)``.

    Stable for any logits: it never forms ``e^{z_i}`` for a large ``z_i``, and a very unlikely
    class gets a large negative log-probability instead of ``log(0) = -inf``.
    """
    z, _ = _as_logits(z)
    return z - logsumexp(z, axis=axis, keepdims=True)


def softmax(z, axis: int = -1):
    """``softmax(z)_i = e^{z_i} / Σ_j e^{z_j} = exp(log_softmax(z)_i)``: probabilities summing to 1.

    Shape ``(..., n) -> (..., n)``. Adding a constant to every logit of a row changes nothing.
    """
    lp = log_softmax(z, axis=axis)
    return torch.exp(lp) if isinstance(lp, torch.Tensor) else np.exp(lp)


# ---- the three negative log-likelihoods -----------------------------------------------------

def cross_entropy(logits, y, reduction: str = "mean"):
    """Categorical negative log-likelihood ``-log softmax(z)_y`` per example, in nats.

    ``logits`` ``(batch, classes)``, ``y`` ``(batch,)`` integer classes. Returns ``(batch,)`` for
    ``reduction="none"``, else the ``"mean"`` (default, as ``torch.nn.functional.cross_entropy``)
    or ``"sum"`` over the batch. Equals ``logsumexp(z) - z_y``: at least 0, and 0 only when the
    model puts all its probability on the right class.
    """
    z, idx, t = _check_classification(logits, y)
    lp = log_softmax(z, axis=-1)
    rows = torch.arange(z.shape[0], device=z.device) if t else np.arange(z.shape[0])
    return _reduce(-lp[rows, idx], reduction)


def cross_entropy_grad(logits, y, reduction: str = "mean"):
    """``∂ cross_entropy / ∂ logits = softmax(z) - onehot(y)``, divided by ``batch`` for ``"mean"``.

    Shape ``(batch, classes)``, the shape of ``logits``. For ``reduction="none"`` row ``i`` is
    the gradient of example ``i``'s own loss. Each row sums to 0: raising every logit by
    the same amount does not change the loss.
    """
    z, idx, t = _check_classification(logits, y)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
    g = softmax(z, axis=-1)
    g = g.clone() if t else g.copy()
    rows = torch.arange(z.shape[0], device=z.device) if t else np.arange(z.shape[0])
    g[rows, idx] -= 1.0
    return g / z.shape[0] if reduction == "mean" else g


def binary_cross_entropy_with_logits(z, y, reduction: str = "mean"):
    """Bernoulli negative log-likelihood with ``p = σ(z)``: ``-[y log σ(z) + (1-y) log(1-σ(z))]``.

    Computed as ``log(1 + e^z) - y z = max(z, 0) + log(1 + e^{-|z|}) - y z``, finite for any
    ``z``. ``z`` and ``y`` (0/1, or a probability) have the same shape; ``"none"`` keeps it,
    ``"mean"`` (default, as torch's ``binary_cross_entropy_with_logits``) or ``"sum"`` reduce it.
    """
    z, t = _as_logits(z)
    if t:
        y = torch.as_tensor(y, dtype=z.dtype, device=z.device)
        values = torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs())) - y * z
    else:
        y = np.asarray(y, dtype=z.dtype)
        values = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z
    if tuple(y.shape) != tuple(z.shape):
        raise ValueError(f"y must have the shape of z {tuple(z.shape)}, got {tuple(y.shape)}.")
    return _reduce(values, reduction)


def mse(prediction, target, reduction: str = "mean"):
    """Squared error ``(ŷ - y)²`` per entry, averaged by default (as ``torch.nn.functional.mse_loss``).

    The Gaussian negative log-likelihood ``-log N(y; ŷ, σ²)`` is ``(ŷ - y)² / (2σ²) + log(σ√(2π))``:
    for a fixed ``σ`` it is the squared error times a constant, plus a constant, so both have
    the same minimiser and proportional gradients.
    """
    p, t = _as_logits(prediction)
    target = torch.as_tensor(target, dtype=p.dtype) if t else np.asarray(target, dtype=p.dtype)
    if tuple(target.shape) != tuple(p.shape):
        raise ValueError(f"target must have the shape of prediction {tuple(p.shape)}, got {tuple(target.shape)}.")
    return _reduce((p - target) ** 2, reduction)


def gaussian_nll(prediction, target, sigma: float = 1.0, reduction: str = "mean"):
    """``-log N(y; ŷ, σ²) = (ŷ - y)² / (2σ²) + log σ + ½ log 2π`` per entry, in nats; ``σ > 0``."""
    if not sigma > 0:
        raise ValueError(f"sigma is a standard deviation and must be > 0, got {sigma!r}.")
    sq = mse(prediction, target, reduction="none")
    return _reduce(sq / (2 * sigma ** 2) + np.log(sigma) + 0.5 * np.log(2 * np.pi), reduction)
