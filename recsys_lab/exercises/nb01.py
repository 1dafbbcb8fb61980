"""Checks for the exercises of notebook 01 (the neuron and activation functions). Solutions:
``notebooks/solutions/01_neuron_activations.ipynb``."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations as act
from ..checks import check_answer
from . import register

Z_GRID = np.linspace(-5, 5, 11)   # the points where exercise 01.2 evaluates softplus'


# 01.1 · understanding: the bias that makes a sigmoid neuron output 0.9 ---------------------
W, X, TARGET = np.array([2.0, -1.0]), np.array([1.0, 1.0]), 0.9


def _bias():
    return math.log(TARGET / (1 - TARGET)) - float(W @ X)


def _bias_wrong():
    return [math.log(TARGET / (1 - TARGET)), TARGET, math.log(TARGET / (1 - TARGET)) + float(W @ X)]


@register("01.1", solution=_bias, wrong=_bias_wrong)
def check_bias(answer):
    """The bias b with sigmoid(w.x + b) = 0.9 for w = (2, -1), x = (1, 1)."""
    logit = math.log(TARGET / (1 - TARGET))
    return check_answer(answer, _bias(), "the bias", atol=1e-6, mistakes=[
        (logit, "that is the z the sigmoid needs; b is only part of z, and w.x is the other part."),
        (TARGET, "0.9 is the neuron's *output*; b lives inside the sigmoid: invert it first."),
        (logit + float(W @ X), "check the sign: with your b, is w.x + b the z that the sigmoid needs?"),
    ], hint="two steps: find the z with sigmoid(z) = 0.9, then the b that makes w.x + b equal that z.")


# 01.2 · change the code: the derivative of softplus ----------------------------------------
def _softplus_grad_reference():
    z = torch.tensor(Z_GRID, requires_grad=True)
    (grad,) = torch.autograd.grad(F.softplus(z).sum(), z)
    return grad.numpy()


def _softplus_grad_wrong():
    return [np.logaddexp(0.0, Z_GRID), act.relu_grad(Z_GRID), act.sigmoid_grad(Z_GRID), act.sigmoid(-Z_GRID)]


@register("01.2", solution=lambda: act.sigmoid(Z_GRID), wrong=_softplus_grad_wrong)
def check_softplus_grad(answer):
    """softplus'(z) = d/dz log(1 + e^z) at the 11 points np.linspace(-5, 5, 11), checked against
    torch.autograd on F.softplus."""
    return check_answer(answer, _softplus_grad_reference(), "softplus'(z) on np.linspace(-5, 5, 11)",
                        atol=1e-6, mistakes=[
        (np.logaddexp(0.0, Z_GRID), "those are softplus's *values*; differentiate log(1 + e^z) first."),
        (act.relu_grad(Z_GRID), "that is ReLU's step; softplus is smooth, its slope moves gradually from 0 to 1."),
        (act.sigmoid_grad(Z_GRID), "those values peak at z = 0 and fall on both sides; the slope of softplus keeps growing with z: "
                                   "one differentiation too many?"),
        (act.sigmoid(-Z_GRID), "the sign of z: the slope must grow with z (softplus is convex)."),
    ], hint="differentiate log(u) with u = 1 + e^z (chain rule); the result lies between 0 and 1, grows with z, "
            "and has the shape of one of section 2's curves.")


# 01.3 · open question with a checkable part: the chain rule through 5 tanh neurons ----------
def _chain():
    return float(act.chain_gradient("tanh", 5, x=0.5, weight=2.0)[-1])


def _chain_no_weight():
    a, g = 0.5, 1.0
    for _ in range(5):
        z = 2.0 * a
        g *= 1.0 - math.tanh(z) ** 2
        a = math.tanh(z)
    return g


def _chain_wrong():
    return [_chain_no_weight(), 2.0 ** 5, -_chain(), float(act.chain_gradient("tanh", 1, x=0.5, weight=2.0)[-1])]


@register("01.3", solution=_chain, wrong=_chain_wrong)
def check_chain_gradient(answer):
    """d a_5 / d a_0 for a_l = tanh(2 a_{l-1}), a_0 = 0.5 (reference: act.chain_gradient)."""
    return check_answer(answer, _chain(), "∂a_5/∂a_0", rtol=1e-6, atol=0, mistakes=[
        (_chain_no_weight(), "each factor is w * f'(z): the weight 2 is missing."),
        (2.0 ** 5, "that is the product of the weights only; each layer's factor also holds the slope of tanh at that layer's z."),
        (-_chain(), "the sign: every factor w * tanh'(z) is positive here."),
        (float(act.chain_gradient("tanh", 1, x=0.5, weight=2.0)[-1]), "that is one layer; run the loop 5 times."),
    ], hint="one loop over the 5 layers: compute the layer's z from the previous output, multiply the running "
            "product by that layer's factor w f'(z), then compute the layer's output; the result is positive and below 1.")
