"""The CPU kernels are pinned (recsys_lab.reproducibility): in the Makefile, and in this process."""
import pathlib
import re
import subprocess
import sys

import pytest

from recsys_lab.reproducibility import PINNED, applies, unpinned

ROOT = pathlib.Path(__file__).parent.parent


def test_the_makefile_exports_exactly_the_pinned_variables():
    text = (ROOT / "Makefile").read_text()
    block = re.search(r"ifeq \(\$\(shell uname -m\),x86_64\)\n(.*?)\nendif", text, re.S).group(1)
    exported = dict(re.findall(r"^export (\w+) := (.*)$", block, re.M))
    assert exported == PINNED


@pytest.mark.skipif(not applies(), reason="the pins name x86-64 kernels")
def test_this_process_runs_the_pinned_kernels():
    assert unpinned() == []


@pytest.mark.skipif(not applies(), reason="the pins name x86-64 kernels")
def test_a_process_without_the_pins_is_told_what_is_missing():
    env = {"PATH": "/usr/bin:/bin"}
    code = "from recsys_lab.reproducibility import unpinned; print(len(unpinned()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) >= len(PINNED)          # every variable missing (and, on AVX-512, the kernels)


@pytest.mark.skipif(not applies(), reason="the pins name x86-64 kernels")
def test_the_torch_pin_changes_kernels():
    """The variable is read: forcing torch's scalar kernels instead changes the last bits of a sum of exps."""
    code = ("import torch; g = torch.Generator().manual_seed(0); x = torch.randn(10000, generator=g); "
            "print(torch.backends.cpu.get_cpu_capability(), repr(torch.tanh(x).sum().item()))")
    runs = {cap: subprocess.run([sys.executable, "-c", code], env={"PATH": "/usr/bin:/bin", "ATEN_CPU_CAPABILITY": cap},
                                capture_output=True, text=True, check=True).stdout.split() for cap in ("avx2", "default")}
    assert runs["avx2"][0] == "AVX2" and runs["default"][0] == "DEFAULT"
    assert runs["avx2"][1] != runs["default"][1]


# torch.linalg.lstsq's default CPU driver (LAPACK gelsy, from MKL) returned different last bits in 7 of 30
# fresh processes on this machine with every pin set, which once moved a printed number of notebook 04
# (session 9). Cholesky, solve, inv and numpy's lstsq gave identical bits in 20-30 processes each.
_UNREPRODUCIBLE_CALLS = {"torch.linalg.lstsq(": "its default driver, gelsy, is not bit-reproducible across processes"}


def _course_sources():
    for path in sorted([*ROOT.glob("recsys_lab/**/*.py"), *ROOT.glob("benchmarks/*.py"),
                        *ROOT.glob("notebooks/**/*.ipynb")]):
        yield path, path.read_text(encoding="utf-8")


def test_no_course_code_calls_a_solver_known_to_vary_between_processes():
    found = [f"{path.relative_to(ROOT)}: {call} ({why})" for path, text in _course_sources()
             for call, why in _UNREPRODUCIBLE_CALLS.items() if call in text]
    assert not found, "\n".join(found)


def test_the_solver_scan_would_see_such_a_call():
    sources = dict((path.name, text) for path, text in _course_sources())
    assert "04_optimizers_schedules.ipynb" in sources and "ease.py" in sources
    assert any(call in 'w = torch.linalg.lstsq(A, y).solution' for call in _UNREPRODUCIBLE_CALLS)
