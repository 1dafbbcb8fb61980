"""Rating data: schema, loaders, id maps, synthetic data and splits (notebooks 00, 06)."""
from .dataset import IdMap, RatingData
from .loaders import DataWarning, LoadReport, MovieLens, load_movielens, load_ratings
from .schema import ITEM, MOVIELENS_SCALE, RATING, TIMESTAMP, USER, RatingScale
from .summary import describe_ratings, top_rated
from .splits import (COURSE_SEED, ColdStartSplit, CourseSplit, cold_start_split, course_split, future_leakage, keep_frequent_items, global_temporal_split, kfold_split, leave_one_out, random_split,
                     temporal_split)
from .synthetic import SyntheticRatings, make_synthetic_ratings

__all__ = [
    "IdMap", "RatingData", "RatingScale", "MOVIELENS_SCALE", "USER", "ITEM", "RATING", "TIMESTAMP",
    "DataWarning", "LoadReport", "MovieLens", "load_movielens", "load_ratings",
    "random_split", "kfold_split", "temporal_split", "leave_one_out", "global_temporal_split",
    "future_leakage", "cold_start_split", "ColdStartSplit", "course_split", "CourseSplit", "COURSE_SEED", "keep_frequent_items",
    "SyntheticRatings", "make_synthetic_ratings", "describe_ratings", "top_rated",
]
