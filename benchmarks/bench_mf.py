"""Matrix factorization and NeuMF (notebooks 09-10): accuracy against Surprise's SVD, and speed.

- RMSE: the kit's :class:`~recsys_lab.models.mf.MatrixFactorization` and Surprise's ``SVD``, each
  at the setting the leaderboard's search chose (``leaderboard_tuning``: the same budget for both,
  on ``course_split(...).validation``, recorded in docs/benchmarks/leaderboard_tuning.json), the
  kit's trained with the course's own Adam and with ``torch.optim.Adam``, and Surprise's defaults
  for reference, on the same seeded random 80/20
  splits of ml-latest-small (seeds 0, 1, 2; seed 0 is the split of ``bench_leaderboard``).
  Unknown users/items get each library's own fallback. Surprise is installed by ``make bench``
  only; the kit never imports it.
- Speed: one MF epoch over the ~80k training ratings, and NeuMF training throughput in samples
  per second (a positive and each of its sampled negatives count as one sample each), with torch
  limited to 1 thread and with torch's default thread count. Times are medians over epochs.
"""
from __future__ import annotations

import os
import time

import numpy as np
import torch

from recsys_lab.data import leave_one_out, load_movielens, random_split
from recsys_lab.evaluation import evaluate_ratings
from recsys_lab.metrics import mae, rmse
from recsys_lab.models import BiasBaseline, MatrixFactorization, NeuMF

from .common import Section, machine_note, torch_threads
from .leaderboard_tuning import chosen

try:
    import surprise
except ImportError:  # `make bench` installs it
    surprise = None

SEEDS = (0, 1, 2)
SURPRISE_DEFAULTS = dict(n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02)


class _EpochTimer:
    """fit_loop callback: wall time of every epoch."""

    def on_train_begin(self, history):
        self.times, self._t = [], time.perf_counter()

    def on_epoch_end(self, history):
        now = time.perf_counter()
        self.times.append(now - self._t)
        self._t = now


def _surprise_svd(train, test, seed, params):
    reader = surprise.Reader(rating_scale=(0.5, 5.0))
    trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    start = time.perf_counter()
    algo = surprise.SVD(random_state=seed, **params).fit(trainset)
    seconds = time.perf_counter() - start
    pred = np.array([algo.predict(u, i).est for u, i in zip(test.user, test.item)])
    return {"rmse": rmse(test.rating, pred), "mae": mae(test.rating, pred)}, seconds


def _accuracy(ratings, seeds, quick) -> Section:
    rows, per_model = [], {}
    mf_params = chosen("MatrixFactorization", quick)
    svd_params = chosen("Surprise SVD", quick) if surprise is not None else {}
    for seed in seeds:
        train, test = random_split(ratings, 0.2, seed=seed)
        runs = {
            "BiasBaseline (context)": lambda: BiasBaseline().fit(train),
            "kit MF (tuned), course Adam": lambda: MatrixFactorization(seed=seed, **mf_params)
            .fit(train, progress=False),
            "kit MF (tuned), torch.optim.Adam": lambda: MatrixFactorization(optimizer=torch.optim.Adam, seed=seed,
                                                                            **mf_params).fit(train, progress=False),
        }
        for name, fit in runs.items():
            with torch_threads(1):
                start = time.perf_counter()
                model = fit()
                seconds = time.perf_counter() - start
            scores = evaluate_ratings(model, test)
            rows.append({"split seed": seed, "model": name, "test RMSE": scores["rmse"],
                         "test MAE": scores["mae"], "fit s (1 thread)": seconds})
            per_model.setdefault(name, []).append(scores["rmse"])
        if surprise is not None:
            for name, params in (("Surprise SVD (tuned)", svd_params), ("Surprise SVD (defaults)", SURPRISE_DEFAULTS)):
                scores, seconds = _surprise_svd(train, test, seed, params)
                rows.append({"split seed": seed, "model": name, "test RMSE": scores["rmse"],
                             "test MAE": scores["mae"], "fit s (1 thread)": seconds})
                per_model.setdefault(name, []).append(scores["rmse"])
    for name, values in per_model.items():
        rows.append({"split seed": "mean", "model": name, "test RMSE": float(np.mean(values))})
    mf = MatrixFactorization(**mf_params)
    settings = (f"kit MF (tuned, the leaderboard's search): n_factors={mf.n_factors}, epochs={mf.epochs}, "
                f"learning_rate={mf.learning_rate}, reg={mf.reg}, batch_size={mf.batch_size}, Adam. Surprise SVD "
                "(tuned, same budget): " + ", ".join(f"{k}={v}" for k, v in svd_params.items())
                + "; defaults: " + ", ".join(f"{k}={v}" for k, v in SURPRISE_DEFAULTS.items()) + ".")
    if surprise is None:
        settings += " **scikit-surprise is not installed here, so its rows are missing** (`make bench` installs it)."
    verdict = ""
    if surprise is not None and not quick:
        kit_mean = np.mean(per_model["kit MF (tuned), course Adam"])
        svd_mean = np.mean(per_model["Surprise SVD (tuned)"])
        verdict = (f" Mean test RMSE: tuned kit MF {kit_mean:.4f}, tuned Surprise SVD {svd_mean:.4f}: the kit's MF is "
                   + ("no worse." if kit_mean <= svd_mean else "WORSE — retune it."))
    size = "a 20,000-rating sample of ml-latest-small (--quick)" if quick else "ml-latest-small"
    return Section("Matrix factorization vs Surprise SVD (test RMSE, random 80/20 splits)", rows,
                   f"Same splits for every model, on {size}. {settings}{verdict}")


def _speed(ratings, quick) -> Section:
    train, _ = random_split(ratings, 0.2, seed=0)
    loo_train, _ = leave_one_out(ratings)
    epochs = 2 if quick else 5
    rows = []
    for threads in (1, None):
        label = "1" if threads == 1 else f"default ({torch.get_num_threads()})"
        with torch_threads(threads):
            timer = _EpochTimer()
            MatrixFactorization(epochs=epochs).fit(train, callbacks=[timer], progress=False)
            mf_epoch = float(np.median(timer.times))
            timer = _EpochTimer()
            model = NeuMF(epochs=epochs).fit(loo_train, callbacks=[timer], progress=False)
            neumf_epoch = float(np.median(timer.times))
        samples = len(loo_train) * (1 + model.n_negatives)
        rows.append({"torch threads": label, "MF ratings / epoch": len(train), "MF s / epoch": mf_epoch,
                     "NeuMF samples / epoch": samples, "NeuMF s / epoch": neumf_epoch,
                     "NeuMF samples / s": samples / neumf_epoch})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    mf, neumf = MatrixFactorization(), NeuMF()
    return Section("Training speed: MF epoch time and NeuMF throughput", rows,
                   f"Median over {epochs} epochs, CPU. MF defaults (n_factors={mf.n_factors}, batch_size="
                   f"{mf.batch_size}, course Adam); NeuMF defaults (n_factors={neumf.n_factors}, layers="
                   f"{neumf.layers}, loss={neumf.loss}, n_negatives={neumf.n_negatives}, batch_size="
                   f"{neumf.batch_size} positives) on a leave-one-out training set. Target: one MF epoch "
                   f"< 1 s on 2 cores. 1-minute load average when measured: {load:.1f} (the machine is shared; "
                   f"on a busy machine torch's default threads can be many times slower than 1 thread).")


def run(quick: bool = False) -> list[Section]:
    ratings = load_movielens().ratings
    if quick:
        ratings = ratings.sample(20_000, random_state=0).reset_index(drop=True)
    sections = [_accuracy(ratings, SEEDS[:1] if quick else SEEDS, quick), _speed(ratings, quick)]
    sections[-1].note += " " + machine_note()
    return sections
