"""The training loop, its history, early stopping and data splits (notebook 05 · Training, validation
and generalization; reused by the recommender notebooks 09-10).

:func:`fit_loop` trains any ``nn.Module`` with any optimizer (the kit's own from
:mod:`recsys_lab.optimizers` or a ``torch.optim`` one) and returns a :class:`History`: one entry
per epoch of training loss, validation loss, metrics and learning rate, plus how the run ended
(``"completed"``, ``"early_stopped"``, ``"diverged"`` or ``"stopped"``). The model owns no
training state; live plots (``recsys_lab.widgets.training_curves``) are *callbacks* passed in.

A batch is a tuple ``(*inputs, target)``: the loss of a batch is ``loss_fn(model(*inputs), target)``
(or ``batch_loss_fn(model, batch)`` when a model needs something else, e.g. sampled negatives).
The training batches must be re-iterable: a ``DataLoader`` or :class:`ArrayBatches`, not a generator.

Callbacks are objects with any of these methods (all optional)::

    on_train_begin(history)     on_batch_end(history)     on_epoch_end(history)     on_train_end(history)

``on_epoch_end`` may return ``True`` to stop training, and a callback with a true ``stop_requested``
attribute (the widget's Stop button sets it) stops training after the current batch.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from .optimizers import get_learning_rate

STATUSES = ("completed", "early_stopped", "diverged", "stopped")


@dataclass
class History:
    """What happened during :func:`fit_loop`. Epochs are numbered from 1; list ``i`` holds epoch ``i + 1``."""

    train_loss: list = field(default_factory=list)     # mean training loss per epoch (weighted by batch size)
    val_loss: list = field(default_factory=list)       # validation loss per epoch (empty without val_fn)
    metrics: dict = field(default_factory=dict)        # metric name -> list per epoch (from val_fn)
    lr: list = field(default_factory=list)             # learning rate used during each epoch
    batch_loss: list = field(default_factory=list)     # loss of every training step
    epochs: int = 0                                    # epochs requested
    status: str = "running"
    message: str = ""
    best_epoch: int | None = None                      # lowest validation loss (or the restored weights' epoch)
    stopped_early: bool = False
    diverged: bool = False

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)

    @property
    def best_val_loss(self) -> float | None:
        return None if self.best_epoch is None else self.val_loss[self.best_epoch - 1]

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch: ``epoch, train_loss, [val_loss], [metrics...], lr``."""
        cols = {"epoch": np.arange(1, self.epochs_run + 1), "train_loss": self.train_loss}
        if self.val_loss:
            cols["val_loss"] = self.val_loss
        cols.update(self.metrics)
        cols["lr"] = self.lr[: self.epochs_run]
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """One line for notebooks: status, epochs, last and best losses (rounded)."""
        parts = [f"{self.status} after {self.epochs_run}/{self.epochs} epochs"]
        if self.train_loss:
            parts.append(f"train loss {self.train_loss[-1]:.4f}")
        if self.val_loss:
            parts.append(f"val loss {self.val_loss[-1]:.4f} (best {self.best_val_loss:.4f} at epoch {self.best_epoch})")
        return "; ".join(parts)


class EarlyStopping:
    """Stop when the validation loss has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best`` the model's weights are put back to those of the best epoch when
    training ends (by :func:`fit_loop`), so the model you keep is the one validation preferred.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, restore_best: bool = True):
        if int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be a whole number >= 1 (epochs to wait), got {patience!r}.")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}.")
        self.patience, self.min_delta, self.restore_best = int(patience), float(min_delta), bool(restore_best)
        self.reset()

    def reset(self) -> None:
        self.best, self.best_epoch, self.wait, self.best_state = math.inf, None, 0, None

    def update(self, value: float, epoch: int, model: nn.Module | None = None) -> bool:
        """Record the validation loss of ``epoch``; return ``True`` when training should stop."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = float(value), int(epoch), 0
            if self.restore_best and model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.wait += 1
        return self.wait >= self.patience


class ArrayBatches:
    """Mini-batches of aligned tensors, re-shuffled every epoch, reproducibly.

    ``ArrayBatches(X, y, batch_size=32, seed=0)`` yields ``(X[idx], y[idx])`` tuples. Epoch ``e``
    (set by :func:`fit_loop` through :meth:`set_epoch`; otherwise counted up by each pass) uses
    the permutation drawn from ``(seed, e)``, so a rerun gives the same batches.
    ``batch_size=None`` means one batch of everything (full-batch gradient descent);
    ``batch_size=1`` is stochastic gradient descent in the strict sense.
    """

    def __init__(self, *tensors, batch_size: int | None = 32, shuffle: bool = True, seed: int = 0):
        if not tensors:
            raise ValueError("give at least one tensor, e.g. ArrayBatches(X, y, batch_size=32).")
        self.tensors = tuple(torch.as_tensor(t) for t in tensors)
        self.n = len(self.tensors[0])
        if any(len(t) != self.n for t in self.tensors):
            raise ValueError(f"all tensors need the same first dimension, got {[len(t) for t in self.tensors]}.")
        if self.n == 0:
            raise ValueError("the tensors are empty: there is nothing to train on.")
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be a whole number >= 1 or None (full batch), got {batch_size!r}.")
        self.batch_size = self.n if batch_size is None else min(int(batch_size), self.n)
        self.shuffle, self.seed, self._epoch = shuffle, seed, 0

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use the order of epoch ``epoch`` (1-based)."""
        self._epoch = int(epoch) - 1

    def __iter__(self):
        if self.shuffle:
            order = torch.from_numpy(np.random.default_rng((self.seed, self._epoch)).permutation(self.n))
        else:
            order = torch.arange(self.n)
        self._epoch += 1
        for start in range(0, self.n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


def make_val_fn(loss_fn, batches, metrics: dict | None = None):
    """A ``val_fn`` for :func:`fit_loop`: mean ``loss_fn`` over ``batches`` (``(*inputs, target)`` tuples)
    and each ``metrics[name](prediction, target)``, averaged with batch sizes as weights."""
    metrics = dict(metrics or {})

    def val_fn(model):
        total, count, sums = 0.0, 0, {k: 0.0 for k in metrics}
        for *inputs, target in batches:
            pred = model(*inputs)
            n = len(target)
            total += float(loss_fn(pred, target)) * n
            for k, fn in metrics.items():
                sums[k] += float(fn(pred, target)) * n
            count += n
        return {"loss": total / count, **{k: v / count for k, v in sums.items()}}

    return val_fn


def _call(callbacks, hook, history):
    stop = False
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None and fn(history) is True:
            stop = True
    return stop


def _stop_requested(callbacks) -> bool:
    return any(getattr(cb, "stop_requested", False) for cb in callbacks)


def _batch_size(batch) -> int:
    try:
        return len(batch[-1])
    except TypeError:
        return 1


def fit_loop(model: nn.Module, loss_fn, train_batches, optimizer, epochs: int, val_fn=None, callbacks=(),
             scheduler=None, early_stopping: EarlyStopping | None = None, progress: bool = False,
             seed: int | None = None, batch_loss_fn=None, scheduler_interval: str = "epoch") -> History:
    """Train ``model`` for up to ``epochs`` passes over ``train_batches``; return a :class:`History`.

    - ``val_fn(model)`` (called in eval mode without gradients after every epoch) returns the
      validation loss, or a dict with key ``"loss"`` plus metrics (see :func:`make_val_fn`).
    - ``scheduler``: a kit schedule or a ``torch.optim.lr_scheduler``; stepped every epoch (or every
      batch with ``scheduler_interval="batch"``). Reduce-on-plateau schedules get the validation
      loss (training loss without ``val_fn``).
    - ``early_stopping``: an :class:`EarlyStopping` watching the validation loss.
    - ``seed``: if given, torch's random state (dropout masks) is seeded for this call only and
      restored afterwards, so reruns are identical without touching global state.
    - A non-finite loss stops training at once with ``status="diverged"`` and a message.
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}.")
    if isinstance(train_batches, Iterator):
        raise ValueError("train_batches is a one-shot iterator (it would be empty after the first epoch); "
                         "pass a re-iterable such as a DataLoader, a list of batches or ArrayBatches.")
    if early_stopping is not None and val_fn is None:
        raise ValueError("early_stopping watches the validation loss: pass val_fn as well.")
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'batch', got {scheduler_interval!r}.")
    plateau = scheduler is not None and (getattr(scheduler, "needs_metric", False)
                                         or isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau))
    if plateau and scheduler_interval == "batch":
        raise ValueError("a reduce-on-plateau schedule reacts to an epoch's loss: use scheduler_interval='epoch'.")
    callbacks = tuple(callbacks)
    history = History(epochs=int(epochs))
    if early_stopping is not None:
        early_stopping.reset()

    # fork_rng restores torch's random state afterwards (CUDA's too when there is a GPU)
    devices = None if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        _call(callbacks, "on_train_begin", history)
        _run(model, loss_fn, train_batches, optimizer, int(epochs), val_fn, callbacks, scheduler, plateau,
             early_stopping, progress, batch_loss_fn, scheduler_interval, history)

    if early_stopping is not None and early_stopping.restore_best and early_stopping.best_state is not None:
        model.load_state_dict(early_stopping.best_state)
        history.best_epoch = early_stopping.best_epoch  # the epoch whose weights the model now holds
    if history.status == "running":
        history.status = "completed"
        history.message = f"trained for {history.epochs_run} epochs."
    model.eval()
    _call(callbacks, "on_train_end", history)
    return history


def _run(model, loss_fn, train_batches, optimizer, epochs, val_fn, callbacks, scheduler, plateau,
         early_stopping, progress, batch_loss_fn, scheduler_interval, history):
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc="epochs")
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            if hasattr(train_batches, "set_epoch"):
                train_batches.set_epoch(epoch)
            history.lr.append(get_learning_rate(optimizer))
            total, count = 0.0, 0
            for step, batch in enumerate(train_batches, 1):
                optimizer.zero_grad()
                if batch_loss_fn is not None:
                    loss = batch_loss_fn(model, batch)
                else:
                    *inputs, target = batch
                    loss = loss_fn(model(*inputs), target)
                value = float(loss.detach())
                if not math.isfinite(value):
                    history.status, history.diverged = "diverged", True
                    history.message = (f"training diverged at epoch {epoch}, step {step}: the loss became "
                                       f"{value}. Try a smaller learning_rate than {history.lr[-1]:g}.")
                    history.lr.pop()
                    return
                loss.backward()
                optimizer.step()
                if scheduler is not None and scheduler_interval == "batch":
                    scheduler.step()
                n = _batch_size(batch)
                total, count = total + value * n, count + n
                history.batch_loss.append(value)
                _call(callbacks, "on_batch_end", history)
                if _stop_requested(callbacks):
                    break
            if count == 0:
                raise ValueError("train_batches produced no batches in this epoch.")
            history.train_loss.append(total / count)
            monitored = history.train_loss[-1]
            if val_fn is not None:
                model.eval()
                with torch.no_grad():
                    out = val_fn(model)
                out = dict(out) if isinstance(out, dict) else {"loss": out}
                if "loss" not in out:
                    raise ValueError(f"val_fn must return a number or a dict with a 'loss' key, got keys "
                                     f"{sorted(out)}.")
                val = float(out.pop("loss"))
                history.val_loss.append(val)
                for k, v in out.items():
                    history.metrics.setdefault(k, []).append(float(v))
                if not math.isfinite(val):
                    history.status, history.diverged = "diverged", True
                    history.message = (f"training diverged at epoch {epoch}: the validation loss became {val}. "
                                       f"Try a smaller learning_rate than {history.lr[-1]:g}.")
                    return
                if history.best_epoch is None or val < history.best_val_loss:
                    history.best_epoch = epoch
                monitored = val
            if scheduler is not None and scheduler_interval == "epoch":
                scheduler.step(monitored) if plateau else scheduler.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
            stop_cb = _call(callbacks, "on_epoch_end", history)
            if early_stopping is not None and early_stopping.update(monitored, epoch, model):
                history.status, history.stopped_early = "early_stopped", True
                history.message = (f"early stopping after epoch {epoch}: no improvement of the validation loss "
                                   f"for {early_stopping.patience} epochs; best epoch {early_stopping.best_epoch}"
                                   + (" (weights restored)." if early_stopping.restore_best else "."))
                return
            if stop_cb or _stop_requested(callbacks):
                history.status = "stopped"
                history.message = f"stopped by request after epoch {epoch}."
                return
    finally:
        if bar is not None:
            bar.close()


# ----- small models and data for notebook 05 ------------------------------------------------

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


def make_mlp(sizes, activation: str = "relu", dropout: float = 0.0, seed: int = 0) -> nn.Sequential:
    """A multi-layer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``, seeded.

    Between layers: the activation, then ``nn.Dropout(dropout)`` if ``dropout > 0``; the last
    layer is linear. ``sizes=(1, 1)`` is plain linear regression. Input ``(n, sizes[0])``,
    output ``(n, sizes[-1])``. The initial weights depend only on ``seed``.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes lists the width of every layer, input first, at least two entries >= 1; got {sizes}.")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(_ACTIVATIONS)}.")
    if not (0 <= dropout < 1):
        raise ValueError(f"dropout is the probability of zeroing a unit and must be in [0, 1), got {dropout!r}.")
    layers = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def train_val_test_split(n: int, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0):
    """Shuffle ``range(n)`` and cut it into ``(train_idx, val_idx, test_idx)`` index arrays.

    The parts are disjoint and together cover every index; val and test get
    ``round(fraction · n)`` indices each (at least one when the fraction is > 0).
    """
    if int(n) != n or n < 3:
        raise ValueError(f"n must be a whole number >= 3 (one example per part at least), got {n!r}.")
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= f < 1:
            raise ValueError(f"{name} must be in [0, 1), got {f!r}.")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must leave examples to train on, got "
                         f"{val_fraction} + {test_fraction}.")
    order = np.random.default_rng(seed).permutation(int(n))
    n_val = max(1, round(val_fraction * n)) if val_fraction > 0 else 0
    n_test = max(1, round(test_fraction * n)) if test_fraction > 0 else 0
    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]


def true_curve(x):
    """The noise-free curve behind :func:`make_curve_data`: ``sin(3x) + 0.5 x``. Shape preserved."""
    return np.sin(3 * x) + 0.5 * x


def make_curve_data(n: int = 60, noise: float = 0.3, seed: int = 0):
    """``n`` noisy samples ``y = sin(3x) + 0.5x + ε`` with ``x`` uniform in [-2, 2] and ``ε ~ N(0, noise²)``.

    Returns float32 tensors ``X`` of shape ``(n, 1)`` and ``y`` of shape ``(n, 1)``: a 1-D
    regression problem small enough to see under- and over-fitting by eye.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}.")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise!r}.")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(int(n), 1))
    y = true_curve(x) + rng.normal(scale=noise, size=x.shape)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


REMEDIES = ("no remedy", "weight decay 0.1", "dropout 0.2", "early stopping")
L2_IN_ADAM = "L2 0.1 in Adam"   # not a remedy of the table: Adam's coupled L2, to compare with AdamW


def remedy_run(seed: int, remedy: str, n_points: int = 100, noise: float = 0.3, epochs: int = 1000,
               learning_rate: float = 0.01, hidden: int = 64) -> tuple[float, bool]:
    """One run of notebook 05's remedy experiment (section 6): ``(test MSE, rose_again)``.

    The curve data of ``seed`` (``make_curve_data(n_points, noise, seed)``), split 20/40/40 % with
    ``seed``; the big network ``make_mlp((1, hidden, hidden, 1))`` seeded with ``seed``, trained full
    batch for ``epochs`` epochs with Adam at ``learning_rate`` and one of :data:`REMEDIES`: ``"weight
    decay 0.1"`` (AdamW instead of Adam), ``"dropout 0.2"`` (after each hidden layer) or ``"early
    stopping"`` (patience 200, best weights restored); or :data:`L2_IN_ADAM`, Adam whose gradient gets
    the L2 term ``0.1 θ`` before its normalisation (its ``weight_decay``, unlike AdamW's). Returns the MSE on the test split, and whether
    the validation loss ended more than 10 % above its best (it rose again).
    """
    from .optimizers import Adam, AdamW

    if remedy not in REMEDIES + (L2_IN_ADAM,):
        raise ValueError(f"remedy must be one of {REMEDIES + (L2_IN_ADAM,)}, got {remedy!r}.")
    X, y = make_curve_data(n_points, noise, seed=seed)
    tr, va, te = train_val_test_split(n_points, val_fraction=0.4, test_fraction=0.4, seed=seed)
    net = make_mlp((1, hidden, hidden, 1), dropout=0.2 if remedy == "dropout 0.2" else 0.0, seed=seed)
    opt = (AdamW(net.parameters(), learning_rate=learning_rate, weight_decay=0.1) if remedy == "weight decay 0.1"
           else Adam(net.parameters(), learning_rate=learning_rate, weight_decay=0.1 if remedy == L2_IN_ADAM else 0.0))
    stop = EarlyStopping(patience=200, restore_best=True) if remedy == "early stopping" else None
    mse = nn.MSELoss()
    h = fit_loop(net, mse, ArrayBatches(X[tr], y[tr], batch_size=None), opt, epochs,
                 val_fn=make_val_fn(mse, [(X[va], y[va])]), early_stopping=stop, seed=seed, progress=False)
    net.eval()
    with torch.no_grad():
        return float(mse(net(X[te]), y[te]).item()), bool(h.val_loss[-1] > 1.1 * h.best_val_loss)
