"""Checks for the exercises of notebook 05 (training and generalization). Solutions:
``notebooks/solutions/05_training_generalization.ipynb``."""
from __future__ import annotations

import numbers
from functools import lru_cache

from ..checks import Verdict, check_answer
from ..training import EarlyStopping, remedy_run, train_val_test_split
from . import register


# 05.1 · understanding: the sizes of a three-way split -------------------------------------------
def _sizes():
    return tuple(len(part) for part in train_val_test_split(200, val_fraction=0.15, test_fraction=0.15, seed=0))


def _sizes_wrong():
    n_train, n_val, n_test = _sizes()
    return [(n_val, n_test, n_train), (200 - 15 - 15, 15, 15), (200, n_val, n_test)]


@register("05.1", solution=_sizes, wrong=_sizes_wrong)
def check_split_sizes(answer):
    """``(n_train, n_val, n_test)`` of ``train_val_test_split(200, val_fraction=0.15, test_fraction=0.15)``."""
    wrong = _sizes_wrong()
    return check_answer(answer, _sizes(), "sizes of the three parts", atol=0, rtol=0, mistakes=[
        (wrong[0], "the order is (train, validation, test): the training set is the large one."),
        (wrong[1], "0.15 is a fraction of the 200 examples, not a count."),
        (wrong[2], "the three parts are disjoint: the training set gets what validation and test leave."),
    ], hint="a tuple of three whole numbers that add up to 200.")


# 05.2 · understanding: early stopping by hand ----------------------------------------------------
VAL_LOSSES = (0.90, 0.70, 0.60, 0.62, 0.61, 0.58, 0.59, 0.60, 0.61, 0.57)
PATIENCE = 3


def kit_stop(val_losses, patience, min_delta=0.0):
    """(epoch after which the kit's EarlyStopping stops, or None if it never does; best epoch), from 1."""
    stopper = EarlyStopping(patience=patience, min_delta=min_delta, restore_best=False)
    for epoch, value in enumerate(val_losses, 1):
        if stopper.update(value, epoch):
            return epoch, stopper.best_epoch
    return None, stopper.best_epoch


@register("05.2", solution=lambda: kit_stop(VAL_LOSSES, PATIENCE),
          wrong=lambda: [(len(VAL_LOSSES), len(VAL_LOSSES)), (kit_stop(VAL_LOSSES, PATIENCE)[0],) * 2,
                         (kit_stop(VAL_LOSSES, PATIENCE)[1],) * 2])
def check_early_stopping_by_hand(answer):
    """``(stop_epoch, best_epoch)`` for the ten validation losses of the notebook, patience 3."""
    stop, best = kit_stop(VAL_LOSSES, PATIENCE)
    return check_answer(answer, (stop, best), "(stop epoch, best epoch)", atol=0, rtol=0, mistakes=[
        ((len(VAL_LOSSES), len(VAL_LOSSES)), "training does not reach epoch 10: patience runs out before."),
        ((stop, stop), "the best epoch is the one with the lowest validation loss so far, not the last one trained."),
        ((best, best), "training goes on for `patience` epochs after the best one before it stops."),
    ], hint="count the epochs without a new best since the last best; stop when the count reaches 3.")


# 05.3 · change the code: the early-stopping rule -------------------------------------------------
CASES = [(VAL_LOSSES, 3, 0.0), (VAL_LOSSES, 5, 0.0), ((1.0, 0.9, 0.8, 0.7), 2, 0.0),
         ((0.5, 0.5, 0.5, 0.5), 2, 0.0), ((1.0, 0.95, 0.93, 0.92, 0.91), 2, 0.05),
         ((0.3, 0.4, 0.2, 0.5, 0.6, 0.7), 3, 0.0),
         ((0.32, 0.30, 0.27, 0.26, 0.255, 0.24), 2, 0.05)]   # near 0.3 an absolute and a relative min_delta differ


def _patience_rule(val_losses, patience, improves):
    """(stop epoch or None, best epoch) of early stopping, with ``improves(value, best)`` saying what counts."""
    best, best_epoch, wait = float("inf"), None, 0
    for epoch, value in enumerate(val_losses, 1):
        if improves(value, best):
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return None, best_epoch


def _solution_rule(val_losses, patience, min_delta=0.0):
    return _patience_rule(val_losses, patience, lambda value, best: value < best - min_delta)


def _rule_ties_improve(val_losses, patience, min_delta=0.0):      # <= instead of <: a tie resets the count
    return _patience_rule(val_losses, patience, lambda value, best: value <= best - min_delta)


def _rule_no_min_delta(val_losses, patience, min_delta=0.0):
    return _solution_rule(val_losses, patience, 0.0)


def _rule_relative_min_delta(val_losses, patience, min_delta=0.0):   # min_delta as a fraction of the best
    return _patience_rule(val_losses, patience, lambda value, best: value < best * (1 - min_delta))


def _rule_off_by_one(val_losses, patience, min_delta=0.0):          # waits one epoch too many
    return _solution_rule(val_losses, patience + 1, min_delta)


@register("05.3", solution=lambda: _solution_rule, wrong=lambda: [_rule_ties_improve, _rule_no_min_delta, _rule_relative_min_delta,
                         _rule_off_by_one])
def check_early_stopping_rule(answer):
    """``answer(val_losses, patience, min_delta=0.0) -> (stop_epoch or None, best_epoch)`` must agree
    with the kit's ``EarlyStopping`` on seven sequences (ties, min_delta, a run that never stops)."""
    what = "early-stopping rule"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code (answer = stop_epoch).")
        return Verdict(False)
    if not callable(answer):
        print(f"❌ {what}: expected your function (answer = stop_epoch), got {type(answer).__name__}.")
        return Verdict(False)
    for losses, patience, min_delta in CASES:
        expected = kit_stop(losses, patience, min_delta)
        try:
            got = tuple(answer(list(losses), patience, min_delta))
        except Exception as error:  # the learner's code: report, do not crash the check
            print(f"❌ {what}: it raised {type(error).__name__}: {error} on losses {list(losses)}.")
            return Verdict(False)
        if got != expected:
            if len(set(losses)) == 1:
                why = "a loss equal to the best is no improvement: improve means value < best − min_delta."
            elif min_delta:
                why = ("with min_delta an improvement must beat the best by more than min_delta, an absolute amount "
                       "(value < best − min_delta), not a fraction of the best.")
            elif got[0] is not None and expected[0] is not None and got[0] > expected[0]:
                why = "it stops too late: stop as soon as `patience` epochs in a row bring no improvement."
            else:
                why = "compare your epochs (counted from 1) with the rule: stop after `patience` epochs without a new best."
            print(f"❌ {what}: on losses {list(losses)} with patience {patience}, min_delta {min_delta} it gives "
                  f"{got}, which disagrees with EarlyStopping. {why}")
            return Verdict(False)
    print(f"✅ {what}: correct — it agrees with the kit's EarlyStopping on all {len(CASES)} sequences.")
    return Verdict(True)


# 05.4 · open question with a checkable part: a seed, outside section 6's table, where early stopping loses ------
TABLE_SEEDS = range(6)      # the seeds section 6 runs and prints (N_SEEDS = 6): their answers are on screen


@lru_cache(maxsize=64)
def _test_mse(seed, remedy):
    import torch

    with torch.random.fork_rng():
        return remedy_run(seed, remedy)[0]


def _loses(seed):
    return _test_mse(seed, "early stopping") > _test_mse(seed, "no remedy")


def _first_losing_seed(start=len(TABLE_SEEDS)):
    return next(s for s in range(start, start + 100) if _loses(s))


def _wrong_seeds():
    winning = next(s for s in range(len(TABLE_SEEDS), len(TABLE_SEEDS) + 100) if not _loses(s))
    return [_first_losing_seed(start=0), winning]      # a seed the table already shows; a seed where it wins


@register("05.4", solution=_first_losing_seed, wrong=_wrong_seeds)
def check_early_stopping_loses(answer):
    """A seed of 6 or above (not in section 6's table) whose test MSE (``remedy_run``) is higher with
    early stopping than with no remedy."""
    what = "a seed the remedies table does not show, where early stopping loses"
    if answer is ... or answer is None:
        print(f"⏳ {what}: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    if isinstance(answer, bool) or not isinstance(answer, numbers.Integral) or answer < 0:
        print(f"❌ {what}: expected a seed, a whole number >= 0, got {answer!r}.")
        return Verdict(False)
    answer = int(answer)      # a numpy integer is a seed too
    if answer in TABLE_SEEDS:
        print(f"❌ {what}: seed {answer} is one of the seeds the remedies table already shows; "
              f"find one it does not show, with remedy_run.")
        return Verdict(False)
    if _loses(answer):
        print(f"✅ {what}: correct — on seed {answer} early stopping's test MSE is above no remedy's.")
        return Verdict(True)
    print(f"❌ {what}: on seed {answer} early stopping does at least as well as no remedy. Try other seeds with "
          f"remedy_run(seed, 'early stopping')[0] and remedy_run(seed, 'no remedy')[0].")
    return Verdict(False)
