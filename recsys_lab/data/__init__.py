"""Rating data: schema, loaders, id maps, synthetic data and splits (notebooks 00, 06)."""
from .dataset import IdMap, RatingData
from .schema import ITEM, MOVIELENS_SCALE, RATING, TIMESTAMP, USER, RatingScale

__all__ = ["IdMap", "RatingData", "RatingScale", "MOVIELENS_SCALE", "USER", "ITEM", "RATING", "TIMESTAMP"]
