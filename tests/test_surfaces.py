"""recsys_lab/surfaces.py: hand-written gradients vs autograd, known minima, trajectories."""
import numpy as np
import pytest
import scipy.optimize
import torch

from recsys_lab.optimizers import OPTIMIZER_NAMES
from recsys_lab.surfaces import SURFACES, get_surface, run_trajectory



NAMES = list(SURFACES)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_autograd(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(*s.xlim, 50), rng.uniform(*s.ylim, 50)])
    xy = torch.tensor(pts, requires_grad=True)
    s.f(xy[:, 0], xy[:, 1]).sum().backward()
    assert np.abs(s.gradient(pts) - xy.grad.numpy()).max() < 1e-10


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_are_minima(name):
    s = SURFACES[name]
    for m in s.minima:
        assert s.value(m) == pytest.approx(0.0, abs=1e-12)
        assert np.abs(s.gradient(m)).max() < 1e-12
        H = torch.autograd.functional.hessian(lambda v: s.f(v[0], v[1]), torch.tensor(m, dtype=torch.float64))
        assert torch.linalg.eigvalsh(H).min() > 0          # curves up in every direction
    X, Y, Z = s.grid(60)
    assert X.shape == Y.shape == Z.shape == (60, 60) and Z.min() >= -1e-12


@pytest.mark.parametrize("name", NAMES)
def test_a_reference_optimizer_finds_a_listed_minimum(name):
    s = SURFACES[name]
    res = scipy.optimize.minimize(lambda v: s.value(v), np.array(s.start), jac=lambda v: s.gradient(v),
                                  method="BFGS", options={"gtol": 1e-10})
    assert min(np.linalg.norm(res.x - np.array(m)) for m in s.minima) < 1e-4


def test_saddle_point_is_a_saddle():
    s = SURFACES["saddle"]
    assert np.abs(s.gradient((0.0, 0.0))).max() == 0.0
    H = torch.autograd.functional.hessian(lambda v: s.f(v[0], v[1]), torch.zeros(2, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(H)
    assert eig.min() < 0 < eig.max()


def test_sgd_on_the_quadratic_follows_the_closed_form():
    """Plain gradient descent on (x² + κy²)/2 multiplies x by (1 − η) and y by (1 − ηκ) each step."""
    lr, kappa, steps = 0.05, 20.0, 30
    tr = run_trajectory("sgd", {"learning_rate": lr}, "quadratic", start=(-2.0, 1.0), steps=steps)
    t = np.arange(steps + 1)
    expected = np.column_stack([-2.0 * (1 - lr) ** t, 1.0 * (1 - lr * kappa) ** t])
    assert tr.positions.shape == (steps + 1, 2) and tr.losses.shape == (steps + 1,)
    assert np.abs(tr.positions - expected).max() < 1e-12
    assert np.allclose(tr.losses, SURFACES["quadratic"].value(tr.positions))
    assert not tr.diverged and tr.message == ""
    # y is multiplied by 1 − 0.05·20 = 0, so from step 1 on f_t = x_t²/2 = 2·0.95^(2t)
    assert tr.first_step_below(1.0) == int(np.ceil(np.log(0.5) / (2 * np.log(0.95))))
    assert tr.first_step_below(1e-30) is None


@pytest.mark.parametrize("name", ["adam", "nesterov", "rmsprop"])
def test_trajectory_matches_torch_optim_with_autograd(name):
    s = SURFACES["rosenbrock"]
    tr = run_trajectory(name, None, s, steps=100)
    p = torch.tensor(s.start, dtype=torch.float64, requires_grad=True)
    kw = {"lr": s.learning_rates[name]}
    opt = {"adam": lambda: torch.optim.Adam([p], **kw), "rmsprop": lambda: torch.optim.RMSprop([p], **kw),
           "nesterov": lambda: torch.optim.SGD([p], momentum=0.9, nesterov=True, **kw)}[name]()
    for _ in range(100):
        opt.zero_grad()
        s.f(p[0], p[1]).backward()
        opt.step()
    assert np.abs(tr.positions[-1] - p.detach().numpy()).max() < 1e-6


def test_divergence_stops_cleanly_with_a_message():
    tr = run_trajectory("sgd", {"learning_rate": 0.2}, "quadratic", steps=200)   # |1 − 0.2·20| = 3 > 1
    assert tr.diverged and tr.steps_run < 200
    assert "diverged" in tr.message and "learning_rate" in tr.message
    assert np.all(np.isfinite(tr.positions)) and np.all(np.isfinite(tr.losses))


def test_every_optimizer_runs_on_every_surface_with_defaults():
    for s in NAMES:
        for o in OPTIMIZER_NAMES:
            tr = run_trajectory(o, None, s, steps=20)
            assert tr.steps_run == 20 and tr.losses[-1] < tr.losses[0]


def test_gradient_noise_is_seeded():
    a = run_trajectory("sgd", None, "saddle", steps=50, grad_noise=0.5, seed=1)
    b = run_trajectory("sgd", None, "saddle", steps=50, grad_noise=0.5, seed=1)
    c = run_trajectory("sgd", None, "saddle", steps=50, grad_noise=0.5, seed=2)
    assert np.array_equal(a.positions, b.positions) and not np.allclose(a.positions, c.positions)


@pytest.mark.parametrize("kwargs, match", [
    ({"surface": "himmelblau"}, "choose one of"),
    ({"start": (1.0, 2.0, 3.0)}, "start"),
    ({"start": (np.nan, 0.0)}, "start"),
    ({"steps": 0}, "steps"),
    ({"grad_noise": -1.0}, "grad_noise"),
    ({"params": {"learning_rate": -0.1}}, "learning_rate"),
])
def test_bad_input_is_named(kwargs, match):
    args = {"optimizer_name": "sgd", "params": None, "surface": "quadratic", **kwargs}
    with pytest.raises(ValueError, match=match):
        run_trajectory(**args)


def test_get_surface_passes_surfaces_through():
    assert get_surface(SURFACES["saddle"]) is SURFACES["saddle"]
