"""Run test suites side by side, each in its own shell and log; fail if any fails.

``make test`` uses it to run its three independent pytest runs at once (the notebooks with 2
BLAS threads, the notebooks with 1 thread, the unit tests followed by the browser tests): each
is mostly one busy Python process, so on a 2-core machine they finish in about half the time of
running them one after another, with the same checks. Their results cannot depend on it: every
number a suite checks is fixed by its own thread settings, not by the machine's load (the
cell timeouts are generous for that reason).

    python tests/run_suites.py --logs DIR --suite NAME COMMAND [--suite NAME COMMAND ...]

Each COMMAND runs in ``bash -c`` with its output in ``DIR/<name>.log``. While they run, one line
a minute says which are still going; when one ends its summary (the log's last lines) is shown,
and a failed suite's log is shown in full (up to its last 400 lines). Exit status: 0 if every
suite passed, 1 otherwise. Ctrl-C or a kill stops every suite.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SUMMARY_LINES = 3     # lines of a passed suite's log shown (pytest's summary line is the last)
FAILED_LINES = 400    # lines of a failed suite's log shown
HEARTBEAT_S = 60.0


@dataclass
class Suite:
    name: str
    command: str
    log: Path
    process: subprocess.Popen | None = None
    started: float = 0.0
    seconds: float | None = None
    returncode: int | None = None


def log_name(name: str) -> str:
    """A file name for a suite name: 'notebooks (2 threads)' -> 'notebooks-2-threads.log'."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    if not slug:
        raise ValueError(f"suite name {name!r} has no letters or digits to name its log after")
    return slug + ".log"


def tail(path: Path, n: int) -> str:
    lines = path.read_text(errors="replace").splitlines()
    cut = "" if len(lines) <= n else f"[... {len(lines) - n} earlier lines in {path} ...]\n"
    return cut + "\n".join(lines[-n:])


def _stop(suites: list[Suite]) -> None:
    for s in suites:
        if s.process is not None and s.process.poll() is None:
            try:
                os.killpg(s.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def run(suites: list[Suite], heartbeat_s: float = HEARTBEAT_S, out=sys.stdout) -> int:
    """Start every suite at once, wait for all, report each; 0 if all passed, else 1."""
    names = [s.name for s in suites]
    if not suites or len(set(names)) != len(names) or len({s.log for s in suites}) != len(suites):
        raise ValueError(f"need at least one suite, with distinct names and logs; got {names}")
    start = time.monotonic()
    for s in suites:
        s.log.parent.mkdir(parents=True, exist_ok=True)
        with open(s.log, "w") as log:
            s.process = subprocess.Popen(["bash", "-c", s.command], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        s.started = time.monotonic()
        print(f"started  {s.name}: {s.command}\n         log: {s.log}", file=out, flush=True)

    def on_signal(signum, _frame):
        _stop(suites)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        next_beat = start + heartbeat_s
        while any(s.returncode is None for s in suites):
            for s in suites:
                if s.returncode is None and s.process.poll() is not None:
                    s.returncode, s.seconds = s.process.returncode, time.monotonic() - s.started
                    verdict = "passed" if s.returncode == 0 else f"FAILED (exit status {s.returncode})"
                    shown = tail(s.log, SUMMARY_LINES if s.returncode == 0 else FAILED_LINES)
                    print(f"\n=== {s.name}: {verdict} in {s.seconds:.0f} s\n{shown}\n", file=out, flush=True)
            if time.monotonic() >= next_beat:
                going = [s.name for s in suites if s.returncode is None]
                print(f"... {time.monotonic() - start:.0f} s: still running: {', '.join(going)}", file=out, flush=True)
                next_beat += heartbeat_s
            time.sleep(0.2)
    finally:
        _stop(suites)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [s.name for s in suites if s.returncode != 0]
    print(f"{len(suites) - len(failed)} of {len(suites)} suites passed in {time.monotonic() - start:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=out, flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, required=True, help="folder for one log per suite")
    parser.add_argument("--suite", nargs=2, action="append", metavar=("NAME", "COMMAND"), required=True)
    args = parser.parse_args(argv)
    return run([Suite(name, command, args.logs / log_name(name)) for name, command in args.suite])


if __name__ == "__main__":
    sys.exit(main())
