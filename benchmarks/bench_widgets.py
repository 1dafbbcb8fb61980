"""Redraw latency of every explorer in ``recsys_lab/widgets/``: median and 90th percentile in ms.

A widget class is any :class:`recsys_lab.widgets.common.Explorer` subclass with a ``redraw()``. For each one the
benchmark builds it (with a recipe below, or with no arguments), then times what a learner
does: move a slider back and forth (the slider's observer redraws synchronously, as in a
kernel; an IPython shell formats what a widget displays, HTML included), or, for widgets without a slider, call the redraw method directly. No browser is
involved: the time is the kernel-side work (computing and rendering the PNG or table), which is
what a slow redraw is made of; the browser then adds a few ms to show the new image.

Targets: a redraw within 100 ms feels immediate; within 200 ms is the upper bound the course
accepts for a widget that recomputes a model. Both are checked for every widget.

**The new user** (notebook 12): one "rate it" click of :class:`NewUserRatings` with the
recommendation explorer in new-user mode over MF, ItemKNN and DeepContent, timed before (the
explorer refits every chosen model on the ratings plus the new one) and after (the explorer is
given ``new_user.serve(models)``: each model folds the new user in, no refit). The ratio
before / after is the figure to watch; the refit path is timed on fewer clicks, it is slow.
"""
from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import time
from contextlib import redirect_stdout

import numpy as np

from .common import Section, machine_note

REPEAT = 15
TARGETS_MS = (100, 200)


def _training_curves():
    from recsys_lab.training import History
    from recsys_lab.widgets.training_curves import TrainingCurves

    curves = TrainingCurves(metric="rmse")
    rng = np.random.default_rng(0)
    epochs = 100
    train = list(np.exp(-np.arange(epochs) / 30) + 0.5 + rng.normal(0, 0.01, epochs))
    curves.history = History(train_loss=train, val_loss=[t + 0.1 for t in train],
                             metrics={"rmse": [np.sqrt(t + 0.1) for t in train]},
                             lr=[0.01] * epochs, epochs=epochs, status="finished", best_epoch=epochs)
    return curves


def _top_movies():
    from recsys_lab.data import load_movielens
    from recsys_lab.widgets.top_movies import TopMoviesExplorer

    ml = load_movielens()
    return TopMoviesExplorer(ml.ratings, ml.movies)


def _similarity_explorer():
    from recsys_lab.data import load_movielens
    from recsys_lab.widgets.similarity_explorer import SimilarityExplorer

    ml = load_movielens()
    return SimilarityExplorer(ml.ratings, ml.movies)


def _recommendation_explorer():
    from recsys_lab.data import load_movielens
    from recsys_lab.features import genre_features
    from recsys_lab.models import BiasBaseline, MostPopular
    from recsys_lab.models.knn import ItemKNN
    from recsys_lab.widgets.recommendation_explorer import RecommendationExplorer

    ml = load_movielens()
    models = {name: model.fit(ml.ratings) for name, model in
              {"MostPopular": MostPopular(), "BiasBaseline": BiasBaseline(), "ItemKNN": ItemKNN()}.items()}
    return RecommendationExplorer(models, ml.ratings, ml.movies, genres=genre_features(ml.movies),
                                  selected=list(models))


# Widgets that need arguments or data: class name -> builder. Others are built with no arguments.
RECIPES = {"TrainingCurves": _training_curves, "TopMoviesExplorer": _top_movies,
           "SimilarityExplorer": _similarity_explorer, "RecommendationExplorer": _recommendation_explorer}


NEW_USER_CLICKS = (3, 15)  # clicks timed with refitting, with fold-in


def _new_user_models(quick: bool):
    from recsys_lab.data import load_movielens
    from recsys_lab.features import movie_features
    from recsys_lab.models import MatrixFactorization
    from recsys_lab.models.content import DeepContent
    from recsys_lab.models.knn import ItemKNN

    ml = load_movielens()
    train = ml.ratings
    epochs = 2 if quick else 10
    models = {"MF": MatrixFactorization(epochs=epochs, device="cpu", seed=0),
              "ItemKNN": ItemKNN(),
              "DeepContent": DeepContent(movie_features(ml.movies, ml.tags, train), epochs=max(1, epochs // 2), seed=0)}
    for name, model in models.items():
        model.fit(train, progress=False) if name == "MF" else model.fit(train)
    return ml, train, models


def time_new_user(quick: bool = False) -> list[dict]:
    """Per-click seconds of the new-user widget, refitting vs folding in (see the module docstring)."""
    from recsys_lab.widgets.new_user import NewUserRatings
    from recsys_lab.widgets.recommendation_explorer import RecommendationExplorer

    ml, train, models = _new_user_models(quick)
    popular = train["item"].value_counts().index[:40].tolist()  # movies every model knows
    rows = []
    for label, serve, clicks in (("refit every model", False, NEW_USER_CLICKS[0]),
                                 ("fold the new user in", True, NEW_USER_CLICKS[1])):
        new_user = NewUserRatings(ml.movies, train)
        given = new_user.serve(models) if serve else models
        explorer = RecommendationExplorer(given, train, ml.movies, new_user=new_user, selected=list(models))
        explorer.mode.value = "new user"
        times = []
        with redirect_stdout(io.StringIO()):
            for j in range(clicks):
                start = time.perf_counter()
                new_user.rate(popular[j], 0.5 + (j * 7) % 10 * 0.5)
                times.append(time.perf_counter() - start)
        assert len(explorer.lists) == len(models), explorer.message.value
        ms = np.array(times) * 1000
        rows.append({"widget": "new_user.NewUserRatings + RecommendationExplorer", "interaction":
                     f"one rating added ({label}; MF, ItemKNN, DeepContent)", "median ms": float(np.median(ms)),
                     "p90 ms": float(np.quantile(ms, 0.9)), "max ms": float(ms.max()),
                     f"<= {TARGETS_MS[0]} ms": "yes" if np.median(ms) <= TARGETS_MS[0] else "NO",
                     f"<= {TARGETS_MS[1]} ms": "yes" if np.median(ms) <= TARGETS_MS[1] else "NO",
                     "note": f"{clicks} clicks"})
    ratio = rows[0]["median ms"] / rows[1]["median ms"]
    rows[1]["note"] += f"; {ratio:.0f}x faster than refitting (median per click)"
    return rows


def widget_classes() -> list[tuple[str, str, type]]:
    """``[(module name, class name, class)]`` of every explorer that redraws (``Explorer`` subclasses
    with a ``redraw()``; the new-user ratings box has none)."""
    import recsys_lab.widgets as package
    from recsys_lab.widgets.common import Explorer

    out = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"recsys_lab.widgets.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, Explorer) and cls is not Explorer and cls.__module__ == module.__name__
                    and hasattr(cls, "redraw")):
                out.append((info.name, name, cls))
    return out


def _first_slider(obj):
    import ipywidgets as W

    for attr, value in vars(obj).items():
        if isinstance(value, (W.IntSlider, W.FloatSlider, W.FloatLogSlider)) and not value.disabled:
            return attr, value
    return None, None


def _other_value(slider):
    step = slider.step or 1
    if slider.value + step <= slider.max:
        return slider.value + step
    return slider.value - step


def time_widget(obj) -> tuple[np.ndarray, str]:
    """Per-redraw seconds for ``REPEAT`` interactions, and how the redraw was triggered."""
    attr, slider = _first_slider(obj)
    times = []
    sink = io.StringIO()
    with redirect_stdout(sink):  # a widget that displays into an Output prints outside a kernel
        if slider is not None:
            values = [_other_value(slider), slider.value]
            for j in range(REPEAT):
                start = time.perf_counter()
                slider.value = values[j % 2]
                times.append(time.perf_counter() - start)
            how = f"slider `{attr}` moved"
        else:
            for _ in range(REPEAT):
                start = time.perf_counter()
                obj.redraw()
                times.append(time.perf_counter() - start)
            how = "`redraw()` called"
    return np.array(times), how


def _shell():
    """An IPython shell, so that ``display`` computes every format (HTML too) as in a kernel."""
    from IPython import get_ipython
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if get_ipython() is None:
        config = Config()
        config.HistoryManager.enabled = False
        InteractiveShell.instance(config=config)


def run(quick: bool = False) -> list[Section]:
    import matplotlib

    matplotlib.use("Agg")  # no display here; the widgets render PNGs themselves
    _shell()
    rows = []
    for module, name, cls in widget_classes():
        try:
            with redirect_stdout(io.StringIO()):
                obj = RECIPES[name]() if name in RECIPES else cls()
        except Exception as err:
            rows.append({"widget": f"{module}.{name}", "interaction": "not timed",
                         "note": f"could not build it ({type(err).__name__}: {err}); add a recipe"})
            continue
        times, how = time_widget(obj)
        ms = times * 1000
        median, p90 = float(np.median(ms)), float(np.quantile(ms, 0.9))
        rows.append({"widget": f"{module}.{name}", "interaction": how, "median ms": median,
                     "p90 ms": p90, "max ms": float(ms.max()),
                     f"<= {TARGETS_MS[0]} ms": "yes" if median <= TARGETS_MS[0] else "NO",
                     f"<= {TARGETS_MS[1]} ms": "yes" if median <= TARGETS_MS[1] else "NO", "note": ""})
    rows.extend(time_new_user(quick))
    note = (f"{REPEAT} interactions per widget (the new-user rows: the clicks they say; models seeded 0), timed in this process (kernel-side work: compute and "
            f"render). Targets: {TARGETS_MS[0]} ms feels immediate, {TARGETS_MS[1]} ms is the upper "
            f"bound. {machine_note()}")
    return [Section("Widget redraw latency", rows, note)]
