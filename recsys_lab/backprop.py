"""Backpropagation by hand for the two-layer network (notebook 03 · Backpropagation and gradient descent).

The forward pass of :mod:`recsys_lab.network` for a batch ``X`` ``(n, d)`` with targets
``Y`` ``(n, o)``, then the loss averaged over all ``N = n · o`` outputs:

* ``loss="mse"``: output activation identity, ``L = (1/N) Σ (A2 - Y)²``, so ``dZ2 = 2 (A2 - Y) / N``;
* ``loss="bce"``: output activation sigmoid, ``L = -(1/N) Σ [Y log A2 + (1 - Y) log(1 - A2)]``,
  and the sigmoid's derivative cancels the log's: ``dZ2 = (A2 - Y) / N``.

The chain rule, one layer at a time from the output back (``dT`` means ``∂L/∂T``)::

    dW2 = dZ2.T @ A1          (o, h)      db2 = dZ2.sum(0)   (o,)
    dA1 = dZ2 @ W2            (n, h)
    dZ1 = dA1 * f'(Z1)        (n, h)      elementwise
    dW1 = dZ1.T @ X           (h, d)      db1 = dZ1.sum(0)   (h,)

Every gradient has the shape of the thing it is the gradient of. Works on torch tensors
or NumPy arrays (use float64 when comparing with finite differences).
"""
from __future__ import annotations

import numpy as np
import torch

from .activations import get_activation
from .network import PARAM_NAMES, forward_batch, init_params, one_thread

#: Loss name -> the output activation it goes with.
LOSSES = {"mse": "identity", "bce": "sigmoid"}


def _check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose 'mse' (regression, identity output)"
                         " or 'bce' (binary classification, sigmoid output).")
    return LOSSES[loss]


def _loss_from_cache(cache: dict, Y, loss: str):
    Z2, A2 = cache["z2"], cache["a2"]
    if loss == "mse":
        return ((A2 - Y) ** 2).mean()
    # BCE from the logits: log(1 + e^z) - y z, stable for any z (as torch's *_with_logits)
    if isinstance(Z2, torch.Tensor):
        softplus = torch.logaddexp(torch.zeros_like(Z2), Z2)
    else:
        softplus = np.logaddexp(0.0, Z2)
    return (softplus - Y * Z2).mean()


def _check_targets(cache: dict, Y):
    if tuple(Y.shape) != tuple(cache["z2"].shape):
        raise ValueError(f"Y must have shape {tuple(cache['z2'].shape)} (n examples x o outputs),"
                         f" got {tuple(Y.shape)}; reshape a label vector with Y.reshape(-1, 1).")


def two_layer_loss(X, Y, params: dict, activation: str = "tanh", loss: str = "mse") -> float:
    """The loss ``L`` of the two-layer network on ``(X, Y)`` (forward pass only)."""
    cache = forward_batch(X, params, activation, _check_loss(loss))
    _check_targets(cache, Y)
    return float(_loss_from_cache(cache, Y, loss))


def two_layer_backward(X, Y, params: dict, activation: str = "tanh", loss: str = "mse"):
    """Loss and its gradients by manual backpropagation.

    ``X`` ``(n, d)``, ``Y`` ``(n, o)``, ``params`` as :func:`recsys_lab.network.init_params`.
    Returns ``(L, grads)`` with ``L`` a float and ``grads = {"W1", "b1", "W2", "b2"}``, each
    of the same shape as the parameter.
    """
    cache = forward_batch(X, params, activation, _check_loss(loss))
    _check_targets(cache, Y)
    _, f_grad = get_activation(activation)
    A1, A2, Z1 = cache["a1"], cache["a2"], cache["z1"]
    N = A2.shape[0] * A2.shape[1]
    dZ2 = (2.0 * (A2 - Y) if loss == "mse" else (A2 - Y)) / N  # (n, o)
    dW2 = dZ2.T @ A1                                            # (o, h)
    db2 = dZ2.sum(axis=0)                                       # (o,)
    dA1 = dZ2 @ params["W2"]                                    # (n, h)
    dZ1 = dA1 * f_grad(Z1)                                      # (n, h)
    dW1 = dZ1.T @ X                                             # (h, d)
    db1 = dZ1.sum(axis=0)                                       # (h,)
    return float(_loss_from_cache(cache, Y, loss)), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def finite_difference_grad(f, x, eps: float = 1e-6):
    """Central-difference estimate of the gradient of a scalar function ``f`` at ``x``.

    ``grad[i] ≈ (f(x + eps·e_i) - f(x - eps·e_i)) / (2 eps)`` for every entry ``i`` of ``x``
    (any shape; NumPy array or tensor). The error is of order ``eps²`` plus rounding error
    of order ``ε_machine / eps``: use float64 and ``eps`` around 1e-6. ``x`` is not modified.
    Costs ``2 · x.size`` evaluations of ``f``: a check, not a training method.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}.")
    is_torch = isinstance(x, torch.Tensor)
    work = x.detach().clone() if is_torch else np.array(x, dtype=float)
    flat = work.reshape(-1)  # a view: writing flat[i] changes work
    grad = torch.zeros_like(flat) if is_torch else np.zeros_like(flat)
    for i in range(flat.shape[0]):
        original = flat[i].item() if is_torch else flat[i]
        flat[i] = original + eps
        plus = float(f(work))
        flat[i] = original - eps
        minus = float(f(work))
        flat[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad.reshape(work.shape)


def numerical_gradients(X, Y, params: dict, activation: str = "tanh", loss: str = "mse",
                        eps: float = 1e-6) -> dict:
    """Finite-difference gradients of :func:`two_layer_loss` for each parameter, same keys and shapes."""
    grads = {}
    for name in PARAM_NAMES:
        def loss_at(value, name=name):
            return two_layer_loss(X, Y, {**params, name: value}, activation, loss)
        grads[name] = finite_difference_grad(loss_at, params[name], eps)
    return grads


def relative_error(a, b) -> float:
    """``max|a - b| / max(max|a| + max|b|, 1e-12)``: about 1e-7 or less means two float64 gradients agree."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=float)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b, dtype=float)
    return float(np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-12))


def gradient_descent_step(params: dict, grads: dict, learning_rate: float) -> dict:
    """One step ``θ ← θ - learning_rate · ∂L/∂θ`` for every parameter; returns new params."""
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    return {name: params[name] - learning_rate * grads[name] for name in PARAM_NAMES}


def train_manual(X, Y, n_hidden: int = 8, activation: str = "tanh", loss: str = "bce",
                 learning_rate: float = 0.5, epochs: int = 100, seed: int = 0):
    """Full-batch gradient descent with :func:`two_layer_backward`; returns ``(params, losses)``.

    ``X`` ``(n, d)`` and ``Y`` ``(n, o)`` tensors; parameters start from
    ``init_params(d, n_hidden, o, seed)`` in ``X``'s dtype. ``losses[t]`` is the loss before step ``t``.
    """
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed, dtype=X.dtype)
    losses = []
    with one_thread():
        for _ in range(epochs):
            value, grads = two_layer_backward(X, Y, params, activation, loss)
            losses.append(value)
            params = gradient_descent_step(params, grads, learning_rate)
    return params, losses
