"""Activation functions and their derivatives (notebook 01 · The neuron and activation functions).

A neuron computes a weighted sum plus a bias, ``z = w · x + b``, and passes it through an
activation ``a = f(z)``. This module writes out each ``f`` and its derivative ``f'`` by
hand, so the notebook can compare them with ``torch.nn.functional`` and ``torch.autograd``.

Every function accepts a NumPy array (or anything ``np.asarray`` takes) **or** a
``torch.Tensor`` and returns the same kind it received, with the same shape:
elementwise functions map shape ``(...)`` to ``(...)``. ``softmax`` works along one axis,
and ``softmax_jacobian`` maps ``(..., n)`` to ``(..., n, n)``.

Formulas (``Φ`` is the standard normal CDF, ``φ`` its density):

=============  ==============================  ==========================================
name           f(z)                             f'(z)
=============  ==============================  ==========================================
sigmoid        1 / (1 + e^{-z})                 f(z) (1 - f(z))
tanh           (e^z - e^{-z}) / (e^z + e^{-z})  1 - f(z)^2
relu           max(0, z)                        1 if z > 0 else 0   (0 at z = 0, like torch)
leaky_relu     z if z > 0 else α z              1 if z > 0 else α   (α at z = 0, like torch)
gelu           z Φ(z)                           Φ(z) + z φ(z)
identity       z                                1
softmax        e^{z_i} / Σ_j e^{z_j}            ∂s_i/∂z_j = s_i (δ_ij - s_j)
=============  ==============================  ==========================================
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special
import torch

#: Elementwise activations, in the order the notebook introduces them.
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "identity")

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _as_input(z):
    """Return ``(z, is_torch)``: tensors pass through, anything else becomes a float ndarray."""
    if isinstance(z, torch.Tensor):
        return z, True
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return z, False


def _where(is_torch, cond, a, b):
    return torch.where(cond, a, b) if is_torch else np.where(cond, a, b)


def _full_like(z, is_torch, value):
    return torch.full_like(z, value) if is_torch else np.full_like(z, value)


# ---- the functions ------------------------------------------------------------------------

def sigmoid(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``, squashes to (0, 1). Shape ``(...) -> (...)``.

    Written as ``exp(-logaddexp(0, -z))`` so a large ``|z|`` neither overflows nor gives NaN.
    """
    z, t = _as_input(z)
    if t:
        return torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))
    return np.exp(-np.logaddexp(0.0, -z))


def tanh(z):
    """Hyperbolic tangent, squashes to (-1, 1) and is zero-centred. ``tanh(z) = 2 σ(2z) - 1``."""
    z, t = _as_input(z)
    return torch.tanh(z) if t else np.tanh(z)


def relu(z):
    """Rectified linear unit ``max(0, z)``. Shape ``(...) -> (...)``."""
    z, t = _as_input(z)
    return _where(t, z > 0, z, _full_like(z, t, 0.0))


def leaky_relu(z, negative_slope: float = 0.01):
    """``z`` for ``z > 0``, ``negative_slope * z`` otherwise (torch's default slope is 0.01)."""
    z, t = _as_input(z)
    return _where(t, z > 0, z, negative_slope * z)


def _normal_cdf(z, t):
    erf = torch.erf if t else scipy.special.erf
    return 0.5 * (1.0 + erf(z / _SQRT2))


def _normal_pdf(z, t):
    exp = torch.exp if t else np.exp
    return _INV_SQRT_2PI * exp(-0.5 * z * z)


def gelu(z):
    """Gaussian error linear unit ``z Φ(z)`` (the exact form, torch's ``approximate='none'``)."""
    z, t = _as_input(z)
    return z * _normal_cdf(z, t)


def identity(z):
    """``f(z) = z``: no activation (a linear neuron). Returned as a copy."""
    z, t = _as_input(z)
    return z.clone() if t else z.copy()


def softmax(z, axis: int = -1):
    """Softmax along ``axis``: positive outputs that sum to 1. Shape ``(..., n) -> (..., n)``.

    Subtracting the maximum first changes nothing mathematically (it cancels in the ratio)
    but keeps ``exp`` from overflowing for large logits.
    """
    z, t = _as_input(z)
    if t:
        e = torch.exp(z - z.amax(dim=axis, keepdim=True))
        return e / e.sum(dim=axis, keepdim=True)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---- the derivatives ----------------------------------------------------------------------

def sigmoid_grad(z):
    """``σ'(z) = σ(z) (1 - σ(z))``; at most 0.25 (at ``z = 0``), tends to 0 for large ``|z|``."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_grad(z):
    """``tanh'(z) = 1 - tanh(z)²``; at most 1 (at ``z = 0``), tends to 0 for large ``|z|``."""
    th = tanh(z)
    return 1.0 - th * th


def relu_grad(z):
    """1 where ``z > 0``, else 0 (the subgradient 0 at ``z = 0`` is what torch uses)."""
    z, t = _as_input(z)
    return _where(t, z > 0, _full_like(z, t, 1.0), _full_like(z, t, 0.0))


def leaky_relu_grad(z, negative_slope: float = 0.01):
    """1 where ``z > 0``, else ``negative_slope``: never exactly zero, so no unit 'dies'."""
    z, t = _as_input(z)
    return _where(t, z > 0, _full_like(z, t, 1.0), _full_like(z, t, negative_slope))


def gelu_grad(z):
    """``GELU'(z) = Φ(z) + z φ(z)``; slightly negative for ``z`` around -0.75."""
    z, t = _as_input(z)
    return _normal_cdf(z, t) + z * _normal_pdf(z, t)


def identity_grad(z):
    """Derivative of the identity: 1 everywhere."""
    z, t = _as_input(z)
    return _full_like(z, t, 1.0)


def softmax_jacobian(z):
    """Jacobian of softmax over the last axis: ``J[..., i, j] = s_i (δ_ij - s_j)``.

    Shape ``(..., n) -> (..., n, n)``. Each row sums to 0 because the outputs always sum to 1.
    """
    s = softmax(z, axis=-1)
    if isinstance(s, torch.Tensor):
        return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)
    eye = np.eye(s.shape[-1], dtype=s.dtype)
    return s[..., :, None] * eye - s[..., :, None] * s[..., None, :]


_TABLE = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "gelu": (gelu, gelu_grad),
    "identity": (identity, identity_grad),
}


def get_activation(name: str):
    """Return ``(f, f_grad)`` for an elementwise activation name from :data:`ELEMENTWISE`."""
    if name not in _TABLE:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ELEMENTWISE)}"
                         " (softmax is not elementwise: call softmax() / softmax_jacobian()).")
    return _TABLE[name]


# ---- a neuron, and what stacking neurons does to the gradient ------------------------------

def neuron(x, w, b, activation: str = "sigmoid"):
    """One neuron ``a = f(x · w + b)``.

    ``x`` has shape ``(d,)`` (one example) or ``(n, d)`` (a batch), ``w`` shape ``(d,)``,
    ``b`` a scalar; the result has shape ``()`` or ``(n,)``.
    """
    f, _ = get_activation(activation)
    x_arr, t = _as_input(x)
    w_arr = torch.as_tensor(w, dtype=x_arr.dtype) if t else np.asarray(w, dtype=float)
    if x_arr.shape[-1] != w_arr.shape[-1] or w_arr.ndim != 1:
        raise ValueError(f"x has {x_arr.shape[-1]} inputs per example (shape {tuple(x_arr.shape)})"
                         f" but w has shape {tuple(w_arr.shape)}; w must be 1-D with one weight"
                         " per input.")
    return f(x_arr @ w_arr + b)


def neuron_surface(w, b, activation: str = "sigmoid", lim: float = 3.0, resolution: int = 61):
    """Output of a two-input neuron on a square grid, for drawing its decision surface.

    Returns ``(x1, x2, a)``: 1-D grid coordinates of length ``resolution`` spanning
    ``[-lim, lim]`` and ``a`` of shape ``(resolution, resolution)`` with
    ``a[i, j] = f(w[0] * x1[j] + w[1] * x2[i] + b)`` (rows follow ``x2``, as ``imshow`` wants).
    """
    if len(w) != 2:
        raise ValueError(f"a two-input neuron needs exactly 2 weights, got {len(w)}.")
    if resolution < 2 or lim <= 0:
        raise ValueError(f"need resolution >= 2 and lim > 0, got resolution={resolution}, lim={lim}.")
    f, _ = get_activation(activation)
    grid = np.linspace(-lim, lim, resolution)
    z = w[0] * grid[None, :] + w[1] * grid[:, None] + b
    return grid, grid.copy(), f(z)


def chain_gradient(activation: str, depth: int, x: float = 1.0, weight: float = 1.0,
                   bias: float = 0.0):
    """Gradients through a chain of ``depth`` one-input neurons ``a_l = f(weight · a_{l-1} + bias)``.

    Starting from ``a_0 = x``, returns a float64 array of shape ``(depth,)`` whose entry
    ``l - 1`` is ``∂a_l / ∂a_0 = Π_{k<=l} weight · f'(z_k)`` (the chain rule). With
    saturating activations the product shrinks geometrically: the vanishing gradient.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}.")
    f, f_grad = get_activation(activation)
    a, running, out = np.float64(x), 1.0, np.empty(depth)
    for layer in range(depth):
        z = weight * a + bias
        running *= weight * float(f_grad(z))
        a = f(z)
        out[layer] = running
    return out
