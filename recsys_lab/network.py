"""A two-layer network, from scratch and as an ``nn.Module`` (notebook 02 · Layers and forward propagation).

The forward pass, for one example ``x`` of shape ``(d,)``::

    z1 = W1 @ x + b1      # (h,)   W1: (h, d), b1: (h,)
    a1 = f(z1)            # (h,)
    z2 = W2 @ a1 + b2     # (o,)   W2: (o, h), b2: (o,)
    a2 = g(z2)            # (o,)

and for a batch ``X`` of shape ``(n, d)``, one example per row (the convention of
``torch.nn.Linear``, whose ``weight`` has the same ``(out, in)`` shape as ``W1``)::

    Z1 = X @ W1.T + b1    # (n, h)   b1 is broadcast over the n rows
    A1 = f(Z1)
    Z2 = A1 @ W2.T + b2   # (n, o)
    A2 = g(Z2)

``f`` is the hidden activation and ``g`` the output activation, named as in
:mod:`recsys_lab.activations`. :class:`TwoLayerNet` is the same network built from
``nn.Linear`` and torch's own activation functions; :class:`FullBatchTrainer` trains it
by plain gradient descent for the network playground, and notices when a run diverges.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .activations import ELEMENTWISE, get_activation

#: torch's own implementation of each activation, used by :class:`TwoLayerNet`.
TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "identity": lambda z: z,
}
PARAM_NAMES = ("W1", "b1", "W2", "b2")


@contextlib.contextmanager
def one_thread():
    """Run torch on a single thread inside the block, then restore the previous setting.

    For networks this small, handing work to a second thread costs more than the
    arithmetic; on a busy 2-core machine it measured ~1000x slower (25 ms vs 8 µs per layer).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _check_sizes(n_inputs, n_hidden, n_outputs):
    for name, value in (("n_inputs", n_inputs), ("n_hidden", n_hidden), ("n_outputs", n_outputs)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")


def init_params(n_inputs: int, n_hidden: int, n_outputs: int = 1, seed: int = 0,
                dtype=torch.float32) -> dict:
    """Random weights and biases ``{"W1": (h, d), "b1": (h,), "W2": (o, h), "b2": (o,)}``.

    Each entry is uniform in ``[-1/√fan_in, 1/√fan_in]``, the range ``nn.Linear`` uses,
    drawn from a ``torch.Generator`` seeded with ``seed``.
    """
    _check_sizes(n_inputs, n_hidden, n_outputs)
    gen = torch.Generator().manual_seed(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * bound

    return {"W1": uniform((n_hidden, n_inputs), n_inputs), "b1": uniform((n_hidden,), n_inputs),
            "W2": uniform((n_outputs, n_hidden), n_hidden), "b2": uniform((n_outputs,), n_hidden)}


def forward_one(x, params: dict, activation: str = "tanh", output_activation: str = "sigmoid") -> dict:
    """Forward pass for one example ``x`` of shape ``(d,)``; returns ``z1, a1, z2, a2``.

    ``z1, a1`` have shape ``(h,)`` and ``z2, a2`` shape ``(o,)``.
    """
    f, _ = get_activation(activation)
    g, _ = get_activation(output_activation)
    W1, b1, W2, b2 = (params[k] for k in PARAM_NAMES)
    if x.ndim != 1 or x.shape[0] != W1.shape[1]:
        raise ValueError(f"x must have shape ({W1.shape[1]},) to match W1 {tuple(W1.shape)},"
                         f" got {tuple(x.shape)}; use forward_batch for a batch of rows.")
    z1 = W1 @ x + b1
    a1 = f(z1)
    z2 = W2 @ a1 + b2
    return {"z1": z1, "a1": a1, "z2": z2, "a2": g(z2)}


def forward_batch(X, params: dict, activation: str = "tanh", output_activation: str = "sigmoid") -> dict:
    """Forward pass for a batch ``X`` of shape ``(n, d)``; returns ``z1, a1`` ``(n, h)``, ``z2, a2`` ``(n, o)``."""
    f, _ = get_activation(activation)
    g, _ = get_activation(output_activation)
    W1, b1, W2, b2 = (params[k] for k in PARAM_NAMES)
    if X.ndim != 2 or X.shape[1] != W1.shape[1]:
        raise ValueError(f"X must have shape (n, {W1.shape[1]}) to match W1 {tuple(W1.shape)},"
                         f" got {tuple(X.shape)}; use forward_one for a single example.")
    z1 = X @ W1.T + b1
    a1 = f(z1)
    z2 = a1 @ W2.T + b2
    return {"z1": z1, "a1": a1, "z2": z2, "a2": g(z2)}


class TwoLayerNet(nn.Module):
    """``g(W2 f(W1 x + b1) + b2)`` built from ``nn.Linear`` and torch's activation functions.

    Parameters start from :func:`init_params` with ``seed``, so a from-scratch forward pass
    with ``init_params(..., seed=seed)`` gives the same outputs. Input ``(n, d)``, output ``(n, o)``.
    """

    def __init__(self, n_inputs: int = 2, n_hidden: int = 8, n_outputs: int = 1,
                 activation: str = "tanh", output_activation: str = "sigmoid", seed: int = 0):
        super().__init__()
        _check_sizes(n_inputs, n_hidden, n_outputs)
        for act in (activation, output_activation):
            get_activation(act)  # a clear ValueError for an unknown name
        self.activation, self.output_activation = activation, output_activation
        # skip_init: nn.Linear's own random init would draw from torch's global generator
        self.hidden = nn.utils.skip_init(nn.Linear, n_inputs, n_hidden)
        self.output = nn.utils.skip_init(nn.Linear, n_hidden, n_outputs)
        self.load_params(init_params(n_inputs, n_hidden, n_outputs, seed=seed))

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """``z2``, the output before the output activation, shape ``(n, o)``."""
        return self.output(TORCH_ACTIVATIONS[self.activation](self.hidden(X)))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return TORCH_ACTIVATIONS[self.output_activation](self.logits(X))

    def params(self) -> dict:
        """Detached copies ``{"W1", "b1", "W2", "b2"}`` in the shapes of :func:`init_params`."""
        return {"W1": self.hidden.weight.detach().clone(), "b1": self.hidden.bias.detach().clone(),
                "W2": self.output.weight.detach().clone(), "b2": self.output.bias.detach().clone()}

    def load_params(self, params: dict) -> "TwoLayerNet":
        """Copy ``{"W1", "b1", "W2", "b2"}`` into the layers (shapes must match); returns self."""
        with torch.no_grad():
            for layer, w, b in ((self.hidden, "W1", "b1"), (self.output, "W2", "b2")):
                for target, key in ((layer.weight, w), (layer.bias, b)):
                    value = torch.as_tensor(params[key], dtype=target.dtype)
                    if value.shape != target.shape:
                        raise ValueError(f"{key} has shape {tuple(value.shape)}, this network"
                                         f" needs {tuple(target.shape)}.")
                    target.copy_(value)
        return self


def predict_grid(model: TwoLayerNet, X, resolution: int = 60, margin: float = 0.3):
    """Predicted probability of class 1 on a grid covering the points ``X`` ``(n, 2)`` plus ``margin``.

    Returns ``(x1, x2, p)``: grid coordinates of length ``resolution`` and ``p`` of shape
    ``(resolution, resolution)`` with ``p[i, j]`` the output at ``(x1[j], x2[i])``.
    """
    X = np.asarray(X, dtype=np.float32)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    x1 = np.linspace(lo[0], hi[0], resolution, dtype=np.float32)
    x2 = np.linspace(lo[1], hi[1], resolution, dtype=np.float32)
    grid = torch.from_numpy(np.stack(np.meshgrid(x1, x2), axis=-1).reshape(-1, 2))
    with torch.no_grad(), one_thread():
        p = torch.sigmoid(model.logits(grid)).reshape(resolution, resolution).numpy()
    return x1, x2, p


class FullBatchTrainer:
    """Binary classification with :class:`TwoLayerNet` by full-batch gradient descent.

    Each step computes the objective on all ``n`` points, binary cross-entropy plus
    ``reg · (‖W1‖² + ‖W2‖²)``, records it in ``history["loss"]`` (and the accuracy in
    ``history["accuracy"]``), and moves every parameter by ``-learning_rate · gradient``.
    The run *diverges* when the objective becomes NaN/inf or exceeds ``divergence_factor``
    times its first value; then ``status`` becomes ``"diverged"``, ``message`` says what
    happened and further steps do nothing.
    """

    def __init__(self, X, y, n_hidden: int = 8, activation: str = "tanh", learning_rate: float = 0.5,
                 reg: float = 0.0, seed: int = 0, divergence_factor: float = 10.0):
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        y = torch.as_tensor(np.asarray(y)).reshape(-1)
        if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
            raise ValueError(f"X must have shape (n, d) and y shape (n,) with n >= 1, got X"
                             f" {tuple(X.shape)} and y {tuple(y.shape)}.")
        if not set(torch.unique(y).tolist()) <= {0, 1}:
            raise ValueError(f"y must hold class labels 0 and 1, got values {torch.unique(y).tolist()}.")
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}.")
        if not (math.isfinite(reg) and reg >= 0):
            raise ValueError(f"reg must be a finite number >= 0, got {reg!r}.")
        if activation not in ELEMENTWISE:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ELEMENTWISE)}.")
        self.X, self.y = X, y.to(torch.float32)
        self.learning_rate, self.reg, self.divergence_factor = learning_rate, reg, divergence_factor
        self.model = TwoLayerNet(X.shape[1], n_hidden, 1, activation, "sigmoid", seed=seed)
        self.history = {"loss": [], "accuracy": []}
        self.status, self.message = "ready", "ready to train"

    @property
    def steps(self) -> int:
        """Gradient steps taken so far."""
        return len(self.history["loss"])

    def objective(self) -> torch.Tensor:
        """Cross-entropy on all points plus the L2 penalty, as a differentiable scalar."""
        logits = self.model.logits(self.X).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(logits, self.y)
        penalty = self.model.hidden.weight.square().sum() + self.model.output.weight.square().sum()
        return loss + self.reg * penalty

    def accuracy(self) -> float:
        """Fraction of points on the right side of the 0.5 boundary."""
        with torch.no_grad(), one_thread():
            pred = (self.model.logits(self.X).reshape(-1) > 0).float()
        return float((pred == self.y).float().mean())

    def step(self, n_steps: int = 1) -> str:
        """Take up to ``n_steps`` gradient steps; returns ``status`` (``"ready"`` or ``"diverged"``)."""
        with one_thread():
            return self._steps(int(n_steps))

    def _steps(self, n_steps: int) -> str:
        for _ in range(n_steps):
            if self.status == "diverged":
                break
            self.model.zero_grad()
            obj = self.objective()
            value = float(obj.detach())
            first = self.history["loss"][0] if self.history["loss"] else value
            if not math.isfinite(value) or value > self.divergence_factor * first:
                self.status = "diverged"
                self.message = (f"diverged at step {self.steps}: the loss went from {first:.3g} to"
                                f" {value:.3g}. The learning rate {self.learning_rate:g} is too large"
                                " for this problem; try one 3-10 times smaller.")
                break
            obj.backward()
            with torch.no_grad():
                for p in self.model.parameters():
                    p -= self.learning_rate * p.grad
            self.history["loss"].append(value)
            self.history["accuracy"].append(self.accuracy())
            self.message = f"step {self.steps}: loss {value:.4f}, accuracy {self.history['accuracy'][-1]:.1%}"
        return self.status


def train_two_layer(X, y, n_hidden: int = 8, activation: str = "tanh", learning_rate: float = 0.5,
                    reg: float = 0.0, epochs: int = 300, seed: int = 0, callback=None,
                    callback_every: int = 10) -> FullBatchTrainer:
    """Train for ``epochs`` full-batch steps (fewer if it diverges); returns the trainer.

    The result holds ``model``, ``history["loss"]``, ``history["accuracy"]``, ``status``
    (``"ready"``, ``"diverged"`` or ``"stopped"``) and ``message``. ``callback(trainer)`` runs
    every ``callback_every`` steps; returning ``True`` stops training (status ``"stopped"``).
    """
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}.")
    if int(callback_every) != callback_every or callback_every < 1:
        raise ValueError(f"callback_every must be a whole number >= 1, got {callback_every!r}.")
    trainer = FullBatchTrainer(X, y, n_hidden, activation, learning_rate, reg, seed)
    while trainer.steps < epochs and trainer.status == "ready":
        trainer.step(min(callback_every, epochs - trainer.steps))
        if callback is not None and callback(trainer) and trainer.status == "ready":
            trainer.status, trainer.message = "stopped", f"stopped by the callback at step {trainer.steps}"
    return trainer
