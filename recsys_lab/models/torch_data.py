"""PyTorch plumbing shared by the deep recommenders: device, seeds, batches, negative sampling,
and the :class:`TorchRecommender` base with training, prediction and saving (notebooks 09, 10).

Every deep model of the kit (:mod:`~recsys_lab.models.mf`, :mod:`~recsys_lab.models.ncf`)
trains with :func:`recsys_lab.training.fit_loop` on one of three batch streams:

- :class:`RatingBatches` — explicit feedback: ``(users, items, ratings)``;
- :class:`PointwiseBatches` — implicit feedback for a pointwise loss (BCE): every observed
  ``(user, item)`` pair is a positive with label 1, followed by ``n_negatives`` sampled
  unobserved items of the same user with label 0: ``(users, items, labels)``;
- :class:`PairwiseBatches` — implicit feedback for a pairwise loss (BPR):
  ``(users, positive_items, negative_items)``.

Users and items are integer *positions* (see :class:`recsys_lab.data.IdMap`). Batches are
re-iterable (one pass = one epoch) and reproducible: epoch ``e`` shuffles and samples with a
``torch.Generator`` seeded from ``(seed, e)``, so a rerun yields exactly the same batches,
whatever happened before. :func:`recsys_lab.training.fit_loop` calls :meth:`set_epoch`.
The batches depend on the *set* of rows, not on the order they are given in: each stream first
puts its rows in :func:`canonical_order` (by user, then item, then rating), the order
:class:`recsys_lab.data.RatingData` keeps its rows in.

Results do not depend on the thread count either: :class:`TorchRecommender` trains and scores
on one torch thread (:func:`recsys_lab.network.one_thread`). For networks this small one thread
is also the faster choice, and a reduction split over threads could sum in another order.

:class:`TorchRecommender` checks the shared hyper-parameters, builds the optimizer (the course's
own or a ``torch.optim`` class), trains on the GPU when there is one (``device="auto"``), and
saves ``state_dict`` + id maps in a file that ``torch.load(..., weights_only=True)`` reads.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch

from ..data.schema import ITEM, RATING, USER, check_ratings_frame
from ..network import one_thread
from .base import Recommender


def choose_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or ``None``): a CUDA GPU when one is present, else the CPU; otherwise ``device`` itself.

    Raises ``ValueError`` for a name torch does not know or a GPU that is not there.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asks for a GPU but torch sees none; use 'auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return dev


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU ``torch.Generator`` whose stream depends only on ``(seed, epoch)``."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def canonical_order(users, items, ratings=None) -> np.ndarray:
    """The permutation that sorts rows by ``(user, item)`` (then ``rating``, for repeated pairs).

    ``users``, ``items`` (and ``ratings``): arrays of shape ``(n,)``. Building batches from the
    rows in this order makes training depend on which rows there are, not on how they are ordered.
    """
    keys = (np.asarray(items), np.asarray(users))
    return np.lexsort(keys if ratings is None else (np.asarray(ratings),) + keys)


def single_threaded(method):
    """Run ``method`` on one torch thread (:func:`recsys_lab.network.one_thread`)."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_thread():
            return method(*args, **kwargs)
    return wrapper


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    return int(batch_size)


class _Batches:
    """Shared mechanics: ``len()`` in batches, :meth:`set_epoch`, and one permutation per epoch."""

    def __init__(self, n: int, batch_size: int, seed: int, shuffle: bool, device):
        if n == 0:
            raise ValueError("there are no training examples: the ratings are empty")
        self.n, self.batch_size = n, check_batch_size(batch_size)
        self.seed, self.shuffle = int(seed), bool(shuffle)
        self.device = choose_device(device)
        self._epoch = 1

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass produce the batches of epoch ``epoch`` (1-based)."""
        self._epoch = int(epoch)

    def _start_epoch(self):
        gen = epoch_generator(self.seed, self._epoch)
        self._epoch += 1
        order = torch.randperm(self.n, generator=gen) if self.shuffle else torch.arange(self.n)
        return gen, order.to(self.device)

    def _slices(self, order):
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size]


class RatingBatches(_Batches):
    """Explicit ratings in shuffled mini-batches ``(users, items, ratings)``.

    ``users``, ``items``: int arrays of positions, shape ``(n,)``; ``ratings``: floats ``(n,)``.
    Each batch holds ``batch_size`` rows (the last may be smaller): long, long, float32 tensors.
    The rows are kept in :func:`canonical_order`, so their input order does not matter.
    """

    def __init__(self, users, items, ratings, batch_size: int = 1024, seed: int = 0,
                 shuffle: bool = True, device="cpu"):
        self.users = torch.tensor(np.asarray(users), dtype=torch.long)
        self.items = torch.tensor(np.asarray(items), dtype=torch.long)
        self.ratings = torch.tensor(np.asarray(ratings), dtype=torch.float32)
        if not len(self.users) == len(self.items) == len(self.ratings):
            raise ValueError(f"users, items and ratings must have the same length, got "
                             f"{len(self.users)}, {len(self.items)}, {len(self.ratings)}")
        order = torch.from_numpy(canonical_order(self.users.numpy(), self.items.numpy(), self.ratings.numpy()))
        self.users, self.items, self.ratings = self.users[order], self.items[order], self.ratings[order]
        super().__init__(len(self.users), batch_size, seed, shuffle, device)
        self.users, self.items, self.ratings = (t.to(self.device) for t in (self.users, self.items, self.ratings))

    def __iter__(self):
        _, order = self._start_epoch()
        for idx in self._slices(order):
            yield self.users[idx], self.items[idx], self.ratings[idx]


def sample_negatives(users: torch.Tensor, positive_keys: torch.Tensor, n_items: int,
                     generator: torch.Generator, max_rounds: int = 100) -> torch.Tensor:
    """One uniformly drawn item per entry of ``users`` that the user has *not* interacted with.

    ``users``: long tensor ``(m,)`` of positions. ``positive_keys``: sorted long tensor of
    ``user * n_items + item`` for every observed pair. Draws uniformly from all items and
    redraws the entries that hit an observed pair (rejection sampling, vectorized), so each
    negative is uniform over the user's unobserved items. Returns a long tensor ``(m,)``.
    """
    users = users.cpu()
    items = torch.randint(0, n_items, (len(users),), generator=generator)
    todo = torch.arange(len(users))
    for _ in range(max_rounds):
        keys = users[todo] * n_items + items[todo]
        pos = torch.searchsorted(positive_keys, keys).clamp(max=max(len(positive_keys) - 1, 0))
        clash = positive_keys[pos] == keys if len(positive_keys) else torch.zeros_like(keys, dtype=torch.bool)
        todo = todo[clash]
        if len(todo) == 0:
            return items
        items[todo] = torch.randint(0, n_items, (len(todo),), generator=generator)
    raise ValueError(f"could not sample unobserved items for user position(s) {users[todo][:5].tolist()} "
                     f"after {max_rounds} rounds: they have interacted with (almost) every item")


def positive_keys(users, items, n_items: int) -> torch.Tensor:
    """Sorted ``user * n_items + item`` keys of observed pairs (for :func:`sample_negatives`)."""
    keys = torch.tensor(np.asarray(users), dtype=torch.long) * n_items + torch.tensor(
        np.asarray(items), dtype=torch.long)
    return torch.sort(keys).values


class _ImplicitBatches(_Batches):
    def __init__(self, users, items, n_items: int, n_negatives: int, batch_size: int, seed: int,
                 shuffle: bool, device):
        if isinstance(n_negatives, bool) or int(n_negatives) != n_negatives or n_negatives < 1:
            raise ValueError(f"n_negatives must be a whole number >= 1, got {n_negatives!r}")
        self.users = torch.tensor(np.asarray(users), dtype=torch.long)
        self.items = torch.tensor(np.asarray(items), dtype=torch.long)
        if len(self.users) != len(self.items):
            raise ValueError(f"users and items must have the same length, got {len(self.users)}, {len(self.items)}")
        order = torch.from_numpy(canonical_order(self.users.numpy(), self.items.numpy()))  # input order is irrelevant
        self.users, self.items = self.users[order], self.items[order]
        self.n_items, self.n_negatives = int(n_items), int(n_negatives)
        self.keys = positive_keys(self.users, self.items, self.n_items)
        super().__init__(len(self.users), batch_size, seed, shuffle, device)

    def _epoch_negatives(self, gen) -> torch.Tensor:
        """Negatives for the whole epoch, ``(n, n_negatives)``, fresh every epoch."""
        users = self.users.repeat_interleave(self.n_negatives)
        return sample_negatives(users, self.keys, self.n_items, gen).view(len(self.users), self.n_negatives)


class PointwiseBatches(_ImplicitBatches):
    """Implicit feedback for a pointwise loss: batches ``(users, items, labels)``.

    A batch covers ``batch_size`` observed pairs (label 1) and, for each, ``n_negatives``
    unobserved items of the same user (label 0), resampled every epoch: so it holds
    ``batch_size * (1 + n_negatives)`` rows. ``len(batch[-1])`` counts all of them.
    """

    def __init__(self, users, items, n_items: int, n_negatives: int = 4, batch_size: int = 1024,
                 seed: int = 0, shuffle: bool = True, device="cpu"):
        super().__init__(users, items, n_items, n_negatives, batch_size, seed, shuffle, device)

    def __iter__(self):
        gen, order = self._start_epoch()
        negatives = self._epoch_negatives(gen).to(self.device)
        users, items = self.users.to(self.device), self.items.to(self.device)
        for idx in self._slices(order):
            b, k = len(idx), self.n_negatives
            u = torch.cat([users[idx], users[idx].repeat_interleave(k)])
            i = torch.cat([items[idx], negatives[idx].reshape(-1)])
            labels = torch.cat([torch.ones(b, device=self.device), torch.zeros(b * k, device=self.device)])
            yield u, i, labels


class PairwiseBatches(_ImplicitBatches):
    """Implicit feedback for a pairwise loss: batches ``(users, positive_items, negative_items)``.

    Each observed pair appears ``n_negatives`` times per epoch, each time with its own sampled
    unobserved item; a batch holds ``batch_size`` triples.
    """

    def __init__(self, users, items, n_items: int, n_negatives: int = 1, batch_size: int = 1024,
                 seed: int = 0, shuffle: bool = True, device="cpu"):
        super().__init__(users, items, n_items, n_negatives, batch_size, seed, shuffle, device)
        self.n = len(self.users) * self.n_negatives  # one triple per (positive, negative)

    def __iter__(self):
        gen, order = self._start_epoch()
        k = self.n_negatives
        negatives = self._epoch_negatives(gen).reshape(-1).to(self.device)  # triple j: positive j // k
        users, items = self.users.to(self.device), self.items.to(self.device)
        for idx in self._slices(order):
            pos = idx // k
            yield users[pos], items[pos], negatives[idx]


# ----------------------------------------------------------------------------------------
# The base of every PyTorch recommender: checked hyper-parameters, seeded training with
# fit_loop, predictions in chunks, save / load with weights_only=True.
# ----------------------------------------------------------------------------------------

def _whole(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) \
            or not math.isfinite(value) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def _number(name: str, value, positive: bool) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number)) and math.isfinite(value)
    ok = ok and (value > 0 if positive else value >= 0)
    if not ok:
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")


def build_optimizer(optimizer, params, learning_rate: float):
    """The optimizer named or given by ``optimizer``, over ``params``, with step size ``learning_rate``.

    ``optimizer`` is a name of the kit's optimizers (``"adam"``, ``"sgd"``, ... see
    :data:`recsys_lab.optimizers.OPTIMIZER_NAMES`), a kit optimizer class
    (``recsys_lab.optimizers.Adam``) or a ``torch.optim`` class (``torch.optim.Adam``, built with
    ``lr=learning_rate``).
    """
    from .. import optimizers as kit

    if isinstance(optimizer, str):
        if optimizer.lower() not in kit.OPTIMIZER_NAMES:
            raise ValueError(f"optimizer must be one of {', '.join(kit.OPTIMIZER_NAMES)}, a recsys_lab "
                             f"optimizer class or a torch.optim class; got {optimizer!r}")
        return kit.make_optimizer(optimizer, params, learning_rate=learning_rate)
    if isinstance(optimizer, type) and issubclass(optimizer, kit.Optimizer):
        return optimizer(params, learning_rate=learning_rate)
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer(params, lr=learning_rate)
    raise ValueError(f"optimizer must be a name such as 'adam', a recsys_lab.optimizers class or a "
                     f"torch.optim class (e.g. torch.optim.Adam), got {optimizer!r}")


def _optimizer_to_str(optimizer) -> str:
    return optimizer if isinstance(optimizer, str) else f"{optimizer.__module__}:{optimizer.__qualname__}"


def _optimizer_from_str(text: str):
    if ":" not in text:
        return text
    import importlib

    module, name = text.split(":")
    if not (module.startswith("torch.optim") or module.startswith("recsys_lab.optimizers")):
        raise ValueError(f"saved optimizer {text!r} is not from torch.optim or recsys_lab.optimizers")
    return getattr(importlib.import_module(module), name)


def _ids_to_saveable(ids: np.ndarray):
    if ids.dtype.kind in "iu":
        return torch.tensor(ids.astype(np.int64))
    if all(isinstance(x, str) for x in ids):
        return [str(x) for x in ids]
    raise ValueError(f"can only save models whose raw ids are integers or strings, got dtype {ids.dtype}")


def known_validation_pairs(model: Recommender, validation: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The validation ratings whose user and item ``model`` saw in training, as training positions.

    ``model``: a fitted recommender (its ``data_`` holds the training id maps); ``validation``: a
    frame with ``user``, ``item`` and ``rating`` columns, ``n`` rows. Returns ``(users, items,
    ratings)``, three arrays of shape ``(m,)`` with ``m <= n``: the positions of the kept rows'
    users and items and their ratings, in the frame's row order; a row with an unknown user or
    item is dropped. Raises ``ValueError`` if a column is missing or no row is left.
    """
    missing = [c for c in (USER, ITEM, RATING) if c not in validation.columns]
    if missing:
        raise ValueError(f"validation frame lacks column(s) {missing}; it has {list(validation.columns)}")
    u = model.data_.users.to_index(validation[USER].to_numpy(), missing="minus1")
    i = model.data_.items.to_index(validation[ITEM].to_numpy(), missing="minus1")
    known = (u >= 0) & (i >= 0)
    if not known.any():
        raise ValueError("no validation rating has a user and an item seen in training")
    return u[known], i[known], validation[RATING].to_numpy()[known]


class TorchRecommender(Recommender):
    """Base class of the kit's PyTorch recommenders (matrix factorization, NCF, ...).

    Subclasses set ``_network`` (the ``nn.Module`` they train) by implementing:

    - ``_check_params()``: raise ``ValueError`` for bad model-specific hyper-parameters;
    - ``_prepare(data)``: data-derived constants (e.g. the global mean), also run by :meth:`load`;
    - ``_build_network(n_users, n_items, generator)``: the seeded, initialised module;
    - ``_train_batches(data, device)``, ``_batch_loss(net, batch)`` and optionally
      ``_val_fn(validation, device)`` for :func:`recsys_lab.training.fit_loop`.

    The common hyper-parameters (``n_factors``, ``epochs``, ``learning_rate``, ``reg``,
    ``batch_size``, ``optimizer``, ``seed``, ``device``) are checked by :meth:`fit` before any work.
    """

    implicit_feedback = False  # True: a training row is a positive interaction, its rating is ignored
    _history_keys = ("train_loss", "val_loss", "metrics", "lr", "epochs", "status", "message", "best_epoch")

    # ----- fitting ------------------------------------------------------------------
    def _check_common(self) -> None:
        _whole("n_factors", self.n_factors)
        _whole("epochs", self.epochs)
        _number("learning_rate", self.learning_rate, positive=True)
        _number("reg", self.reg, positive=False)
        _whole("batch_size", self.batch_size)
        _whole("seed", self.seed, minimum=0)
        choose_device(self.device)
        build_optimizer(self.optimizer, [torch.zeros(1, requires_grad=True)], self.learning_rate)

    def _check_params(self) -> None:
        pass

    def fit(self, ratings, validation=None, callbacks=(), early_stopping=None, progress: bool = True):
        """Train on ``ratings`` (forgetting any earlier fit); returns ``self``.

        ``validation``: a held-out ratings frame; its loss and metrics are recorded after every
        epoch in ``self.history_`` (a :class:`recsys_lab.training.History`). ``callbacks``
        (e.g. the live training-curves widget) and ``early_stopping`` go to ``fit_loop``;
        ``progress`` shows a tqdm bar over the epochs. Implicit-feedback models
        (``implicit_feedback = True``) need no ``rating`` column: every row is a positive.
        """
        if self.implicit_feedback and isinstance(ratings, pd.DataFrame) and RATING not in ratings.columns:
            ratings = ratings.assign(**{RATING: 1.0})
        self._check_unknown()
        self._check_common()
        self._check_params()
        if validation is not None:  # refused like the training frame, before any training
            check = validation
            if self.implicit_feedback and isinstance(check, pd.DataFrame) and RATING not in check.columns:
                check = check.assign(**{RATING: 1.0})
            check_ratings_frame(check, name="validation frame")
        self._fit_options = dict(validation=validation, callbacks=tuple(callbacks),
                                 early_stopping=early_stopping, progress=progress)
        try:
            return super().fit(ratings)  # a failed fit leaves the model as it was (Recommender.fit)
        finally:
            del self._fit_options

    @single_threaded
    def _fit(self, data) -> None:
        """Train on one torch thread (see the module notes); ``data``'s rows are in canonical order."""
        from ..training import fit_loop

        opts = self._fit_options
        self.device_ = choose_device(self.device)
        self._prepare(data)
        generator = torch.Generator().manual_seed(int(self.seed))
        net = self._build_network(data.n_users, data.n_items, generator).to(self.device_)
        optimizer = build_optimizer(self.optimizer, list(net.parameters()), float(self.learning_rate))
        val_fn = None
        if opts["validation"] is not None:
            val_fn = self._val_fn(opts["validation"], self.device_)
        self.history_ = fit_loop(
            net, None, self._train_batches(data, self.device_), optimizer, int(self.epochs),
            val_fn=val_fn, callbacks=opts["callbacks"], early_stopping=opts["early_stopping"],
            progress=opts["progress"], seed=int(self.seed), batch_loss_fn=self._batch_loss)
        if self.history_.diverged:
            raise ValueError(f"{type(self).__name__}: {self.history_.message}")
        self.network_ = net.eval()
        self._network_ready()

    def _network_ready(self) -> None:
        """Hook run after training and after loading (e.g. to cache weights as numpy arrays)."""
    def _val_fn(self, validation, device):
        raise NotImplementedError(f"{type(self).__name__} does not track a validation set")

    # ----- scoring ------------------------------------------------------------------
    @single_threaded
    @torch.no_grad()
    def _scores(self, u, i, chunk: int = 1 << 16) -> np.ndarray:
        """Raw network outputs for position arrays ``u``, ``i`` (shape ``(n,)``), as float64."""
        u = torch.tensor(np.asarray(u), dtype=torch.long)
        i = torch.tensor(np.asarray(i), dtype=torch.long)
        out = [self.network_(u[s:s + chunk].to(self.device_), i[s:s + chunk].to(self.device_)).cpu()
               for s in range(0, len(u), chunk)]
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    # ----- saving -------------------------------------------------------------------
    def save(self, path) -> None:
        """Write weights (``state_dict``), id maps, training pairs and hyper-parameters to ``path``.

        Everything is tensors, strings and numbers, so :meth:`load` works with ``weights_only=True``.
        """
        self._check_fitted()
        params = self.get_params()
        params["optimizer"] = _optimizer_to_str(params["optimizer"])
        history = {k: getattr(self.history_, k) for k in self._history_keys}
        payload = {
            "format": "recsys_lab.models/1",
            "class": type(self).__name__,
            "params": params,
            "state_dict": {k: v.detach().cpu() for k, v in self.network_.state_dict().items()},
            "users": _ids_to_saveable(self.data_.users.ids),
            "items": _ids_to_saveable(self.data_.items.ids),
            "train_users": torch.tensor(self.data_.user_index, dtype=torch.long),
            "train_items": torch.tensor(self.data_.item_index, dtype=torch.long),
            "train_values": torch.tensor(self.data_.values, dtype=torch.float64),
            "history": history,
        }
        payload.update(self._saved_extras())
        torch.save(payload, path)

    def _saved_extras(self) -> dict:
        """More tensors for :meth:`save`; ``"train_timestamps"`` (``(n_ratings,)``, rows as in
        ``data_``) becomes the ``timestamp`` column of the training frame :meth:`load` rebuilds."""
        return {}

    @classmethod
    def load(cls, path, device=None) -> "TorchRecommender":
        """Rebuild a model written by :meth:`save` (``torch.load(..., weights_only=True)``).

        ``device`` overrides the saved one (e.g. ``"cpu"`` for a model trained on a GPU).
        Called on :class:`TorchRecommender` itself, it returns whichever kit model the file holds.
        """
        import pandas as pd

        from ..data.dataset import IdMap, RatingData
        from ..data.schema import ITEM, RATING, TIMESTAMP, USER
        from ..training import History

        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != "recsys_lab.models/1":
            raise ValueError(f"{path}: not a model file written by TorchRecommender.save")
        target = _find_subclass(TorchRecommender, payload["class"])
        if target is None or not issubclass(target, cls):
            raise ValueError(f"{path} holds a {payload['class']}, not a {cls.__name__}; "
                             f"load it with {payload['class']}.load or TorchRecommender.load")
        params = dict(payload["params"])
        params["optimizer"] = _optimizer_from_str(params["optimizer"])
        if device is not None:
            params["device"] = device
        model = target(**params)
        users = np.asarray(payload["users"].numpy() if torch.is_tensor(payload["users"]) else payload["users"])
        items = np.asarray(payload["items"].numpy() if torch.is_tensor(payload["items"]) else payload["items"])
        u, i = payload["train_users"].numpy(), payload["train_items"].numpy()
        frame = pd.DataFrame({USER: users[u], ITEM: items[i], RATING: payload["train_values"].numpy()})
        if "train_timestamps" in payload:                 # the sequence models' order (notebook 15)
            frame[TIMESTAMP] = payload["train_timestamps"].numpy()
        data = RatingData(frame, IdMap(users), IdMap(items))
        model.data_, model.seen_ = data, data.to_csr(binary=True)
        model.device_ = choose_device(model.device)
        model._prepare(data)
        net = model._build_network(data.n_users, data.n_items, torch.Generator().manual_seed(0))
        net.load_state_dict(payload["state_dict"])
        model.network_ = net.to(model.device_).eval()
        with one_thread():
            model._network_ready()
        model.history_ = History(**payload["history"])
        return model


def _find_subclass(base, name):
    for sub in base.__subclasses__():
        if sub.__name__ == name:
            return sub
        found = _find_subclass(sub, name)
        if found is not None:
            return found
    return None


class RowBatches(_Batches):
    """Shuffled mini-batches of row positions ``0 .. n_rows - 1``, each yielded as a 1-tuple ``(rows,)``.

    For models that take a whole row of the interaction matrix at once (an item's column of
    ratings, as in AutoRec): the model looks the rows up itself.
    """

    def __init__(self, n_rows: int, batch_size: int = 256, seed: int = 0, shuffle: bool = True, device="cpu"):
        super().__init__(int(n_rows), batch_size, seed, shuffle, device)

    def __iter__(self):
        _, order = self._start_epoch()
        for idx in self._slices(order):
            yield (idx,)
