"""What the leaderboard runs: the kit's models with their settings, the peers and the pairs
compared, and the builders for models that need item features or other models.

``kit_models()`` also finds any Recommender in ``recsys_lab.models`` missing from ``KIT`` and
runs it with its defaults, so a new model cannot silently stay off the leaderboard.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np

from recsys_lab.models.base import Recommender

K = 10
SEED = 0
QUICK_USERS = 120          # --quick: only the first users, a smoke run

# The kit's models: label -> (dotted class path, settings, tasks). A Recommender found in
# recsys_lab.models without an entry here is still run, with its defaults, on the ranking task
# (and on ratings too if its class says ``predicts_ratings = True``).
BOTH, RANKING = ("rating", "ranking"), ("ranking",)
KIT = {
    "GlobalMean": ("recsys_lab.models.GlobalMean", {}, BOTH),
    "BiasBaseline": ("recsys_lab.models.BiasBaseline", {}, BOTH),
    "MostPopular": ("recsys_lab.models.MostPopular", {}, RANKING),
    "UserKNN": ("recsys_lab.models.knn.UserKNN", {"k": 40, "centering": "baseline"}, BOTH),
    "ItemKNN": ("recsys_lab.models.knn.ItemKNN", {"k": 40, "centering": "baseline"}, BOTH),
    "ItemKNN (ranked by similarity sum)": ("recsys_lab.models.knn.ItemKNN", {"k": 40, "ranking": "sum"}, RANKING),
    "MatrixFactorization": ("recsys_lab.models.mf.MatrixFactorization",
                            {"n_factors": 64, "epochs": 10, "reg": 0.2, "seed": SEED}, BOTH),
    "DotProduct": ("recsys_lab.models.ncf.DotProduct", {"loss": "bpr", "seed": SEED}, RANKING),
    "GMF": ("recsys_lab.models.ncf.GMF", {"seed": SEED}, RANKING),
    "NCFMLP": ("recsys_lab.models.ncf.NCFMLP", {"seed": SEED}, RANKING),
    "NeuMF": ("recsys_lab.models.ncf.NeuMF", {"seed": SEED}, RANKING),
    "EASE": ("recsys_lab.models.EASE", {"reg": 250.0}, RANKING),
    "item-kNN top-N (cosine sum)": ("benchmarks.leaderboard_models.CosineSumKNN", {"k": 50}, RANKING),
    "ContentBased": ("benchmarks.leaderboard_models.content_based", {}, RANKING),
    "DeepContent": ("benchmarks.leaderboard_models.deep_content", {"seed": SEED}, BOTH),
    "WeightedHybrid (DotProduct 0.8 + ContentBased 0.2)":
        ("benchmarks.leaderboard_models.weighted_hybrid", {"weights": [0.8, 0.2]}, RANKING),
    "FeatureAugmentedHybrid (DeepContent -> MF)":
        ("benchmarks.leaderboard_models.feature_augmented_hybrid", {}, BOTH),
    "ImplicitAutoRec (BCE over all entries, not the paper's)":
        ("recsys_lab.models.autorec.ImplicitAutoRec", {"seed": SEED}, RANKING),
    "IAutoRec": ("recsys_lab.models.autorec.IAutoRec", {"seed": SEED}, BOTH),
}
KIT_SETTINGS = {name: params for name, (_, params, _) in KIT.items()}
BUILDS = {"content_based": "ContentBased", "deep_content": "DeepContent", "weighted_hybrid": "WeightedHybrid",
          "feature_augmented_hybrid": "FeatureAugmentedHybrid"}  # builder -> the kit class it makes
NOT_RUN = {"SwitchingHybrid": "not run: every user of the ranking split has at least 16 training ratings, "
                              "so a switching hybrid would only repeat its warm model"}


# Builders for the models that need item features or other models; ``train`` is the split's
# training part, the only source of tags (recsys_lab.features.training_tags: no leak).
def _movie_features(train):
    from recsys_lab.data import load_movielens
    from recsys_lab.features import movie_features

    ml = load_movielens()
    return movie_features(ml.movies, ml.tags, train)


def content_based(train, **params):
    from recsys_lab.models.content import ContentBased

    return ContentBased(_movie_features(train), **params)


def deep_content(train, **params):
    from recsys_lab.models.content import DeepContent

    return DeepContent(_movie_features(train), **params)


def weighted_hybrid(train, **params):
    from recsys_lab.models.content import ContentBased
    from recsys_lab.models.hybrid import WeightedHybrid
    from recsys_lab.models.ncf import DotProduct

    parts = {"DotProduct": DotProduct(loss="bpr", seed=SEED), "ContentBased": ContentBased(_movie_features(train))}
    return WeightedHybrid(parts, **params)


def feature_augmented_hybrid(train, **params):
    from recsys_lab.models.content import DeepContent
    from recsys_lab.models.hybrid import FeatureAugmentedHybrid
    from recsys_lab.models.mf import MatrixFactorization

    cf = MatrixFactorization(**KIT_SETTINGS["MatrixFactorization"])
    return FeatureAugmentedHybrid(DeepContent(_movie_features(train), seed=SEED), cf, **params)


# Kit model -> the peer it is compared with, per task.
PAIRS = {
    "rating": [("BiasBaseline", "Surprise BaselineOnly"), ("UserKNN", "Surprise KNNWithMeans (user)"),
               ("ItemKNN", "Surprise KNNWithMeans (item)"), ("MatrixFactorization", "Surprise SVD")],
    "ranking": [("EASE", "implicit ALS"), ("DotProduct", "implicit BPR"),
                ("item-kNN top-N (cosine sum)", "implicit item cosine")],
}
SURPRISE = {
    "Surprise BaselineOnly": ("BaselineOnly", {}),
    "Surprise KNNWithMeans (user)": ("KNNWithMeans", {"k": 40, "sim_options": {"name": "msd", "user_based": True}}),
    "Surprise KNNWithMeans (item)": ("KNNWithMeans", {"k": 40, "sim_options": {"name": "msd", "user_based": False}}),
    "Surprise SVD": ("SVD", {"n_epochs": 40, "reg_all": 0.1, "random_state": SEED}),
}
IMPLICIT = {
    "implicit ALS": ("als.AlternatingLeastSquares", {"factors": 64, "regularization": 0.1, "alpha": 1.0,
                                                     "random_state": SEED}),
    "implicit BPR": ("bpr.BayesianPersonalizedRanking", {"random_state": SEED}),
    "implicit item cosine": ("nearest_neighbours.CosineRecommender", {"K": 50}),
}


class CosineSumKNN(Recommender):
    """Top-N item-kNN for ranking (Deshpande & Karypis, 2004), built from the kit's similarity.

    ``s_ij`` = cosine of items ``i`` and ``j`` over the binary user x item matrix
    (``recsys_lab.similarity.cosine_naive``), kept for the ``k`` most similar ``i`` of each
    ``j``; ``score(u, j) = sum_{i in I(u)} s_ij``. Unlike the kit's ItemKNN, which ranks by a
    *predicted rating* (a weighted mean), the sum rewards items close to many of the user's
    items. A benchmark recipe, not a kit class (notebook 13 builds the same in a few lines).
    """

    def __init__(self, k: int = 20, unknown: str = "fallback"):
        super().__init__(unknown)
        self.k = k

    def _fit(self, data) -> None:
        from recsys_lab.similarity import cosine_naive

        sim = cosine_naive(self.seen_.T.tocsr())           # (n_items, n_items)
        np.fill_diagonal(sim, 0.0)
        if self.k < sim.shape[0]:                          # keep the k largest of each column
            cut = np.partition(sim, -self.k, axis=0)[-self.k]
            sim[sim < cut[None, :]] = 0.0
        self.sim_ = sim

    def _predict_known(self, u, i):
        return np.array([self._score_user(a)[b] for a, b in zip(u, i)])

    def _score_user(self, u):
        return self.sim_[self._seen_items(u)].sum(axis=0)


def kit_models() -> tuple[list[tuple[str, str, dict, tuple]], list[str]]:
    """``[(label, dotted path, params, tasks)]`` of the kit's models, and notes on the ones not run."""
    import recsys_lab.models as models

    out, notes, registered, classes = [], [], set(), set()
    for label, (path, params, tasks) in KIT.items():
        name = path.rsplit(".", 1)[1]
        registered.add(BUILDS.get(name, name))
        if path.startswith("recsys_lab."):
            try:
                classes.add(load(path))
            except AttributeError:  # not in this version of the kit
                notes.append(f"{label}: {path} does not exist here, not run")
                continue
        out.append((label, path, params, tasks))
    found = {}
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"recsys_lab.models.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, Recommender) and cls is not Recommender and cls.__module__ == module.__name__
                    and not name.startswith("_")):
                found[name] = cls
    bases = {b for cls in found.values() for b in cls.__mro__[1:]}
    for name, cls in sorted(found.items()):
        if name in registered or cls in classes or cls in bases:  # registered (an alias too), or a base
            continue
        if name in NOT_RUN:
            notes.append(f"{name}: {NOT_RUN[name]}")
            continue
        tasks = BOTH if getattr(cls, "predicts_ratings", False) is True else RANKING
        out.append((name, f"{cls.__module__}.{name}", {}, tasks))
        notes.append(f"{name} is not in the benchmark's registry: run with its defaults")
    return out, notes


def load(path: str):
    """The object a dotted path names, e.g. ``recsys_lab.models.EASE``."""
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


SETTINGS_TEXT = {  # what a builder makes, for the settings column
    "ContentBased": "genres + tag TF-IDF features",
    "DeepContent": "genres + tag TF-IDF features, defaults",
    "WeightedHybrid (DotProduct 0.8 + ContentBased 0.2)": "z-scored scores, weights 0.8 / 0.2 (not tuned)",
    "FeatureAugmentedHybrid (DeepContent -> MF)": "10 DeepContent pseudo-ratings per user, then MF as above",
}


def settings_text(name: str, params: dict | None = None) -> str:
    """The settings column of a leaderboard row (``params``: the settings used, when tuned)."""
    if params is not None:
        return ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("seed", "random_state")) + " (tuned)"
    if name in SETTINGS_TEXT:
        return SETTINGS_TEXT[name]
    if name in KIT_SETTINGS:
        text = ", ".join(f"{k}={v}" for k, v in KIT_SETTINGS[name].items() if k != "seed")
    elif name in SURPRISE:
        text = ", ".join(f"{k}={v}" for k, v in SURPRISE[name][1].items() if k != "random_state")
    elif name in IMPLICIT:
        text = ", ".join(f"{k}={v}" for k, v in IMPLICIT[name][1].items() if k != "random_state")
    else:
        text = ""
    return text or "defaults"
