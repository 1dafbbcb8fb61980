"""One run of the determinism check (tests/test_determinism.py starts it in a fresh process).

    python tests/determinism_child.py OUT.pkl [--shuffle]

Fits every model of the check on a fixed slice of MovieLens and pickles a *fingerprint* to
``OUT.pkl``: per model, every array of its fitted state (exact values, not rounded) and the
top-10 lists (item ids and exact scores) of a fixed set of users. ``--shuffle`` fits on the
same ratings with the rows in a seeded random order. The thread count comes from the
environment (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS) set by the parent.
"""
from __future__ import annotations

import os
import pickle
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch

from recsys_lab.data import load_movielens
from recsys_lab.features import movie_features
from recsys_lab.models import (EASE, IALS, IAutoRec, ImplicitAutoRec, BiasBaseline, ContentBased, DeepContent, DotProduct, GRU4Rec,
                               ItemKNN, ItemTransitions, MatrixFactorization, NeuMF, RecentPopular, SASRec,
                               UserKNN)

N_USERS = 200        # the ratings of the first 200 users (by id) ...
MIN_RATINGS = 5      # ... on the movies at least 5 of them rated: 22 580 ratings, 1 558 movies
N_LISTS = 50         # top-10 lists of 50 users, spread over the ids
SHUFFLE_SEED = 20240


def ratings_slice(ratings):
    users = np.sort(ratings["user"].unique())[:N_USERS]
    sub = ratings[ratings["user"].isin(users)]
    counts = sub["item"].value_counts()
    return sub[sub["item"].isin(counts.index[counts >= MIN_RATINGS])].reset_index(drop=True)


def models(features):
    """name -> (unfitted model, fit keyword arguments). Torch models: few epochs, fixed seed, CPU."""
    torch_kw = dict(progress=False)
    return {
        "UserKNN": (UserKNN(), {}),
        "ItemKNN": (ItemKNN(), {}),
        "ItemKNN_sum": (ItemKNN(ranking="sum"), {}),
        "ItemKNN_keep50": (ItemKNN(keep=50), {}),
        "EASE": (EASE(reg=250.0), {}),
        "IALS": (IALS(n_factors=32, iterations=3, seed=3), {}),
        # float32 CG: its Gram matrix once came from numpy (OpenBLAS), whose sgemm changes with the thread count
        "IALS_float32": (IALS(n_factors=64, iterations=3, alpha=0.6, dtype="float32", seed=3), {}),
        "EASE_float32": (EASE(reg=250.0, dtype="float32"), {}),
        "BiasBaseline": (BiasBaseline(), {}),
        # default widths: with (batch, n_factors) tensors of more than torch's grain size (32 768
        # elements), a reduction is split over 2 threads, as in the notebooks
        "MatrixFactorization": (MatrixFactorization(epochs=3, seed=3, device="cpu"), torch_kw),
        "DotProduct_bce": (DotProduct(epochs=2, seed=3, device="cpu"), torch_kw),
        "DotProduct_bpr": (DotProduct(epochs=2, loss="bpr", seed=3, device="cpu"), torch_kw),
        "NeuMF": (NeuMF(epochs=2, seed=3, device="cpu"), torch_kw),
        # 256 items x 200 users per batch: the loss sums more than the grain size too
        "ImplicitAutoRec": (ImplicitAutoRec(n_factors=32, epochs=3, batch_size=256, seed=3, device="cpu"), torch_kw),
        "IAutoRec": (IAutoRec(n_factors=32, epochs=3, batch_size=64, seed=3, device="cpu"), torch_kw),
        # sequences ordered by timestamp (the shuffled run must give the same ones); the full-softmax
        # logits (128 users x 20 positions x 1 558 items) are far above the grain size
        "SASRec": (SASRec(n_factors=32, max_length=20, n_blocks=1, epochs=2, seed=3, device="cpu"), torch_kw),
        "GRU4Rec_bce": (GRU4Rec(n_factors=32, max_length=20, loss="bce", epochs=2, seed=3, device="cpu"), torch_kw),
        "ItemTransitions": (ItemTransitions(n_last=2), {}),
        "RecentPopular": (RecentPopular(n_recent=2000), {}),
        "ContentBased": (ContentBased(features), {}),
        "DeepContent": (DeepContent(features, epochs=2, seed=3), {}),
    }


def _arrays(prefix: str, value, out: dict, depth: int = 0) -> None:
    """Every array inside ``value`` (fitted state), under keys starting with ``prefix``."""
    if isinstance(value, np.ndarray):
        out[prefix] = value.copy()
    elif isinstance(value, (bool, int, float, np.number)):
        out[prefix] = np.asarray(value)
    elif isinstance(value, torch.Tensor):
        out[prefix] = value.detach().cpu().numpy().copy()
    elif sp.issparse(value):
        m = value.tocsr() if value.format not in ("csr", "csc") else value
        for part in ("data", "indices", "indptr"):
            out[f"{prefix}.{part}"] = np.asarray(getattr(m, part)).copy()
    elif isinstance(value, torch.nn.Module):
        for name, tensor in value.state_dict().items():
            _arrays(f"{prefix}.{name}", tensor, out)
    elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float, np.number)) for v in value):
        out[prefix] = np.asarray(value)
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            _arrays(f"{prefix}[{k}]", value[k], out, depth + 1)
    elif type(value).__name__ == "History":
        out[f"{prefix}.train_loss"] = np.asarray(value.train_loss)
        out[f"{prefix}.batch_loss"] = np.asarray(value.batch_loss)
    elif depth < 2 and hasattr(value, "__dict__") and hasattr(value, "_fit"):  # a fitted sub-model
        state_of(value, out, prefix + ".", depth + 1)


def state_of(model, out: dict | None = None, prefix: str = "", depth: int = 0) -> dict:
    """The fitted state: attributes named ``x_`` (public) or ``_x`` (caches), except ``data_``,
    whose rating frame keeps the caller's row order by design."""
    out = {} if out is None else out
    for name, value in sorted(vars(model).items()):
        if name == "data_" or name.startswith("__") or not (name.endswith("_") or name.startswith("_")):
            continue
        _arrays(prefix + name, value, out, depth)
    return out


def top_lists(model, users) -> dict:
    items, scores = [], []
    for user in users:
        rec = model.recommend(user, k=10)
        items.append(rec["item"].to_numpy())
        scores.append(rec["score"].to_numpy(dtype=np.float64))
    return {"items": np.stack(items), "scores": np.stack(scores)}


def thread_info() -> dict:
    info = {"torch": torch.get_num_threads()}
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            info[f"{pool['internal_api']}:{os.path.basename(pool['filepath'])}"] = pool["num_threads"]
    except ImportError:
        pass
    return info


def main(out_path: str, shuffle: bool) -> None:
    start = time.perf_counter()
    ml = load_movielens()
    ratings = ratings_slice(ml.ratings)
    if shuffle:
        ratings = ratings.iloc[np.random.default_rng(SHUFFLE_SEED).permutation(len(ratings))].reset_index(drop=True)
    users = np.sort(ratings["user"].unique())
    users = users[np.linspace(0, len(users) - 1, N_LISTS).astype(int)]
    features = movie_features(ml.movies, ml.tags, train=ratings)  # tags of the training users only
    result = {"_meta": {"threads": thread_info(), "shuffle": shuffle, "n_ratings": len(ratings),
                        "pid": os.getpid()}, "_seconds": {}}
    fitted = {}
    for name, (model, fit_kw) in models(features).items():
        t = time.perf_counter()
        model.fit(ratings, **fit_kw)
        fitted[name] = model
        result[name] = {"state": state_of(model), "top": top_lists(model, users)}
        result["_seconds"][name] = time.perf_counter() - t
    pruned = fitted["ItemKNN"].prune(50)  # must equal ItemKNN(keep=50) fitted from scratch
    result["ItemKNN_prune50"] = {"state": state_of(pruned), "top": top_lists(pruned, users)}
    result["_seconds"]["total"] = time.perf_counter() - start
    with open(out_path, "wb") as f:
        pickle.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], "--shuffle" in sys.argv[2:])
