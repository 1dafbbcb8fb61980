"""recsys_lab.network: from-scratch forward pass == nn.Module, and the playground's trainer."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.network import (FullBatchTrainer, TwoLayerNet, forward_batch, forward_one,
                                init_params, predict_grid, train_two_layer)
from recsys_lab.toy_data import make_moons


def test_init_params_shapes_bounds_and_seed():
    p = init_params(3, 5, 2, seed=4)
    assert {k: tuple(v.shape) for k, v in p.items()} == {"W1": (5, 3), "b1": (5,), "W2": (2, 5), "b2": (2,)}
    assert p["W1"].abs().max() <= 1 / math.sqrt(3) and p["W2"].abs().max() <= 1 / math.sqrt(5)
    q = init_params(3, 5, 2, seed=4)
    assert all(torch.equal(p[k], q[k]) for k in p)
    assert not torch.equal(p["W1"], init_params(3, 5, 2, seed=5)["W1"])
    with pytest.raises(ValueError, match="n_hidden must be a whole number >= 1"):
        init_params(2, 0)


def test_forward_one_by_hand():
    params = {"W1": torch.tensor([[1.0, -1.0], [0.5, 2.0]]), "b1": torch.tensor([0.0, -1.0]),
              "W2": torch.tensor([[2.0, -3.0]]), "b2": torch.tensor([0.5])}
    out = forward_one(torch.tensor([3.0, 1.0]), params, activation="relu", output_activation="identity")
    # z1 = [3 - 1 + 0, 1.5 + 2 - 1] = [2, 2.5]; a1 = relu(z1); z2 = 2*2 - 3*2.5 + 0.5 = -3
    torch.testing.assert_close(out["z1"], torch.tensor([2.0, 2.5]))
    torch.testing.assert_close(out["a2"], torch.tensor([-3.0]))
    sig = forward_one(torch.tensor([3.0, 1.0]), params, activation="relu")["a2"]
    torch.testing.assert_close(sig, torch.sigmoid(torch.tensor([-3.0])))


def test_batch_rows_equal_single_examples():
    params = init_params(4, 6, 3, seed=0)
    X = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    batch = forward_batch(X, params, "gelu", "tanh")
    assert batch["z1"].shape == (5, 6) and batch["a2"].shape == (5, 3)
    for i in range(5):
        one = forward_one(X[i], params, "gelu", "tanh")
        for key in ("z1", "a1", "z2", "a2"):
            torch.testing.assert_close(batch[key][i], one[key])


@pytest.mark.parametrize("activation, output_activation", [
    ("tanh", "sigmoid"), ("relu", "identity"), ("sigmoid", "tanh"), ("leaky_relu", "sigmoid"),
    ("gelu", "identity")])
def test_module_equals_from_scratch(activation, output_activation):
    X = torch.randn(20, 3, generator=torch.Generator().manual_seed(1)) * 2
    net = TwoLayerNet(3, 7, 2, activation, output_activation, seed=11)
    scratch = forward_batch(X, init_params(3, 7, 2, seed=11), activation, output_activation)
    with torch.no_grad():
        torch.testing.assert_close(net(X), scratch["a2"], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(net.logits(X), scratch["z2"], atol=1e-6, rtol=1e-6)


def test_module_params_round_trip_and_no_global_rng_use():
    state = torch.random.get_rng_state()
    net = TwoLayerNet(2, 4, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())
    p = {k: v * 2 for k, v in net.params().items()}
    net.load_params(p)
    assert all(torch.equal(net.params()[k], p[k]) for k in p)
    with pytest.raises(ValueError, match=r"W1 has shape \(3, 2\), this network needs \(4, 2\)"):
        net.load_params({**p, "W1": torch.zeros(3, 2)})
    with pytest.raises(ValueError, match="unknown activation"):
        TwoLayerNet(activation="softsign")


def test_shape_errors_point_to_the_right_function():
    params = init_params(2, 3)
    with pytest.raises(ValueError, match="use forward_batch"):
        forward_one(torch.zeros(4, 2), params)
    with pytest.raises(ValueError, match="use forward_one"):
        forward_batch(torch.zeros(2), params)


@pytest.fixture
def moons():
    return make_moons(n=120, noise=0.1, seed=0)


def test_trainer_step_is_plain_gradient_descent_like_torch_sgd(moons):
    X, y = moons
    trainer = FullBatchTrainer(X, y, n_hidden=5, activation="tanh", learning_rate=0.3, seed=2)
    trainer.step(5)
    net = TwoLayerNet(2, 5, 1, "tanh", "sigmoid", seed=2)
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).float()
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net.logits(Xt).reshape(-1), yt)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    np.testing.assert_allclose(trainer.history["loss"], losses, rtol=1e-5)
    for key, value in net.params().items():
        torch.testing.assert_close(trainer.model.params()[key], value)


def test_reg_adds_the_l2_penalty(moons):
    X, y = moons
    plain = FullBatchTrainer(X, y, n_hidden=4, reg=0.0, seed=0)
    reg = FullBatchTrainer(X, y, n_hidden=4, reg=0.1, seed=0)
    p = plain.model.params()
    penalty = 0.1 * (p["W1"].square().sum() + p["W2"].square().sum())
    with torch.no_grad():
        assert float(reg.objective()) == pytest.approx(float(plain.objective() + penalty), rel=1e-6)


def test_training_learns_moons(moons):
    X, y = moons
    trainer = train_two_layer(X, y, n_hidden=8, activation="tanh", learning_rate=1.0, epochs=500)
    loss = trainer.history["loss"]
    assert trainer.status == "ready" and trainer.steps == 500 and len(trainer.history["accuracy"]) == 500
    assert loss[-1] < 0.5 * loss[0]
    assert trainer.history["accuracy"][-1] > 0.9 and trainer.accuracy() > 0.9


def test_divergence_stops_cleanly_and_says_so(moons):
    X, y = moons
    trainer = train_two_layer(X, y, learning_rate=100.0, epochs=200)
    assert trainer.status == "diverged"
    assert trainer.steps < 200
    assert "diverged" in trainer.message and "learning rate" in trainer.message
    steps = trainer.steps
    assert trainer.step(10) == "diverged" and trainer.steps == steps     # no further steps
    assert all(math.isfinite(v) for v in trainer.history["loss"])


def test_callback_can_stop_training(moons):
    X, y = moons
    seen = []

    def stop_at_20(trainer):
        seen.append(trainer.steps)
        return trainer.steps >= 20

    trainer = train_two_layer(X, y, epochs=100, callback=stop_at_20, callback_every=10)
    assert seen == [10, 20] and trainer.steps == 20 and trainer.status == "stopped"


@pytest.mark.parametrize("kwargs, match", [
    (dict(learning_rate=0.0), "learning_rate must be a finite number > 0"),
    (dict(learning_rate=-1.0), "learning_rate must be a finite number > 0"),
    (dict(learning_rate=float("nan")), "learning_rate"),
    (dict(reg=-0.1), "reg must be a finite number >= 0"),
    (dict(n_hidden=0), "n_hidden must be a whole number >= 1"),
    (dict(activation="softmax"), "unknown activation"),
])
def test_trainer_rejects_bad_settings(moons, kwargs, match):
    with pytest.raises(ValueError, match=match):
        FullBatchTrainer(*moons, **kwargs)


def test_trainer_rejects_bad_labels_and_shapes(moons):
    X, y = moons
    with pytest.raises(ValueError, match="labels 0 and 1"):
        FullBatchTrainer(X, y + 1)
    with pytest.raises(ValueError, match="X must have shape"):
        FullBatchTrainer(X[:10], y)


def test_predict_grid_covers_the_data_and_matches_the_model(moons):
    X, _ = moons
    net = TwoLayerNet(2, 4, seed=0)
    x1, x2, p = predict_grid(net, X, resolution=25, margin=0.5)
    assert p.shape == (25, 25) and ((p > 0) & (p < 1)).all()
    assert x1[0] <= X[:, 0].min() - 0.5 + 1e-6 and x2[-1] >= X[:, 1].max() + 0.5 - 1e-6
    with torch.no_grad():
        direct = net(torch.tensor([[x1[7], x2[3]]]))
    assert p[3, 7] == pytest.approx(float(direct), abs=1e-6)
