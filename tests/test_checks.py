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


def test_claim_prints_when_true_and_fails_loudly_when_false(capsys):
    import pytest
    from recsys_lab.checks import ClaimFailed, claim

    claim(0.13 > 0.10, "EASE beats MF", ease=0.13, mf=0.10)
    assert capsys.readouterr().out == "✔ claim: EASE beats MF (ease=0.1300, mf=0.1000)\n"
    claim(np.float64(2.0) > 1, "numpy bools count")
    with pytest.raises(ClaimFailed, match="the prose says 'MF beats EASE'.*mf=0.1000"):
        claim(0.10 > 0.13, "MF beats EASE", mf=0.10, ease=0.13)
    with pytest.raises(TypeError, match="one truth value"):
        claim(np.array([True, False]), "ambiguous")
    with pytest.raises(TypeError, match="cannot be false"):
        claim("yes", "a string is not evidence")


def test_check_answer_hints_without_revealing_the_value(capsys):
    from recsys_lab.checks import check_answer

    assert not check_answer(..., 4.4, "mean")
    assert "not answered yet" in capsys.readouterr().out
    assert check_answer(4.429, 4.429022, "mean", atol=1e-3)
    assert "✅" in capsys.readouterr().out
    for wrong, expect in [(-4.4, "sign"), (44.0, "factor of 10"), (4.6, "too high"), (4.0, "too low"),
                          ("four", "expected a number"), ([1.0, 2.0], "shape")]:
        assert not check_answer(wrong, 4.429, "mean")
        out = capsys.readouterr().out
        assert expect in out and "4.429" not in out, (wrong, out)
    assert not check_answer(3.5, 4.429, "mean", mistakes=[(3.5, "that is the mean of all ratings")])
    assert "mean of all ratings" in capsys.readouterr().out
    assert check_answer(True, True, "better?") and not check_answer(False, True, "better?")


def test_claim_at_seed_asserts_at_the_committed_seed_and_reports_elsewhere(capsys):
    import pytest
    from recsys_lab.checks import ClaimFailed, claim_at_seed

    assert claim_at_seed(0, True, "user 42 gets Toy Story", rank=1, seed_name="SEED")
    assert capsys.readouterr().out == "✔ claim: at SEED = 0, user 42 gets Toy Story (rank=1)\n"
    with pytest.raises(ClaimFailed, match="at seed = 0, user 42 gets Toy Story"):
        claim_at_seed(0, False, "user 42 gets Toy Story")
    assert not claim_at_seed(3, False, "user 42 gets Toy Story", rank=0.25)   # reported, not raised
    assert capsys.readouterr().out == ("seed = 3: does NOT hold here (asserted at seed = 0 only): "
                                       "user 42 gets Toy Story (rank=0.2500)\n")
    assert claim_at_seed(5, np.bool_(True), "it holds", committed=5, seed_name="MODEL_SEED")
    assert "at MODEL_SEED = 5, it holds" in capsys.readouterr().out
    assert claim_at_seed(1, True, "x", committed=5, seed_name="MODEL_SEED")
    assert capsys.readouterr().out.startswith("MODEL_SEED = 1: holds here (asserted at MODEL_SEED = 5 only)")
    for seed in (0, 1):                                                    # a non-bool is refused at any seed
        with pytest.raises(TypeError, match="cannot be false"):
            claim_at_seed(seed, "yes", "a string is not evidence")
        with pytest.raises(TypeError, match="one truth value"):
            claim_at_seed(seed, np.array([True, False]), "ambiguous")


def test_reproduces_row_checks_only_the_recorded_rows(capsys):
    import pandas as pd
    import pytest
    from recsys_lab.checks import ClaimFailed, reproduces_row

    table = pd.DataFrame({"gap": [(-0.01, -0.02, 0.0), (0.02, 0.01, 0.03)], "count": [3, 4]},
                         index=pd.RangeIndex(2, name="SEED"))
    assert reproduces_row(table, 1, ["gap", "count"], [(0.02, 0.01, 0.03), 4], "the gap and the count")
    assert "this run (SEED = 1) reproduces its row of the table: the gap and the count" in capsys.readouterr().out
    assert reproduces_row(table, 0, "count", 3)
    assert "reproduces its row of the table: count (largest_gap=0.0000)" in capsys.readouterr().out
    with pytest.raises(ClaimFailed, match="reproduces its row"):
        reproduces_row(table, 1, ["gap", "count"], [(0.02, 0.01, 0.03), 5], "the gap and the count")
    with pytest.raises(ClaimFailed):
        reproduces_row(table, 0, "gap", (-0.01, -0.02, 0.001), "the gap", atol=1e-4)
    assert reproduces_row(table, 0, "gap", (-0.01, -0.02, 0.001), "the gap", atol=2e-3)
    assert not reproduces_row(table, 7, "count", 99, "the count")          # not a row: said, not checked
    assert "SEED = 7 is not one of the table's rows" in capsys.readouterr().out
    assert not reproduces_row(table, 1, "count", 99, "the count", applies=False)
    assert "parameters are not the committed ones" in capsys.readouterr().out
    with pytest.raises(KeyError, match="no column"):
        reproduces_row(table, 0, "rmse", 1.0, "a typo")
    with pytest.raises(ValueError, match="2 live values for 3"):
        reproduces_row(table, 0, "gap", [1.0, 2.0], "too few")
