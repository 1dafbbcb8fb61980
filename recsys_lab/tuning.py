"""Choosing settings on a validation split, with the budget written down (notebooks 10, 13; the
benchmark's ``make bench``).

A comparison between models is fair only if each had the same chance to be tuned: the same number
of settings tried, on the same validation split, scored by the same metric, and the test set left
alone until the end. :func:`search` does exactly that for any model with ``fit``:

>>> configs = grid(n_factors=[16, 64], reg=[0.02, 0.1])          # 4 settings
>>> result = search(lambda p: MatrixFactorization(**p), configs, split.fit, split.validation,
...                 score=lambda m, v: rmse(v.rating, m.predict(v.user, v.item)),
...                 metric="validation RMSE", higher_is_better=False, budget=4)
>>> result.best_params, result.table()

Ties between settings are broken by the order of ``configs`` (the earlier one wins), so the
choice is a function of the code and the data only. :func:`random_configs` draws settings from a
space with a seeded generator (Bergstra & Bengio 2012: random search beats a grid of the same size
when only a few settings matter).
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

SIGNIFICANT_DIGITS = 3


def grid(**axes: Sequence) -> list[dict]:
    """Every combination of the given values, in the order given (the last axis varies fastest).

    >>> grid(a=[1, 2], b=["x", "y"])
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]"""
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"grid axis {name!r} needs a non-empty list of values, got {values!r}")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def _round(x: float) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, SIGNIFICANT_DIGITS - 1 - int(math.floor(math.log10(abs(x)))))


def random_configs(space: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` settings drawn from ``space`` with ``numpy.random.default_rng(seed)``.

    Each value of ``space`` is a list (pick one uniformly), ``(low, high)`` (uniform real),
    ``(low, high, "log")`` (log-uniform real, for rates and penalties) or ``(low, high, "int")``
    (uniform whole number, both ends included). Reals are rounded to 3 significant digits so the
    settings print as they are used."""
    if int(n) != n or n < 1:
        raise ValueError(f"n (settings to draw) must be a whole number >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(int(n)):
        config = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                if not spec:
                    raise ValueError(f"space[{name!r}] is an empty list")
                config[name] = spec[int(rng.integers(len(spec)))]
            elif isinstance(spec, tuple) and len(spec) in (2, 3):
                low, high, kind = (*spec, "uniform")[:3]
                if not low < high:
                    raise ValueError(f"space[{name!r}] = {spec!r}: low must be below high")
                if kind == "log":
                    if low <= 0:
                        raise ValueError(f"space[{name!r}] = {spec!r}: a log-uniform range needs low > 0")
                    config[name] = _round(float(math.exp(rng.uniform(math.log(low), math.log(high)))))
                elif kind == "int":
                    config[name] = int(rng.integers(int(low), int(high) + 1))
                elif kind == "uniform":
                    config[name] = _round(float(rng.uniform(low, high)))
                else:
                    raise ValueError(f"space[{name!r}] = {spec!r}: kind must be 'log', 'int' or 'uniform'")
            else:
                raise ValueError(f"space[{name!r}] must be a list of choices or a (low, high[, kind]) "
                                 f"tuple, got {spec!r}")
        out.append(config)
    return out


@dataclass(frozen=True)
class Trial:
    """One setting tried: its validation ``score``, the fit time in seconds, and, when the model
    records a history, the epochs it trained and the epoch of its lowest validation loss (with
    ``EarlyStopping(restore_best=True)`` the weights kept are that epoch's)."""

    params: dict
    score: float
    seconds: float
    epochs: int | None = None
    best_epoch: int | None = None


@dataclass
class SearchResult:
    """What a search tried and what it chose; ``budget`` is the number of settings allowed."""

    metric: str
    higher_is_better: bool
    budget: int
    trials: list[Trial] = field(default_factory=list)

    @property
    def best(self) -> Trial:
        """The best trial; among equal scores the earliest (the order of ``configs``)."""
        if not self.trials:
            raise ValueError("the search tried no setting")
        sign = -1.0 if self.higher_is_better else 1.0
        return min(enumerate(self.trials), key=lambda it: (sign * it[1].score, it[0]))[1]

    @property
    def best_params(self) -> dict:
        return dict(self.best.params)

    def table(self) -> pd.DataFrame:
        """One row per trial, in the order tried: the settings, the score, seconds, epochs."""
        rows = [{**t.params, self.metric: t.score, "fit s": round(t.seconds, 2),
                 **({"epochs": t.epochs} if t.epochs is not None else {}),
                 **({"best epoch": t.best_epoch} if t.best_epoch is not None else {})} for t in self.trials]
        return pd.DataFrame(rows)

    def to_record(self) -> dict:
        """The search as plain JSON data (every trial, scores unrounded); :meth:`from_record` reads it back."""
        return {"metric": self.metric, "higher_is_better": self.higher_is_better, "budget": self.budget,
                "trials": [{"params": dict(t.params), "score": t.score, "seconds": round(t.seconds, 2),
                            "epochs": t.epochs, "best_epoch": t.best_epoch} for t in self.trials]}

    @classmethod
    def from_record(cls, record: dict) -> "SearchResult":
        """A search from :meth:`to_record`'s data, e.g. one recorded by ``make bench``."""
        missing = sorted({"metric", "higher_is_better", "budget", "trials"} - set(record))
        if missing:
            raise ValueError(f"a search record needs {', '.join(missing)}; got keys {sorted(record)}")
        trials = []
        for i, t in enumerate(record["trials"]):
            if not {"params", "score", "seconds"} <= set(t):
                raise ValueError(f"trial {i} of the record needs params, score and seconds; got {sorted(t)}")
            trials.append(Trial(dict(t["params"]), float(t["score"]), float(t["seconds"]),
                                t.get("epochs"), t.get("best_epoch")))
        return cls(metric=record["metric"], higher_is_better=bool(record["higher_is_better"]),
                   budget=int(record["budget"]), trials=trials)

    def describe(self) -> str:
        best = self.best
        return (f"{len(self.trials)} of a budget of {self.budget} settings tried; best {self.metric} "
                f"{best.score:.4f} at {best.params}" + (f" ({best.epochs} epochs trained)" if best.epochs else ""))


def _epochs_of(model) -> tuple[int | None, int | None]:
    """(epochs trained, epoch of the lowest validation loss) from the model's ``history_``."""
    history = getattr(model, "history_", None)
    if history is None:
        return None, None
    run = getattr(history, "epochs_run", None)
    best = getattr(history, "best_epoch", None)
    return (None if run is None else int(run)), (None if best is None else int(best))


def search(build: Callable[[dict], object], configs: Sequence[dict], train, validation,
           score: Callable[[object, object], float], *, metric: str, higher_is_better: bool,
           budget: int, fit: Callable | None = None, progress: bool = False) -> SearchResult:
    """Fit ``build(params)`` on ``train`` for each of ``configs`` and score it on ``validation``.

    ``fit(model, train, validation)`` trains one model (default ``model.fit(train)``; pass e.g.
    ``lambda m, t, v: m.fit(t, validation=v, early_stopping=EarlyStopping(3), progress=False)``
    to let early stopping choose the epochs on the same validation split). ``score(model,
    validation)`` returns one number. ``budget`` is the number of settings allowed: more
    ``configs`` than that is an error, so two searches with the same budget tried equally many.
    A score that is not a finite number is an error naming the setting."""
    configs = list(configs)
    if int(budget) != budget or budget < 1:
        raise ValueError(f"budget (settings allowed) must be a whole number >= 1, got {budget!r}")
    if not configs:
        raise ValueError("configs is empty: give at least one setting to try")
    if len(configs) > budget:
        raise ValueError(f"{len(configs)} settings exceed the budget of {budget}: draw fewer or raise the budget "
                         "(for every model compared)")
    for i, c in enumerate(configs):
        if not isinstance(c, dict):
            raise TypeError(f"configs[{i}] must be a dict of settings, got {type(c).__name__}")
    result = SearchResult(metric=metric, higher_is_better=bool(higher_is_better), budget=int(budget))
    iterator = configs
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(configs, desc=f"tuning ({metric})", leave=False)
    for params in iterator:
        model = build(dict(params))
        start = time.perf_counter()
        if fit is None:
            model.fit(train)
        else:
            fit(model, train, validation)
        seconds = time.perf_counter() - start
        value = float(score(model, validation))
        if not math.isfinite(value):
            raise ValueError(f"setting {params} scored {value} on validation: not a finite number")
        result.trials.append(Trial(dict(params), value, seconds, *_epochs_of(model)))
    return result
