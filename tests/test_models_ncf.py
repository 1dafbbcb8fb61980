import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.data import leave_one_out
from recsys_lab.evaluation import evaluate_ranking
from recsys_lab.models import GMF, NCFMLP, DotProduct, MatrixFactorization, MostPopular, NeuMF, TorchRecommender
from recsys_lab.models.ncf import (DotNet, GMFNet, NeuMFNet, bce_loss, bpr_loss, expected_sampled_metrics,
                                   hit_rate_ndcg, leave_one_out_metrics, leave_one_out_ranks)
from model_contract import ModelContract

SMALL = dict(n_factors=4, epochs=2, batch_size=64, device="cpu")


MODELS = [DotProduct, GMF, NCFMLP, NeuMF]


class TestDotProductContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return DotProduct(**{**SMALL, **kw})


class TestGMFContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return GMF(**{**SMALL, "loss": "bpr", **kw})


class TestNCFMLPContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return NCFMLP(**{**SMALL, "layers": (8, 4), **kw})


class TestNeuMFContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return NeuMF(**{**SMALL, "layers": (8, 4), **kw})


@pytest.fixture(scope="module")
def two_tastes():
    """40 users and 30 items in two groups; each user interacts with 8 items of their own group only."""
    rng = np.random.default_rng(0)
    rows = [(u, i) for u in range(40) for i in rng.choice(15, 8, replace=False) + 15 * (u % 2)]
    frame = pd.DataFrame(rows, columns=["user", "item"]).assign(rating=1.0)
    return leave_one_out(frame, by="random", seed=0)


def test_bce_loss_matches_torch_and_hand_values():
    logits = torch.tensor([0.0, 2.0, -3.0, 40.0, -40.0])
    labels = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    torch.testing.assert_close(bce_loss(logits, labels), F.binary_cross_entropy_with_logits(logits, labels))
    assert float(bce_loss(torch.zeros(3), torch.tensor([1.0, 0.0, 1.0]))) == pytest.approx(np.log(2))
    assert float(bce_loss(torch.tensor([100.0]), torch.tensor([0.0]))) == pytest.approx(100.0)  # no log(0)


def test_bpr_loss_matches_log_sigmoid_and_hand_values():
    pos, neg = torch.tensor([1.0, 0.0, 5.0]), torch.tensor([0.0, 2.0, -60.0])
    torch.testing.assert_close(bpr_loss(pos, neg), -F.logsigmoid(pos - neg).mean())
    assert float(bpr_loss(torch.zeros(2), torch.zeros(2))) == pytest.approx(np.log(2))


def test_networks_compute_their_formulas():
    gen = torch.Generator().manual_seed(0)
    users, items = torch.tensor([0, 1, 2]), torch.tensor([3, 0, 1])
    dot = DotNet(3, 4, 5)
    dot.reset_parameters(gen)
    with torch.no_grad():
        dot.item_bias.weight.copy_(torch.arange(4.0)[:, None])
    expected = (dot.user_factors.weight[users] * dot.item_factors.weight[items]).sum(1) + torch.tensor([3.0, 0.0, 1.0])
    torch.testing.assert_close(dot(users, items), expected)
    gmf = GMFNet(3, 4, 5)
    gmf.reset_parameters(gen)
    with torch.no_grad():                      # h = 1, b = 0 makes GMF a plain dot product
        gmf.out.weight.fill_(1.0)
        gmf.out.bias.zero_()
    torch.testing.assert_close(gmf(users, items), (gmf.user_factors.weight[users] * gmf.item_factors.weight[items]).sum(1))
    neumf = NeuMFNet(3, 4, 5, layers=(6, 2))
    neumf.reset_parameters(gen)
    with torch.no_grad():
        g = neumf.user_gmf.weight[users] * neumf.item_gmf.weight[items]
        h = torch.cat([neumf.user_mlp.weight[users], neumf.item_mlp.weight[items]], 1)
        for layer in neumf.tower:
            h = layer(h)
        manual = torch.cat([g, h], 1) @ neumf.out.weight[0] + neumf.out.bias[0]
        torch.testing.assert_close(neumf(users, items), manual)
        assert (neumf.tower[0].bias == 0).all() and neumf.user_gmf.weight.std() < 0.2
    # the penalty is the squared norm of every row a pair uses
    torch.testing.assert_close(gmf.penalty(users, items),
                               (gmf.user_factors.weight[users] ** 2).sum(1) + (gmf.item_factors.weight[items] ** 2).sum(1))


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("loss", ["bce", "bpr"])
def test_models_learn_two_tastes(two_tastes, cls, loss):
    """Held-out items of the user's own group rank high: HR@5 is 5/23 = 0.22 by chance (and for
    MostPopular), 5/8 = 0.62 for a model that ranks the user's 8 unseen own-group items first."""
    train, test = two_tastes
    model = cls(n_factors=8, epochs=20, learning_rate=0.01, reg=0.01, batch_size=64, loss=loss, device="cpu")
    model.fit(train, progress=False)
    assert leave_one_out_metrics(model, test, k=5, n_negatives=None)["hit_rate"] >= 0.45
    assert model.history_.train_loss[-1] < model.history_.train_loss[0]


def test_full_catalogue_metrics_agree_with_evaluate_ranking(two_tastes):
    train, test = two_tastes
    for model in (MostPopular().fit(train), GMF(**SMALL).fit(train, progress=False)):
        ours = leave_one_out_metrics(model, test, k=5, n_negatives=None)
        ref = evaluate_ranking(model, test, k=5, metrics=("hit_rate", "ndcg")).summary
        assert ours["hit_rate"] == pytest.approx(ref["hit_rate"]) and ours["ndcg"] == pytest.approx(ref["ndcg"])


def test_sampled_ranks_never_exceed_full_ranks(two_tastes):
    train, test = two_tastes
    model = DotProduct(**SMALL).fit(train, progress=False)
    ranks = leave_one_out_ranks(model, test, n_negatives=5, seed=1)
    assert (ranks.sampled_rank <= ranks["rank"]).all() and (ranks.sampled_rank <= 5).all()
    assert (ranks.n_candidates == 23).all() and ranks.rankable.all()  # 30 items - 7 in train
    # with as many negatives as candidates, sampling changes nothing
    everything = leave_one_out_ranks(model, test, n_negatives=1000)
    assert (everything.sampled_rank == everything["rank"]).all()
    # sampled metrics are reproducible and flatter (never lower) than full-catalogue ones
    m1 = leave_one_out_metrics(model, test, k=3, n_negatives=5, seed=2)
    assert m1 == leave_one_out_metrics(model, test, k=3, n_negatives=5, seed=2)
    assert m1["sampled_hit_rate"] >= m1["hit_rate"] and m1["sampled_ndcg"] >= m1["ndcg"]


def test_expected_sampled_metrics_match_simulation_and_hand_values():
    rng = np.random.default_rng(0)
    n, r, m, k = 300, 40, 50, 10
    above = np.array([(rng.choice(n - 1, m, replace=False) < r).sum() for _ in range(20000)])
    simulated = {"hit_rate": np.mean(above < k), "ndcg": np.mean((above < k) / np.log2(above + 2))}
    assert expected_sampled_metrics([r], n, m, k) == pytest.approx(simulated, abs=0.01)
    # every other candidate drawn: the sampled rank is the full rank
    assert expected_sampled_metrics([0, 9, 10, 20], 21, n_negatives=100, k=10) == pytest.approx(
        hit_rate_ndcg([0, 9, 10, 20], k=10))
    # far down a long list, an item is still a sampled "hit" most of the time
    assert expected_sampled_metrics([500], 9000)["hit_rate"] > 0.8
    # an item the model cannot rank (rank == n_candidates) is behind every drawn candidate
    assert expected_sampled_metrics([21], 21, n_negatives=100, k=10)["hit_rate"] == 0.0
    assert expected_sampled_metrics([21], 21, n_negatives=5, k=10)["hit_rate"] == 1.0   # a list shorter than k
    with pytest.raises(ValueError, match="0 <= rank <= n_candidates"):
        expected_sampled_metrics([30], 21)


def test_sampled_ranks_follow_the_hypergeometric_law(two_tastes):
    train, test = two_tastes
    model = GMF(**SMALL).fit(train, progress=False)
    full = leave_one_out_ranks(model, test, n_negatives=None)
    sampled = [leave_one_out_metrics(model, test, k=2, n_negatives=6, seed=s)["sampled_hit_rate"] for s in range(25)]
    expected = expected_sampled_metrics(full["rank"], full.n_candidates, n_negatives=6, k=2)["hit_rate"]
    assert np.mean(sampled) == pytest.approx(expected, abs=0.03)


def test_ranks_by_hand(tiny_ratings):
    model = MostPopular().fit(tiny_ratings)  # counts: 10: 3, 20: 2, 30: 2, 40: 1, 50: 1
    test = pd.DataFrame({"user": [2, 4, 1], "item": [30, 50, 20]})
    ranks = leave_one_out_ranks(model, test, n_negatives=None)
    # user 2 saw 10, 40 -> list 20, 30, 50; user 4 saw 10 -> 20, 30, 40, 50; user 1 saw item 20 already
    assert ranks["rank"].tolist() == [1, 3, 2] and ranks.rankable.tolist() == [True, True, False]
    assert hit_rate_ndcg([0, 1, 10], k=10) == pytest.approx({"hit_rate": 2 / 3, "ndcg": (1 + 1 / np.log2(3)) / 3})
    with pytest.raises(ValueError, match="k must be"):
        hit_rate_ndcg([0], k=0)


def test_unknown_user_is_scored_as_the_average_user(two_tastes):
    train, _ = two_tastes
    model = DotProduct(**SMALL).fit(train, progress=False)
    net = model.network_
    with torch.no_grad():
        p = net.user_factors.weight.mean(0)
        expected = net.item_factors.weight @ p + net.item_bias.weight[:, 0]
    recs = model.recommend(-1, k=30)
    np.testing.assert_allclose(recs.score, np.sort(expected.double().numpy())[::-1], rtol=1e-6)
    assert model.predict([-1], [train.item.iloc[0]])[0] == pytest.approx(
        float(expected[model.data_.items.to_index([train.item.iloc[0]])[0]]), rel=1e-6)


def test_fit_without_rating_column_and_validation_history(two_tastes):
    train, test = two_tastes
    model = GMF(**{**SMALL, "epochs": 3}).fit(train.drop(columns="rating"), validation=test, progress=False)
    frame = model.history_.to_frame()
    assert list(frame.columns) == ["epoch", "train_loss", "val_loss", "hit_rate@10", "ndcg@10", "lr"]
    final = leave_one_out_metrics(model, test, k=10, n_negatives=None)
    assert frame["hit_rate@10"].iloc[-1] == pytest.approx(final["hit_rate"])
    assert frame.val_loss.iloc[-1] == pytest.approx(1 - final["ndcg"])


def test_neumf_save_load_identical(two_tastes, tmp_path):
    train, test = two_tastes
    model = NeuMF(**{**SMALL, "layers": (8, 4), "loss": "bpr"}).fit(train, progress=False)
    model.save(tmp_path / "neumf.pt")
    loaded = TorchRecommender.load(tmp_path / "neumf.pt")
    assert type(loaded) is NeuMF and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(test.user, test.item), model.predict(test.user, test.item))
    np.testing.assert_array_equal(loaded.predict([-1, 0], [0, -1]), model.predict([-1, 0], [0, -1]))
    with pytest.raises(ValueError, match="holds a NeuMF, not a MatrixFactorization"):
        MatrixFactorization.load(tmp_path / "neumf.pt")


@pytest.mark.parametrize("bad, message", [
    (dict(loss="mse"), "loss must be 'bce'"),
    (dict(n_negatives=0), "n_negatives must be a whole number >= 1"),
    (dict(layers=()), "layers must be a non-empty tuple"),
    (dict(layers="64"), "layers must be a non-empty tuple"),
    (dict(layers=(8, 0)), "every entry of layers must be a whole number >= 1"),
    (dict(n_factors=-1), "n_factors must be a whole number >= 1"),
    (dict(learning_rate=-0.1), "learning_rate must be a finite number > 0"),
])
def test_bad_hyper_parameters_give_clear_errors(two_tastes, bad, message):
    train, _ = two_tastes
    with pytest.raises(ValueError, match=message):
        NeuMF(**{**SMALL, **bad}).fit(train, progress=False)
