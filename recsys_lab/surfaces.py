"""Two-dimensional loss surfaces for watching optimizers move (notebook 04 · Optimizers and schedules).

Three classic shapes, each with its gradient written by hand (tests/test_surfaces.py checks
them against torch autograd):

- ``quadratic``  f = (x² + κ y²) / 2, an ill-conditioned bowl: the curvature along y is κ
  times the curvature along x, so one learning rate is too small for x and too large for y.
- ``rosenbrock`` f = (a − x)² + b (y − x²)², a curved, flat-bottomed valley with the minimum
  at (a, a²).
- ``saddle``     f = x² + (y² − 1)² / 4, a saddle point at the origin (f = 1/4, curving up
  along x and down along y) between two minima at (0, ±1).

All three have minimum value 0, so ``f`` is directly "how far above the minimum".
The formulas use only arithmetic, so they accept floats, NumPy arrays (e.g. a grid for a
contour plot) and torch tensors alike.

:func:`run_trajectory` runs one of the kit's optimizers (:mod:`recsys_lab.optimizers`) on a
surface and stops cleanly, with a message, if the run diverges.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .optimizers import make_optimizer

# ----- the functions and their gradients (x, y: floats, arrays or tensors of one shape) ----


def quadratic(x, y, condition: float = 20.0):
    """Ill-conditioned bowl ``(x² + κ y²) / 2`` with ``κ = condition``; minimum 0 at (0, 0)."""
    return 0.5 * (x * x + condition * y * y)


def quadratic_grad(x, y, condition: float = 20.0):
    """``(∂f/∂x, ∂f/∂y) = (x, κ y)``."""
    return x, condition * y


def rosenbrock(x, y, a: float = 1.0, b: float = 100.0):
    """Rosenbrock's banana valley ``(a − x)² + b (y − x²)²``; minimum 0 at (a, a²)."""
    return (a - x) ** 2 + b * (y - x * x) ** 2


def rosenbrock_grad(x, y, a: float = 1.0, b: float = 100.0):
    """``(−2 (a − x) − 4 b x (y − x²),  2 b (y − x²))``."""
    r = y - x * x
    return -2 * (a - x) - 4 * b * x * r, 2 * b * r


def saddle(x, y):
    """``x² + (y² − 1)² / 4``: saddle point at (0, 0), minima 0 at (0, ±1)."""
    return x * x + 0.25 * (y * y - 1) ** 2


def saddle_grad(x, y):
    """``(2 x,  y (y² − 1))``."""
    return 2 * x, y * (y * y - 1)


@dataclass(frozen=True)
class Surface:
    """A named 2-D test function with its gradient, minima and a sensible plotting window."""

    name: str
    title: str
    f: object                      # f(x, y) -> value
    grad: object                   # grad(x, y) -> (df/dx, df/dy)
    minima: tuple                  # ((x*, y*), ...)
    xlim: tuple
    ylim: tuple
    start: tuple                   # a default starting point that shows the surface's difficulty
    steps: int                     # a default number of steps that shows it too
    learning_rates: dict = field(default_factory=dict)   # optimizer name -> a learning rate that works here

    def value(self, xy):
        """``f`` at points ``xy`` of shape ``(..., 2)``; returns shape ``(...)``."""
        xy = np.asarray(xy, dtype=float)
        return self.f(xy[..., 0], xy[..., 1])

    def gradient(self, xy):
        """Gradient at points ``xy`` of shape ``(..., 2)``; returns shape ``(..., 2)``."""
        xy = np.asarray(xy, dtype=float)
        gx, gy = self.grad(xy[..., 0], xy[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def grid(self, n: int = 120):
        """``(X, Y, Z)`` on an ``n × n`` grid over ``xlim × ylim`` for contour plots; each shape ``(n, n)``."""
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self.f(X, Y)


#: The surfaces notebook 04 uses, by name.
SURFACES = {
    "quadratic": Surface(
        "quadratic", "Ill-conditioned quadratic (κ = 20)", quadratic, quadratic_grad, ((0.0, 0.0),),
        (-2.2, 2.2), (-1.2, 1.2), (-2.0, 1.0), 100,
        {"sgd": 0.09, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.5, "rmsprop": 0.05,
         "adam": 0.1, "adamw": 0.1}),
    "rosenbrock": Surface(
        "rosenbrock", "Rosenbrock valley", rosenbrock, rosenbrock_grad, ((1.0, 1.0),),
        (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0), 500,
        {"sgd": 1e-3, "momentum": 5e-4, "nesterov": 5e-4, "adagrad": 0.5, "rmsprop": 0.01,
         "adam": 0.1, "adamw": 0.1}),
    "saddle": Surface(
        "saddle", "Saddle point between two minima", saddle, saddle_grad, ((0.0, 1.0), (0.0, -1.0)),
        (-2.0, 2.0), (-1.6, 1.6), (-1.8, 1e-3), 200,
        {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.3, "rmsprop": 0.02,
         "adam": 0.05, "adamw": 0.05}),
}


def get_surface(name) -> Surface:
    """The :class:`Surface` called ``name`` (a :class:`Surface` passes through)."""
    if isinstance(name, Surface):
        return name
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; choose one of {', '.join(SURFACES)}.")
    return SURFACES[name]


# ----- running an optimizer on a surface -------------------------------------------------------

@dataclass
class Trajectory:
    """Where one optimizer went: ``positions`` ``(n + 1, 2)`` and ``losses`` ``(n + 1,)``, start included."""

    optimizer: str
    hyper: dict
    positions: np.ndarray
    losses: np.ndarray
    diverged: bool = False
    message: str = ""

    @property
    def steps_run(self) -> int:
        return len(self.losses) - 1

    def first_step_below(self, level: float) -> int | None:
        """The first step after which the loss is below ``level`` (``None`` if it never is)."""
        hits = np.flatnonzero(self.losses < level)
        return int(hits[0]) if len(hits) else None


def run_trajectory(optimizer_name: str, params: dict | None, surface, start=None, steps: int | None = None,
                   grad_noise: float = 0.0, seed: int = 0, escape_radius: float = 1e3) -> Trajectory:
    """Run ``steps`` steps of the optimizer ``optimizer_name`` with hyper-parameters ``params`` on ``surface``.

    ``start`` is an ``(x, y)`` pair and ``steps`` a count (defaults: the surface's);
    a missing ``learning_rate`` in ``params`` is the surface's suggestion. ``grad_noise > 0`` adds Gaussian
    noise of that standard deviation to each gradient coordinate (seeded by ``seed``), which
    imitates the noisy gradient of a mini-batch. The run stops early and sets ``diverged``
    with a message if the loss stops being finite or the point leaves the disc of radius
    ``escape_radius``; the positions kept are the finite ones.
    """
    surface = get_surface(surface)
    params = dict(params or {})
    params.setdefault("learning_rate", surface.learning_rates.get(optimizer_name, 1e-3))
    start = surface.start if start is None else start
    steps = surface.steps if steps is None else steps
    start = np.asarray(start, dtype=float)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be a finite (x, y) pair, got {start!r}.")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}.")
    if not (np.isfinite(grad_noise) and grad_noise >= 0):
        raise ValueError(f"grad_noise is a standard deviation and must be >= 0, got {grad_noise!r}.")
    point = torch.tensor(start, dtype=torch.float64)
    opt = make_optimizer(optimizer_name, [point], **params)
    noise = np.random.default_rng(seed).normal(scale=grad_noise, size=(int(steps), 2)) if grad_noise else None
    positions, losses = [start.copy()], [float(surface.f(*start))]
    diverged, message = False, ""
    for t in range(int(steps)):
        gx, gy = surface.grad(point[0], point[1])
        grad = torch.stack([gx, gy])
        if noise is not None:
            grad = grad + torch.from_numpy(noise[t])
        point.grad = grad
        opt.step()
        xy = point.numpy().copy()
        loss = float(surface.f(*xy)) if np.all(np.isfinite(xy)) else float("nan")
        if not np.isfinite(loss) or np.hypot(*xy) > escape_radius:
            diverged = True
            message = (f"{optimizer_name} diverged at step {t + 1} (the point left the region |x| < "
                       f"{escape_radius:g} or the loss was not finite); try a smaller learning_rate "
                       f"than {params['learning_rate']:g}.")
            break
        positions.append(xy)
        losses.append(loss)
    return Trajectory(optimizer_name, params, np.array(positions), np.array(losses), diverged, message)
