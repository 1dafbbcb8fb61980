import hashlib

import numpy as np
import pandas as pd
import pytest

from recsys_lab.data import DataWarning, RatingScale, load_ratings
from recsys_lab.data.loaders import default_data_dir

ML = {"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp"}


def write(tmp_path, text, name="r.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_movielens_shapes_and_types(movielens):
    r = movielens.ratings
    assert list(r.columns) == ["user", "item", "rating", "timestamp"]
    assert len(r) == 100836 and r.user.nunique() == 610 and r.item.nunique() == 9724
    assert r.rating.between(0.5, 5.0).all() and r.rating.dtype == np.float64
    assert r.attrs["load_report"].rows_removed == 0
    assert len(movielens.movies) == 9742 and len(movielens.tags) == 3683


def test_movielens_year_and_genres_parsed(movielens):
    m = movielens.movies.set_index("item")
    assert m.loc[1, "title"] == "Toy Story (1995)" and m.loc[1, "year"] == 1995
    assert m.loc[1, "genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    no_genre = movielens.movies[movielens.movies.genres.str.len() == 0]
    assert len(no_genre) == 34  # "(no genres listed)" becomes an empty list
    assert movielens.titles([1, -5]) == ["Toy Story (1995)", "<unknown item -5>"]


def test_shipped_files_match_checksums():
    folder = default_data_dir()
    lines = (folder / "ml-latest-small.sha256").read_text().split("\n")
    for line in filter(None, lines):
        digest, name = line.split()
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_reads_mapped_csv(tmp_path):
    p = write(tmp_path, "userId,movieId,rating,timestamp\n1,10,4.5,100\n2,10,3,200\n")
    r = load_ratings(p, columns=ML)
    assert r.to_dict("list") == {"user": [1, 2], "item": [10, 10], "rating": [4.5, 3.0],
                                 "timestamp": [100, 200]}


@pytest.mark.parametrize("body, needle", [
    ("user,item,rating\n1,10,4\n2,11,abc\n", "line 3, column 'rating': rating 'abc' is not a number"),
    ("user,item,rating\n1,10,4\n2,11,inf\n", "line 3, column 'rating': rating 'inf' is not finite"),
    ("user,item,rating\n1,10,\n", "line 2, column 'rating': rating nan is missing"),
    ("user,item,rating\n1,10,4\n1,11,6\n", "line 3, column 'rating': rating 6.0 is outside the scale 0.5..5.0"),
    ("user,item,rating\n1,10,4.25\n", "in steps of 0.5"),
    ("user,item,rating\n", "no rating rows"),
    ("", "the file is empty"),
    ("user;item;rating\n1;10;4\n", "looks semicolon-separated, so pass sep=';'"),
    ("user,item\n1,10\n", "missing column(s) 'rating'; found ['user', 'item']"),
    ("user,item,rating\n,10,4\n", "line 2, column 'user': missing user id"),
    ("user,item,rating\n1,10,4\n2,10,3\n1,10,5\n", "user 1, item 10 at line 2 and line 4"),
])
def test_bad_files_give_clear_errors(tmp_path, body, needle):
    p = write(tmp_path, body)
    with pytest.raises(ValueError) as err:
        load_ratings(p)
    assert str(p) in str(err.value) and needle in str(err.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    p = write(tmp_path, b"user,item,rating\n1,10,4\n2,caf\xe9,3\n", mode="wb")
    with pytest.raises(ValueError, match=r"line 3 has bytes that are not valid utf-8"):
        load_ratings(p)
    assert load_ratings(p, encoding="latin-1")["item"].tolist() == ["10", "café"]


def test_dataframe_errors_name_the_row_label():
    frame = pd.DataFrame({"user": [1, 2], "item": [3, 4], "rating": [4.0, np.nan]}, index=[7, 8])
    with pytest.raises(ValueError, match=r"DataFrame: row 8, column 'rating'"):
        load_ratings(frame)
    with pytest.raises(ValueError, match="outside the scale 1..5"):
        load_ratings(frame.fillna(0.0), scale=RatingScale(1, 5))
    with pytest.raises(ValueError, match=r"DataFrame: missing column\(s\) 'movieId' \(for item\)"):
        load_ratings(frame, columns={"item": "movieId"})
    mixed = frame.fillna(3.0).astype({"user": object})
    mixed.loc[8, "user"] = "2"
    with pytest.raises(ValueError, match=r"row 8, column 'user': user id '2' is text but row 7 holds a number"):
        load_ratings(mixed)


def test_duplicates_policies_count_and_report(tmp_path):
    p = write(tmp_path, "user,item,rating,timestamp\n1,10,4,1\n2,10,3,2\n1,10,5,3\n1,10,3,4\n")
    cols = {"timestamp": "timestamp"}
    with pytest.warns(DataWarning, match="2 duplicate rating row.*2 of 4 rows kept"):
        last = load_ratings(p, columns=cols, duplicates="last")
    assert last.sort_values("user")["rating"].tolist() == [3.0, 3.0]
    assert last.attrs["load_report"].rows_removed == 2
    with pytest.warns(DataWarning):
        mean = load_ratings(p, columns=cols, duplicates="mean")
    row = mean[mean.user == 1].iloc[0]
    assert row.rating == pytest.approx(4.0) and row.timestamp == 4  # (4+5+3)/3, latest time
    with pytest.raises(ValueError, match="duplicates must be"):
        load_ratings(p, duplicates="first")


def test_clean_load_emits_no_warning(tmp_path, recwarn):
    load_ratings(write(tmp_path, "user,item,rating\n1,10,4\n"))
    assert not [w for w in recwarn if issubclass(w.category, DataWarning)]


def test_unknown_mapping_key_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown key"):
        load_ratings(write(tmp_path, "user,item,rating\n1,1,1\n"), columns={"usr": "user"})
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_ratings(tmp_path / "absent.csv")
