"""Live training curves (notebook 05; reused by the recommender notebooks): a callback for ``fit_loop``.

    curves = TrainingCurves(metric="mae")
    curves                                   # shows the Stop button, a status line and the plot
    curves.start(lambda: fit_loop(model, loss_fn, batches, opt, epochs=200,
                                  val_fn=val_fn, callbacks=[curves]))
    history = curves.wait()                  # the History that fit_loop returned

The model knows nothing about the plot: :func:`recsys_lab.training.fit_loop` calls the
callback's ``on_train_begin`` / ``on_epoch_end`` / ``on_train_end``, and reads its
``stop_requested`` flag, which the Stop button sets. ``start`` runs training in a background
thread so the kernel stays free to receive the button's click (a cell that is still running
blocks every widget event); ``start(..., background=False)`` runs it in the cell instead.

Redraws are throttled (``min_interval`` seconds apart, and always after the last epoch) so the
plot does not slow training down. With ``live=False`` nothing is drawn: the callback only keeps
the history it is given (useful in tests and scripts). For a static figure of a finished run a
notebook calls :func:`recsys_lab.plotting.plot_training_curves`, which draws the same picture.
"""
from __future__ import annotations

import threading
import time

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..plotting import figure_to_png
from ..training import History
from .common import Explorer, message_box, show_message


class CurvesDrawing:
    """The picture of :func:`recsys_lab.plotting.plot_training_curves`, with artists kept between redraws.

    Redrawing during training only moves data into existing lines (clearing and re-creating axes
    every epoch would cost more than the drawing itself).
    """

    def __init__(self, axes):
        self.ax_loss, self.ax_right = axes
        self.train, = self.ax_loss.plot([], [], color="tab:blue", label="train loss")
        self.val, = self.ax_loss.plot([], [], color="tab:orange", label="validation loss")
        self.best = self.ax_loss.axvline(1, color="grey", linestyle=":", label="best epoch")
        self.right, = self.ax_right.plot([], [], color="tab:green")
        self.ax_loss.set(xlabel="epoch", ylabel="loss")
        self.ax_right.set_xlabel("epoch")
        self.ax_loss.legend(loc="upper right")
        self._right_name = None

    def update(self, history, metric: str | None = None, title: str = "") -> None:
        """Show ``history``; ``metric`` as in ``plot_training_curves`` (``ValueError`` if it is unknown)."""
        if metric is None and history.metrics:
            metric = next(iter(history.metrics))
        if metric is not None and metric not in history.metrics:
            raise ValueError(f"metric {metric!r} is not in the history; it has {sorted(history.metrics) or 'none'}.")
        n = len(history.train_loss)
        self.train.set_data(np.arange(1, n + 1), history.train_loss)
        self.val.set_data(np.arange(1, len(history.val_loss) + 1), history.val_loss)
        self.val.set_visible(bool(len(history.val_loss)))
        best = getattr(history, "best_epoch", None)
        self.best.set_visible(bool(best))
        if best:
            self.best.set_xdata([best, best])
        self.ax_loss.set_title((title or "Loss per epoch") + (f"  (best epoch {best})" if best else ""))
        values = history.metrics[metric] if metric is not None else history.lr[:n]
        self.right.set_data(np.arange(1, len(values) + 1), values)
        name = metric if metric is not None else "learning rate"
        if name != self._right_name:
            self.ax_right.set(title=f"Validation {metric}" if metric is not None else "Learning rate", ylabel=name)
            self.right.set_color("tab:green" if metric is not None else "tab:purple")
            self._right_name = name
        for ax in (self.ax_loss, self.ax_right):
            ax.relim(visible_only=True)
            ax.autoscale_view()


class TrainingCurves(Explorer):
    """Train/validation loss and one metric, redrawn while ``fit_loop`` runs, with a Stop button."""

    def __init__(self, metric: str | None = None, title: str = "", min_interval: float = 0.3, live: bool = True):
        if not min_interval >= 0:
            raise ValueError(f"min_interval is in seconds and must be >= 0, got {min_interval!r}.")
        self.metric, self.title, self.min_interval, self.live = metric, title, float(min_interval), live
        self.stop_requested = False
        self.history: History | None = None
        self.result = None
        self.error: BaseException | None = None
        self.epochs_seen = 0
        self.redraws = 0
        self.last_redraw_seconds = None
        self._last_draw = float("-inf")
        self._thread: threading.Thread | None = None
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True,
                                    tooltip="stop training after the current batch")
        self.stop_button.on_click(self.stop)
        self.status = W.HTML(value="not started")
        self.message = message_box()
        self.image = W.Image(format="png")
        self.figure = Figure(figsize=(10, 3.6), dpi=72)
        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
        self.drawing = CurvesDrawing(self.axes)
        self.widget = W.VBox([W.HBox([self.stop_button, self.status]), self.message, self.image])

    # ----- fit_loop callback hooks ----------------------------------------------------------
    def on_train_begin(self, history: History) -> None:
        self.history, self.stop_requested, self.epochs_seen = history, False, 0
        self._last_draw = float("-inf")                 # the first epoch is always drawn
        self.stop_button.disabled = False
        show_message(self.message, "")
        self.status.value = "training…"

    def on_epoch_end(self, history: History) -> None:
        self.history = history
        self.epochs_seen += 1
        line = f"epoch {history.epochs_run}/{history.epochs}: train loss {history.train_loss[-1]:.4f}"
        if history.val_loss:
            line += f", validation loss {history.val_loss[-1]:.4f}"
        self.status.value = line
        if self.live and time.perf_counter() - self._last_draw >= self.min_interval:
            self.redraw()

    def on_train_end(self, history: History) -> None:
        self.history = history
        self.stop_button.disabled = True
        self.status.value = history.message
        if self.live:
            self.redraw()
        if history.diverged:
            show_message(self.message, history.message, "error")
        elif history.status == "stopped":
            show_message(self.message, history.message, "info")

    # ----- controls -------------------------------------------------------------------------
    def stop(self, _button=None) -> None:
        """What the Stop button does: ask ``fit_loop`` to stop after the current batch.

        A click that reaches the kernel after training ended (it was queued while a cell kept
        the kernel busy) changes nothing.
        """
        if self.stop_button.disabled:
            return
        self.stop_requested = True
        self.status.value = "stopping after the current batch…"

    def redraw(self) -> bool:
        """Draw the current history; returns ``False`` (with a message) if there is nothing valid to draw."""
        t0 = time.perf_counter()
        if self.history is None or not self.history.train_loss:
            return False
        try:
            self.drawing.update(self.history, self.metric, self.title)
        except ValueError as err:                       # e.g. a metric name the history does not have
            show_message(self.message, str(err), "error")
            return False
        self.image.value = figure_to_png(self.figure)
        self.redraws += 1
        self._last_draw = time.perf_counter()
        self.last_redraw_seconds = self._last_draw - t0
        return True

    # ----- running training -------------------------------------------------------------------
    def start(self, train_fn, background: bool = True) -> "TrainingCurves":
        """Run ``train_fn()`` (which calls ``fit_loop(..., callbacks=[this])``); errors become a message.

        In the background (default) the cell returns at once and the Stop button works; call
        :meth:`wait` for the result. With ``background=False`` training runs before the cell ends.
        """
        if self._thread is not None and self._thread.is_alive():
            show_message(self.message, "Training is already running: press Stop or wait for it to finish.",
                         "warning")
            return self
        self.result, self.error, self.history = None, None, None
        if background:
            self._thread = threading.Thread(target=self._run, args=(train_fn,), daemon=True)
            self._thread.start()
        else:
            self._run(train_fn)
        return self

    def _run(self, train_fn) -> None:
        try:
            self.result = train_fn()
        except Exception as err:                        # shown to the learner instead of a traceback
            self.error = err
            self.stop_button.disabled = True
            self.status.value = "training failed"
            show_message(self.message, f"Training failed: {type(err).__name__}: {err}", "error")
            return
        if isinstance(self.result, History) and self.history is None:
            self.history = self.result                  # train_fn forgot callbacks=[curves]: draw the end state
            if self.live:
                self.redraw()

    def wait(self, timeout: float | None = None):
        """Wait for a background run to finish and return what ``train_fn`` returned (``None`` on error)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result
