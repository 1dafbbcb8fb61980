import numpy as np
import pytest
import torch

from recsys_lab import optimizers as kit
from recsys_lab.models.torch_data import (PairwiseBatches, PointwiseBatches, RatingBatches, build_optimizer,
                                          choose_device, positive_keys, sample_negatives)

# 3 users x 6 items; user 2 has interacted with every item but one
USERS = np.array([0, 0, 1, 2, 2, 2, 2, 2])
ITEMS = np.array([0, 1, 3, 0, 1, 2, 3, 4])




def test_choose_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device("auto").type == expected and choose_device(None).type == expected
    assert choose_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        choose_device("tpu")
    with pytest.raises(ValueError, match="device must be"):
        choose_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="asks for a GPU"):
            choose_device("cuda")


def test_rating_batches_cover_every_row_once_and_repeat_by_epoch():
    n = 103
    users, items, ratings = np.arange(n), np.arange(n) % 7, np.linspace(1, 5, n)
    batches = RatingBatches(users, items, ratings, batch_size=10, seed=3, device="cpu")
    assert len(batches) == 11
    epoch1 = list(batches)
    assert [len(b[0]) for b in epoch1] == [10] * 10 + [3]
    seen = torch.cat([b[0] for b in epoch1])
    assert sorted(seen.tolist()) == list(range(n))                      # a permutation of the rows
    for u, i, r in epoch1:                                              # rows stay aligned
        assert torch.equal(i, u % 7) and torch.allclose(r, torch.tensor(ratings, dtype=torch.float32)[u])
    assert epoch1[0][2].dtype == torch.float32 and epoch1[0][0].dtype == torch.long
    epoch2 = torch.cat([b[0] for b in batches])
    assert not torch.equal(seen, epoch2)                                # a new order every epoch
    again = RatingBatches(users, items, ratings, batch_size=10, seed=3)
    again.set_epoch(2)                                                  # fit_loop does this
    assert torch.equal(torch.cat([b[0] for b in again]), epoch2)        # reproducible from (seed, epoch)
    other_seed = RatingBatches(users, items, ratings, batch_size=10, seed=4)
    assert not torch.equal(torch.cat([b[0] for b in other_seed]), seen)


def test_rating_batches_bad_input():
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        RatingBatches([0], [0], [1.0], batch_size=0)
    with pytest.raises(ValueError, match="same length"):
        RatingBatches([0, 1], [0], [1.0])
    with pytest.raises(ValueError, match="no training examples"):
        RatingBatches([], [], [])


def test_sample_negatives_avoids_positives_and_is_uniform():
    keys = positive_keys(USERS, ITEMS, 6)
    assert torch.equal(keys, torch.sort(torch.tensor(USERS * 6 + ITEMS)).values)
    gen = torch.Generator().manual_seed(0)
    users = torch.tensor([0] * 30000 + [2] * 100)
    neg = sample_negatives(users, keys, 6, gen)
    observed = set(zip(USERS.tolist(), ITEMS.tolist()))
    assert not any((u, i) in observed for u, i in zip(users.tolist(), neg.tolist()))
    assert set(neg[30000:].tolist()) == {5}                             # user 2's only unobserved item
    counts = np.bincount(neg[:30000].numpy(), minlength=6)[2:] / 30000  # user 0: uniform over items 2..5
    np.testing.assert_allclose(counts, 0.25, atol=0.015)


def test_sample_negatives_fails_clearly_for_a_user_who_saw_everything():
    keys = positive_keys([0, 0], [0, 1], 2)
    with pytest.raises(ValueError, match="interacted with"):
        sample_negatives(torch.tensor([0]), keys, 2, torch.Generator().manual_seed(0), max_rounds=5)


def test_pointwise_batches_layout():
    batches = PointwiseBatches(USERS, ITEMS, n_items=6, n_negatives=3, batch_size=4, seed=0)
    assert len(batches) == 2
    observed = set(zip(USERS.tolist(), ITEMS.tolist()))
    positives = []
    for users, items, labels in batches:
        b = int(labels.sum())
        assert len(labels) == b * 4 and torch.equal(labels[:b], torch.ones(b))
        assert torch.equal(users[b:], users[:b].repeat_interleave(3))   # negatives follow their positive's user
        assert all((u, i) in observed for u, i in zip(users[:b].tolist(), items[:b].tolist()))
        assert not any((u, i) in observed for u, i in zip(users[b:].tolist(), items[b:].tolist()))
        positives += list(zip(users[:b].tolist(), items[:b].tolist()))
    assert sorted(positives) == sorted(observed)                        # each positive once per epoch
    first = [torch.cat(t) for t in zip(*PointwiseBatches(USERS, ITEMS, 6, 3, 4, seed=0))]
    second = [torch.cat(t) for t in zip(*PointwiseBatches(USERS, ITEMS, 6, 3, 4, seed=0))]
    assert all(torch.equal(a, b) for a, b in zip(first, second))        # seeded
    with pytest.raises(ValueError, match="n_negatives must be a whole number >= 1"):
        PointwiseBatches(USERS, ITEMS, 6, n_negatives=0)


def test_pairwise_batches_layout():
    batches = PairwiseBatches(USERS, ITEMS, n_items=6, n_negatives=2, batch_size=5, seed=1)
    triples = [t for u, p, n in batches for t in zip(u.tolist(), p.tolist(), n.tolist())]
    assert len(batches) == 4 and len(triples) == 16
    observed = set(zip(USERS.tolist(), ITEMS.tolist()))
    assert all((u, p) in observed and (u, n) not in observed for u, p, n in triples)
    assert sorted((u, p) for u, p, _ in triples) == sorted(list(observed) * 2)  # each positive n_negatives times


def test_build_optimizer_accepts_kit_names_kit_classes_and_torch_classes():
    w = [torch.zeros(3, requires_grad=True)]
    opt = build_optimizer("adam", w, 0.1)
    assert isinstance(opt, kit.Adam) and opt.learning_rate == 0.1
    assert isinstance(build_optimizer(kit.SGD, w, 0.2), kit.SGD)
    torch_opt = build_optimizer(torch.optim.Adam, w, 0.3)
    assert isinstance(torch_opt, torch.optim.Adam) and torch_opt.param_groups[0]["lr"] == 0.3
    for bad in ("adamx", 3, torch.nn.Linear):
        with pytest.raises(ValueError, match="optimizer must be"):
            build_optimizer(bad, w, 0.1)
