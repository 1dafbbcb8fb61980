"""recsys_lab/widgets/optimizer_playground.py, headless: controls drive redraws; bad input gives messages."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from recsys_lab.surfaces import SURFACES, run_trajectory
from recsys_lab.widgets.common import InputError
from recsys_lab.widgets.optimizer_playground import (OptimizerPlayground, compute_trajectories, draw_playground,
                                                      _hyper)




@pytest.fixture
def pg():
    return OptimizerPlayground(surface="quadratic", optimizers=("sgd", "adam"))


def test_initial_state_draws_the_ticked_optimizers(pg):
    assert list(pg.trajectories) == ["sgd", "adam"]
    assert pg.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert pg.message.value == ""
    expected = run_trajectory("sgd", {"learning_rate": SURFACES["quadratic"].learning_rates["sgd"]}, "quadratic")
    assert np.allclose(pg.trajectories["sgd"].positions, expected.positions)


def test_moving_a_slider_recomputes_that_trajectory_and_the_picture(pg):
    before_png, before = pg.image.value, pg.trajectories["sgd"].positions.copy()
    pg.lr["sgd"].value = 0.02
    assert pg.trajectories["sgd"].hyper["learning_rate"] == pytest.approx(0.02)
    assert not np.allclose(pg.trajectories["sgd"].positions, before)
    assert pg.image.value != before_png
    assert pg.last_redraw_seconds is not None


def test_ticking_and_extra_hyper_parameters(pg):
    pg.use["nesterov"].value = True
    pg.extra["nesterov"].value = 0.5
    assert pg.trajectories["nesterov"].hyper == {"learning_rate": pg.lr["nesterov"].value, "momentum": 0.5}
    pg.extra["adam"].value = 0.0
    assert pg.trajectories["adam"].hyper["betas"] == (0.0, 0.999)
    pg.use["adam"].value = False
    assert "adam" not in pg.trajectories
    assert _hyper("adamw", 0.1, 0.2) == {"learning_rate": 0.1, "weight_decay": 0.2}


def test_changing_surface_loads_its_defaults(pg):
    pg.surface.value = "rosenbrock"
    s = SURFACES["rosenbrock"]
    assert (pg.start_x.value, pg.start_y.value) == s.start and pg.steps.value == s.steps
    assert pg.trajectories["sgd"].steps_run == s.steps
    assert pg.lr["adam"].value == pytest.approx(s.learning_rates["adam"])


def test_empty_selection_gives_a_message_not_an_exception(pg):
    pg.use["sgd"].value = False
    png = bytes(pg.image.value)
    pg.use["adam"].value = False
    assert "at least one optimizer" in pg.message.value
    assert bytes(pg.image.value) == png                # the last good picture stays
    pg.use["adam"].value = True
    assert pg.message.value == "" and list(pg.trajectories) == ["adam"]


def test_start_point_outside_the_window_gives_a_message(pg):
    pg.start_x.value = 50.0
    assert "outside the plotted region" in pg.message.value
    pg.start_x.value = float("nan")
    assert "outside the plotted region" in pg.message.value
    pg.start_x.value = -1.0
    assert pg.message.value == ""


def test_diverging_run_is_reported_and_the_others_still_drawn(pg):
    pg.lr["sgd"].value = 0.5                            # |1 − 0.5·20| = 9: explodes along y
    assert pg.trajectories["sgd"].diverged
    assert "sgd diverged" in pg.message.value and "smaller learning_rate" in pg.message.value
    assert not pg.trajectories["adam"].diverged
    assert np.all(np.isfinite(pg.trajectories["sgd"].positions))


def test_nesterov_without_momentum_is_a_message(pg):
    pg.use["nesterov"].value = True
    pg.extra["nesterov"].value = 0.0
    assert "nesterov" in pg.message.value and "momentum" in pg.message.value


@pytest.mark.parametrize("settings, start, steps, match", [
    ({}, (0, 0), 10, "at least one"),
    ({"sgd": {"learning_rate": 0.0}}, (0, 0), 10, "must be a number > 0"),
    ({"sgd": {"learning_rate": -1.0}}, (0, 0), 10, "must be a number > 0"),
    ({"lbfgs": {"learning_rate": 0.1}}, (0, 0), 10, "Unknown optimizer"),
    ({"sgd": {"learning_rate": 0.1}}, (0, 0), 0, "steps"),
])
def test_pure_compute_rejects_bad_input_with_input_error(settings, start, steps, match):
    with pytest.raises(InputError, match=match):
        compute_trajectories("quadratic", settings, start, steps)


def test_cache_returns_identical_results():
    cache = {}
    a = compute_trajectories("saddle", {"adam": {"learning_rate": 0.05}}, (-1.8, 0.001), 50, cache=cache)
    b = compute_trajectories("saddle", {"adam": {"learning_rate": 0.05}}, (-1.8, 0.001), 50, cache=cache)
    assert a["adam"] is b["adam"] and len(cache) == 1


def test_static_figure_from_the_pure_function():
    tr = compute_trajectories("saddle", {"sgd": {"learning_rate": 0.05}, "adam": {"learning_rate": 0.05}},
                              SURFACES["saddle"].start, 100)
    fig, axes = plt.subplots(1, 2)
    drawing = draw_playground(axes, "saddle", tr)
    assert set(drawing.lines) == {"sgd", "adam"}
    assert axes[0].get_title() == SURFACES["saddle"].title and axes[1].get_xlabel() == "step"
    assert np.allclose(drawing.lines["adam"][0].get_xydata(), tr["adam"].positions)
    plt.close(fig)
