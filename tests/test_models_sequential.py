"""GRU4Rec and SASRec: a planted sequential pattern, causality, recommend_next, losses by hand and
against torch, seeded reruns, weights_only reloads, bad input, and the shared model contract."""
import functools

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from recsys_lab.models import EASE, GRU4Rec, MostPopular, SASRec, TorchRecommender
from recsys_lab.models.sequence_data import SequenceBatches, left_padded, user_sequences
from recsys_lab.models.sequential import GRU4RecNet, SASRecNet, sampled_bce, softmax_cross_entropy
from recsys_lab.data import RatingData
from model_contract import ModelContract

SMALL = dict(n_factors=8, max_length=6, epochs=2, batch_size=16, device="cpu")
MODELS = {"SASRec": lambda **kw: SASRec(**{**SMALL, "n_blocks": 1, "n_heads": 2, **kw}),
          "GRU4Rec": lambda **kw: GRU4Rec(**{**SMALL, **kw})}


class TestSASRecContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return MODELS["SASRec"](**kw)


class TestGRU4RecContract(ModelContract):
    predicts_ratings = False

    def make_model(self, **kw):
        return MODELS["GRU4Rec"](**{"loss": "bce", **kw})


# ----- a planted pattern only the order reveals ------------------------------------------------

@functools.lru_cache(maxsize=1)
def planted(n_items=100, n_users=300, chunks=4, chunk=3, seed=0):
    """The items lie on one hidden cycle (a random permutation), and within a chunk item ``a`` is
    always followed by the next item on the cycle. A user's sequence is ``chunks`` runs of
    ``chunk`` consecutive cycle items from random places (no item twice); the final item of the
    last run is held out, so it always follows the last training item. Returns (train, test, successor)
    with ``successor[a]`` the item after ``a`` on the cycle."""
    rng = np.random.default_rng(seed)
    cycle = rng.permutation(n_items) + 1
    rows, test = [], []
    for user in range(1, n_users + 1):
        used, seq = set(), []
        while len(seq) < chunks * chunk:
            start = rng.integers(n_items)
            run = [int(cycle[(start + j) % n_items]) for j in range(chunk)]
            if used.isdisjoint(run):
                used.update(run)
                seq += run
        test.append((user, seq[-1]))
        rows += [(user, item, 1000 + t) for t, item in enumerate(seq[:-1])]
    return (pd.DataFrame(rows, columns=["user", "item", "timestamp"]).assign(rating=1.0),
            pd.DataFrame(test, columns=["user", "item"]), dict(zip(cycle.tolist(), np.roll(cycle, -1).tolist())))


def hit_rate(model, test, k):
    recs = model.recommend_many(test.user.to_numpy(), k=k)
    return float(np.mean([item in set(recs.item[recs.user == u]) for u, item in zip(test.user, test.item)]))


PLANTED = dict(n_factors=32, max_length=16, epochs=20, batch_size=64, dropout=0.1, device="cpu")


@functools.lru_cache(maxsize=None)
def planted_fit(name, loss):
    make = {"SASRec": lambda: SASRec(**PLANTED, n_blocks=1, learning_rate=0.005, loss=loss),
            "GRU4Rec": lambda: GRU4Rec(**PLANTED, learning_rate=0.01, loss=loss)}[name]
    return make().fit(planted()[0], progress=False)


def test_the_baselines_cannot_see_the_order():
    train, test, _ = planted()
    assert hit_rate(MostPopular().fit(train), test, 1) < 0.1
    assert hit_rate(EASE(reg=10.0).fit(train), test, 1) < 0.5          # 0.36: it cannot tell before from after


@pytest.mark.parametrize("name", ["SASRec", "GRU4Rec"])
@pytest.mark.parametrize("loss, floor", [("ce", 0.98), ("bce", 0.9)])
def test_sequence_models_learn_the_planted_order(name, loss, floor):
    train, test, _ = planted()
    model = planted_fit(name, loss)
    assert hit_rate(model, test, 1) >= floor                            # measured: ce 1.0, bce 0.97-0.98
    assert hit_rate(model, test, 5) >= 0.98


@pytest.mark.parametrize("name", ["SASRec", "GRU4Rec"])
def test_recommend_next_on_a_users_own_sequence_is_recommend(name):
    train, _, _ = planted()
    model = planted_fit(name, "ce")
    for user in (1, 17, 300):
        seq = model.sequence(user)
        mine = train[train.user == user].sort_values(["timestamp", "item"]).item.to_numpy()
        np.testing.assert_array_equal(seq, mine)
        for exclude in (True, False):
            one, nxt = model.recommend(user, k=10, exclude_seen=exclude), model.recommend_next(seq, 10, exclude)
            assert nxt.item.tolist() == one.item.tolist()
            np.testing.assert_allclose(nxt.score, one.score, rtol=1e-12, atol=1e-12)
    folded = model.fold_in({int(i): 1.0 for i in model.sequence(5)})       # fold_in keeps the order given
    assert folded.recommend(k=5).item.tolist() == model.recommend(5, k=5).item.tolist()


def test_recommend_next_serves_an_anonymous_session():
    model = planted_fit("SASRec", "ce")
    successor = planted()[2]
    for start in (1, 50, 100):                                          # sessions of one and of three items
        assert model.recommend_next([start], k=1).item.iloc[0] == successor[start]
        assert model.recommend_next([start, successor[start]], k=1).item.iloc[0] == successor[successor[start]]
    session = [1]
    long = model.sequence(1).tolist() * 3                               # only the last max_length count
    np.testing.assert_allclose(model.recommend_next(long, k=5, exclude_seen=False).score,
                               model.recommend_next(long[-16:], k=5, exclude_seen=False).score, rtol=1e-12)
    with pytest.raises(ValueError, match=r"does not know item\(s\) \[999\] \(position\(s\) \[1\] of the history\)"):
        model.recommend_next([session[0], 999])
    assert model.recommend_next([session[0], 999], skip_unknown=True).equals(model.recommend_next(session))
    weights = model.attention(model.sequence(1))
    assert weights.shape == (1, 1, 11) and np.allclose(weights.sum(-1), 1.0)


# ----- causality and padding ---------------------------------------------------------------------

def _net(cls, seed=0, **kw):
    net = cls(12, 8, **kw).double().eval()
    net.reset_parameters(torch.Generator().manual_seed(seed))
    with torch.no_grad():                                   # redraw so nothing sits at a symmetric default
        for name, p in net.named_parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=p.dtype))
        net.items.weight[net.pad].zero_()
    return net


@pytest.mark.parametrize("make", [lambda: _net(SASRecNet, max_length=6, n_blocks=2, n_heads=2),
                                  lambda: _net(GRU4RecNet, n_layers=2)])
def test_a_later_position_never_changes_an_earlier_state(make):
    net = make()
    seq = torch.tensor([[12, 12, 3, 7, 1, 9]])                    # two padding positions, then four items
    base = net(seq)
    for t in range(2, 6):
        changed = seq.clone()
        changed[0, t + 1:] = torch.tensor([0, 5, 11, 2])[: 5 - t]
        out = net(changed)
        torch.testing.assert_close(out[:, :t + 1], base[:, :t + 1], rtol=0, atol=1e-12)
        if t < 5:
            assert not torch.allclose(out[:, t + 1:], base[:, t + 1:])
    # and the state at t = 2 has no gradient with respect to the later items' embeddings
    emb_only = torch.autograd.grad(net(seq)[0, 2].sum(), net.items.weight)[0]
    assert emb_only[[7, 1, 9]].abs().max() == 0 and emb_only[3].abs().max() > 0


def test_the_gru_state_does_not_depend_on_the_amount_of_padding():
    net = _net(GRU4RecNet)
    short, long = torch.tensor([[12, 4, 8, 2]]), torch.tensor([[12, 12, 12, 12, 4, 8, 2]])
    torch.testing.assert_close(net(short)[:, -3:], net(long)[:, -3:], rtol=0, atol=1e-12)
    assert net(long)[:, :4].abs().max() == 0                          # padding has no state


def test_sequences_are_ordered_by_time_then_item_id_whatever_the_row_order():
    frame = pd.DataFrame({"user": [1, 1, 1, 1, 2, 2], "item": [30, 10, 20, 40, 20, 10],
                          "rating": 1.0, "timestamp": [5, 9, 5, 1, 3, 3]})
    items, indptr = user_sequences(RatingData(frame))
    data = RatingData(frame)
    assert data.items.to_raw(items[indptr[0]:indptr[1]]).tolist() == [40, 20, 30, 10]   # 5, 5: id 20 before 30
    assert data.items.to_raw(items[indptr[1]:indptr[2]]).tolist() == [10, 20]
    shuffled = RatingData(frame.iloc[[5, 2, 0, 4, 1, 3]])
    np.testing.assert_array_equal(user_sequences(shuffled)[0], items)
    dates = frame.assign(timestamp=pd.to_datetime(frame.timestamp, unit="D"))
    np.testing.assert_array_equal(user_sequences(RatingData(dates))[0], items)


def test_left_padding_and_training_pairs_by_hand():
    items, indptr = np.array([4, 5, 6, 7, 8, 1]), np.array([0, 5, 6])   # user 0: 4 5 6 7 8, user 1: 1
    assert left_padded(items, [0, 5], [5, 6], 3, 9).tolist() == [[6, 7, 8], [9, 9, 1]]
    batches = SequenceBatches(items, indptr, n_items=9, max_length=6, batch_size=4, n_negatives=1, shuffle=False)
    assert len(batches) == 1 and batches.n == 1                       # user 1 has no transition
    inputs, targets, negatives = next(iter(batches))
    assert inputs.tolist() == [[9, 9, 4, 5, 6, 7]] and targets.tolist() == [[9, 9, 5, 6, 7, 8]]
    many = SequenceBatches(np.tile([0, 1, 2], 200), np.arange(0, 601, 3), n_items=3, max_length=2,
                           batch_size=1000, n_negatives=1)
    _, targets, negatives = next(iter(many))
    assert (negatives != targets).all() and set(negatives.unique().tolist()) == {0, 1, 2}


# ----- the losses ----------------------------------------------------------------------------------

def test_softmax_cross_entropy_is_torchs_with_the_same_gradient():
    logits = torch.randn(5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([0, 6, 3, 3, 1])
    mine = softmax_cross_entropy(logits, targets)
    (grad,) = torch.autograd.grad(mine, logits)
    theirs = F.cross_entropy(logits, targets)
    torch.testing.assert_close(mine, theirs)
    torch.testing.assert_close(grad, torch.autograd.grad(theirs, logits)[0])
    by_hand = (torch.softmax(logits, -1) - F.one_hot(targets, 7)) / 5  # d/ds of mean(-log softmax)
    torch.testing.assert_close(grad, by_hand.detach())


def test_sampled_bce_by_hand():
    pos = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    neg = torch.tensor([0.0, -1.0], dtype=torch.float64, requires_grad=True)
    loss = sampled_bce(pos, neg)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    hand = (-np.log(0.5) - np.log(0.5) - np.log(sig(2.0)) - np.log(1 - sig(-1.0))) / 2
    assert abs(loss.item() - hand) < 1e-12
    loss.backward()
    np.testing.assert_allclose(pos.grad, [-(1 - 0.5) / 2, -(1 - sig(2.0)) / 2], rtol=1e-12)
    np.testing.assert_allclose(neg.grad, [0.5 / 2, sig(-1.0) / 2], rtol=1e-12)
    big = sampled_bce(torch.tensor([-200.0]), torch.tensor([200.0]))      # no log(0)
    assert torch.isfinite(big) and abs(big.item() - 400.0) < 1e-9


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_the_training_loss_is_the_formula_on_the_real_positions(loss):
    model = MODELS["SASRec"](loss=loss, dropout=0.0, epochs=1).fit(planted()[0].iloc[:200], progress=False)
    net = model.network_
    inputs, targets, *neg = next(iter(model._train_batches(model.data_, "cpu")))
    states, items = net(inputs), net.item_vectors()
    real = targets != net.pad
    if loss == "ce":
        expected = F.cross_entropy(states[real] @ items.T, targets[real])
    else:
        table = net.items.weight                          # its last row (padding) only meets padded targets
        s_pos = (states * table[targets]).sum(-1)[real]
        s_neg = (states * table[neg[0]]).sum(-1)[real]
        expected = F.binary_cross_entropy_with_logits(torch.cat([s_pos, s_neg]),
                                                      torch.cat([torch.ones_like(s_pos), torch.zeros_like(s_neg)])) * 2
    torch.testing.assert_close(model._batch_loss(net, (inputs, targets, *neg)), expected)


# ----- determinism and saving -------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_seeded_reruns_are_identical_at_any_thread_count(name):
    train = planted()[0]
    a = MODELS[name](seed=3, dropout=0.2).fit(train, progress=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        b = MODELS[name](seed=3, dropout=0.2).fit(train.iloc[::-1], progress=False)
    finally:
        torch.set_num_threads(previous)
    for key, value in a.network_.state_dict().items():
        assert torch.equal(value, b.network_.state_dict()[key]), key
    np.testing.assert_array_equal(a.user_states_, b.user_states_)
    c = MODELS[name](seed=4, dropout=0.2).fit(train, progress=False)
    assert not np.array_equal(a.user_states_, c.user_states_)


@pytest.mark.parametrize("name", list(MODELS))
def test_saved_weights_reload_with_weights_only(name, tmp_path):
    train = planted()[0].assign(timestamp=lambda f: pd.to_datetime(f.timestamp, unit="s"))
    model = MODELS[name]().fit(train, progress=False)
    model.save(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    fresh = model._make_net(model.data_.n_items)
    fresh.load_state_dict(payload["state_dict"])
    loaded = TorchRecommender.load(tmp_path / "m.pt")
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.user_states_, model.user_states_)
    np.testing.assert_array_equal(loaded.sequence(7), model.sequence(7))
    pd.testing.assert_frame_equal(loaded.recommend(7, k=10), model.recommend(7, k=10))


# ----- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kw, message", [
    ("SASRec", dict(max_length=0), r"max_length must be a whole number >= 1, got 0"),
    ("GRU4Rec", dict(max_length=2.5), r"max_length must be a whole number >= 1, got 2.5"),
    ("SASRec", dict(n_factors=0), r"n_factors must be a whole number >= 1, got 0"),
    ("SASRec", dict(n_factors=8, n_heads=3), r"n_heads \(3\) must divide n_factors \(8\)"),
    ("SASRec", dict(n_blocks=0), r"n_blocks must be a whole number >= 1, got 0"),
    ("GRU4Rec", dict(n_layers=True), r"n_layers must be a whole number >= 1, got True"),
    ("GRU4Rec", dict(loss="bpr"), r"loss must be 'ce' .* or 'bce' .*, got 'bpr'"),
    ("SASRec", dict(dropout=1.0), r"dropout must be a number in \[0, 1\)"),
    ("GRU4Rec", dict(epochs=0), r"epochs must be a whole number >= 1, got 0"),
])
def test_bad_hyper_parameters_are_named(name, kw, message):
    with pytest.raises(ValueError, match=message):
        MODELS[name](**kw).fit(planted()[0], progress=False)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="timestamp"), r"ratings frame: no 'timestamp' column \(found \['user', 'item', "
                                            r"'rating'\]\); a sequence model orders"),
    (lambda f: f.astype({"timestamp": float}).rename(index={3: "x"}).assign(
        timestamp=lambda g: g.timestamp.where(g.index != "x")),
     r"ratings frame: row 'x', column 'timestamp': timestamp nan is missing"),
    (lambda f: f.astype({"timestamp": object}).assign(timestamp=lambda g: g.timestamp.where(g.index != 5, "soon")),
     r"row 5, column 'timestamp': timestamp 'soon' is not a number"),
    (lambda f: f.drop(columns="item"), r"ratings frame: missing column\(s\) 'item'"),
])
def test_bad_training_frames_are_named_and_change_nothing(change, message):
    train = planted()[0].iloc[:60]
    model = MODELS["GRU4Rec"]().fit(train, progress=False)
    before = model.recommend(1, k=3)
    with pytest.raises(ValueError, match=message):
        model.fit(change(train.assign(user=train.user + 1000)), progress=False)
    pd.testing.assert_frame_equal(model.recommend(1, k=3), before)
    assert 1001 not in model.data_.users


def test_bad_histories_are_named():
    model = MODELS["SASRec"]().fit(planted()[0].iloc[:60], progress=False)
    known = int(model.data_.items.ids[0])
    for history, message in [([], r"the history is empty: give SASRec at least one raw item id"),
                             ({known}, r"history must be ordered \(a list of raw item ids, oldest first\), got a set"),
                             ([known, None], r"history\[1\] is None, which is missing"),
                             ([999, 998], r"does not know item\(s\) \[999, 998\]")]:
        with pytest.raises(ValueError, match=message):
            model.recommend_next(history)
    with pytest.raises(ValueError, match=r"knows none of the history's items \[999\]"):
        model.recommend_next([999], skip_unknown=True)
    with pytest.raises(ValueError, match=r"k must be a positive whole number, got 0"):
        model.recommend_next([known], k=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        SASRec().recommend_next([known])
    with pytest.raises(ValueError, match=r"loss='bce' samples a negative .* hold 1 item"):
        SASRec(**{**SMALL, "loss": "bce"}).fit(pd.DataFrame({"user": [1], "item": [1], "timestamp": [0]}),
                                               progress=False)
    with pytest.raises(ValueError, match="no user has two or more interactions"):
        SASRec(**SMALL).fit(pd.DataFrame({"user": [1, 2], "item": [1, 2], "timestamp": [0, 0]}), progress=False)


def test_validation_and_early_stopping_watch_ndcg():
    from recsys_lab.training import EarlyStopping

    train, test, _ = planted()
    model = MODELS["GRU4Rec"](epochs=6, learning_rate=0.01).fit(
        train, validation=test, early_stopping=EarlyStopping(patience=2), progress=False)
    ndcg = model.history_.metrics["ndcg@10"]
    assert len(ndcg) >= 3 and ndcg[-1] > ndcg[0]
    np.testing.assert_allclose(model.history_.val_loss, 1 - np.asarray(ndcg))


@pytest.mark.parametrize("name", ["SASRec", "GRU4Rec"])
def test_recommend_many_equals_recommend_user_by_user(name):
    model = planted_fit(name, "bce")
    users = [1, 2, 150, 299, 300, 10_000]                              # 10 000: unknown, the popularity list
    many = model.recommend_many(users, k=7, batch_size=4)
    assert model._batch_scorer() == model._score_users                 # one matrix product per batch
    for user in users:
        one = model.recommend(user, k=7)
        assert many[many.user == user].item.tolist() == one.item.tolist()
        np.testing.assert_allclose(many[many.user == user].score, one.score, rtol=1e-12)
    popular = MostPopular().fit(planted()[0]).recommend(10_000, k=3)
    assert model.recommend(10_000, k=3).item.tolist() == popular.item.tolist()
