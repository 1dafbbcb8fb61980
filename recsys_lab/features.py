"""Item features for content-based recommendation: genres and tags (notebook 11).

A content-based recommender describes every item by a vector of features, so it can
compare items it has never seen rated. Two kinds of features come with MovieLens:

- **genres**, a *multi-hot* vector: ``x_ig = 1`` if item ``i`` has genre ``g``, else 0
  (:func:`multi_hot`, :func:`genre_features`);
- **user tags** ("pixar", "twist ending"), weighted by **TF-IDF** (:func:`tf_idf`,
  :func:`tag_features`). Each item is a *document*, each normalised tag a *term*.

The TF-IDF variant used here, exactly (it is scikit-learn's ``TfidfVectorizer`` default,
``smooth_idf=True, sublinear_tf=False, norm="l2"``):

    tf(t, d)  = number of times term t was applied to document d   (raw count)
    df(t)     = number of documents that contain t at least once
    idf(t)    = ln((1 + n) / (1 + df(t))) + 1                      (n = number of documents)
    w(t, d)   = tf(t, d) * idf(t),  then each document's row is divided by its L2 norm

A document without any term keeps an all-zero row. The "+1"s act as if one extra
document contained every term once (no division by zero), and the final "+1" keeps a
term that is in every document from vanishing.

All features of a set of items travel together as an :class:`ItemFeatures`
(raw item ids, a ``scipy.sparse`` CSR matrix, feature names such as ``"genre:Comedy"``
and ``"tag:pixar"``). :func:`combine_features` stacks blocks so that the dot product of
two combined rows is the weighted sum of their per-block cosines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .data.schema import ITEM, check_columns, check_ids, place, plain
from .topk import order as ranked

GENRE_PREFIX, TAG_PREFIX = "genre:", "tag:"


@dataclass(eq=False)  # compared by identity: the fields are arrays
class ItemFeatures:
    """Features of a set of items.

    ``items``: raw item ids, shape ``(n_items,)``, unique; ``matrix``: CSR ``(n_items, n_features)``,
    row ``j`` describes ``items[j]``; ``names``: ``n_features`` feature names.
    Rows are re-ordered by ascending item id on construction.
    """

    items: np.ndarray
    matrix: sp.csr_matrix
    names: list

    def __post_init__(self):
        items = np.asarray(self.items)
        matrix = sp.csr_matrix(self.matrix, dtype=np.float64)
        if items.ndim != 1 or matrix.shape[0] != len(items):
            raise ValueError(f"ItemFeatures needs one matrix row per item: {len(items)} items, "
                             f"matrix of shape {matrix.shape}")
        if matrix.shape[1] != len(self.names):
            raise ValueError(f"ItemFeatures needs one name per column: {matrix.shape[1]} columns, "
                             f"{len(self.names)} names")
        check_ids(pd.Series(items), ITEM, "ItemFeatures items", what="item")
        repeated = pd.Series(items).duplicated().to_numpy()
        if repeated.any():
            raise ValueError(f"ItemFeatures has repeated item ids ({int(repeated.sum())} repeats; the first "
                             f"is {plain(items[repeated][0])!r} at position {int(np.flatnonzero(repeated)[0])}); "
                             f"give each item one row")
        if matrix.nnz and not np.isfinite(matrix.data).all():
            raise ValueError("ItemFeatures matrix holds NaN or infinite values")
        order = np.argsort(items, kind="stable")
        self.items, self.matrix, self.names = items[order], matrix[order], list(self.names)
        self._index = pd.Index(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"ItemFeatures({len(self)} items x {self.n_features} features, {self.matrix.nnz} non-zeros)"

    @property
    def n_features(self) -> int:
        return self.matrix.shape[1]

    def rows(self, items) -> sp.csr_matrix:
        """Feature rows of raw ``items`` (in that order), CSR ``(len(items), n_features)``.

        Items without features get an all-zero row.
        """
        pos = self._index.get_indexer(np.asarray(items).ravel())
        padded = sp.vstack([self.matrix, sp.csr_matrix((1, self.n_features))]).tocsr()
        return padded[np.where(pos >= 0, pos, len(self))]

    def to_frame(self, items=None) -> pd.DataFrame:
        """Dense frame indexed by item id, one column per feature (e.g. for
        :func:`recsys_lab.metrics.intra_list_diversity`). Small item sets only."""
        items = self.items if items is None else np.asarray(items)
        return pd.DataFrame(self.rows(items).toarray(), index=pd.Index(items, name=ITEM),
                            columns=self.names)

    def describe(self, item, top: int | None = None) -> dict:
        """Non-zero features of one item, largest first: ``{name: value}``."""
        row = self.rows([item])
        order = ranked(row.data, row.indices)[:top]
        return {self.names[row.indices[j]]: float(row.data[j]) for j in order}


def normalize_tag(tag: str) -> str:
    """Lower-case, trim and collapse inner white space: ``" Twist  Ending"`` -> ``"twist ending"``."""
    return re.sub(r"\s+", " ", str(tag).strip().lower())


def term_counts(documents, vocabulary=None) -> tuple[sp.csr_matrix, list]:
    """Count matrix of ``documents`` (a list of lists of terms; a term may repeat).

    Returns ``(counts, vocabulary)``: CSR ``(n_documents, n_terms)`` with ``counts[d, t]`` the
    number of times term ``vocabulary[t]`` occurs in document ``d``. Without a ``vocabulary``
    it is every term seen, sorted; with one, terms outside it are ignored.
    """
    documents = [list(doc) for doc in documents]
    if vocabulary is None:
        vocabulary = sorted({term for doc in documents for term in doc})
    vocabulary = list(vocabulary)
    index = pd.Index(vocabulary)
    if not index.is_unique:
        raise ValueError("vocabulary has repeated terms")
    lengths = np.array([len(doc) for doc in documents], dtype=np.int64)
    flat = [term for doc in documents for term in doc]
    cols = index.get_indexer(flat) if flat else np.empty(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(documents)), lengths)
    keep = cols >= 0
    counts = sp.csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])),
                           shape=(len(documents), len(vocabulary)))
    counts.sum_duplicates()
    return counts, vocabulary


def multi_hot(lists, vocabulary=None) -> tuple[sp.csr_matrix, list]:
    """Multi-hot encoding: ``x[d, t] = 1`` if term ``t`` is in ``lists[d]`` (repeats count once).

    Returns ``(matrix, vocabulary)`` as :func:`term_counts`.
    """
    counts, vocabulary = term_counts(lists, vocabulary)
    counts.data[:] = 1.0
    return counts, vocabulary


def idf(counts) -> np.ndarray:
    """Smoothed inverse document frequency of each column, shape ``(n_terms,)``:
    ``ln((1 + n) / (1 + df)) + 1``."""
    counts = sp.csr_matrix(counts)
    n = counts.shape[0]
    df = np.bincount(counts.indices[counts.data != 0], minlength=counts.shape[1])
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def l2_normalize_rows(matrix) -> sp.csr_matrix:
    """Each row divided by its Euclidean norm; all-zero rows stay zero. CSR in, CSR out."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def tf_idf(counts) -> sp.csr_matrix:
    """TF-IDF weights of a count matrix ``(n_documents, n_terms)``, rows L2-normalised.

    ``w[d, t] = counts[d, t] * idf(t)``, then ``w[d] /= ||w[d]||`` (see the module docstring
    for the exact variant). Counts must be non-negative.
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    if counts.nnz and counts.data.min() < 0:
        raise ValueError("tf_idf needs non-negative term counts")
    return l2_normalize_rows(counts @ sp.diags(idf(counts)))


def genre_features(movies: pd.DataFrame) -> ItemFeatures:
    """Multi-hot genres of ``movies`` (columns ``item`` and ``genres``, a list per movie).

    Feature names are ``"genre:<name>"``; a movie with no genre has an all-zero row.
    """
    _check_frame(movies, "movies frame", "genres", "load_movielens().movies has the right shape.")
    for pos, genres in enumerate(movies["genres"]):
        at = f"movies frame: {place(movies.index, pos)}, column 'genres'"
        if not isinstance(genres, (list, tuple, np.ndarray)):
            raise ValueError(f"{at}: {plain(genres)!r} is not a list; movies['genres'] must hold a list of "
                             f"genre names per movie, e.g. ['Comedy', 'Drama'] ([] for none)")
        odd = [g for g in genres if not isinstance(g, str) or not g.strip()]
        if odd:
            raise ValueError(f"{at}: genre {plain(odd[0])!r} in {list(genres)!r} is not a genre name; "
                             f"every genre must be a non-empty string")
    matrix, vocabulary = multi_hot(movies["genres"])
    return ItemFeatures(movies[ITEM].to_numpy(), matrix, [GENRE_PREFIX + g for g in vocabulary])


def tag_features(tags: pd.DataFrame, min_items: int = 1) -> ItemFeatures:
    """TF-IDF of user tags per item (columns ``item`` and ``tag``; one row per tag application).

    Tags are normalised (:func:`normalize_tag`); a tag applied to fewer than ``min_items``
    distinct items is dropped. Documents are the items with at least one tag (``n`` in the
    idf is their number). Feature names are ``"tag:<tag>"``.
    """
    _check_frame(tags, "tags frame", "tag", "load_movielens().tags has the right shape.")
    is_tag = tags["tag"].map(lambda t: isinstance(t, (str, int, np.integer)) and not isinstance(t, bool))
    odd = ~is_tag.to_numpy(dtype=bool)
    if odd.any():
        pos = int(np.flatnonzero(odd)[0])
        value = plain(tags["tag"].iloc[pos])
        kind = "missing" if pd.isna(value) else f"a {type(value).__name__}"
        raise ValueError(f"tags frame: {place(tags.index, pos)}, column 'tag': tag {value!r} is {kind} "
                         f"({int(odd.sum())} such rows); every tag must be text (drop rows without one: "
                         f"tags.dropna(subset=['tag']))")
    if isinstance(min_items, bool) or not isinstance(min_items, (int, np.integer, float)) \
            or not np.isfinite(min_items) or int(min_items) != min_items or min_items < 1:
        raise ValueError(f"min_items must be a whole number >= 1, got {min_items!r}")
    clean = pd.DataFrame({ITEM: tags[ITEM].to_numpy(), "tag": tags["tag"].map(normalize_tag)})
    clean = clean[clean["tag"] != ""]
    spread = clean.groupby("tag")[ITEM].nunique()
    vocabulary = sorted(spread.index[spread >= min_items])
    documents = clean.groupby(ITEM)["tag"].agg(list)
    counts, vocabulary = term_counts(documents.tolist(), vocabulary)
    return ItemFeatures(documents.index.to_numpy(), tf_idf(counts), [TAG_PREFIX + t for t in vocabulary])


def _check_frame(frame, name: str, column: str, hint: str) -> None:
    """``frame`` is a DataFrame with an ``item`` column of valid ids and a ``column``."""
    check_columns(frame, {ITEM: ITEM, column: column}, name, hint)
    check_ids(frame[ITEM], ITEM, name, what="item")


def combine_features(*blocks: ItemFeatures, weights=None) -> ItemFeatures:
    """Stack feature blocks side by side over the union of their items.

    Each block's rows are L2-normalised and scaled by ``sqrt(weight)``, so for two items
    ``x_a . x_b = sum_blocks weight * cos_block(a, b)``. Items missing from a block get zeros there.
    """
    if not blocks:
        raise ValueError("combine_features needs at least one ItemFeatures block")
    weights = [1.0] * len(blocks) if weights is None else list(weights)
    if len(weights) != len(blocks) or any(w < 0 for w in weights):
        raise ValueError(f"weights must be {len(blocks)} non-negative numbers, got {weights}")
    items = np.unique(np.concatenate([b.items for b in blocks]))
    parts = [l2_normalize_rows(b.rows(items)) * np.sqrt(w) for b, w in zip(blocks, weights)]
    names = [name for b in blocks for name in b.names]
    return ItemFeatures(items, sp.hstack(parts).tocsr(), names)


def training_tags(tags: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """The tag applications a model trained on ``train`` may know: no leak from held-out data.

    A tag is an interaction too: user ``u`` tagging item ``i`` says ``u`` watched ``i``. So a tag
    is kept only when its ``(user, item)`` pair is a training interaction, and, when both frames
    carry a ``timestamp``, when it was applied no later than **its tagger's own latest training
    interaction**. After that moment all of the tagger's activity is held out, whatever the split:
    under a per-user temporal split it is the tagger's future (with 20% per user held out, half
    of MovieLens' tags on training pairs were typed then), under a global cut-off it is
    everyone's future, under a random split it is the time of the tagger's held-out ratings only.
    A single global cut (the latest training timestamp of anyone) would keep those tags under the
    per-user split. Tags by users who never rated the item are dropped too (about 6% of
    MovieLens' tags): nothing shows they are training data.

    Returns the kept rows of ``tags`` (same columns, same order).
    """
    for name, frame, cols in (("tags frame", tags, ("user", ITEM, "tag")), ("train frame", train, ("user", ITEM))):
        check_columns(frame, {c: c for c in cols}, name, "tags need user, item and tag columns; train "
                      "is the training ratings (user, item[, timestamp])")
    pairs = pd.MultiIndex.from_frame(train[["user", ITEM]])
    keep = pd.MultiIndex.from_frame(tags[["user", ITEM]]).isin(pairs)
    if "timestamp" in tags and "timestamp" in train and len(train):
        own_cut = tags["user"].map(train.groupby("user")["timestamp"].max())  # NaN: not a training user
        keep &= (tags["timestamp"] <= own_cut).to_numpy()
    return tags[keep]


def movie_features(movies: pd.DataFrame, tags: pd.DataFrame, train, tag_weight: float = 1.0,
                   min_items: int = 1) -> ItemFeatures:
    """Genres and tag TF-IDF of MovieLens movies in one block (genre weight 1, tag weight
    ``tag_weight``), from what is known at training time.

    ``train``: the training ratings; only :func:`training_tags` of ``tags`` are used. It has no
    default so that it cannot be forgotten: pass ``train=None`` only on purpose, to use *every*
    tag, held-out users' included (the leak notebook 11 measures).
    """
    if train is not None:
        tags = training_tags(tags, train)
    return combine_features(genre_features(movies), tag_features(tags, min_items),
                            weights=[1.0, tag_weight])
