"""recsys_lab/widgets/schedule_explorer.py, headless: controls drive redraws; bad input gives messages."""
import html
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from recsys_lab.schedules import SCHEDULE_NAMES, step_lr, warmup_cosine_lr
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.schedule_explorer import (PARAMS, ScheduleExplorer, compute_schedule, draw_schedule,
                                                   plateau_metric)




def text(box):
    """The message a learner reads (tags stripped, entities decoded)."""
    return html.unescape(re.sub("<[^>]+>", "", box.value))


@pytest.fixture
def ex():
    return ScheduleExplorer(schedule="warmup_cosine", steps=100, learning_rate=0.1)


def test_initial_curve_is_the_schedule_and_agrees_with_torch(ex):
    r = ex.result
    assert np.allclose(r["values"], warmup_cosine_lr(np.arange(100), 0.1, 10, 99))
    assert r["max_difference"] < 1e-12
    assert ex.image.value[:4] == b"\x89PNG" and ex.message.value == ""


def test_every_schedule_can_be_selected_and_agrees_with_torch(ex):
    for name in SCHEDULE_NAMES:
        ex.schedule.value = name
        assert ex.result["name"] == name and ex.message.value == ""
        assert ex.result["max_difference"] < 1e-12
        for k, w in ex.controls.items():            # only the settings the schedule uses are shown
            assert (w.layout.display != "none") == (k in PARAMS[name])


def test_moving_a_slider_changes_the_curve_and_the_picture(ex):
    ex.schedule.value = "step"
    assert ex.controls["gamma"].value == 0.5        # the step schedule's readable default
    png = bytes(ex.image.value)
    ex.controls["step_size"].value = 7
    assert np.allclose(ex.result["values"], step_lr(np.arange(100), 0.1, 7, 0.5))
    assert bytes(ex.image.value) != png


def test_plateau_uses_the_made_up_metric(ex):
    ex.schedule.value = "reduce_on_plateau"
    assert np.allclose(ex.result["metric"], plateau_metric(100, seed=0))
    assert ex.result["values"][-1] < 0.1            # it does reduce on this curve
    ex.controls["patience"].value = 30
    assert ex.result["values"][-1] > ex.controls["factor"].value ** 3 * 0.1 - 1e-12


@pytest.mark.parametrize("control, value, match", [
    ("learning_rate", 0.0, "learning rate must be a number > 0"),
    ("learning_rate", -0.5, "learning rate must be a number > 0"),
    ("min_lr", 0.5, "min_lr must be between 0 and the learning rate"),
    ("min_lr", -0.01, "min_lr must be between 0"),
    ("warmup_steps", 150, "warm-up"),
])
def test_impossible_settings_give_a_message_not_an_exception(ex, control, value, match):
    png = bytes(ex.image.value)
    widget = ex.learning_rate if control == "learning_rate" else ex.controls[control]
    widget.value = value
    assert match in text(ex.message)
    assert bytes(ex.image.value) == png
    widget.value = 0.1 if control == "learning_rate" else 0.0 if control == "min_lr" else 10
    assert ex.message.value == ""


def test_compare_off_skips_torch(ex):
    ex.compare.value = False
    assert ex.result["torch_values"] is None and ex.result["max_difference"] is None


def test_pure_functions():
    with pytest.raises(InputError, match="Unknown schedule"):
        compute_schedule("cyclic", 50, 0.1, {})
    with pytest.raises(InputError, match="steps"):
        compute_schedule("constant", 1, 0.1, {})
    with pytest.raises(InputError, match="gamma"):       # the schedule's own ValueError becomes a message
        compute_schedule("exponential", 50, 0.1, {"gamma": 1.5})
    r = compute_schedule("cosine", 50, 0.1, {"min_lr": 0.01})
    assert r["values"][0] == pytest.approx(0.1) and r["values"][-1] == pytest.approx(0.01)
    fig, ax = plt.subplots()
    d = draw_schedule(ax, r)
    assert np.allclose(d.ours.get_ydata(), r["values"]) and ax.get_ylabel() == "learning rate"
    plt.close(fig)
