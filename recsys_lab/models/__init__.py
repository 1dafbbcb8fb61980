"""Recommenders with one shared interface (see :mod:`recsys_lab.models.base`)."""
from .base import Recommender
from .baselines import BiasBaseline, GlobalMean, MostPopular
from .ease import EASE

__all__ = ["Recommender", "GlobalMean", "BiasBaseline", "MostPopular", "EASE"]
from .knn import ItemKNN, UserKNN

__all__ += ["UserKNN", "ItemKNN"]
from .mf import MatrixFactorization
from .ncf import GMF, NCFMLP, DotProduct, NeuMF
from .torch_data import TorchRecommender

__all__ += ["TorchRecommender", "MatrixFactorization", "DotProduct", "GMF", "NCFMLP", "NeuMF"]
from .content import ContentBased, DeepContent
from .hybrid import FeatureAugmentedHybrid, SwitchingHybrid, WeightedHybrid

__all__ += ["ContentBased", "DeepContent", "WeightedHybrid", "SwitchingHybrid", "FeatureAugmentedHybrid"]
from .autorec import AutoRec

__all__ += ["AutoRec"]
