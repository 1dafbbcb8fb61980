import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lab.features import (ItemFeatures, combine_features, genre_features, idf, l2_normalize_rows,
                                 movie_features, multi_hot, normalize_tag, tag_features, term_counts, tf_idf)


def tf_idf_by_definition(documents):
    """Slow reference: the module docstring's formulas, one loop per sum. Returns (dense, vocab)."""
    vocab = sorted({t for doc in documents for t in doc})
    n = len(documents)
    out = np.zeros((n, len(vocab)))
    for t_pos, term in enumerate(vocab):
        df = sum(1 for doc in documents if term in doc)
        term_idf = math.log((1 + n) / (1 + df)) + 1
        for d, doc in enumerate(documents):
            out[d, t_pos] = doc.count(term) * term_idf
    for d in range(n):
        norm = math.sqrt(sum(v * v for v in out[d]))
        if norm > 0:
            out[d] /= norm
    return out, vocab


HAND_DOCS = [["funny", "funny", "dark"], ["dark"], ["space"]]


def test_term_counts_and_multi_hot_by_hand():
    counts, vocab = term_counts(HAND_DOCS)
    assert vocab == ["dark", "funny", "space"]
    np.testing.assert_array_equal(counts.toarray(), [[1, 2, 0], [1, 0, 0], [0, 0, 1]])
    hot, _ = multi_hot(HAND_DOCS)
    np.testing.assert_array_equal(hot.toarray(), [[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    # a given vocabulary ignores other terms and keeps its own order
    counts, vocab = term_counts(HAND_DOCS, vocabulary=["space", "funny"])
    np.testing.assert_array_equal(counts.toarray(), [[0, 2], [0, 0], [1, 0]])
    with pytest.raises(ValueError, match="repeated terms"):
        term_counts(HAND_DOCS, vocabulary=["a", "a"])


def test_tf_idf_hand_computed_example():
    counts, _ = term_counts(HAND_DOCS)
    # n = 3; df(dark) = 2, df(funny) = df(space) = 1
    # idf(dark) = ln(4/3) + 1 = 1.287682, idf(funny) = idf(space) = ln(4/2) + 1 = 1.693147
    np.testing.assert_allclose(idf(counts), [1.287682, 1.693147, 1.693147], atol=1e-6)
    # d1 = (1 * 1.287682, 2 * 1.693147, 0) / sqrt(1.287682^2 + 3.386294^2) = (1.287682, 3.386294, 0) / 3.622860
    #    = (0.355432, 0.934702, 0)
    expected = np.array([[0.355432, 0.934702, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(tf_idf(counts).toarray(), expected, atol=1e-6)


def test_tf_idf_matches_loop_by_definition():
    rng = np.random.default_rng(3)
    terms = [f"t{j}" for j in range(12)]
    docs = [list(rng.choice(terms, size=rng.integers(1, 9))) for _ in range(30)] + [[]]  # one empty doc
    reference, vocab = tf_idf_by_definition(docs)
    counts, vocab2 = term_counts(docs)
    assert vocab == vocab2
    np.testing.assert_allclose(tf_idf(counts).toarray(), reference, atol=1e-12)
    assert not tf_idf(counts)[30].toarray().any()  # the empty document stays all zero


def test_tf_idf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer  # the reference implementation

    docs = [["funny", "funny", "dark"], ["dark", "space"], ["space", "war", "war"], ["funny"]]
    vec = TfidfVectorizer(analyzer=lambda doc: doc, smooth_idf=True, norm="l2", sublinear_tf=False)
    theirs = vec.fit_transform(docs).toarray()
    counts, vocab = term_counts(docs)
    assert vocab == list(vec.get_feature_names_out())
    np.testing.assert_allclose(tf_idf(counts).toarray(), theirs, atol=1e-12)


def test_tag_features_match_scikit_learn_on_movielens(movielens):
    """Every tagged movie's row of tag_features is scikit-learn's TF-IDF of its normalised tags."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    tags = movielens.tags.assign(tag=movielens.tags.tag.map(normalize_tag))
    documents = tags[tags.tag != ""].groupby("item").tag.agg(list)
    vec = TfidfVectorizer(analyzer=lambda doc: doc)  # defaults: raw counts, smooth idf, L2 rows
    theirs = vec.fit_transform(documents.tolist())
    ours = tag_features(movielens.tags)
    columns = [ours.names.index(f"tag:{t}") for t in vec.get_feature_names_out()]
    assert len(columns) == ours.matrix.shape[1] == theirs.shape[1]
    mine = ours.rows(documents.index.values)[:, columns]
    np.testing.assert_allclose(mine.toarray(), theirs.toarray(), atol=1e-12)


def test_tf_idf_rejects_negative_counts():
    with pytest.raises(ValueError, match="non-negative"):
        tf_idf(sp.csr_matrix(np.array([[1.0, -1.0]])))


def test_l2_normalize_rows_unit_or_zero():
    m = l2_normalize_rows(sp.csr_matrix(np.array([[3.0, 4.0], [0.0, 0.0]])))
    np.testing.assert_allclose(m.toarray(), [[0.6, 0.8], [0.0, 0.0]])


def test_normalize_tag():
    assert normalize_tag("  Twist   Ending ") == "twist ending"
    assert normalize_tag("Pixar") == normalize_tag("pixar ")


@pytest.fixture
def small_movies():
    return pd.DataFrame({"item": [30, 10, 20], "title": ["C", "A", "B"],
                         "genres": [["Drama"], ["Comedy", "Drama"], []]})


def test_genre_features_multi_hot(small_movies):
    feats = genre_features(small_movies)
    assert list(feats.items) == [10, 20, 30]  # sorted by item id
    assert feats.names == ["genre:Comedy", "genre:Drama"]
    np.testing.assert_array_equal(feats.matrix.toarray(), [[1, 1], [0, 0], [0, 1]])
    assert feats.describe(10) == {"genre:Comedy": 1.0, "genre:Drama": 1.0}


def test_genre_features_bad_input(small_movies):
    with pytest.raises(ValueError, match=r"movies frame: missing column\(s\) 'genres'; found"):
        genre_features(small_movies.drop(columns="genres"))
    with pytest.raises(ValueError, match=r"row 0, column 'genres': 'Drama' is not a list.*list of genre names"):
        genre_features(small_movies.assign(genres=["Drama", "Comedy|Drama", ""]))


@pytest.mark.parametrize("column, value, message", [
    ("genres", np.nan, r"movies frame: row 'b', column 'genres': nan is not a list"),
    ("genres", "Comedy|Drama", r"row 'b', column 'genres': 'Comedy\|Drama' is not a list"),
    ("genres", ["Comedy", np.nan], r"row 'b', column 'genres': genre nan in \['Comedy', nan\] is not a genre name"),
    ("genres", ["Comedy", ""], r"row 'b', column 'genres': genre '' in .* is not a genre name"),
    ("item", np.nan, r"movies frame: row 'b', column 'item': missing item id nan"),
    ("item", "20", r"row 'b', column 'item': item id '20' is text but row 'a' holds a number"),
])
def test_genre_features_name_the_bad_row(small_movies, column, value, message):
    movies = small_movies.set_axis(["a", "b", "c"]).astype({column: object})
    movies.at["b", column] = value
    with pytest.raises(ValueError, match=message):
        genre_features(movies)


def test_feature_builders_need_frames(small_movies):
    with pytest.raises(TypeError, match=r"movies frame: expected a pandas DataFrame .* got list"):
        genre_features(small_movies.to_dict("records"))
    with pytest.raises(TypeError, match=r"tags frame: expected a pandas DataFrame"):
        tag_features(None)


@pytest.mark.parametrize("column, value, message", [
    ("tag", np.nan, r"tags frame: row 7, column 'tag': tag nan is missing \(1 such rows\)"),
    ("tag", ["pixar"], r"row 7, column 'tag': tag \['pixar'\] is a list"),
    ("item", None, r"tags frame: row 7, column 'item': missing item id None"),
])
def test_tag_features_name_the_bad_row(column, value, message):
    tags = pd.DataFrame({"item": [10, 20, 30], "tag": ["pixar", "dark", "fun"]}, index=[5, 7, 9])
    with pytest.raises(ValueError, match="min_items must be a whole number >= 1, got nan"):
        tag_features(tags, min_items=float("nan"))
    tags = tags.astype({column: object})
    tags.at[7, column] = value
    with pytest.raises(ValueError, match=message):
        tag_features(tags)


def test_tag_features_normalise_merge_and_filter():
    tags = pd.DataFrame({"user": [1, 2, 3, 1, 2], "item": [10, 10, 20, 20, 30],
                         "tag": ["Pixar", " pixar", "dark", "Pixar", "one-off"]})
    feats = tag_features(tags)
    assert feats.names == ["tag:dark", "tag:one-off", "tag:pixar"]
    # item 10: pixar twice -> the only term; item 20: dark + pixar, each once
    np.testing.assert_allclose(feats.rows([10]).toarray(), [[0, 0, 1]])
    counts = sp.csr_matrix(np.array([[0, 0, 2], [1, 0, 1], [0, 1, 0.0]]))
    np.testing.assert_allclose(feats.matrix.toarray(), tf_idf(counts).toarray())
    kept = tag_features(tags, min_items=2)  # 'pixar' is on 2 items, the others on 1
    assert kept.names == ["tag:pixar"]
    assert kept.rows([30]).nnz == 0
    with pytest.raises(ValueError, match="min_items"):
        tag_features(tags, min_items=0)
    with pytest.raises(ValueError, match=r"tags frame: missing column\(s\) 'tag'; found"):
        tag_features(tags.drop(columns="tag"))


def test_item_features_validation_and_rows():
    m = sp.csr_matrix(np.array([[1.0, 0], [0, 2.0]]))
    feats = ItemFeatures(np.array([5, 3]), m, ["a", "b"])
    assert list(feats.items) == [3, 5] and feats.rows([3]).toarray().tolist() == [[0, 2.0]]
    assert feats.rows([99, 5]).toarray().tolist() == [[0, 0], [1.0, 0]]  # unknown item: zeros
    assert "2 items x 2 features" in repr(feats)
    assert feats.to_frame().loc[5, "a"] == 1.0
    with pytest.raises(ValueError, match=r"repeated item ids \(1 repeats; the first is 1 at position 1\)"):
        ItemFeatures(np.array([1, 1]), m, ["a", "b"])
    with pytest.raises(ValueError, match=r"ItemFeatures items: row 1, column 'item': missing item id nan"):
        ItemFeatures(np.array([1, np.nan]), m, ["a", "b"])
    with pytest.raises(ValueError, match="one name per column"):
        ItemFeatures(np.array([1, 2]), m, ["a"])
    with pytest.raises(ValueError, match="one matrix row per item"):
        ItemFeatures(np.array([1, 2, 3]), m, ["a", "b"])
    with pytest.raises(ValueError, match="NaN"):
        ItemFeatures(np.array([1, 2]), sp.csr_matrix(np.array([[np.nan, 0], [0, 1]])), ["a", "b"])


def test_combine_features_dot_is_weighted_sum_of_block_cosines(small_movies):
    genres = genre_features(small_movies)
    tags = tag_features(pd.DataFrame({"item": [10, 30, 30, 40], "tag": ["x", "x", "y", "y"]}))
    both = combine_features(genres, tags, weights=[2.0, 0.5])
    assert list(both.items) == [10, 20, 30, 40] and both.n_features == 4

    def cos(a, b):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return 0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb))

    for a in both.items:
        for b in both.items:
            expected = (2.0 * cos(genres.rows([a]).toarray()[0], genres.rows([b]).toarray()[0])
                        + 0.5 * cos(tags.rows([a]).toarray()[0], tags.rows([b]).toarray()[0]))
            got = (both.rows([a]) @ both.rows([b]).T).toarray()[0, 0]
            assert got == pytest.approx(expected)
    with pytest.raises(ValueError, match="weights must be 2 non-negative"):
        combine_features(genres, tags, weights=[1.0])
    with pytest.raises(ValueError, match="at least one"):
        combine_features()


def test_movie_features_on_movielens(movielens):
    feats = movie_features(movielens.movies, movielens.tags, train=None)
    assert len(feats) == len(movielens.movies)  # every movie, tagged or not
    norms = np.sqrt(np.asarray(feats.matrix.multiply(feats.matrix).sum(axis=1)).ravel())
    n_genres = np.array([len(g) > 0 for g in movielens.movies.sort_values("item").genres])
    tagged = np.isin(feats.items, movielens.tags.item.unique())
    # unit genre block + unit tag block: squared norm = [has genres] + [has tags]
    np.testing.assert_allclose(norms ** 2, n_genres.astype(float) + tagged)
    assert "genre:Comedy" in feats.names and "tag:pixar" in feats.names


def test_training_tags_keep_only_training_pairs_and_their_time():
    from recsys_lab.features import training_tags

    tags = pd.DataFrame({"user": [1, 1, 2, 3], "item": [10, 20, 10, 30], "tag": ["a", "b", "c", "d"],
                         "timestamp": [5, 50, 6, 7]})
    train = pd.DataFrame({"user": [1, 1, 2], "item": [10, 20, 10], "rating": 4.0, "timestamp": [4, 8, 9]})
    kept = training_tags(tags, train)
    # (3, 30) is not a training pair; (1, 20)'s tag comes after the last training interaction (t=9)
    assert kept.tag.tolist() == ["a", "c"]
    # the cut is the tagger's own: user 1's tag at t=8.5 is after user 1's last training rating
    # (t=8) though before user 2's (t=9), so it goes; a global cut would keep it
    later = tags.assign(timestamp=[5, 8.5, 6, 7])
    assert training_tags(later, train).tag.tolist() == ["a", "c"]
    assert training_tags(later.assign(timestamp=[5, 8, 6, 7]), train).tag.tolist() == ["a", "b", "c"]
    assert training_tags(tags, train.drop(columns="timestamp")).tag.tolist() == ["a", "b", "c"]
    feats = movie_features(pd.DataFrame({"item": [10, 20, 30], "genres": [["X"], ["Y"], ["X"]]}), tags, train)
    assert [n for n in feats.names if n.startswith("tag:")] == ["tag:a", "tag:c"]
    every = movie_features(pd.DataFrame({"item": [10, 20, 30], "genres": [["X"], ["Y"], ["X"]]}), tags, None)
    assert len([n for n in every.names if n.startswith("tag:")]) == 4


def test_movie_features_needs_the_training_data():
    with pytest.raises(TypeError, match="train"):
        movie_features(pd.DataFrame({"item": [1], "genres": [["X"]]}), pd.DataFrame({"item": [1], "tag": ["a"]}))
