"""recsys_lab/widgets/training_curves.py, headless: a fit_loop callback that draws, records and stops."""
import html
import re
import time

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from recsys_lab.optimizers import SGD
from recsys_lab.plotting import plot_training_curves
from recsys_lab.training import ArrayBatches, fit_loop, make_mlp, make_val_fn
from recsys_lab.widgets.training_curves import TrainingCurves

MSE = nn.MSELoss()




def text(box):
    return html.unescape(re.sub("<[^>]+>", "", box.value))


def problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 3, generator=g)
    y = (X @ torch.tensor([1.0, -1.0, 0.5])).unsqueeze(1)
    model = make_mlp((3, 1), seed=0)
    metrics = {"mae": lambda p, t: (p - t).abs().mean()}
    return model, ArrayBatches(X, y, batch_size=16), make_val_fn(MSE, [(X, y)], metrics)


def train(curves, epochs=5, learning_rate=0.05, extra_callbacks=()):
    model, batches, val_fn = problem()
    return fit_loop(model, MSE, batches, SGD(model, learning_rate=learning_rate), epochs, val_fn=val_fn,
                    callbacks=[curves, *extra_callbacks])


def test_headless_callback_only_records():
    curves = TrainingCurves(live=False)
    h = train(curves)
    assert curves.history is h and curves.epochs_seen == 5
    assert curves.redraws == 0 and curves.image.value == b""
    assert curves.stop_button.disabled and "trained for 5 epochs" in curves.status.value


def test_live_callback_redraws_during_training():
    curves = TrainingCurves(metric="mae", min_interval=0.0)
    pngs = []

    class Grab:
        def on_epoch_end(self, history):
            pngs.append(bytes(curves.image.value))

    h = train(curves, extra_callbacks=[Grab()])
    assert curves.redraws == 5 + 1                      # every epoch, and once at the end
    assert list(curves.drawing.train.get_ydata()) == h.train_loss
    assert list(curves.drawing.right.get_ydata()) == h.metrics["mae"]
    assert len(set(pngs)) == 5                          # the picture changed every epoch
    assert curves.axes[1].get_ylabel() == "mae" and curves.last_redraw_seconds is not None


def test_redraws_are_throttled():
    curves = TrainingCurves(min_interval=1e6)
    train(curves, epochs=8)
    assert curves.redraws == 2                          # the first epoch and the end only


def test_stop_button_stops_the_loop():
    curves = TrainingCurves(live=False)

    class ClickAtEpochThree:
        def on_epoch_end(self, history):
            if history.epochs_run == 3:
                curves.stop_button.click()

    h = train(curves, epochs=50, extra_callbacks=[ClickAtEpochThree()])
    assert h.status == "stopped" and h.epochs_run == 3
    assert "stopped by request" in text(curves.message)


def test_stop_click_arriving_after_training_is_ignored():
    curves = TrainingCurves(live=False)
    h = train(curves, epochs=2)
    done = curves.status.value
    curves.stop_button.click()                          # a click queued while the kernel was busy
    assert curves.status.value == done == h.message and not curves.stop_requested


def test_stop_button_works_while_training_runs_in_the_background():
    curves = TrainingCurves(live=False)
    curves.start(lambda: train(curves, epochs=100_000))
    deadline = time.time() + 20
    while curves.epochs_seen < 2 and time.time() < deadline:
        time.sleep(0.01)
    curves.start(lambda: None)                          # a second start while running is refused politely
    assert "already running" in text(curves.message)
    curves.stop_button.click()
    h = curves.wait(timeout=20)
    assert h is not None and h.status == "stopped" and 2 <= h.epochs_run < 100_000


def test_diverging_run_gives_a_message():
    curves = TrainingCurves(min_interval=0.0)
    h = train(curves, epochs=30, learning_rate=80.0)
    assert h.diverged
    assert "diverged" in text(curves.message) and "learning_rate" in text(curves.message)


def test_unknown_metric_gives_a_message_not_an_exception():
    curves = TrainingCurves(metric="rmse", min_interval=0.0)
    train(curves, epochs=2)
    assert "metric 'rmse' is not in the history" in text(curves.message) and "mae" in text(curves.message)


def test_a_failing_training_function_gives_a_message():
    curves = TrainingCurves()
    curves.start(lambda: SGD([torch.zeros(1, requires_grad=True)], learning_rate=-1.0), background=False)
    assert curves.result is None and isinstance(curves.error, ValueError)
    assert "Training failed: ValueError" in text(curves.message) and "learning_rate" in text(curves.message)


def test_history_without_the_callback_is_still_drawn_at_the_end():
    curves = TrainingCurves()
    model, batches, val_fn = problem()
    curves.start(lambda: fit_loop(model, MSE, batches, SGD(model, 0.05), 3, val_fn=val_fn), background=False)
    assert curves.result.epochs_run == 3 and curves.redraws == 1


def test_static_figure_from_the_history():
    curves = TrainingCurves(live=False)
    h = train(curves, epochs=4)
    fig, axes = plt.subplots(1, 2)
    ax_loss, ax_metric = plot_training_curves(h, axes=axes)
    assert [line.get_label() for line in ax_loss.get_lines()][:2] == ["train loss", "validation loss"]
    assert list(ax_loss.get_lines()[0].get_ydata()) == h.train_loss and ax_metric.get_ylabel() == "mae"
    plt.close(fig)
    with pytest.raises(ValueError, match="min_interval"):
        TrainingCurves(min_interval=-1)
