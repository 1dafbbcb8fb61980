"""Recommenders with one shared interface (see :mod:`recsys_lab.models.base`)."""
from .base import Recommender
from .baselines import BiasBaseline, GlobalMean, MostPopular

__all__ = ["Recommender", "GlobalMean", "BiasBaseline", "MostPopular"]
