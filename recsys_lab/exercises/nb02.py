"""Checks for the exercises of notebook 02 (layers and forward propagation). Solutions:
``notebooks/solutions/02_layers_forward.ipynb``."""
from __future__ import annotations

import torch

from ..checks import check_answer
from ..network import TwoLayerNet, forward_batch, init_params
from . import register


# 02.1 · understanding: the parameter count of a two-layer network -------------------------
D, H, O = 10, 32, 3


def _n_params():
    return sum(p.numel() for p in TwoLayerNet(D, H, O).parameters())


def _n_params_wrong():
    return [H * D + O * H, D * H * O, H * (D + 1) + O * H, D + H + O]


@register("02.1", solution=_n_params, wrong=_n_params_wrong)
def check_n_params(answer):
    """Number of weights and biases of TwoLayerNet(10, 32, 3), counted in a real network."""
    return check_answer(answer, _n_params(), "number of parameters", atol=0, rtol=0, mistakes=[
        (H * D + O * H, "you counted the weights only: every unit has a bias too."),
        (D * H * O, "the layers' sizes do not multiply: add the sizes of W1, b1, W2 and b2."),
        (H * (D + 1) + O * H, "the output layer has biases too."),
        (D + H + O, "that counts units, not the connections between them."),
    ], hint="W1 is (h, d), b1 is (h,), W2 is (o, h), b2 is (o,).")


# 02.2 · change the code: a batch forward pass with ReLU hidden units and a sigmoid output ----
def forward_inputs():
    """The exercise's parameters (3 inputs, 5 hidden, 2 outputs) and batch ``X`` of shape (4, 3)."""
    return torch.randn(4, 3, generator=torch.Generator().manual_seed(1)), init_params(3, 5, 2, seed=1)


def _a2():
    X, p = forward_inputs()
    return forward_batch(X, p, "relu", "sigmoid")["a2"]


def _a2_wrong():
    X, p = forward_inputs()
    return [forward_batch(X, p, "tanh", "sigmoid")["a2"], forward_batch(X, p, "relu", "identity")["a2"],
            forward_batch(X, p, "relu", "sigmoid")["a1"], _a2().T]


@register("02.2", solution=_a2, wrong=_a2_wrong)
def check_forward(answer):
    """A2 = sigmoid(relu(X W1^T + b1) W2^T + b2) on nb02.forward_inputs()."""
    X, p = forward_inputs()
    return check_answer(answer, _a2(), "A2 for the batch", atol=1e-6, mistakes=[
        (forward_batch(X, p, "tanh", "sigmoid")["a2"], "the hidden units should be ReLU, not tanh."),
        (forward_batch(X, p, "relu", "identity")["a2"], "those are the output *logits*: apply the sigmoid last."),
    ], hint="Z1 = X @ W1.T + b1, then ReLU, then Z2 = A1 @ W2.T + b2, then sigmoid; A2 has shape (n, o).")


# 02.3 · open question with a checkable part: collapse a linear network ----------------------
def linear_inputs():
    """The exercise's identity network (3 inputs, 6 hidden, 2 outputs) and batch of shape (7, 3)."""
    return torch.randn(7, 3, generator=torch.Generator().manual_seed(2)), init_params(3, 6, 2, seed=2)


def _single(W, b):
    X, _ = linear_inputs()
    return X @ W.T + b


def _collapsed():
    _, p = linear_inputs()
    return _single(p["W2"] @ p["W1"], p["W2"] @ p["b1"] + p["b2"])


def _collapsed_wrong():
    _, p = linear_inputs()
    return [_single(p["W2"] @ p["W1"], p["b2"]), _single(p["W2"] @ p["W1"], p["W2"] @ p["b1"]),
            _single(p["W2"] @ p["W1"], torch.zeros(2))]


@register("02.3", solution=_collapsed, wrong=_collapsed_wrong)
def check_collapse(answer):
    """X @ W_one.T + b_one, which must equal the identity network's output on nb02.linear_inputs()."""
    X, p = linear_inputs()
    W = p["W2"] @ p["W1"]
    return check_answer(answer, _collapsed(), "single-layer output", atol=1e-5, mistakes=[
        (_single(W, p["b2"]), "the weight matrix is right; the first layer's bias also passes through W2."),
        (_single(W, p["W2"] @ p["b1"]), "the weight matrix is right; the output layer's own bias b2 is missing."),
        (_single(W, torch.zeros(2)), "the weight matrix is right; the biases are missing."),
    ], hint="substitute z1 = W1 x + b1 into z2 = W2 z1 + b2 (section 5); W_one is (2, 3), b_one is (2,).")
