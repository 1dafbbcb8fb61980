import numpy as np
import torch

from recsys_lab.checks import Verdict, check_close, check_equal


def test_check_close_right_wrong_and_missing(capsys):
    assert check_close(0.1 + 0.2, 0.3, "sum")
    assert "✅ sum: correct." in capsys.readouterr().out
    assert not check_close([1.0, 2.5], np.array([1.0, 2.0]), "vector", hint="look again")
    out = capsys.readouterr().out
    assert "❌ vector: got 2.5 at index (1,), expected 2." in out and "Hint: look again" in out
    assert not check_close(..., 1.0, "x")
    assert "no answer yet" in capsys.readouterr().out
    assert not check_close(np.ones(3), np.ones(2), "shape")
    assert "shape (3,), expected (2,)" in capsys.readouterr().out
    assert check_close(torch.tensor([1.0, 2.0]), [1.0, 2.0], "tensor")
    assert not check_close(float("nan"), 1.0, "nan")


def test_check_equal_and_verdict(capsys):
    assert check_equal({1, 2}, {2, 1}, "set")
    assert not check_equal("a", "b", "letter")
    assert "got 'a'" in capsys.readouterr().out
    assert Verdict(True) == True and Verdict(False) == False  # noqa: E712
    assert repr(Verdict(False)) == "Verdict(False)"
