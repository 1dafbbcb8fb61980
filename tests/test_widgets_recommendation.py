import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_lab.features import ItemFeatures
from recsys_lab.models import BiasBaseline, ContentBased, MostPopular
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.new_user import NewUserRatings, add_rating, new_user_id
from recsys_lab.widgets.recommendation_explorer import (RecommendationExplorer, comparison_table,
                                                        draw_comparison, recommendation_lists)


@pytest.fixture
def movies():
    return pd.DataFrame({"item": [10, 20, 30, 40, 50, 60], "title": ["A (2000)", "B (2001)", "C (2002)",
                                                                     "D (2003)", "E (2004)", "F (2005)"],
                         "genres": [["Comedy"], ["Drama"], ["Comedy", "Drama"], ["Comedy"], ["Drama"], ["Comedy"]]})


@pytest.fixture
def feats():
    rows = np.array([[1.0, 0], [0, 1], [0.6, 0.8], [1, 0], [0, 1], [1, 0]])
    return ItemFeatures(np.array([10, 20, 30, 40, 50, 60]), sp.csr_matrix(rows), ["genre:Comedy", "genre:Drama"])


@pytest.fixture
def models(tiny_ratings, feats):
    return {"Popular": MostPopular().fit(tiny_ratings), "Content": ContentBased(feats).fit(tiny_ratings),
            "Bias": lambda ratings: BiasBaseline().fit(ratings)}   # a factory works too


@pytest.fixture
def explorer(models, tiny_ratings, movies):
    return RecommendationExplorer(models, tiny_ratings, movies, new_user=NewUserRatings(movies, tiny_ratings),
                                  k=2, selected=["Popular", "Content"])


def test_lists_diversity_and_novelty_by_hand(explorer):
    pop = explorer.lists["Popular"]
    # user 1 saw 10, 20, 30; counts 40: 1, 50: 1 -> D, E (tie by id)
    assert pop.table.title.tolist() == ["D (2003)", "E (2004)"]
    assert pop.table.genres.tolist() == ["Comedy", "Drama"]
    assert pop.diversity == pytest.approx(1.0)          # orthogonal genre vectors: distance 1
    assert pop.novelty == pytest.approx(2.0)            # each rated by 1 of 4 users: -log2(1/4)
    content = explorer.lists["Content"]
    assert content.n_unrated == 1 and 60 in content.table.item.tolist()  # the unrated movie F
    assert math.isnan(content.novelty) or content.novelty > 0
    assert "D (2003)" in explorer.output.value and "Content" in explorer.output.value
    table = comparison_table(explorer.lists)
    assert table.model.tolist() == ["Popular", "Content"]


def test_controls_change_the_lists(explorer):
    explorer.k.value = 3
    assert len(explorer.lists["Popular"].table) == 2    # user 1 has only 2 unseen rated items + 60 unknown to Popular
    explorer.user.value = 4
    assert explorer.lists["Popular"].table.item.tolist() == [20, 30, 40]
    explorer.models.value = ("Bias",)
    assert list(explorer.lists) == ["Bias"] and "global_mean" in explorer.lists["Bias"].table.why[0]


def test_impossible_choices_give_messages(explorer):
    before = explorer.lists
    explorer.models.value = ()
    assert "Choose at least one model" in explorer.message.value and explorer.lists is before
    explorer.models.value = ("Popular",)
    explorer.mode.value = "new user"
    assert "Rate at least one movie" in explorer.message.value
    with pytest.raises(InputError, match="k must be"):
        recommendation_lists(explorer._given, 1, 0, explorer.movies, ratings=explorer.ratings)


def test_new_user_rates_and_gets_refitted_models(explorer, models):
    new = explorer.new_user
    assert new.user == 5                                     # one more than the largest id
    assert not explorer.user.disabled
    explorer.mode.value = "new user"
    assert explorer.user.disabled                            # the user dropdown does not apply
    explorer.models.value = ("Popular", "Content")
    assert new.rate("b (2001)", 5.0)                          # case-insensitive exact title
    assert new.rate(50, 4.5)
    assert new.ratings.item.tolist() == [20, 50]
    content = explorer.lists["Content"]
    # the new user liked two Drama movies: the Drama-heavy unseen item C comes first
    assert content.table.item.tolist()[0] == 30
    assert 20 not in content.table.item.tolist() and 50 not in explorer.lists["Popular"].table.item.tolist()
    assert 5 not in models["Content"].data_.users          # the given models were not refitted
    assert "served for you" in explorer.message.value
    # bad input: a message in the widget, no change
    assert not new.rate("Nope (1999)", 4.0) and "No movie is titled" in new.message.value
    assert not new.rate("B", 4.0) and "Did you mean: B (2001)" in new.message.value
    assert not new.rate(20, 7.0) and "A rating must lie in 0.5..5.0" in new.message.value
    assert len(new.ratings) == 2
    new.remove_last()
    assert new.ratings.item.tolist() == [20]
    new.reset()
    assert "Rate at least one movie" in explorer.message.value
    new.remove_last()
    assert "Nothing to remove" in new.message.value


def test_add_rating_replaces_and_validates(movies, tiny_ratings):
    frame = add_rating(pd.DataFrame({"user": [], "item": [], "rating": []}), movies, "A (2000)", 3.0, user=9)
    frame = add_rating(frame, movies, 10, 4.5, user=9)
    assert frame.values.tolist() == [[9, 10, 4.5]]
    with pytest.raises(InputError, match="steps of 0.5"):
        add_rating(frame, movies, 20, 4.2, user=9)
    assert new_user_id(tiny_ratings) == 5


def test_draw_comparison_static_figure(explorer):
    fig = draw_comparison(explorer.lists)
    left, right = fig.axes
    assert "diversity" in left.get_xlabel() and "novelty" in right.get_xlabel()
    assert [t.get_text() for t in left.get_yticklabels()] == ["Popular", "Content"]
    assert left.patches[0].get_width() == pytest.approx(1.0)


def test_new_user_is_folded_in_without_refitting(tiny_ratings, movies, feats, monkeypatch):
    from recsys_lab.models import ItemKNN
    from recsys_lab.models.base import FoldedUser

    fitted = {"Content": ContentBased(feats).fit(tiny_ratings), "ItemKNN": ItemKNN(k=2).fit(tiny_ratings),
              "Popular": MostPopular().fit(tiny_ratings)}          # MostPopular cannot fold in: refitted
    new = NewUserRatings(movies, tiny_ratings)
    explorer = RecommendationExplorer(new.serve(fitted), tiny_ratings, movies, new_user=new, k=2,
                                      selected=list(fitted))
    explorer.mode.value = "new user"
    refits = []
    original_fit = ContentBased.fit
    monkeypatch.setattr(ContentBased, "fit", lambda self, r: refits.append(1) or original_fit(self, r))
    assert new.rate("b (2001)", 5.0) and new.rate(50, 4.5)
    assert refits == []                                              # folded in, never refitted
    content = explorer.lists["Content"]
    assert content.table.item.tolist()[0] == 30                      # as the refitted model said
    folded = fitted["Content"].fold_in({20: 5.0, 50: 4.5})
    assert content.table.item.tolist() == folded.recommend(k=2).item.tolist()
    assert content.table.why[0] == folded.explain(30)["text"]
    assert isinstance(explorer._new_user_model("ItemKNN"), FoldedUser)
    assert not isinstance(explorer._new_user_model("Popular"), FoldedUser)   # refitted copy
    assert 5 not in fitted["Content"].data_.users
    # a movie the models do not know: a clear message in the widget
    assert new.rate(60, 4.0)
    assert "ItemKNN" in explorer.message.value and "does not know item(s) [60]" in explorer.message.value
