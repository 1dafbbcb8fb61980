"""recsys_lab.losses: softmax and cross-entropy against torch (values, autograd) and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys_lab import losses
from recsys_lab.backprop import finite_difference_grad

GEN = torch.Generator().manual_seed(0)
LOGITS = torch.randn(7, 5, generator=GEN, dtype=torch.float64) * 3
LABELS = torch.randint(0, 5, (7,), generator=GEN)
HUGE = torch.tensor([[1000.0, 1001.0], [-1000.0, -1001.0], [1000.0, -1000.0]], dtype=torch.float64)
HUGE_LABELS = torch.tensor([0, 1, 1])


@pytest.mark.parametrize("logits", [LOGITS, HUGE], ids=["random", "huge"])
def test_log_softmax_and_softmax_match_torch(logits):
    torch.testing.assert_close(losses.log_softmax(logits), F.log_softmax(logits, dim=-1), atol=1e-12, rtol=0)
    torch.testing.assert_close(losses.softmax(logits), F.softmax(logits, dim=-1), atol=1e-12, rtol=0)
    np.testing.assert_allclose(losses.log_softmax(logits.numpy()), F.log_softmax(logits, dim=-1).numpy(),
                               atol=1e-12, rtol=0)
    assert isinstance(losses.log_softmax(logits.numpy()), np.ndarray)


def test_logsumexp_matches_torch_and_is_stable_where_the_naive_one_overflows():
    torch.testing.assert_close(losses.logsumexp(LOGITS), torch.logsumexp(LOGITS, dim=-1), atol=1e-12, rtol=0)
    np.testing.assert_allclose(losses.logsumexp(HUGE.numpy()), torch.logsumexp(HUGE, dim=-1).numpy(),
                               atol=1e-12, rtol=0)
    assert losses.logsumexp(np.array([1000.0, 1001.0])) == pytest.approx(1001 + np.log1p(np.exp(-1.0)), abs=1e-12)
    naive = losses.naive_logsumexp(np.array([[1000.0, 1001.0]]))
    assert np.isinf(naive).all()
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([1000.0, 1001.0]))
        assert np.isnan(e / e.sum()).all()              # inf / inf: what the stable softmax avoids
    np.testing.assert_allclose(losses.softmax(np.array([1000.0, 1001.0])), [1 / (1 + np.e), np.e / (1 + np.e)],
                               atol=1e-15)
    assert np.isfinite(losses.log_softmax(HUGE.numpy())).all()
    assert losses.logsumexp(np.full((1, 3), -np.inf))[0] == -np.inf   # empty sum, as torch
    assert losses.logsumexp(np.zeros((2, 4)), keepdims=True).shape == (2, 1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["random", "huge"])
def test_cross_entropy_matches_torch(reduction, case):
    z, y = (LOGITS, LABELS) if case == "random" else (HUGE, HUGE_LABELS)
    ours = losses.cross_entropy(z, y, reduction=reduction)
    ref = F.cross_entropy(z, y, reduction=reduction)
    torch.testing.assert_close(ours, ref, atol=1e-10, rtol=0)
    ours_np = losses.cross_entropy(z.numpy(), y.numpy(), reduction=reduction)
    np.testing.assert_allclose(ours_np, ref.numpy(), atol=1e-10, rtol=0)
    assert np.shape(ours_np) == ((len(y),) if reduction == "none" else ())


def test_cross_entropy_is_the_categorical_negative_log_likelihood():
    ref = -torch.distributions.Categorical(logits=LOGITS).log_prob(LABELS)
    torch.testing.assert_close(losses.cross_entropy(LOGITS, LABELS, reduction="none"), ref, atol=1e-12, rtol=0)
    # and it is invariant to adding a constant to a row of logits
    torch.testing.assert_close(losses.cross_entropy(LOGITS + 123.0, LABELS), losses.cross_entropy(LOGITS, LABELS),
                               atol=1e-12, rtol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["random", "huge"])
def test_cross_entropy_grad_matches_torch_autograd(reduction, case):
    z, y = (LOGITS, LABELS) if case == "random" else (HUGE, HUGE_LABELS)
    leaf = z.clone().requires_grad_(True)
    loss = F.cross_entropy(leaf, y, reduction=reduction)
    loss.sum().backward()           # for "none": the gradient of each example's loss, summed
    ours = losses.cross_entropy_grad(z, y, reduction=reduction)
    torch.testing.assert_close(ours, leaf.grad, atol=1e-12, rtol=0)
    # autograd through our own torch implementation gives the same
    leaf2 = z.clone().requires_grad_(True)
    losses.cross_entropy(leaf2, y, reduction=reduction).sum().backward()
    torch.testing.assert_close(ours, leaf2.grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(ours.sum(dim=1), torch.zeros(len(y), dtype=torch.float64), atol=1e-12, rtol=0)


def test_cross_entropy_grad_is_softmax_minus_onehot():
    onehot = F.one_hot(LABELS, 5).double()
    torch.testing.assert_close(losses.cross_entropy_grad(LOGITS, LABELS, reduction="none"),
                               F.softmax(LOGITS, dim=-1) - onehot, atol=1e-14, rtol=0)
    torch.testing.assert_close(losses.cross_entropy_grad(LOGITS, LABELS),
                               (F.softmax(LOGITS, dim=-1) - onehot) / len(LABELS), atol=1e-14, rtol=0)


def test_cross_entropy_grad_matches_finite_differences():
    z, y = LOGITS.numpy(), LABELS.numpy()
    numeric = finite_difference_grad(lambda v: losses.cross_entropy(v, y), z, eps=1e-6)
    ours = losses.cross_entropy_grad(z, y)
    assert np.abs(ours - numeric).max() < 1e-9
    assert isinstance(ours, np.ndarray) and ours.shape == z.shape


def test_binary_cross_entropy_is_the_bernoulli_negative_log_likelihood():
    z = torch.tensor([-800.0, -3.0, -0.2, 0.0, 0.7, 4.0, 800.0], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    for reduction in ("mean", "sum", "none"):
        torch.testing.assert_close(losses.binary_cross_entropy_with_logits(z, y, reduction),
                                   F.binary_cross_entropy_with_logits(z, y, reduction=reduction), atol=1e-12, rtol=0)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits(z.numpy(), y.numpy(), "none"),
                               -torch.distributions.Bernoulli(logits=z).log_prob(y).numpy(), atol=1e-12, rtol=0)
    # two classes with logits (0, z) are the same model: CE = BCE
    two = torch.stack([torch.zeros_like(z), z], dim=1)
    torch.testing.assert_close(losses.cross_entropy(two, y.long(), "none"),
                               losses.binary_cross_entropy_with_logits(z, y, "none"), atol=1e-12, rtol=0)


def test_mse_is_the_gaussian_negative_log_likelihood_up_to_scale_and_constant():
    pred = torch.randn(6, 2, generator=GEN, dtype=torch.float64)
    target = torch.randn(6, 2, generator=GEN, dtype=torch.float64)
    torch.testing.assert_close(losses.mse(pred, target), F.mse_loss(pred, target), atol=1e-14, rtol=0)
    for sigma in (0.5, 1.0, 2.0):
        nll = -torch.distributions.Normal(pred, sigma).log_prob(target)
        torch.testing.assert_close(losses.gaussian_nll(pred, target, sigma, "none"), nll, atol=1e-12, rtol=0)
        expected = losses.mse(pred, target) / (2 * sigma ** 2) + np.log(sigma) + 0.5 * np.log(2 * np.pi)
        assert float(losses.gaussian_nll(pred, target, sigma)) == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: losses.cross_entropy(np.zeros(3), [0]), "shape \\(batch, classes\\)"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0]), "one class index per row"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), "integer class indices"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0, 3]), "0..2"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0, 1], reduction="avg"), "reduction"),
    (lambda: losses.cross_entropy_grad(np.zeros((2, 3)), [0, -1]), "0..2"),
    (lambda: losses.mse(np.zeros(3), np.zeros(2)), "shape"),
    (lambda: losses.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2)), "shape"),
    (lambda: losses.gaussian_nll(np.zeros(3), np.zeros(3), sigma=0.0), "sigma"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
