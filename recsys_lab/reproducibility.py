"""Same numbers on every machine: the CPU kernels the numerical libraries may use, pinned.

torch (ATen's vectorised kernels), MKL (torch's matrix products), oneDNN, OpenBLAS (numpy's and
scipy's) and numpy's own loops each choose their code path at run time from the CPU they find:
AVX2 on one machine, AVX-512 on another. The paths add numbers in different orders, so the last
bits differ, and a model trained for a few epochs ends somewhere else (on notebook 15's SASRec,
136 of 247 test users' ranks changed between an AVX-512 and an AVX2 machine). Results must depend
on code and data only, so every command of the course (``make lab``, ``make test``, ``make bench``)
runs with :data:`PINNED`: the AVX2 paths, which every x86-64 CPU since 2013-2015 has. On such a
machine those are the defaults; on an AVX-512 one they are a choice. Thread counts are pinned
separately (torch models train on one thread; the tests run at 1 and 2 BLAS threads).

The variables must be set before the libraries load (OpenBLAS and numpy read theirs at import),
so the Makefile exports them; :func:`unpinned` says what, in this process, is not as pinned.
Other processors (ARM) have other kernels altogether: their last digits may differ.
"""
from __future__ import annotations

import os
import platform

PINNED = {
    "ATEN_CPU_CAPABILITY": "avx2",          # torch's vectorised kernels
    "MKL_CBWR": "AVX2,STRICT",              # MKL's conditional numerical reproducibility, AVX2 branch
    "ONEDNN_MAX_CPU_ISA": "AVX2",           # oneDNN's just-in-time kernels
    "OPENBLAS_CORETYPE": "Haswell",         # OpenBLAS's AVX2 kernels (numpy, scipy)
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",   # numpy's AVX-512 loops off
}


def applies() -> bool:
    """True on x86-64, where :data:`PINNED` names real kernels."""
    return platform.machine().lower() in ("x86_64", "amd64")


def unpinned() -> list[str]:
    """What in this process is not as :data:`PINNED` says (empty when all is pinned, or not x86-64).

    Checks the environment and what the loaded libraries report: torch's CPU capability, the
    architecture of every OpenBLAS (via threadpoolctl) and numpy's AVX-512 features.
    """
    if not applies():
        return []
    problems = [f"{k}={os.environ.get(k)!r}, expected {v!r}" for k, v in PINNED.items() if os.environ.get(k) != v]
    import torch

    if torch.backends.cpu.get_cpu_capability() != "AVX2":
        problems.append(f"torch runs its {torch.backends.cpu.get_cpu_capability()} kernels, expected AVX2")
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("internal_api") == "openblas" and lib.get("architecture") != "Haswell":
            problems.append(f"OpenBLAS {lib['filepath']} runs its {lib.get('architecture')} kernels, expected Haswell")
    from numpy._core._multiarray_umath import __cpu_features__

    on = [f for f in ("X86_V4", "AVX512_ICL", "AVX512_SPR") if __cpu_features__.get(f)]
    if on:
        problems.append(f"numpy uses its {', '.join(on)} loops, expected them off")
    return problems
