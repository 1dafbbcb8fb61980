"""The exercises' checks, one module per notebook (``nb00`` for 00_welcome, ...).

A learner notebook holds, per exercise, a markdown task, a code cell tagged ``exercise`` with a
placeholder (``answer = ...``) and a check cell tagged ``check`` whose metadata names the
exercise (``"exercise": "00.2"``). The check calls a function of this package, which computes the
reference itself, from the kit or the data, so no cell the learner reads contains the answer,
and prints "not answered yet", a hint for a wrong answer, or ✅ (:func:`recsys_lab.checks.check_answer`).
The solutions live apart, in ``notebooks/solutions/``.

Every exercise is registered with its check, its solution and its plausible wrong answers, so
``tests/test_exercises.py`` proves each check fails on the placeholder and on every wrong answer
and passes on the solution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

REGISTRY: dict[str, "Exercise"] = {}


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``check(answer, **context)`` returns a Verdict; ``solution(**context)`` is
    the right answer; ``wrong(**context)`` the plausible wrong ones; ``context()`` builds the
    keyword arguments the notebook passes (its data, split, ...)."""

    id: str
    check: Callable
    solution: Callable
    wrong: Callable
    context: Callable = dict


def register(exercise_id: str, solution: Callable, wrong: Callable, context: Callable = dict):
    """Decorator: register the decorated check function as exercise ``exercise_id``."""
    def wrap(check):
        if exercise_id in REGISTRY:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        REGISTRY[exercise_id] = Exercise(exercise_id, check, solution, wrong, context)
        check.exercise_id = exercise_id
        return check
    return wrap
