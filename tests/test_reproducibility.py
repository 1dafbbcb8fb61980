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
