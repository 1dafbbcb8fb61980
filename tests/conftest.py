"""Shared, seeded fixtures."""
import os

from recsys_lab.reproducibility import PINNED, applies

if applies():  # `make test` exports these; a bare `pytest` gets them too, before numpy and torch load
    for _name, _value in PINNED.items():
        os.environ.setdefault(_name, _value)

import pandas as pd  # noqa: E402
import pytest

from recsys_lab.data import load_movielens, make_synthetic_ratings


@pytest.fixture(scope="session")
def movielens():
    return load_movielens()


@pytest.fixture(scope="session")
def synthetic():
    return make_synthetic_ratings(n_users=120, n_items=80, density=0.15, noise=0.25, seed=7)


@pytest.fixture
def tiny_ratings():
    """4 users x 5 items, worked by hand in several tests."""
    return pd.DataFrame({
        "user": [1, 1, 1, 2, 2, 3, 3, 3, 4],
        "item": [10, 20, 30, 10, 40, 20, 30, 50, 10],
        "rating": [5.0, 3.0, 4.0, 4.0, 2.0, 1.0, 5.0, 3.0, 4.0],
        "timestamp": [1, 2, 3, 5, 4, 9, 8, 7, 6],
    })


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors run faster on one thread (far faster on a busy machine); restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
