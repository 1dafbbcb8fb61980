"""Recommend latency: one user's top-10 from every model on ml-latest-small (target < 100 ms).

Each model is fitted once on a random 80% of the ratings; then ``recommend(user, k=10)`` is
timed for a fixed sample of users (the median and the slowest are reported, each the median
of 3 calls), plus an unknown user (the cold-start path).
"""
from __future__ import annotations

import time

import numpy as np

from .common import Section, timed, torch_threads

TARGET_MS = 100.0


def _models(features, quick: bool) -> dict:
    """name -> factory(train) for every model of the kit."""
    from recsys_lab.models import (EASE, AutoRec, BiasBaseline, ContentBased, DeepContent, DotProduct,
                                   FeatureAugmentedHybrid, GlobalMean, ItemKNN, MatrixFactorization,
                                   MostPopular, NeuMF, SwitchingHybrid, UserKNN, WeightedHybrid)

    few = 1 if quick else 5  # epochs of the torch models: latency does not depend on them
    mf = lambda: MatrixFactorization(epochs=2 if quick else 20)
    return {
        "GlobalMean": lambda r: GlobalMean().fit(r),
        "MostPopular": lambda r: MostPopular().fit(r),
        "BiasBaseline": lambda r: BiasBaseline().fit(r),
        "UserKNN": lambda r: UserKNN().fit(r),
        "ItemKNN": lambda r: ItemKNN().fit(r),
        "ItemKNN(ranking='sum')": lambda r: ItemKNN(ranking="sum").fit(r),
        "EASE": lambda r: EASE().fit(r),
        "MatrixFactorization": lambda r: mf().fit(r, progress=False),
        "DotProduct": lambda r: DotProduct(epochs=few).fit(r, progress=False),
        "NeuMF": lambda r: NeuMF(epochs=few).fit(r, progress=False),
        "AutoRec": lambda r: AutoRec(epochs=few).fit(r, progress=False),
        "ContentBased": lambda r: ContentBased(features).fit(r),
        "DeepContent": lambda r: DeepContent(features, epochs=few).fit(r),
        "WeightedHybrid(MostPopular, ContentBased)": lambda r: WeightedHybrid(
            {"pop": MostPopular(), "content": ContentBased(features)}, [0.5, 0.5]).fit(r),
        "WeightedHybrid(MatrixFactorization, ContentBased)": lambda r: WeightedHybrid(
            {"mf": mf(), "content": ContentBased(features)}, [0.7, 0.3]).fit(r),
        "SwitchingHybrid(ItemKNN, ContentBased)": lambda r: SwitchingHybrid(
            ItemKNN(ranking="sum"), ContentBased(features), min_ratings=10).fit(r),
        "FeatureAugmentedHybrid(DeepContent, BiasBaseline)": lambda r: FeatureAugmentedHybrid(
            DeepContent(features, epochs=few), BiasBaseline(), n_pseudo=10).fit(r),
        "FeatureAugmentedHybrid(DeepContent, MatrixFactorization)": lambda r: FeatureAugmentedHybrid(
            DeepContent(features, epochs=few), mf(), n_pseudo=10).fit(r),
    }


def run(quick: bool = False) -> list[Section]:
    with torch_threads(1):  # small torch models train much faster on one thread (see the note)
        return _run(quick)


def _run(quick: bool) -> list[Section]:
    from recsys_lab.data import load_movielens, random_split
    from recsys_lab.features import movie_features

    ml = load_movielens()
    train, _ = random_split(ml.ratings, 0.2, seed=0)
    features = movie_features(ml.movies, ml.tags, train)
    sample = np.random.default_rng(0).choice(np.sort(train.user.unique()), size=5 if quick else 20, replace=False)
    activity = train.user.value_counts()
    heaviest, lightest = int(activity.idxmax()), int(activity.idxmin())  # the extremes of a user's cost
    users = np.r_[sample, heaviest, lightest]
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
            f"whole catalogue ({len(features):,} movies with features) for {len(sample)} sampled users plus the "
            f"most active ({activity.max():,} ratings) and least active ({activity.min()}) user, each call "
            f"timed as the median of 3. Target: under {TARGET_MS:.0f} ms for every user. "
            f"torch runs on one thread (fit times of the torch models depend on it)."
            + (" Quick run: fewer users, 1-2 training epochs." if quick else ""))
    return [Section("Recommend latency for one user (notebooks 11-12)", rows, note)]
