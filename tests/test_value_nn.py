"""recsys_lab.value_nn: an MLP of scalar Values against the same network in torch (forward, gradients, training)."""
import gc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys_lab import losses
from recsys_lab.autograd import Value, topological_order
from recsys_lab.backprop import finite_difference_grad
from recsys_lab.toy_data import make_toy
from recsys_lab.value_nn import (MLP, Layer, Neuron, mean_cross_entropy, release_graph, to_torch,
                                 train_value_mlp, value_cross_entropy)

X, Y = make_toy("moons", n=12, noise=0.1, seed=3)
X64 = torch.from_numpy(X.astype(np.float64))
Y_T = torch.from_numpy(Y)


def torch_grads(model):
    """Gradients of the mean cross-entropy of the torch copy, in MLP.parameters() order."""
    net = to_torch(model)
    loss = F.cross_entropy(net(X64), Y_T)
    loss.backward()
    flat = []
    for layer in [m for m in net if isinstance(m, torch.nn.Linear)]:
        for j in range(layer.weight.shape[0]):
            flat.extend(layer.weight.grad[j].tolist())
            flat.append(layer.bias.grad[j].item())
    return loss.item(), np.array(flat)


def test_same_seed_same_network_and_torch_initialisation_bounds():
    a, b, c = MLP([2, 5, 3], seed=7), MLP([2, 5, 3], seed=7), MLP([2, 5, 3], seed=8)
    for (Wa, ba), (Wb, bb) in zip(a.arrays(), b.arrays()):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    assert not np.array_equal(a.arrays()[0][0], c.arrays()[0][0])
    assert [W.shape for W, _ in a.arrays()] == [(5, 2), (3, 5)]
    assert len(a.parameters()) == 5 * 2 + 5 + 3 * 5 + 3
    for W, b in a.arrays():
        bound = 1 / np.sqrt(W.shape[1])
        assert np.abs(W).max() <= bound and np.abs(b).max() <= bound


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_matches_torch_and_numpy(activation):
    model = MLP([2, 6, 4, 3], activation, seed=1)
    net = to_torch(model)
    ref = net(X64).detach().numpy()
    ours = np.array([[v.data for v in model(list(x))] for x in X.tolist()])
    np.testing.assert_allclose(ours, ref, atol=1e-13, rtol=0)
    np.testing.assert_allclose(model.forward_array(X), ref, atol=1e-13, rtol=0)
    hidden = [m for m in net if not isinstance(m, torch.nn.Linear)]
    assert len(hidden) == 2 and all(isinstance(m, torch.nn.Tanh if activation == "tanh" else torch.nn.ReLU)
                                    for m in hidden)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradients_match_torch_autograd(activation):
    model = MLP([2, 5, 2], activation, seed=2)
    loss = mean_cross_entropy(model, X, Y)
    loss.backward()
    ref_loss, ref_grads = torch_grads(model)
    assert loss.data == pytest.approx(ref_loss, abs=1e-13)
    np.testing.assert_allclose([p.grad for p in model.parameters()], ref_grads, atol=1e-13, rtol=0)


def test_value_cross_entropy_matches_the_kit_and_survives_huge_logits():
    for z, label in [([0.3, -1.2, 2.0], 2), ([1000.0, 1001.0], 0), ([-1000.0, 5.0, 1000.0], 1)]:
        logits = [Value(v) for v in z]
        loss = value_cross_entropy(logits, label)
        loss.backward()
        expected = losses.cross_entropy(np.array([z]), [label])
        assert loss.data == pytest.approx(float(expected), abs=1e-12)
        np.testing.assert_allclose([v.grad for v in logits], losses.cross_entropy_grad(np.array([z]), [label])[0],
                                   atol=1e-12, rtol=0)


def test_value_cross_entropy_gradient_matches_finite_differences():
    z = np.array([0.4, -0.7, 1.9, 0.1])

    def f(v):
        return value_cross_entropy([Value(x) for x in v], 3).data
    logits = [Value(x) for x in z]
    value_cross_entropy(logits, 3).backward()
    np.testing.assert_allclose([v.grad for v in logits], finite_difference_grad(f, z), atol=1e-9, rtol=0)


@pytest.mark.parametrize("activation, lr", [("tanh", 0.8), ("relu", 1.5)])
def test_training_matches_torch_sgd_step_by_step(activation, lr):
    model = MLP([2, 6, 2], activation, seed=4)
    net = to_torch(model)
    losses_value = train_value_mlp(model, X, Y, learning_rate=lr, steps=8)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    losses_torch = []
    for _ in range(8):
        opt.zero_grad()
        loss = F.cross_entropy(net(X64), Y_T)
        losses_torch.append(loss.item())
        loss.backward()
        opt.step()
    np.testing.assert_allclose(losses_value, losses_torch, atol=1e-12, rtol=0)
    assert losses_value[-1] < losses_value[0]
    np.testing.assert_allclose(model.forward_array(X), net(X64).detach().numpy(), atol=1e-12, rtol=0)


def test_release_graph_keeps_parameters_and_collector_state():
    model = MLP([2, 3, 2], seed=0)
    loss = mean_cross_entropy(model, X, Y)
    loss.backward()
    n_nodes = len(topological_order(loss))
    grads = [p.grad for p in model.parameters()]
    released = release_graph(loss)
    assert 0 < released < n_nodes            # every computed node, not the leaves
    assert loss._prev == () and [p.grad for p in model.parameters()] == grads
    assert gc.isenabled()
    train_value_mlp(model, X, Y, steps=1)
    assert gc.isenabled()                    # switched back on after training


@pytest.mark.parametrize("call, message", [
    (lambda: MLP([2], seed=0), "at least an input and an output"),
    (lambda: MLP([2, 3, 2], activation="sigmoid"), "activation"),
    (lambda: Neuron([1.0, 2.0], 0.0)([1.0]), "2 inputs"),
    (lambda: Layer(np.zeros((2, 3)), np.zeros(3)), "n_out"),
    (lambda: value_cross_entropy([Value(0.0), Value(1.0)], 2), "0..1"),
    (lambda: mean_cross_entropy(MLP([2, 2]), X, Y[:3]), "same, non-zero number of rows"),
    (lambda: train_value_mlp(MLP([2, 2]), X, Y, learning_rate=0.0), "learning_rate"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
