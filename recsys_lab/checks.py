"""Exercise checks with helpful feedback (every notebook's "Check yourself" and exercises).

A check compares the learner's answer with a reference computed by the kit (never a
number pasted into the notebook), prints one line saying what is right or wrong, and
returns a :class:`Verdict` that is truthy when the answer is right, so a test or a
solution cell can ``assert`` on it (it shows nothing extra in a notebook).
"""
from __future__ import annotations

import numpy as np


class Verdict:
    """The outcome of a check: ``bool(verdict)`` is True when the answer was right.

    It displays nothing in a notebook (the check already printed its feedback line).
    """

    __slots__ = ("passed",)

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other) -> bool:
        return self.passed == bool(other)

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"Verdict({self.passed})"

    def _ipython_display_(self):  # the printed ✅/❌ line is the display
        pass


def _as_array(x):
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return np.asarray(x, dtype=float)


def check_close(answer, expected, what: str = "your answer", atol: float = 1e-6,
                rtol: float = 1e-5, hint: str | None = None) -> Verdict:
    """Check that ``answer`` matches ``expected`` (scalars or arrays) within tolerance.

    Prints ``✅`` or ``❌`` with the first mismatch and an optional hint; returns a :class:`Verdict`.
    """
    if answer is None or answer is Ellipsis:
        print(f"❌ {what}: no answer yet — replace the `...` with your code.")
        return Verdict(False)
    a, e = _as_array(answer), _as_array(expected)
    if a.shape != e.shape:
        print(f"❌ {what}: shape {a.shape}, expected {e.shape}." + (f" Hint: {hint}" if hint else ""))
        return Verdict(False)
    if np.isnan(a).any() and not np.isnan(e).any():
        print(f"❌ {what}: contains NaN." + (f" Hint: {hint}" if hint else ""))
        return Verdict(False)
    if np.allclose(a, e, atol=atol, rtol=rtol, equal_nan=True):
        print(f"✅ {what}: correct.")
        return Verdict(True)
    diff = np.abs(a - e)
    where = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.ndim else ()
    got, want = (a[where], e[where]) if where else (a, e)
    loc = f" at index {tuple(int(i) for i in where)}" if where else ""
    print(f"❌ {what}: got {float(got):.6g}{loc}, expected {float(want):.6g}."
          + (f" Hint: {hint}" if hint else ""))
    return Verdict(False)


def check_equal(answer, expected, what: str = "your answer", hint: str | None = None) -> Verdict:
    """Check exact equality (strings, ints, lists, sets); prints feedback, returns a :class:`Verdict`."""
    if answer is None or answer is Ellipsis:
        print(f"❌ {what}: no answer yet — replace the `...` with your code.")
        return Verdict(False)
    if answer == expected:
        print(f"✅ {what}: correct.")
        return Verdict(True)
    print(f"❌ {what}: got {answer!r}, expected something else." + (f" Hint: {hint}" if hint else ""))
    return Verdict(False)


class ClaimFailed(AssertionError):
    """A sentence of a notebook's prose is no longer true of the numbers it rests on."""


def _shown(evidence: dict) -> str:
    """``k=v, ...`` with floats rounded to 4 places."""
    return ", ".join(f"{k}={v:.4f}" if isinstance(v, (float, np.floating)) else f"{k}={v}"
                     for k, v in evidence.items())


def _truth(condition) -> bool:
    """``condition`` as one bool; a TypeError for arrays of many values and for anything not a bool."""
    if isinstance(condition, np.ndarray) and condition.shape != ():
        raise TypeError(f"claim needs one truth value, got an array of shape {condition.shape}: "
                        f"use .all() or .any() to say which claim you mean")
    if not isinstance(condition, (bool, np.bool_)) and not isinstance(condition, np.ndarray):
        raise TypeError(f"claim needs a bool computed from the numbers, got {type(condition).__name__}; "
                        f"a claim that cannot be false is no check")
    return bool(condition)


def claim(condition, statement: str, **evidence) -> None:
    """Assert a comparative sentence of the prose, right after the numbers it rests on.

    ``condition``: a bool (or numpy bool) computed from those numbers, e.g.
    ``ndcg["EASE"] > max(ndcg[m] for m in neural)``; ``statement``: the sentence, as the prose
    says it; ``evidence``: the numbers, printed beside it (floats rounded to 4 places). Prints
    ``✔ claim: statement`` when it holds, and raises :class:`ClaimFailed` (so the notebook, and
    CI, fail) when it does not. Where the claim is about noise, pass the interval, not the point
    estimate: ``claim(lo > 0, "B beats A", low=lo, high=hi)``.
    """
    _truth(condition)
    shown = _shown(evidence)
    line = statement + (f" ({shown})" if shown else "")
    if not bool(condition):
        raise ClaimFailed(f"the prose says '{statement}', but the numbers say otherwise"
                          + (f": {shown}" if shown else ""))
    print(f"✔ claim: {line}")



def claim_at_seed(seed, condition, statement: str, *, committed=0, seed_name: str = "seed", **evidence) -> bool:
    """A sentence the prose states for the committed seed only: a :func:`claim` there, a report elsewhere.

    Some sentences describe one run (one user's list, one refit's tuned knob), not a conclusion that
    holds at every seed. At ``seed == committed`` this asserts ``condition`` like :func:`claim` (the
    printed statement is prefixed with ``"at {seed_name} = {committed}, "``); at any other seed it only
    prints whether the sentence holds there, with the evidence, so a learner who changes the seed is
    told, not stopped. ``seed_name``: the notebook's name for that seed (``"SEED"``, ``"MODEL_SEED"``).
    Returns ``bool(condition)``.
    """
    if seed == committed:
        claim(condition, f"at {seed_name} = {committed}, {statement}", **evidence)
        return True
    holds = _truth(condition)
    shown = _shown(evidence)
    print(f"{seed_name} = {seed}: {'holds' if holds else 'does NOT hold'} here "
          f"(asserted at {seed_name} = {committed} only): {statement}" + (f" ({shown})" if shown else ""))
    return holds


def reproduces_row(table, row, columns, live, what: str | None = None, *, applies: bool = True,
                   atol: float = 1e-4, row_name: str = "SEED") -> bool:
    """Check that this run reproduces its row of a recorded re-run table, when it is one of the rows.

    A notebook that quotes other seeds' numbers records them in a table (``pandas.DataFrame``, one row
    per seed, cells numbers or tuples of numbers). When ``row`` is in ``table.index`` and ``applies``
    (the notebook's other parameters are the committed ones), the live values ``live`` (a value or a
    list of values, flattened in order) must equal ``table.loc[row, columns]`` (a column name or a
    list of them) within ``atol``, else :class:`ClaimFailed`; otherwise it prints why nothing is
    checked. ``what`` names the values in the printed line (default: the column names). Returns True
    when checked and reproduced, False when not applicable.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    what = what if what is not None else ", ".join(map(str, columns))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"reproduces_row: no column {missing} in the table (it has {list(table.columns)})")
    if row not in table.index or not applies:
        why = f"{row_name} = {row} is not one of the table's rows" if row not in table.index else \
            "the notebook's parameters are not the committed ones"
        print(f"not checked ({why}): {what}")
        return False
    got = np.hstack([np.hstack([v]) for v in (live if isinstance(live, list) else [live])]).astype(float)
    want = np.hstack([np.hstack([v]) for v in table.loc[row, columns].tolist()]).astype(float)
    if got.shape != want.shape:
        raise ValueError(f"reproduces_row: {got.size} live values for {want.size} recorded ones ({what})")
    claim(bool(np.allclose(got, want, atol=atol)),
          f"this run ({row_name} = {row}) reproduces its row of the table: {what}",
          largest_gap=float(np.max(np.abs(got - want))) if got.size else 0.0)
    return True


def _is_placeholder(answer) -> bool:
    return answer is None or answer is Ellipsis


def check_answer(answer, expected, what: str = "your answer", atol: float = 1e-6, rtol: float = 1e-5,
                 mistakes=(), hint: str | None = None) -> Verdict:
    """An exercise check that never shows the expected value, only what kind of wrong it is.

    ``expected`` is computed by the caller from the kit or the data (never typed into the cell
    the learner reads). Feedback, first that applies: the placeholder (``...``) is "not answered
    yet"; a wrong type or shape names what is expected; an answer matching one of ``mistakes``
    (pairs ``(wrong_value, explanation)``, the plausible wrong answers) gets that explanation; a
    wrong sign, a wrong order of magnitude, or "too high / too low" otherwise, plus ``hint``.
    """
    if _is_placeholder(answer):
        print(f"⏳ {what}: not answered yet — replace the `...` with your code.")
        return Verdict(False)
    if isinstance(expected, (bool, np.bool_, str, set, frozenset)):  # compared exactly
        ok = answer == expected
    else:
        try:
            a, e = _as_array(answer), _as_array(expected)
        except (TypeError, ValueError):
            print(f"❌ {what}: expected a number{' or array' if np.ndim(expected) else ''}, "
                  f"got {type(answer).__name__}." + (f" Hint: {hint}" if hint else ""))
            return Verdict(False)
        if a.shape != e.shape:
            print(f"❌ {what}: shape {a.shape}, expected shape {e.shape}." + (f" Hint: {hint}" if hint else ""))
            return Verdict(False)
        ok = bool(np.allclose(a, e, atol=atol, rtol=rtol))
    if ok:
        print(f"✅ {what}: correct.")
        return Verdict(True)
    for wrong, why in mistakes:
        try:
            same = bool(np.allclose(_as_array(answer), _as_array(wrong), atol=atol, rtol=rtol))
        except (TypeError, ValueError):
            same = answer == wrong
        if same:
            print(f"❌ {what}: {why}")
            return Verdict(False)
    exact = isinstance(expected, (bool, np.bool_, str, set, frozenset))
    print(f"❌ {what}: {'not right.' if exact else _direction(answer, expected)}" + (f" Hint: {hint}" if hint else ""))
    return Verdict(False)


def _direction(answer, expected) -> str:
    """What kind of wrong a scalar answer is, without saying the expected value."""
    try:
        a, e = float(answer), float(expected)
    except (TypeError, ValueError):
        return "not the right answer."
    if not np.isfinite(a):
        return f"got {a}, which is not a finite number."
    if e != 0 and a != 0 and np.sign(a) != np.sign(e):
        return "the sign is wrong."
    if e != 0 and a != 0 and max(abs(a / e), abs(e / a)) >= 3:
        return f"off by about a factor of {max(abs(a / e), abs(e / a)):.0f} (check the units or what you divide by)."
    return "too high." if a > e else "too low."
