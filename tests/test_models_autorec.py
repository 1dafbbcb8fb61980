import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.data import leave_one_out
from recsys_lab.models import AutoRec, TorchRecommender
from recsys_lab.models.autorec import AutoRecNet
from recsys_lab.models.ncf import leave_one_out_metrics
from model_contract import ModelContract

SMALL = dict(n_factors=8, epochs=3, batch_size=16, device="cpu")




class TestAutoRecContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return AutoRec(**{**SMALL, **kw})


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
    assert type(loaded) is AutoRec and loaded.get_params() == model.get_params()
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
