import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.data import leave_one_out, make_synthetic_ratings, random_split
from recsys_lab.metrics import rmse
from recsys_lab.models import AutoRec, BiasBaseline, GlobalMean, IAutoRec, ImplicitAutoRec, TorchRecommender
from recsys_lab.models.autorec import AutoRecNet, iautorec_objective, masked_squared_error
from recsys_lab.models.ncf import leave_one_out_metrics
from model_contract import ModelContract

SMALL = dict(n_factors=8, epochs=3, batch_size=16, device="cpu")


def test_autorec_is_the_implicit_variant():
    assert AutoRec is ImplicitAutoRec and "not the paper's model" in ImplicitAutoRec.__doc__


class TestAutoRecContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return ImplicitAutoRec(**{**SMALL, **kw})


# ----- I-AutoRec (Sedhain et al., 2015): explicit ratings, observed entries only ----------------

class TestIAutoRecContract(ModelContract):
    predicts_ratings = True

    def make_model(self, **kw):
        return IAutoRec(**{**SMALL, "reg": 1.0, **kw})


def _tiny_net(n_users=4, n_factors=3, seed=0):
    net = AutoRecNet(n_users, n_factors)
    net.reset_parameters(torch.Generator().manual_seed(seed))
    with torch.no_grad():                       # non-zero biases, so their gradients are tested too
        net.encoder.bias.copy_(torch.linspace(-0.5, 0.5, n_factors))
        net.decoder.bias.copy_(torch.linspace(3.0, 4.0, n_users))
    return net


def _grads(net, loss):
    net.zero_grad()
    loss.backward()
    return [p.grad.clone() for p in net.parameters()]


def test_unobserved_entries_change_neither_loss_nor_gradient():
    net = _tiny_net()
    observed = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]])
    ratings = torch.tensor([[4.0, 0.0, 2.5, 0.0], [0.0, 5.0, 3.0, 1.0]])
    garbage = ratings + (1 - observed) * torch.tensor([[0.0, 7.0, 0.0, -3.0], [9.0, 0.0, 0.0, 0.0]])
    loss_a = masked_squared_error(net, ratings, observed)
    grads_a = _grads(net, loss_a)
    loss_b = masked_squared_error(net, garbage, observed)
    grads_b = _grads(net, loss_b)
    assert loss_a.item() == loss_b.item()
    for ga, gb in zip(grads_a, grads_b):
        assert torch.equal(ga, gb)
    # ... whereas an observed entry does change both (so the comparison above can fail)
    changed = ratings.clone()
    changed[0, 0] = 1.0
    loss_c = masked_squared_error(net, changed, observed)
    assert loss_c.item() != loss_a.item()
    assert any(not torch.equal(ga, gc) for ga, gc in zip(grads_a, _grads(net, loss_c)))


def test_masked_error_by_hand_and_objective_against_a_torch_reference():
    net = AutoRecNet(n_users=3, n_factors=2)
    with torch.no_grad():
        net.encoder.weight.copy_(torch.tensor([[0.2, 0.0, -0.2], [0.1, 0.1, 0.1]]))
        net.encoder.bias.zero_()
        net.decoder.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
        net.decoder.bias.copy_(torch.tensor([3.0, 3.0, 3.0]))
    ratings = torch.tensor([[5.0, 0.0, 5.0]])      # users 0 and 2 rated the item 5 stars
    observed = torch.tensor([[1.0, 0.0, 1.0]])
    h = torch.sigmoid(torch.tensor([0.2 * 5 - 0.2 * 5, 0.1 * 10]))   # (sigmoid(0), sigmoid(1))
    out = torch.stack([2 * h[0] + 3, 2 * h[1] + 3, h[0] + h[1] + 3])
    by_hand = (5 - out[0]) ** 2 + (5 - out[2]) ** 2                    # user 1 is not observed
    torch.testing.assert_close(masked_squared_error(net, ratings, observed), by_hand)

    # the full objective over a small random matrix, written out entry by entry
    gen = torch.Generator().manual_seed(1)
    net = _tiny_net(n_users=5, n_factors=3)
    observed = (torch.rand(6, 5, generator=gen) < 0.5).float()
    ratings = torch.randint(1, 6, (6, 5), generator=gen).float() * observed
    reg, rows = 0.7, torch.tensor([1, 4])
    got = iautorec_objective(net, ratings[rows], observed[rows], reg, n_items=6, n_observed=int(observed.sum()))
    total = torch.zeros(())
    for i in rows.tolist():
        pred = net.decoder(torch.sigmoid(net.encoder(ratings[i])))
        for u in range(5):
            if observed[i, u]:
                total = total + (ratings[i, u] - pred[u]) ** 2
    decay = reg / 2 * ((net.encoder.weight ** 2).sum() + (net.decoder.weight ** 2).sum())
    torch.testing.assert_close(got, (total * 6 / 2 + decay) / observed.sum())
    with pytest.raises(ValueError, match="same shape"):
        masked_squared_error(net, ratings, observed[:, :3])


@pytest.fixture(scope="module")
def synthetic_split():
    synth = make_synthetic_ratings(n_users=80, n_items=60, density=0.3, seed=3)
    return random_split(synth.ratings, 0.2, seed=0)


def test_batch_loss_is_built_from_the_training_frame(synthetic_split):
    train, _ = synthetic_split
    model = IAutoRec(**{**SMALL, "reg": 2.0}).fit(train, progress=False)
    rows = torch.tensor([0, 5, 7])
    r = torch.zeros(3, model.data_.n_users)
    m = torch.zeros(3, model.data_.n_users)
    for j, i in enumerate(rows.tolist()):
        raw = model.data_.items.to_raw([i])[0]
        part = train[train.item == raw]
        cols = model.data_.users.to_index(part.user.to_numpy())
        r[j, cols] = torch.tensor(part.rating.to_numpy(), dtype=torch.float32)
        m[j, cols] = 1.0
    expected = iautorec_objective(model.network_, r, m, 2.0, n_items=model.data_.n_items, n_observed=len(train))
    torch.testing.assert_close(model._batch_loss(model.network_, (rows,)), expected)


def test_learns_ratings_better_than_the_global_mean(synthetic_split):
    train, test = synthetic_split
    model = IAutoRec(n_factors=16, epochs=40, learning_rate=0.01, reg=1.0, batch_size=8, device="cpu")
    model.fit(train, validation=test, progress=False)
    mean_rmse = rmse(test.rating, GlobalMean().fit(train).predict(test.user, test.item))
    assert model.history_.metrics["val_rmse"][-1] < mean_rmse - 0.05
    assert model.history_.metrics["val_rmse"][-1] == pytest.approx(
        rmse(test.rating, model.predict(test.user, test.item)), rel=1e-5)
    assert model.history_.train_loss[-1] < model.history_.train_loss[0]


def test_unknowns_fall_back_to_the_bias_baseline(synthetic_split):
    train, _ = synthetic_split
    model = IAutoRec(**SMALL).fit(train, progress=False)
    bias = BiasBaseline().fit(train)
    user, item = train.user.iloc[0], train.item.iloc[0]
    np.testing.assert_allclose(model.predict([user, -1, -1], [-1, item, -1]),
                               bias.predict([user, -1, -1], [-1, item, -1]))
    np.testing.assert_allclose(model.recommend(-1, k=5).item, bias.recommend(-1, k=5).item)
    with pytest.raises(KeyError, match="not fitted on user"):
        IAutoRec(**SMALL, unknown="error").fit(train, progress=False).predict([-1], [item])


def test_iautorec_determinism_save_load_and_row_order(synthetic_split, tmp_path):
    train, test = synthetic_split
    a = IAutoRec(**SMALL).fit(train, progress=False)
    b = IAutoRec(**SMALL).fit(train.sample(frac=1.0, random_state=5), progress=False)
    np.testing.assert_array_equal(a.scores_, b.scores_)
    c = IAutoRec(**{**SMALL, "seed": 1}).fit(train, progress=False)
    assert not np.array_equal(a.scores_, c.scores_)
    a.save(tmp_path / "iautorec.pt")
    loaded = TorchRecommender.load(tmp_path / "iautorec.pt")
    assert type(loaded) is IAutoRec
    np.testing.assert_array_equal(loaded.predict(test.user, test.item), a.predict(test.user, test.item))


def test_iautorec_bad_input(synthetic_split):
    train, test = synthetic_split
    with pytest.raises(ValueError, match="n_factors must be a whole number >= 1"):
        IAutoRec(**{**SMALL, "n_factors": 0}).fit(train, progress=False)
    with pytest.raises(ValueError, match="reg must be a finite number >= 0"):
        IAutoRec(**{**SMALL, "reg": float("nan")}).fit(train, progress=False)
    with pytest.raises(ValueError, match="validation frame: missing column"):
        IAutoRec(**SMALL).fit(train, validation=test.drop(columns="rating"), progress=False)
    with pytest.raises(ValueError, match="no validation rating has a user and an item seen"):
        IAutoRec(**SMALL).fit(train, validation=test.assign(user=test.user + 10_000), progress=False)


@pytest.fixture(scope="module")
def two_tastes():
    """40 users and 30 items in two groups; each user interacts with 8 items of their own group only."""
    rng = np.random.default_rng(0)
    rows = [(u, i) for u in range(40) for i in rng.choice(15, 8, replace=False) + 15 * (u % 2)]
    return leave_one_out(pd.DataFrame(rows, columns=["user", "item"]).assign(rating=1.0), by="random", seed=0)


def test_forward_and_loss_by_hand():
    net = AutoRecNet(n_users=3, n_factors=2)
    with torch.no_grad():
        net.encoder.weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]))
        net.encoder.bias.copy_(torch.tensor([0.0, -1.0]))
        net.decoder.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 2.0], [1.0, -1.0]]))
        net.decoder.bias.copy_(torch.tensor([0.0, 0.0, 0.5]))
    x = torch.tensor([[1.0, 0.0, 1.0]])
    h = torch.sigmoid(torch.tensor([0.0, 0.0]))                 # V x + c = (1 - 1, 0.5 + 0.5 - 1)
    expected = torch.stack([2 * h[0], 2 * h[1], h[0] - h[1] + 0.5])[None]
    torch.testing.assert_close(net(x), expected)
    assert float(net.penalty().detach()) == pytest.approx((1 + 1 + 3 * 0.25 + 4 + 4 + 1 + 1) / 2)


def test_loss_is_bce_over_every_entry(two_tastes):
    train, _ = two_tastes
    model = AutoRec(**{**SMALL, "reg": 0.1}).fit(train, progress=False)
    rows = torch.tensor([0, 3, 5])
    x = torch.zeros(3, model.data_.n_users)
    for j, i in enumerate(rows.tolist()):                        # item i's column, built from the frame
        raw_item = model.data_.items.to_raw([i])[0]
        x[j, model.data_.users.to_index(train.user[train.item == raw_item].to_numpy())] = 1.0
    out = model.network_(x)
    expected = F.binary_cross_entropy_with_logits(out, x) + 0.1 * model.network_.penalty()
    torch.testing.assert_close(model._batch_loss(model.network_, (rows,)), expected)


@pytest.mark.parametrize("split_seed", [0, 1, 2])
def test_learns_two_tastes(two_tastes, split_seed):
    """HR@5 is about 0.22 by chance and 0.62 for a model ranking the user's own group first
    (5 of the 8 unseen own-group items); with 40 users one split's HR moves by about +-0.08
    (split seeds 0-4 gave 0.45-0.625), so every split must clear 0.4, far above chance."""
    train, test = leave_one_out(pd.concat(two_tastes), by="random", seed=split_seed)
    model = AutoRec(n_factors=8, epochs=60, learning_rate=0.02, batch_size=8, device="cpu").fit(train, progress=False)
    assert leave_one_out_metrics(model, test, k=5, n_negatives=None)["hit_rate"] >= 0.4
    assert model.history_.train_loss[-1] < model.history_.train_loss[0]


def test_cold_start_uses_averages_and_save_load(two_tastes, tmp_path):
    train, test = two_tastes
    model = AutoRec(**SMALL).fit(train, progress=False)
    i = model.data_.items.to_index([train.item.iloc[0]])[0]
    u = model.data_.users.to_index([train.user.iloc[0]])[0]
    assert model.predict([-1], [train.item.iloc[0]])[0] == pytest.approx(model.scores_[i].mean())
    assert model.predict([train.user.iloc[0]], [-1])[0] == pytest.approx(model.scores_[:, u].mean())
    model.save(tmp_path / "autorec.pt")
    loaded = TorchRecommender.load(tmp_path / "autorec.pt")
    assert type(loaded) is ImplicitAutoRec and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(test.user, test.item), model.predict(test.user, test.item))


def test_validation_history_and_bad_parameters(two_tastes):
    train, test = two_tastes
    model = AutoRec(**SMALL).fit(train.drop(columns="rating"), validation=test, progress=False)
    assert model.history_.metrics["hit_rate@10"][-1] == pytest.approx(
        leave_one_out_metrics(model, test, k=10, n_negatives=None)["hit_rate"])
    with pytest.raises(ValueError, match="n_factors must be a whole number >= 1"):
        AutoRec(**{**SMALL, "n_factors": 0}).fit(train, progress=False)
    with pytest.raises(ValueError, match="reg must be a finite number >= 0"):
        AutoRec(**{**SMALL, "reg": -1.0}).fit(train, progress=False)
