"""recsys_lab.toy_data: shapes, seeding, and the geometry each generator promises."""
import numpy as np
import pytest

from recsys_lab.toy_data import (TOY_DATASETS, make_circles, make_moons, make_spiral, make_toy,
                                 make_xor)


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_shapes_dtypes_and_class_balance(name):
    X, y = make_toy(name, n=101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and (y == 0).sum() == 50 and (y == 1).sum() == 51
    assert np.abs(X).max() < 2.5                    # all problems live near [-1.5, 1.5]^2


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_seeded_and_reproducible(name):
    X1, y1 = make_toy(name, n=50, seed=7)
    X2, y2 = make_toy(name, n=50, seed=7)
    X3, _ = make_toy(name, n=50, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_labels_are_shuffled_not_sorted():
    _, y = make_moons(n=200, seed=0)
    assert (np.diff(y) != 0).sum() > 20


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = make_moons(n=400, noise=0.0, seed=0)
    X = X.astype(np.float64)
    up, low = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(up[:, 0] + 0.5, up[:, 1] + 0.25), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(low[:, 0] - 0.5, low[:, 1] - 0.25), 1.0, atol=1e-6)
    assert (up[:, 1] >= -0.25 - 1e-6).all() and (low[:, 1] <= 0.25 + 1e-6).all()


def test_circles_radii_and_noise_scale():
    X, y = make_circles(n=400, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    Xn, yn = make_circles(n=4000, noise=0.1, seed=0)
    radial_std = np.hypot(Xn[yn == 0, 0], Xn[yn == 0, 1]).std()
    assert 0.08 < radial_std < 0.12               # the noise is Gaussian with std 0.1 per coordinate


def test_xor_labels_follow_the_quadrants():
    X, y = make_xor(n=300, noise=0.0, margin=0.2, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(np.int64))
    assert np.abs(X).min() >= 0.2 - 1e-6


def test_spiral_angle_grows_with_radius():
    X, y = make_spiral(n=300, noise=0.0, turns=1.25, seed=0)
    r = np.hypot(X[:, 0], X[:, 1]).astype(np.float64)
    angle = np.arctan2(X[:, 1], X[:, 0]).astype(np.float64)
    expected = 2 * np.pi * 1.25 * r + np.pi * y
    wrapped = np.angle(np.exp(1j * (angle - expected)))     # difference modulo 2π
    np.testing.assert_allclose(wrapped, 0.0, atol=1e-4)
    assert r.min() >= 0.1 - 1e-6 and r.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("name", ["xor", "circles", "spiral"])
def test_no_straight_line_separates_the_hard_problems(name):
    X, y = make_toy(name, n=400, noise=0.05, seed=0)
    design = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(design, 2.0 * y - 1.0, rcond=None)
    accuracy = ((design @ coef > 0) == (y == 1)).mean()
    assert accuracy < 0.75


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="moons", n=1), "n must be an integer >= 2"),
    (dict(name="moons", noise=-0.1), "noise is a standard deviation"),
    (dict(name="blobs"), "choose one of moons, circles, xor, spiral"),
])
def test_bad_arguments_name_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_toy(**kwargs)


def test_bad_shape_parameters():
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        make_circles(factor=1.5)
    with pytest.raises(ValueError, match="turns"):
        make_spiral(turns=0)
    with pytest.raises(ValueError, match="margin"):
        make_xor(margin=-1)
