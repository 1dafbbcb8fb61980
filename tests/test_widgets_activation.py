"""Activation explorer, headless: set control values, check the figure data, readout and messages."""
import html
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from recsys_lab.activations import sigmoid, tanh
from recsys_lab.widgets.activation_explorer import (ActivationExplorer, activation_readout,
                                                    draw_activation_explorer)


@pytest.fixture(scope="module")
def explorer():
    return ActivationExplorer(activations=("sigmoid", "relu"), w1=1.0, w2=1.0, b=0.0, x=1.0)


def test_moving_a_slider_redraws_the_curves_and_the_image(explorer):
    line_a, line_d = explorer.view.lines["sigmoid"]
    before_png, before_y = explorer.image.value, line_a.get_ydata().copy()
    explorer.w1.value = 2.0
    xs = explorer.view.xs
    np.testing.assert_allclose(line_a.get_ydata(), sigmoid(2.0 * xs))
    np.testing.assert_allclose(line_d.get_ydata(), 2.0 * sigmoid(2.0 * xs) * (1 - sigmoid(2.0 * xs)))
    assert not np.allclose(line_a.get_ydata(), before_y)
    assert explorer.image.value != before_png and explorer.image.value[:4] == b"\x89PNG"
    explorer.w1.value = 1.0


def test_selection_controls_which_curves_show(explorer):
    explorer.activations.value = ("tanh",)
    visible = {n for n, (a, _) in explorer.view.lines.items() if a.get_visible()}
    assert visible == {"tanh"}
    assert "tanh" in explorer.view.ax_surf.get_title()
    explorer.activations.value = ("sigmoid", "relu")


def test_surface_and_boundary_follow_weights_and_bias(explorer):
    explorer.activations.value = ("tanh",)
    explorer.w1.value, explorer.w2.value, explorer.b.value = 1.0, -2.0, 0.5
    a = np.asarray(explorer.view.image.get_array())
    n = a.shape[0]
    grid = np.linspace(-3, 3, n)
    assert a[5, 7] == pytest.approx(math.tanh(1.0 * grid[7] - 2.0 * grid[5] + 0.5))
    bx, by = explorer.view.boundary.get_data()
    np.testing.assert_allclose(1.0 * np.asarray(bx) - 2.0 * np.asarray(by) + 0.5, 0.0, atol=1e-12)
    explorer.activations.value = ("sigmoid", "relu")
    explorer.w2.value, explorer.b.value = 1.0, 0.0


def test_readout_table_has_the_numbers_at_the_probe(explorer):
    explorer.x.value = -0.5
    rows = activation_readout(("sigmoid", "relu"), 1.0, 0.0, -0.5)
    assert rows[0] == {"activation": "sigmoid", "z": -0.5, "a": round(float(sigmoid(-0.5)), 4),
                       "da/dx": round(float(sigmoid(-0.5) * (1 - sigmoid(-0.5))), 4)}
    assert rows[1]["a"] == 0.0 and rows[1]["da/dx"] == 0.0
    assert f"{rows[0]['a']:.4f}" in explorer.readout.value
    explorer.x.value = 1.0


def test_empty_selection_gives_a_message_not_an_exception(explorer):
    png = explorer.image.value
    explorer.activations.value = ()
    assert "Choose at least one activation" in html.unescape(explorer.message.value)
    assert explorer.image.value == png               # the last good picture stays
    explorer.activations.value = ("sigmoid",)
    assert explorer.message.value == ""


def test_zero_weights_warn_that_the_neuron_ignores_its_inputs(explorer):
    explorer.w1.value, explorer.w2.value = 0.0, 0.0
    assert "ignores its inputs" in html.unescape(explorer.message.value)
    assert not explorer.view.boundary.get_visible()
    explorer.w1.value, explorer.w2.value = 1.0, 1.0
    assert explorer.message.value == "" and explorer.view.boundary.get_visible()


def test_static_figure_function_is_the_same_drawing():
    view = draw_activation_explorer(("tanh", "gelu"), 1.5, -1.0, 0.2, 0.0)
    np.testing.assert_allclose(view.lines["tanh"][0].get_ydata(), tanh(1.5 * view.xs + 0.2))
    assert not view.lines["sigmoid"][0].get_visible()
    plt.close(view.ax_curve.figure)
    with pytest.raises(ValueError, match="at least one activation"):
        draw_activation_explorer((), 1.0, 1.0, 0.0, 0.0)
