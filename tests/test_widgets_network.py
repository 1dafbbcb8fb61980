"""Network playground, headless: steps, redraws, live training with Stop, and bad settings."""
import asyncio
import html

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from recsys_lab.network import train_two_layer
from recsys_lab.toy_data import make_toy
from recsys_lab.widgets.network_playground import NetworkPlayground, draw_playground


def message(pg) -> str:
    """The message line as plain text (the widget HTML-escapes it)."""
    return html.unescape(pg.message.value)


@pytest.fixture
def playground():
    return NetworkPlayground(dataset="moons", n_points=100, n_hidden=6, learning_rate=0.5,
                             steps_per_redraw=10, max_steps=60, seed=0)


def test_starts_ready_with_the_chosen_data(playground):
    X, y = make_toy("moons", n=100, noise=0.1, seed=0)
    np.testing.assert_array_equal(playground.trainer.X.numpy(), X)
    np.testing.assert_array_equal(playground.view.points.get_offsets(), X)
    assert playground.status.startswith("ready") and playground.message.value == ""
    assert playground.image.value[:4] == b"\x89PNG"


def test_step_trains_and_redraws_boundary_and_loss(playground):
    png, grid = playground.image.value, np.asarray(playground.view.image.get_array()).copy()
    assert playground.step()
    assert playground.trainer.steps == 10
    xs, ys = playground.view.loss_line.get_data()
    np.testing.assert_array_equal(xs, np.arange(1, 11))
    np.testing.assert_allclose(ys, playground.trainer.history["loss"])
    assert not np.allclose(np.asarray(playground.view.image.get_array()), grid)
    assert playground.image.value != png
    assert playground.status.startswith("step 10: loss")


def test_start_without_an_event_loop_trains_to_max_steps(playground):
    assert playground.start()
    assert playground.trainer.steps == 60 and playground.status.startswith("finished")
    assert playground.trainer.history["loss"][-1] < playground.trainer.history["loss"][0]
    assert not playground.train_button.disabled and playground.stop_button.disabled
    assert not playground.start() and "max steps" in message(playground)


def test_live_training_yields_to_the_event_loop_and_stops_on_click(playground):
    playground.max_steps.value = 10_000

    async def session():
        assert playground.start()
        assert playground.train_button.disabled and not playground.stop_button.disabled
        while playground.trainer.steps < 20:
            await asyncio.sleep(0.005)              # the loop is free between redraws
        playground.stop_button.click()
        steps = playground.trainer.steps
        await asyncio.wait_for(playground._task, timeout=10)
        return steps

    steps_at_click = asyncio.run(session())
    assert playground.trainer.steps <= steps_at_click + 10   # at most the chunk in progress
    assert playground.trainer.steps < 10_000
    assert playground.status.startswith("stopped at step")
    assert not playground.train_button.disabled and playground.stop_button.disabled


def test_same_settings_same_run():
    a = NetworkPlayground(n_points=60, max_steps=20, steps_per_redraw=20, seed=3)
    b = NetworkPlayground(n_points=60, max_steps=20, steps_per_redraw=20, seed=3)
    a.start()
    b.start()
    assert a.trainer.steps == 20 and a.trainer.history["loss"] == b.trainer.history["loss"]


@pytest.mark.parametrize("value", [0.0, -0.1, float("nan")])
def test_bad_learning_rate_gives_a_message_not_an_exception(playground, value):
    playground.learning_rate.value = value
    assert "learning rate must be a number > 0" in message(playground)
    assert not playground.step() and playground.trainer.steps == 0
    assert not playground.start()
    playground.learning_rate.value = 0.3
    assert playground.message.value == "" and playground.trainer.learning_rate == 0.3
    assert playground.step()


@pytest.mark.parametrize("value", [0, -3, 10_000])
def test_bad_hidden_units_give_a_message(playground, value):
    playground.n_hidden.value = value
    assert "between 1 and 256 hidden units" in message(playground)
    assert playground.trainer is None and not playground.step()
    playground.n_hidden.value = 4
    assert playground.trainer is not None and playground.message.value == ""
    assert playground.trainer.model.hidden.weight.shape == (4, 2)


def test_negative_reg_gives_a_message(playground):
    playground.reg.value = -1.0
    assert "reg (L2 penalty) must be >= 0" in message(playground)
    playground.reg.value = 0.01
    assert playground.trainer.reg == 0.01 and playground.message.value == ""


def test_diverging_run_stops_cleanly_and_says_so(playground):
    playground.learning_rate.value = 200.0
    playground.max_steps.value = 500
    assert playground.start()                       # no exception
    assert playground.trainer.status == "diverged" and playground.trainer.steps < 500
    assert "diverged" in message(playground) and "learning rate" in message(playground)
    assert playground.status.startswith("diverged after")
    assert np.isfinite(playground.view.loss_line.get_ydata()).all()
    assert not playground.step()                    # stays stopped until Reset
    playground.learning_rate.value = 0.5
    playground.reset_button.click()
    assert playground.trainer.steps == 0 and playground.trainer.status == "ready"
    assert playground.message.value == ""


def test_changing_the_problem_resets_the_network(playground):
    playground.step()
    playground.dataset.value = "xor"
    X, _ = make_toy("xor", n=100, noise=0.1, seed=0)
    assert playground.trainer.steps == 0
    np.testing.assert_array_equal(playground.view.points.get_offsets(), X)


def test_static_figure_matches_a_trained_network():
    threads = torch.get_num_threads()
    X, y = make_toy("circles", n=80, noise=0.05, seed=1)
    trainer = train_two_layer(X, y, n_hidden=6, epochs=50, seed=1)
    view = draw_playground(trainer, resolution=20)
    assert torch.get_num_threads() == threads      # training on one thread restores the setting
    np.testing.assert_allclose(view.loss_line.get_ydata(), trainer.history["loss"])
    p = np.asarray(view.image.get_array())
    assert p.shape == (20, 20) and ((p > 0) & (p < 1)).all()
    plt.close(view.ax_data.figure)
