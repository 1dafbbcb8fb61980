"""Recommenders with one shared interface (see :mod:`recsys_lab.models.base`).

One file per family: ``baselines`` (00, 13) · ``knn`` (07-08) · ``mf`` (09) · ``ncf``,
``autorec`` (10) · ``content`` (11) · ``hybrid`` (12) · ``ease`` (13) · ``ials`` (10, the benchmark) ·
``sequential``, ``transitions`` (15).
"""
from .autorec import AutoRec, IAutoRec, ImplicitAutoRec
from .base import Recommender
from .baselines import BiasBaseline, GlobalMean, MostPopular, RecentPopular
from .content import ContentBased, DeepContent
from .ease import EASE
from .ials import IALS
from .hybrid import FeatureAugmentedHybrid, SwitchingHybrid, WeightedHybrid
from .knn import ItemKNN, UserKNN
from .mf import MatrixFactorization
from .ncf import GMF, NCFMLP, DotProduct, NeuMF
from .sequential import GRU4Rec, SASRec
from .torch_data import TorchRecommender
from .transitions import ItemTransitions

__all__ = [
    "Recommender", "TorchRecommender",
    "GlobalMean", "BiasBaseline", "MostPopular", "RecentPopular",
    "UserKNN", "ItemKNN",
    "MatrixFactorization",
    "DotProduct", "GMF", "NCFMLP", "NeuMF", "AutoRec", "ImplicitAutoRec", "IAutoRec",
    "ContentBased", "DeepContent",
    "WeightedHybrid", "SwitchingHybrid", "FeatureAugmentedHybrid",
    "EASE", "IALS",
    "GRU4Rec", "SASRec", "ItemTransitions",
]
