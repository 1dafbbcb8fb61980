import numpy as np
import pandas as pd
import pytest
import torch

from recsys_lab import optimizers as kit
from recsys_lab.data import make_synthetic_ratings, random_split
from recsys_lab.evaluation import evaluate_ratings
from recsys_lab.models import BiasBaseline, MatrixFactorization, TorchRecommender
from recsys_lab.models.mf import BiasedMF, mf_loss
from recsys_lab.training import EarlyStopping
from model_contract import ModelContract

SMALL = dict(n_factors=4, epochs=5, learning_rate=0.02, batch_size=128, device="cpu")




class TestMatrixFactorizationContract(ModelContract):
    def make_model(self, **kw):
        return MatrixFactorization(**{**SMALL, **kw})


@pytest.fixture(scope="module")
def planted():
    """Dense enough synthetic ratings (3 planted factors, noise 0.3) to recover the structure."""
    synth = make_synthetic_ratings(n_users=200, n_items=100, density=0.5, noise=0.3, seed=1)
    train, test = random_split(synth.ratings, 0.2, seed=0)
    return synth, train, test


@pytest.fixture(scope="module")
def planted_model(planted):
    _, train, _ = planted
    return MatrixFactorization(n_factors=3, epochs=30, learning_rate=0.03, reg=0.005, batch_size=512,
                               device="cpu").fit(train, progress=False)


def test_forward_penalty_and_loss_by_hand():
    net = BiasedMF(n_users=2, n_items=2, n_factors=2, global_mean=3.0)
    with torch.no_grad():
        net.user_factors.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        net.item_factors.copy_(torch.tensor([[0.5, 0.5], [2.0, 1.0]]))
        net.user_bias.copy_(torch.tensor([0.1, -0.2]))
        net.item_bias.copy_(torch.tensor([0.3, 0.0]))
    users, items = torch.tensor([0, 1]), torch.tensor([1, 0])
    # user 0, item 1: 3 + 0.1 + 0.0 + (1*2 + 2*1) = 7.1; user 1, item 0: 3 - 0.2 + 0.3 + (0 - 0.5) = 2.6
    pred = net(users, items)
    torch.testing.assert_close(pred, torch.tensor([7.1, 2.6]))
    # |p|^2 + |q|^2 + b_u^2 + b_i^2: 5 + 5 + 0.01 + 0 and 1 + 0.5 + 0.04 + 0.09
    pen = net.penalty(users, items)
    torch.testing.assert_close(pen, torch.tensor([10.01, 1.63]))
    target = torch.tensor([5.0, 3.0])
    loss = mf_loss(pred, target, pen, reg=0.1)
    torch.testing.assert_close(loss, torch.tensor(((2.1 ** 2 + 0.1 * 10.01) + (0.4 ** 2 + 0.1 * 1.63)) / 2))


def test_gradient_of_one_rating_matches_the_sgd_update_rule():
    """d/dp_u of (r - r̂)² + reg |p_u|² is -2 e q_i + 2 reg p_u (the rule Surprise applies)."""
    net = BiasedMF(1, 1, 3, global_mean=3.0)
    net.reset_parameters(torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.item_bias.fill_(0.3)                                           # so the penalty's share shows
    u = i = torch.tensor([0])
    r, reg = torch.tensor([4.5]), 0.05
    mf_loss(net(u, i), r, net.penalty(u, i), reg).backward()
    with torch.no_grad():
        e = r - net(u, i)
        expected = -2 * e * net.item_factors[0] + 2 * reg * net.user_factors[0]
        torch.testing.assert_close(net.user_factors.grad[0], expected)
        torch.testing.assert_close(net.item_bias.grad, -2 * e + 2 * reg * net.item_bias)


def test_recovers_planted_factors(planted, planted_model):
    synth, train, test = planted
    noise_rmse = np.sqrt(np.mean((test.true_rating - test.rating) ** 2))   # error of the truth itself
    mf_rmse = evaluate_ratings(planted_model, test)["rmse"]
    bias_rmse = evaluate_ratings(BiasBaseline().fit(train), test)["rmse"]
    assert mf_rmse < 1.15 * noise_rmse, (mf_rmse, noise_rmse)
    assert mf_rmse < 0.7 * bias_rmse                                       # the factors carry real signal
    # the learned interaction p_u . q_i follows the planted one on unseen pairs
    u = planted_model.data_.users.to_index(test.user.to_numpy())
    i = planted_model.data_.items.to_index(test.item.to_numpy(), missing="minus1")
    ok = i >= 0
    learned = np.sum(planted_model.user_factors_[u[ok]] * planted_model.item_factors_[i[ok]], axis=1)
    truth = np.sum(synth.user_factors[test.user.to_numpy()[ok] - 1] * synth.item_factors[test.item.to_numpy()[ok] - 1], 1)
    assert np.corrcoef(learned, truth)[0, 1] > 0.8
    assert np.corrcoef(planted_model.item_bias_, synth.item_bias[planted_model.data_.items.ids - 1])[0, 1] > 0.8


def test_saved_model_reloads_to_identical_predictions(planted_model, planted, tmp_path):
    _, train, test = planted
    path = tmp_path / "mf.pt"
    planted_model.save(path)
    payload = torch.load(path, weights_only=True)                         # plain tensors, strings, numbers
    assert set(payload["state_dict"]) == {"user_factors", "item_factors", "user_bias", "item_bias", "global_mean"}
    loaded = MatrixFactorization.load(path)
    assert loaded.get_params() == planted_model.get_params()
    users, items = test.user.to_numpy(), test.item.to_numpy()
    np.testing.assert_array_equal(loaded.predict(users, items), planted_model.predict(users, items))
    pd.testing.assert_frame_equal(loaded.recommend(3, k=10), planted_model.recommend(3, k=10))
    assert loaded.history_.train_loss == planted_model.history_.train_loss
    assert type(TorchRecommender.load(path)) is MatrixFactorization         # the file knows its class


def test_save_load_with_string_ids_and_torch_optimizer(tiny_ratings, tmp_path):
    ratings = tiny_ratings.assign(user=lambda f: "u" + f.user.astype(str), item=lambda f: "i" + f.item.astype(str))
    model = MatrixFactorization(**{**SMALL, "optimizer": torch.optim.Adam}).fit(ratings, progress=False)
    model.save(tmp_path / "m.pt")
    loaded = MatrixFactorization.load(tmp_path / "m.pt")
    assert loaded.optimizer is torch.optim.Adam
    np.testing.assert_array_equal(loaded.predict(["u1", "u2"], ["i20", "i50"]), model.predict(["u1", "u2"], ["i20", "i50"]))


def test_load_rejects_other_files(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a model file"):
        MatrixFactorization.load(tmp_path / "other.pt")


def test_kit_and_torch_optimizers_train_the_same_model(tiny_ratings):
    """The course's Adam/SGD and torch.optim's give the same weights (same seed, same batches)."""
    for name, kit_cls, torch_cls in (("adam", kit.Adam, torch.optim.Adam), ("sgd", kit.SGD, torch.optim.SGD)):
        by_name = MatrixFactorization(**{**SMALL, "optimizer": name}).fit(tiny_ratings, progress=False)
        by_kit = MatrixFactorization(**{**SMALL, "optimizer": kit_cls}).fit(tiny_ratings, progress=False)
        by_torch = MatrixFactorization(**{**SMALL, "optimizer": torch_cls}).fit(tiny_ratings, progress=False)
        np.testing.assert_array_equal(by_name.item_factors_, by_kit.item_factors_)
        np.testing.assert_allclose(by_kit.item_factors_, by_torch.item_factors_, atol=1e-6)
        np.testing.assert_allclose(by_kit.user_bias_, by_torch.user_bias_, atol=1e-6)


@pytest.mark.parametrize("bad, message", [
    (dict(n_factors=0), "n_factors must be a whole number >= 1"),
    (dict(n_factors=2.5), "n_factors must be a whole number >= 1"),
    (dict(epochs=0), "epochs must be a whole number >= 1"),
    (dict(learning_rate=0), "learning_rate must be a finite number > 0"),
    (dict(learning_rate=float("nan")), "learning_rate must be a finite number > 0"),
    (dict(reg=-0.1), "reg must be a finite number >= 0"),
    (dict(batch_size=0), "batch_size must be a whole number >= 1"),
    (dict(seed=-1), "seed must be a whole number >= 0"),
    (dict(seed="zero"), "seed must be a whole number >= 0"),
    (dict(device="tpu"), "device must be"),
    (dict(optimizer="adamx"), "optimizer must be one of"),
    (dict(unknown="ignore"), "unknown must be"),
])
def test_bad_hyper_parameters_give_clear_errors(tiny_ratings, bad, message):
    model = MatrixFactorization(**{**SMALL, **bad})                       # __init__ only stores
    with pytest.raises(ValueError, match=message):
        model.fit(tiny_ratings, progress=False)
    assert not hasattr(model, "data_")                                     # nothing half-fitted


def test_divergence_is_a_clear_error_and_leaves_the_model_unfitted(tiny_ratings):
    model = MatrixFactorization(**{**SMALL, "optimizer": "sgd", "learning_rate": 1e6})
    with pytest.raises(ValueError, match="diverged.*smaller learning_rate"):
        model.fit(tiny_ratings, progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict([1], [10])


def test_validation_history_callbacks_and_early_stopping(planted):
    _, train, test = planted
    seen = []

    class Spy:
        def on_epoch_end(self, history):
            seen.append(history.epochs_run)

    model = MatrixFactorization(n_factors=3, epochs=4, learning_rate=0.03, batch_size=512, device="cpu")
    model.fit(train, validation=test, callbacks=[Spy()], progress=False)
    assert seen == [1, 2, 3, 4]
    frame = model.history_.to_frame()
    assert list(frame.columns) == ["epoch", "train_loss", "val_loss", "val_rmse", "lr"]
    # the last validation RMSE is the model's RMSE on the known test pairs
    known = test[test.item.isin(train.item)]
    assert frame.val_rmse.iloc[-1] == pytest.approx(evaluate_ratings(model, known)["rmse"], rel=1e-5)
    stopper = MatrixFactorization(n_factors=20, epochs=50, learning_rate=0.05, reg=0.0, batch_size=512, device="cpu")
    stopper.fit(train, validation=test, early_stopping=EarlyStopping(patience=2), progress=False)
    assert stopper.history_.status == "early_stopped" and stopper.history_.epochs_run < 50


def test_explain_similar_items_and_cold_start(planted_model):
    model = planted_model
    parts = model.explain(5, 7)
    raw = parts["global_mean"] + parts["user_bias"] + parts["item_bias"] + parts["interaction"]
    assert parts["prediction"] == pytest.approx(np.clip(raw, *model.rating_range_))
    # a new user is scored mu + b_i: the bias part only
    assert model.predict([-1], [7])[0] == pytest.approx(
        np.clip(model.global_mean_ + model.item_bias_[model.data_.items.to_index([7])[0]], *model.rating_range_))
    assert model.explain(-1, 7)["interaction"] == 0.0
    sims = model.similar_items(7, k=5)
    assert len(sims) == 5 and 7 not in set(sims.item) and (np.diff(sims.similarity) <= 0).all()
    q = model.item_factors_
    j, first = model.data_.items.to_index([7, sims.item.iloc[0]])
    assert sims.similarity.iloc[0] == pytest.approx(q[j] @ q[first] / np.linalg.norm(q[j]) / np.linalg.norm(q[first]))
    only = model.similar_items(7, k=3, candidates=[1, 2, 7])
    assert set(only.item) == {1, 2} and only.similarity.is_monotonic_decreasing  # never itself, nothing else
    with pytest.raises(KeyError, match="not fitted on item"):
        model.similar_items(-5)
    with pytest.raises(ValueError, match="k must be"):
        model.similar_items(7, k=0)


def test_different_seeds_give_different_models(tiny_ratings):
    a = MatrixFactorization(**SMALL, seed=0).fit(tiny_ratings, progress=False)
    b = MatrixFactorization(**SMALL, seed=1).fit(tiny_ratings, progress=False)
    assert not np.allclose(a.item_factors_, b.item_factors_)


# ----- a new user without refitting (fold_in) ------------------------------------------------

def ridge_objective(model, p, b, items, values):
    """The training objective's part that depends on one user: sum of squared errors + n*reg*(|p|^2 + b^2)."""
    q, bi = model.item_factors_[items], model.item_bias_[items]
    err = values - (model.global_mean_ + b + bi + q @ p)
    return (err ** 2).sum() + len(items) * model.reg * (p @ p + b * b)


def test_fold_in_is_the_ridge_solve_of_the_training_objective(planted_model, planted):
    model, (_, train, _) = planted_model, planted
    user_rows = train[train.user == train.user.iloc[0]]
    folded = model.fold_in(user_rows)
    p, b = folded.state
    items = model.data_.items.to_index(user_rows.item.to_numpy())
    values = user_rows.rating.to_numpy()
    # reference: torch least squares on the same normal equations, augmented as a stacked system
    a = torch.as_tensor(np.column_stack([model.item_factors_[items], np.ones(len(items))]))
    y = torch.as_tensor(values - model.global_mean_ - model.item_bias_[items])
    lam = len(items) * model.reg
    stacked = torch.cat([a, np.sqrt(lam) * torch.eye(a.shape[1], dtype=a.dtype)])
    ref = torch.linalg.lstsq(stacked, torch.cat([y, torch.zeros(a.shape[1], dtype=a.dtype)])).solution.numpy()
    np.testing.assert_allclose(np.r_[p, b], ref, atol=1e-10)
    # the gradient of the objective at the solution is 0 (autograd), and a nudge only raises it
    pt = torch.tensor(np.r_[p, b], requires_grad=True)
    err = torch.tensor(values) - (model.global_mean_ + pt[-1] + torch.as_tensor(model.item_bias_[items])
                                     + torch.as_tensor(model.item_factors_[items]) @ pt[:-1])
    ((err ** 2).sum() + lam * (pt ** 2).sum()).backward()
    assert float(pt.grad.abs().max()) < 1e-9
    assert ridge_objective(model, p + 0.01, b, items, values) > ridge_objective(model, p, b, items, values)
    # scores and predictions follow the MF formula; the fitted model is untouched
    np.testing.assert_allclose(folded.scores, model.global_mean_ + b + model.item_bias_ + model.item_factors_ @ p)
    assert folded.predict([7])[0] == pytest.approx(np.clip(folded.scores[model.data_.items.to_index([7])[0]],
                                                           *model.rating_range_))


def test_fold_in_recommends_by_the_tie_rule_and_excludes_the_rated(planted_model):
    model = planted_model
    folded = model.fold_in({1: 5.0, 2: 4.0, 3: 1.0})
    recs = folded.recommend(k=5)
    assert not {1, 2, 3} & set(recs.item)
    from recsys_lab.topk import top_k_candidates
    allowed = np.ones(model.data_.n_items, dtype=bool)
    allowed[model.data_.items.to_index([1, 2, 3])] = False
    assert recs.item.tolist() == model.data_.items.to_raw(top_k_candidates(folded.scores, allowed, 5)).tolist()
    assert model.recommend_for({1: 5.0, 2: 4.0, 3: 1.0}, k=5).equals(recs)
    # reg = 0: the minimum-norm least-squares solution, which fits 2 ratings exactly
    free = MatrixFactorization(**{**SMALL, "reg": 0.0}).fit(model.data_.ratings, progress=False)
    exact = free.fold_in({1: 5.0, 2: 1.5})
    pred = exact.scores[free.data_.items.to_index([1, 2])]
    np.testing.assert_allclose(pred, [5.0, 1.5], atol=1e-9)


@pytest.mark.parametrize("bad, message", [({}, "no ratings"), ({-3: 4.0}, r"does not know item\(s\) \[-3\]"),
                                          ({1: 9.0}, "off the scale"), ({1: "good"}, "not a number"),
                                          (pd.DataFrame({"item": [1, 1], "rating": [3.0, 4.0]}), "more than once"),
                                          (pd.DataFrame({"item": [1]}), "lack column"),
                                          ([1, 2], "must be a dict")])
def test_fold_in_refuses_bad_ratings(planted_model, bad, message):
    with pytest.raises(ValueError, match=message):
        planted_model.fold_in(bad)


def test_explain_reads_as_reasons_and_its_terms_add_up(planted_model, planted):
    model, (_, train, _) = planted_model, planted
    for user, item in [(5, 7), (train.user.iloc[0], 3)]:
        why = model.explain(user, item)
        raw = why["global_mean"] + why["user_bias"] + why["item_bias"] + why["interaction"]
        assert why["prediction"] == pytest.approx(np.clip(raw, *model.rating_range_))
        assert raw == pytest.approx(float(model._score_user(model.data_.users.to_index([user])[0])[
            model.data_.items.to_index([item])[0]]))
        assert f"{why['global_mean']:.2f}★" in why.text and f"{abs(why['item_bias']):.2f}★" in why.text
        assert ("above" in why.reasons[1]) == (why["user_bias"] >= 0)
        assert f"Together: {raw:.2f}★" in str(why)
    # the named movies were rated highly by the user and lie near the item (positive cosine)
    user = train.user.iloc[0]
    rated = train[train.user == user].set_index("item").rating
    for item in train.item.unique()[:20]:
        why = model.explain(user, item, titles=lambda ids: [f"title {i}" for i in ids])
        for near in why.near:
            assert rated[near] >= max(rated.mean(), model.global_mean_)
            assert f"title {near}" in why.text
    assert "nothing is known about you" in model.explain(-1, 7).text
    folded = model.fold_in({1: 5.0, 2: 4.0})
    fwhy = folded.explain(7)
    p, b = folded.state
    assert fwhy["user_bias"] == b and fwhy["interaction"] == pytest.approx(p @ model.item_factors_[
        model.data_.items.to_index([7])[0]])
    assert fwhy["prediction"] == pytest.approx(folded.predict([7])[0])
