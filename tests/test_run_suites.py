"""make test's suite runner (tests/run_suites.py): concurrent, every suite reported, any failure fails."""
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_suites import Suite, log_name, main, run  # noqa: E402


def wait_for(flag: Path, seconds: int = 20) -> str:
    """A shell line that exits 0 once `flag` exists, 1 after `seconds`."""
    return f"for i in $(seq {seconds * 10}); do test -e {flag} && exit 0; sleep 0.1; done; exit 1"


def test_suites_run_at_the_same_time(tmp_path):
    # each suite waits for the other's flag: they pass only if both run at once
    a, b = tmp_path / "a", tmp_path / "b"
    suites = [Suite("first", f"touch {a}; {wait_for(b)}", tmp_path / "first.log"),
              Suite("second", f"touch {b}; {wait_for(a)}", tmp_path / "second.log")]
    out = io.StringIO()
    assert run(suites, out=out) == 0
    assert "2 of 2 suites passed" in out.getvalue()


def test_a_failed_suite_fails_the_run_and_shows_its_log_while_the_others_finish(tmp_path):
    done = tmp_path / "done"
    suites = [Suite("broken", "echo the reason it broke; exit 3", tmp_path / "broken.log"),
              Suite("slow but fine", f"sleep 1; touch {done}; echo 1 passed", tmp_path / "fine.log")]
    out = io.StringIO()
    assert run(suites, out=out) == 1
    text = out.getvalue()
    assert "broken: FAILED (exit status 3)" in text and "the reason it broke" in text
    assert "slow but fine: passed" in text and done.exists()
    assert "1 of 2 suites passed" in text and "failed: broken" in text


def test_the_command_line_names_logs_after_suites(tmp_path, capsys):
    assert main(["--logs", str(tmp_path), "--suite", "notebooks (2 threads)", "echo hello"]) == 0
    assert (tmp_path / "notebooks-2-threads.log").read_text() == "hello\n"
    assert main(["--logs", str(tmp_path), "--suite", "bad", "false"]) == 1


def test_bad_suites_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no letters or digits"):
        log_name("( )")
    with pytest.raises(ValueError, match="distinct names"):
        run([Suite("x", "true", tmp_path / "1.log"), Suite("x", "true", tmp_path / "2.log")])
    with pytest.raises(ValueError, match="at least one suite"):
        run([])
