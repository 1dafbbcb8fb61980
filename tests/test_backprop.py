"""recsys_lab.backprop: manual matrix backprop against torch.autograd and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.backprop import (finite_difference_grad, gradient_descent_step, numerical_gradients,
                                 relative_error, train_manual, two_layer_backward, two_layer_loss)
from recsys_lab.network import TwoLayerNet, TORCH_ACTIVATIONS, init_params
from recsys_lab.toy_data import make_moons

GEN = torch.Generator().manual_seed(0)
X = torch.randn(9, 3, generator=GEN, dtype=torch.float64)
Y_REG = torch.randn(9, 2, generator=GEN, dtype=torch.float64)
Y_BIN = (torch.rand(9, 1, generator=GEN) > 0.5).double()


def torch_grads(X, Y, params, activation, loss):
    """The reference: the same network written with torch ops, differentiated by autograd."""
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    z2 = TORCH_ACTIVATIONS[activation](X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
    L = F.mse_loss(z2, Y) if loss == "mse" else F.binary_cross_entropy_with_logits(z2, Y)
    L.backward()
    return L.item(), {k: v.grad for k, v in p.items()}


CASES = [(act, loss) for act in ("tanh", "relu", "sigmoid", "leaky_relu", "gelu") for loss in ("mse", "bce")]


@pytest.mark.parametrize("activation, loss", CASES)
def test_manual_backprop_matches_autograd(activation, loss):
    Y = Y_REG if loss == "mse" else Y_BIN
    params = init_params(3, 4, Y.shape[1], seed=1, dtype=torch.float64)
    L, grads = two_layer_backward(X, Y, params, activation, loss)
    L_ref, ref = torch_grads(X, Y, params, activation, loss)
    assert L == pytest.approx(L_ref, rel=1e-12)
    for name in ("W1", "b1", "W2", "b2"):
        assert grads[name].shape == params[name].shape
        torch.testing.assert_close(grads[name], ref[name], atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("activation, loss", [("tanh", "mse"), ("sigmoid", "bce"), ("gelu", "bce")])
def test_manual_backprop_matches_finite_differences(activation, loss):
    Y = Y_REG if loss == "mse" else Y_BIN
    params = init_params(3, 4, Y.shape[1], seed=2, dtype=torch.float64)
    _, grads = two_layer_backward(X, Y, params, activation, loss)
    numeric = numerical_gradients(X, Y, params, activation, loss)
    for name in grads:
        assert relative_error(grads[name], numeric[name]) < 1e-7, name


def test_backprop_works_on_numpy_arrays_too():
    params = {k: v.numpy() for k, v in init_params(3, 4, 2, seed=3, dtype=torch.float64).items()}
    L, grads = two_layer_backward(X.numpy(), Y_REG.numpy(), params, "tanh", "mse")
    L_ref, ref = torch_grads(X, Y_REG, {k: torch.from_numpy(v) for k, v in params.items()}, "tanh", "mse")
    assert isinstance(grads["W1"], np.ndarray) and L == pytest.approx(L_ref)
    for name in grads:
        np.testing.assert_allclose(grads[name], ref[name].numpy(), atol=1e-12)


def test_loss_matches_torch_losses():
    params = init_params(3, 4, 1, seed=0, dtype=torch.float64)
    z2 = torch.tanh(X @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"]
    assert two_layer_loss(X, Y_BIN, params, "tanh", "bce") == pytest.approx(
        F.binary_cross_entropy(torch.sigmoid(z2), Y_BIN).item(), rel=1e-12)
    assert two_layer_loss(X, Y_BIN, params, "tanh", "mse") == pytest.approx(
        F.mse_loss(z2, Y_BIN).item(), rel=1e-12)


def test_finite_difference_grad_by_hand_and_leaves_input_alone():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = finite_difference_grad(lambda v: (v ** 3).sum(), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])
    t = torch.tensor([0.3, -0.7], dtype=torch.float64)
    gt = finite_difference_grad(lambda v: torch.sin(v).sum(), t)
    assert isinstance(gt, torch.Tensor)
    torch.testing.assert_close(gt, torch.cos(t), atol=1e-9, rtol=1e-8)
    with pytest.raises(ValueError, match="eps must be > 0"):
        finite_difference_grad(lambda v: v.sum(), x, eps=0)


def test_relative_error_by_hand():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(2.0 / 4.0)


def test_manual_training_follows_torch_sgd_step_by_step():
    Xm, y = make_moons(n=80, noise=0.1, seed=0)
    Xt, Yt = torch.from_numpy(Xm), torch.from_numpy(y).float().reshape(-1, 1)
    params, losses = train_manual(Xt, Yt, n_hidden=6, activation="tanh", loss="bce",
                                  learning_rate=0.5, epochs=15, seed=4)
    net = TwoLayerNet(2, 6, 1, "tanh", "sigmoid", seed=4)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    ref = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net.logits(Xt), Yt)
        ref.append(loss.item())
        loss.backward()
        opt.step()
    np.testing.assert_allclose(losses, ref, rtol=1e-5)
    for name, value in net.params().items():
        torch.testing.assert_close(params[name], value, atol=1e-5, rtol=1e-5)
    assert losses[-1] < losses[0]


def test_gradient_descent_step_by_hand_and_errors():
    params = {"W1": torch.ones(2, 2), "b1": torch.zeros(2), "W2": torch.ones(1, 2), "b2": torch.zeros(1)}
    grads = {"W1": torch.full((2, 2), 2.0), "b1": torch.ones(2), "W2": torch.zeros(1, 2), "b2": -torch.ones(1)}
    new = gradient_descent_step(params, grads, 0.25)
    torch.testing.assert_close(new["W1"], torch.full((2, 2), 0.5))
    torch.testing.assert_close(new["b2"], torch.tensor([0.25]))
    assert torch.equal(params["W1"], torch.ones(2, 2))        # the input is not modified
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        gradient_descent_step(params, grads, 0.0)


def test_bad_loss_and_target_shape():
    params = init_params(3, 4, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="choose 'mse'"):
        two_layer_backward(X, Y_BIN, params, loss="hinge")
    with pytest.raises(ValueError, match=r"Y must have shape \(9, 1\)"):
        two_layer_backward(X, Y_BIN.reshape(-1), params)
