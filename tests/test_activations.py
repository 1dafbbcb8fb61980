"""recsys_lab.activations: every function against torch.nn.functional, every derivative against autograd."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys_lab import activations as A

Z = torch.tensor([-50.0, -6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 1.0, 3.0, 7.0, 50.0], dtype=torch.float64)

REFERENCE = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "identity": lambda z: z * 1.0,
}


@pytest.mark.parametrize("name", A.ELEMENTWISE)
def test_function_matches_torch_for_numpy_and_torch_inputs(name):
    f, _ = A.get_activation(name)
    expected = REFERENCE[name](Z)
    got_t = f(Z)
    got_n = f(Z.numpy())
    assert isinstance(got_t, torch.Tensor) and got_t.dtype == torch.float64 and got_t.shape == Z.shape
    assert isinstance(got_n, np.ndarray) and got_n.shape == tuple(Z.shape)
    torch.testing.assert_close(got_t, expected, atol=1e-12, rtol=1e-12)
    np.testing.assert_allclose(got_n, expected.numpy(), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("name", A.ELEMENTWISE)
def test_derivative_matches_autograd(name):
    f_ref = REFERENCE[name]
    _, f_grad = A.get_activation(name)
    z = Z.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(f_ref(z).sum(), z)
    torch.testing.assert_close(f_grad(Z), expected, atol=1e-12, rtol=1e-10)
    np.testing.assert_allclose(f_grad(Z.numpy()), expected.numpy(), atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_slope_argument(slope):
    z = Z.clone().requires_grad_(True)
    ref = F.leaky_relu(z, negative_slope=slope)
    (g,) = torch.autograd.grad(ref.sum(), z)
    torch.testing.assert_close(A.leaky_relu(Z, slope), ref.detach())
    torch.testing.assert_close(A.leaky_relu_grad(Z, slope), g)


def test_hand_values():
    assert A.sigmoid(0.0) == 0.5
    assert A.sigmoid_grad(0.0) == 0.25          # the largest a sigmoid derivative ever gets
    assert A.tanh_grad(0.0) == 1.0
    assert A.relu(-2.0) == 0.0 and A.relu(3.0) == 3.0
    assert A.leaky_relu(-2.0) == pytest.approx(-0.02)
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))   # Φ(1)
    assert A.gelu(1.0) == pytest.approx(phi1, abs=1e-12)
    assert A.gelu_grad(1.0) == pytest.approx(phi1 + math.exp(-0.5) / math.sqrt(2 * math.pi), abs=1e-12)
    np.testing.assert_allclose(A.softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75])


def test_float32_and_integer_inputs_keep_a_sensible_dtype():
    z32 = torch.linspace(-3, 3, 7, dtype=torch.float32)
    for name in A.ELEMENTWISE:
        f, g = A.get_activation(name)
        assert f(z32).dtype == torch.float32 and g(z32).dtype == torch.float32
    assert A.sigmoid(np.array([0, 1, 2])).dtype == np.float64


def test_extreme_inputs_do_not_overflow_or_give_nan():
    big = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(A.sigmoid(big), [0.0, 1.0])
    assert not np.isnan(A.sigmoid_grad(big)).any()
    np.testing.assert_allclose(A.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
    assert torch.equal(A.relu(torch.tensor([-math.inf, math.inf])), torch.tensor([0.0, math.inf]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_matches_torch_along_any_axis(dim):
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 5
    torch.testing.assert_close(A.softmax(x, axis=dim), F.softmax(x, dim=dim))
    np.testing.assert_allclose(A.softmax(x.numpy(), axis=dim), F.softmax(x, dim=dim).numpy())


def test_softmax_jacobian_matches_autograd_and_rows_sum_to_zero():
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    J = A.softmax_jacobian(x)
    assert J.shape == (5, 4, 4)
    for row in range(5):
        expected = torch.autograd.functional.jacobian(lambda v: F.softmax(v, dim=-1), x[row])
        torch.testing.assert_close(J[row], expected)
    np.testing.assert_allclose(A.softmax_jacobian(x.numpy()), J.numpy())
    torch.testing.assert_close(J.sum(-1), torch.zeros(5, 4, dtype=torch.float64))


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="choose one of sigmoid, tanh"):
        A.get_activation("swish")
    with pytest.raises(ValueError, match="softmax is not elementwise"):
        A.get_activation("softmax")


def test_neuron_by_hand_and_in_batch():
    x, w, b = np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.5   # z = 0.5 - 2 + 0.5 = -1
    assert A.neuron(x, w, b, "sigmoid") == pytest.approx(1 / (1 + math.e))
    assert A.neuron(x, w, b, "relu") == 0.0
    X = torch.tensor([[1.0, 2.0], [3.0, 0.0]], dtype=torch.float64)
    out = A.neuron(X, w, b, "tanh")
    assert isinstance(out, torch.Tensor) and out.shape == (2,)
    torch.testing.assert_close(out, torch.tanh(X @ torch.tensor(w) + b))
    with pytest.raises(ValueError, match="one weight per input"):
        A.neuron(np.ones(3), w, b)


def test_neuron_surface_orientation_and_values():
    x1, x2, a = A.neuron_surface([2.0, -1.0], 0.5, "tanh", lim=2.0, resolution=5)
    assert a.shape == (5, 5)
    i, j = 1, 3                                    # row follows x2, column follows x1
    assert a[i, j] == pytest.approx(math.tanh(2.0 * x1[j] - 1.0 * x2[i] + 0.5))
    with pytest.raises(ValueError, match="exactly 2 weights"):
        A.neuron_surface([1.0], 0.0)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "gelu"])
def test_chain_gradient_matches_autograd(name):
    weight, bias, depth = 1.5, 0.1, 8
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    a, expected = x, []
    for _ in range(depth):
        a = REFERENCE[name](weight * a + bias)
        expected.append(torch.autograd.grad(a, x, retain_graph=True)[0].item())
    np.testing.assert_allclose(A.chain_gradient(name, depth, 0.7, weight, bias), expected, rtol=1e-10)


def test_sigmoid_gradient_vanishes_with_depth_but_relu_does_not():
    sig = A.chain_gradient("sigmoid", 10, x=1.0, weight=1.0)
    assert abs(sig[-1]) < 0.25 ** 10 * 1.01        # each layer multiplies by at most 0.25
    np.testing.assert_array_equal(A.chain_gradient("relu", 10, x=1.0, weight=1.0), np.ones(10))
    with pytest.raises(ValueError, match="depth"):
        A.chain_gradient("relu", 0)
