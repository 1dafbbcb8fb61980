"""Recommend latency: one user's top-10 from every model on ml-latest-small (target < 100 ms).

Each model is fitted once on a random 80% of the ratings; then ``recommend(user, k=10)`` is
timed for a fixed sample of users (the median and the slowest are reported, each the median
of 3 calls), plus an unknown user (the cold-start path).
"""
from __future__ import annotations

import time

import numpy as np

from .common import Section, timed

TARGET_MS = 100.0


def _models(features, quick: bool) -> dict:
    """name -> factory(train) for every model of the kit that exists."""
    from recsys_lab.models import (EASE, AutoRec, BiasBaseline, ContentBased, DeepContent, DotProduct,
                                   FeatureAugmentedHybrid, GlobalMean, MostPopular, NeuMF, SwitchingHybrid,
                                   UserKNN, WeightedHybrid)

    few = 1 if quick else 5  # epochs of the torch models: latency does not depend on them
    models = {
        "GlobalMean": lambda r: GlobalMean().fit(r),
        "MostPopular": lambda r: MostPopular().fit(r),
        "UserKNN": lambda r: UserKNN().fit(r),
        "EASE": lambda r: EASE().fit(r),
        "DotProduct": lambda r: DotProduct(epochs=few).fit(r, progress=False),
        "NeuMF": lambda r: NeuMF(epochs=few).fit(r, progress=False),
        "AutoRec": lambda r: AutoRec(epochs=few).fit(r, progress=False),
        "BiasBaseline": lambda r: BiasBaseline().fit(r),
        "ContentBased": lambda r: ContentBased(features).fit(r),
        "DeepContent": lambda r: DeepContent(features, epochs=1 if quick else 5).fit(r),
        "WeightedHybrid(MostPopular, ContentBased)": lambda r: WeightedHybrid(
            {"pop": MostPopular(), "content": ContentBased(features)}, [0.5, 0.5]).fit(r),
        "FeatureAugmentedHybrid(DeepContent, BiasBaseline)": lambda r: FeatureAugmentedHybrid(
            DeepContent(features, epochs=1 if quick else 5), BiasBaseline(), n_pseudo=10).fit(r),
    }
    try:
        from recsys_lab.models import ItemKNN
    except ImportError:
        ItemKNN = None
    try:
        from recsys_lab.models import MatrixFactorization
    except ImportError:
        MatrixFactorization = None
    if ItemKNN is not None:
        models["ItemKNN"] = lambda r: ItemKNN().fit(r)
        models["SwitchingHybrid(ItemKNN, ContentBased)"] = lambda r: SwitchingHybrid(
            ItemKNN(), ContentBased(features), min_ratings=10).fit(r)
    if MatrixFactorization is not None:
        mf = lambda: MatrixFactorization(epochs=2 if quick else 20)
        models["MatrixFactorization"] = lambda r: mf().fit(r, progress=False)
        models["WeightedHybrid(MatrixFactorization, ContentBased)"] = lambda r: WeightedHybrid(
            {"mf": mf(), "content": ContentBased(features)}, [0.7, 0.3]).fit(r)
        models["FeatureAugmentedHybrid(DeepContent, MatrixFactorization)"] = lambda r: FeatureAugmentedHybrid(
            DeepContent(features, epochs=1 if quick else 5), mf(), n_pseudo=10).fit(r)
    return models


def run(quick: bool = False) -> list[Section]:
    import torch

    # Small torch models train much faster on one thread when cores are shared (see the note).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(quick)
    finally:
        torch.set_num_threads(threads)


def _run(quick: bool) -> list[Section]:
    from recsys_lab.data import load_movielens, random_split
    from recsys_lab.features import movie_features

    ml = load_movielens()
    features = movie_features(ml.movies, ml.tags)
    train, _ = random_split(ml.ratings, 0.2, seed=0)
    users = np.random.default_rng(0).choice(np.sort(train.user.unique()), size=5 if quick else 20, replace=False)
    rows = []
    for name, factory in _models(features, quick).items():
        start = time.perf_counter()
        model = factory(train)
        fit_s = time.perf_counter() - start
        per_user = [timed(model.recommend, int(u), k=10, repeat=3) * 1000 for u in users]
        unknown_ms = timed(model.recommend, -1, k=10, repeat=3) * 1000
        median, slowest = float(np.median(per_user)), float(np.max(per_user))
        rows.append({"model": name, "fit (s)": fit_s, "recommend, median (ms)": median,
                     "recommend, slowest user (ms)": slowest, "unknown user (ms)": unknown_ms,
                     f"< {TARGET_MS:.0f} ms": "yes" if max(slowest, unknown_ms) < TARGET_MS else "NO"})
    note = (f"ml-latest-small, fitted on 80% of the ratings ({len(train):,}); `recommend(user, k=10)` over the "
            f"whole catalogue ({len(features):,} movies with features) for {len(users)} sampled users, each "
            f"call timed as the median of 3. Target: under {TARGET_MS:.0f} ms for every user. "
            f"torch runs on one thread (fit times of the torch models depend on it)."
            + (" Quick run: fewer users, 1-2 training epochs." if quick else ""))
    return [Section("Recommend latency for one user (notebooks 11-12)", rows, note)]
