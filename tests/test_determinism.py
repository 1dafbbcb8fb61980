"""A fresh clone passes on any machine: results do not depend on the thread count, the process
or the order of the rating rows.

tests/determinism_child.py fits kNN, EASE, the baselines, the content models and the seeded
torch models (the sequence models too) on a fixed slice of MovieLens, in fresh processes: with 1 BLAS / OpenMP / torch
thread, with 2, and with 2 on the same ratings in shuffled row order. Every array of every
fitted model and every top-10 list (items and scores) must be *bitwise* equal across the runs:
no tolerance, so a difference in the last bit is reported with its size and place.
``ItemKNN.prune(50)`` must equal ``ItemKNN(keep=50)`` fitted from scratch, exactly.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHILD = Path(__file__).with_name("determinism_child.py")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# (label, threads, shuffled rows, PYTHONHASHSEED): each run is also a different process
RUNS = (("1 thread", 1, False, "1"), ("2 threads", 2, False, "2"), ("2 threads, shuffled rows", 2, True, "3"))


def _run_child(out: Path, threads: int, shuffle: bool, hash_seed: str) -> dict:
    env = {**os.environ, **{var: str(threads) for var in THREAD_VARS}, "PYTHONHASHSEED": hash_seed}
    args = [sys.executable, str(CHILD), str(out)] + (["--shuffle"] if shuffle else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{CHILD.name} failed:\n{done.stderr[-4000:]}"
    with open(out, "rb") as f:
        return pickle.load(f)


def _describe(a: np.ndarray, b: np.ndarray) -> str | None:
    """None when ``a`` and ``b`` are bitwise equal, else what differs and by how much."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"dtype/shape {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    if a.tobytes() == b.tobytes():
        return None
    if a.dtype.kind not in "fc":
        diff = np.flatnonzero(a.ravel() != b.ravel())
        return f"{len(diff)}/{a.size} entries differ, first at flat index {diff[0]}"
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    diff = np.flatnonzero(~((x == y) | (np.isnan(x) & np.isnan(y))))
    gap = np.abs(x[diff] - y[diff])
    scale = np.maximum(np.abs(x[diff]), np.abs(y[diff]))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.nanmax(gap / scale) if len(diff) else 0.0
    return (f"{len(diff)}/{a.size} entries differ, max |diff| {np.nanmax(gap):.3g} "
            f"(max relative {rel:.3g}), first at flat index {diff[0]}" if len(diff) else "only -0.0 vs 0.0")


def _differences(reference: dict, other: dict) -> list[str]:
    out = []
    for name in sorted(k for k in reference if not k.startswith("_")):
        if name not in other:
            out.append(f"{name}: missing")
            continue
        for part in ("state", "top"):
            ref, oth = reference[name][part], other[name][part]
            for key in sorted(set(ref) | set(oth)):
                if key not in ref or key not in oth:
                    out.append(f"{name} {part} {key}: present in one run only")
                    continue
                what = _describe(np.asarray(ref[key]), np.asarray(oth[key]))
                if what is not None:
                    out.append(f"{name} {part} {key}: {what}")
    return out


@pytest.fixture(scope="module")
def fingerprints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("determinism")
    return {label: _run_child(folder / f"run{n}.pkl", threads, shuffle, seed)
            for n, (label, threads, shuffle, seed) in enumerate(RUNS)}


def test_children_ran_with_the_requested_threads(fingerprints):
    # OpenBLAS caps its pool at the number of CPUs: on a 1-CPU machine "2 threads" means 1 there
    cpus = min(os.cpu_count() or 1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1 << 30)
    for label, threads, shuffle, _ in RUNS:
        meta = fingerprints[label]["_meta"]
        assert meta["shuffle"] == shuffle
        assert meta["threads"]["torch"] == threads, (label, meta["threads"])
        assert set(meta["threads"].values()) <= {threads, min(threads, cpus)}, (label, meta["threads"])


@pytest.mark.parametrize("label", [label for label, *_ in RUNS[1:]])
def test_same_fitted_state_and_top_lists(fingerprints, label):
    reference = fingerprints[RUNS[0][0]]
    diffs = _differences(reference, fingerprints[label])
    assert not diffs, f"{RUNS[0][0]} vs {label}:\n  " + "\n  ".join(diffs)


@pytest.mark.parametrize("label", [label for label, *_ in RUNS])
def test_prune_equals_a_fresh_fit(fingerprints, label):
    run = fingerprints[label]
    diffs = _differences({"ItemKNN keep=50": run["ItemKNN_keep50"]},
                         {"ItemKNN keep=50": run["ItemKNN_prune50"]})
    assert not diffs, f"{label}: ItemKNN(keep=50) vs ItemKNN().prune(50):\n  " + "\n  ".join(diffs)
