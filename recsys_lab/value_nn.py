"""A multilayer perceptron built from scalar ``Value``s (notebook 03 · Backpropagation and gradient descent).

The last piece of micrograd: :class:`Neuron`, :class:`Layer` and :class:`MLP` are made of
nothing but :class:`recsys_lab.autograd.Value` objects, one per weight, so ``loss.backward()``
on any loss built from their outputs fills every parameter's ``grad``. Training is then the
loop ``forward → backward → p.data -= learning_rate * p.grad``.

Conventions match ``torch.nn.Linear``: layer ``l`` holds a weight matrix ``W`` of shape
``(n_out, n_in)`` (row ``j`` is neuron ``j``'s weights) and a bias ``b`` of shape ``(n_out,)``;
the hidden layers apply ``activation`` (``"tanh"`` or ``"relu"``), the last layer is linear
(its outputs are logits). Weights and biases start uniform in ``[-1/√n_in, 1/√n_in]``, torch's
default for ``nn.Linear``, drawn from ``numpy.random.default_rng(seed)``: the same seed gives
the same network. :meth:`MLP.arrays` exports them and :func:`to_torch` builds the same
network in float64 torch, for checking.

It is slow on purpose, one Python object per number: a forward and backward pass over 100
examples of a 2-16-2 network builds and walks about 20,000 ``Value`` nodes. Each node's
backward rule is a closure that refers back to the node, a reference cycle, so Python's
cycle collector would keep re-scanning them (and every other object of the session);
:func:`train_value_mlp` switches it off while it trains and frees each step's graph itself
with :func:`release_graph`, which makes training several times faster and changes no number.
"""
from __future__ import annotations

import contextlib
import gc

import numpy as np
import torch
from torch import nn

from .autograd import Value

#: Hidden activations the scalar engine offers (methods of :class:`Value`).
ACTIVATIONS = ("tanh", "relu")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    return activation


class Neuron:
    """One neuron: ``f(w · x + b)`` with ``n_in`` weights ``w`` and a bias ``b``, all ``Value``s.

    ``activation=None`` makes it linear (an output logit).
    """

    def __init__(self, weights, bias, activation: str | None = "tanh"):
        self.w = [Value(float(w)) for w in weights]
        self.b = Value(float(bias))
        self.activation = None if activation is None else _check_activation(activation)

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"this neuron has {len(self.w)} inputs, got {len(x)}.")
        z = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return getattr(z, self.activation)() if self.activation else z

    def parameters(self) -> list:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)} inputs, {self.activation or 'linear'})"


class Layer:
    """``n_out`` neurons reading the same ``n_in`` inputs; ``W`` ``(n_out, n_in)``, ``b`` ``(n_out,)``."""

    def __init__(self, W, b, activation: str | None = "tanh"):
        W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"W must be (n_out, n_in) and b (n_out,), got {W.shape} and {b.shape}.")
        self.neurons = [Neuron(W[j], b[j], activation) for j in range(W.shape[0])]

    def __call__(self, x) -> list:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list:
        return [p for n in self.neurons for p in n.parameters()]

    def arrays(self):
        """``(W, b)`` as float64 NumPy arrays of the current ``data``."""
        W = np.array([[w.data for w in n.w] for n in self.neurons])
        b = np.array([n.b.data for n in self.neurons])
        return W, b

    def __repr__(self) -> str:
        return f"Layer([{', '.join(repr(n) for n in self.neurons[:1])}] x {len(self.neurons)})"


class MLP:
    """A multilayer perceptron of ``Value``s: ``sizes = [n_in, h_1, ..., n_out]``.

    Hidden layers use ``activation``; the last layer is linear and returns ``n_out`` logits
    (a list of ``Value``s) for one example ``x`` (a sequence of ``n_in`` numbers or ``Value``s).
    """

    def __init__(self, sizes, activation: str = "tanh", seed: int = 0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least an input and an output size, all >= 1, got {sizes}.")
        self.sizes, self.activation, self.seed = sizes, _check_activation(activation), seed
        rng = np.random.default_rng(seed)
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / np.sqrt(n_in)
            W = rng.uniform(-bound, bound, size=(n_out, n_in))
            b = rng.uniform(-bound, bound, size=n_out)
            last = i == len(sizes) - 2
            self.layers.append(Layer(W, b, None if last else activation))

    def __call__(self, x) -> list:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list:
        """Every weight and bias, layer by layer (each layer: neuron by neuron, weights then bias)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def arrays(self) -> list:
        """``[(W, b), ...]`` per layer: the current parameters as float64 NumPy arrays."""
        return [layer.arrays() for layer in self.layers]

    def forward_array(self, X) -> np.ndarray:
        """The same forward pass in NumPy for a batch ``X`` ``(n, n_in)``: logits ``(n, n_out)``.

        No graph, no gradients: fast enough to colour a grid for a decision boundary.
        """
        A = np.asarray(X, dtype=np.float64)
        f = np.tanh if self.activation == "tanh" else (lambda z: np.maximum(z, 0.0))
        arrays = self.arrays()
        for i, (W, b) in enumerate(arrays):
            A = A @ W.T + b
            if i < len(arrays) - 1:
                A = f(A)
        return A

    def __repr__(self) -> str:
        return (f"MLP({'-'.join(map(str, self.sizes))}, {self.activation}, seed={self.seed}: "
                f"{len(self.parameters())} parameters)")


def value_cross_entropy(logits: list, label: int) -> Value:
    """``-log softmax(z)_label`` for one example's logits (a list of ``Value``s), stably.

    ``logsumexp(z) - z_label`` with the maximum ``m`` subtracted as a plain number: the shift
    cancels in the loss, so it changes no gradient, and no ``exp`` overflows.
    """
    if not 0 <= int(label) < len(logits):
        raise ValueError(f"label must be a class index in 0..{len(logits) - 1}, got {label!r}.")
    m = max(z.data for z in logits)
    lse = sum(((z - m).exp() for z in logits), Value(0.0)).log() + m
    return lse - logits[int(label)]


def mean_cross_entropy(model: MLP, X, y) -> Value:
    """The mean :func:`value_cross_entropy` of ``model`` over the examples ``X`` ``(n, n_in)``, labels ``y``."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y need the same, non-zero number of rows, got {len(X)} and {len(y)}.")
    total = sum((value_cross_entropy(model(list(x)), int(c)) for x, c in zip(X.tolist(), y)), Value(0.0))
    return total / len(X)


def _no_backward():
    pass


def release_graph(root: Value) -> int:
    """Cut the links of every node computed on the way to ``root`` (its inputs and backward rule).

    Leaves (the parameters and the inputs) keep their ``data`` and ``grad``; the
    intermediate nodes lose their ``_prev`` and ``_backward``, so the reference cycles
    between a node and its rule are gone and the graph is freed at once. Call it once the
    gradients have been used; ``root.backward()`` no longer works afterwards. Returns the
    number of nodes released.
    """
    stack, released = [root], 0
    while stack:
        node = stack.pop()
        if node._prev:
            stack.extend(node._prev)
            node._prev, node._backward = (), _no_backward
            released += 1
    return released


@contextlib.contextmanager
def no_cycle_collection():
    """Switch Python's cycle collector off inside the block (and back on as it was after it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def train_value_mlp(model: MLP, X, y, learning_rate: float = 0.5, steps: int = 50) -> list:
    """Full-batch gradient descent on :func:`mean_cross_entropy`; returns the loss before each step.

    Each step: forward pass, ``loss.backward()`` (which first resets every ``grad`` in the
    graph to 0), then ``p.data -= learning_rate * p.grad`` for every parameter. ``model``
    is updated in place.
    """
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    params, losses = model.parameters(), []
    with no_cycle_collection():
        for _ in range(int(steps)):
            loss = mean_cross_entropy(model, X, y)   # forward: a graph of Values
            loss.backward()                          # backward: every p.grad
            for p in params:
                p.data -= learning_rate * p.grad     # gradient descent
            losses.append(loss.data)
            release_graph(loss)                      # free this step's graph
    return losses


def to_torch(model: MLP) -> nn.Sequential:
    """The same network as a float64 ``nn.Sequential`` of ``nn.Linear`` layers, with copied weights."""
    act = nn.Tanh if model.activation == "tanh" else nn.ReLU
    modules = []
    arrays = model.arrays()
    for i, (W, b) in enumerate(arrays):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i < len(arrays) - 1:
            modules.append(act())
    return nn.Sequential(*modules)
