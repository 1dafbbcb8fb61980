"""Timing, peak memory and markdown tables for the benchmark modules."""
from __future__ import annotations

import multiprocessing as mp
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Section:
    """One block of docs/benchmarks.md: a title, a note and a table (list of dict rows)."""

    title: str
    rows: list[dict] = field(default_factory=list)
    note: str = ""

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        if self.note:
            out += [self.note, ""]
        if self.rows:
            cols = list(dict.fromkeys(k for row in self.rows for k in row))
            out.append("| " + " | ".join(cols) + " |")
            out.append("|" + "---|" * len(cols))
            for row in self.rows:
                out.append("| " + " | ".join(_fmt(row.get(c, "")) for c in cols) + " |")
            out.append("")
        return "\n".join(out)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def rss_mb(field_name: str = "VmRSS") -> float:
    """This process's resident memory in MB (``VmRSS``; ``VmHWM`` is the peak since the last reset)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_peak() -> float:
    """Reset this process's peak-memory counter (``VmHWM``) to now; returns the current MB."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return rss_mb("VmRSS")


@contextmanager
def torch_threads(n: int | None):
    """Torch limited to ``n`` intra-op threads inside the block (``None``: the default), restored after.

    On 2 shared cores, small torch models train much faster on one thread."""
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _child(conn, fn, args, kwargs):
    try:
        base = start_peak()  # imports and unpickling before the call do not count
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - start
        conn.send(("ok", result, seconds, rss_mb("VmHWM") - base))
    except BaseException as err:  # report, don't hang the parent
        conn.send(("error", f"{type(err).__name__}: {err}", 0.0, 0.0))
    finally:
        conn.close()


def measure(fn, *args, timeout: float | None = None, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a fresh process; return ``(result, seconds, peak_mb)``.

    ``peak_mb`` is the process's peak resident memory above what it held before the call
    (imports excluded). ``fn`` must be importable at module level. Errors are raised here.
    With ``timeout`` (seconds) the process is stopped after that long and ``None`` is returned.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs))
    proc.start()
    child.close()
    if not parent.poll(timeout):
        proc.terminate()
        proc.join()
        return None
    status, result, seconds, peak = parent.recv()
    proc.join()
    if status != "ok":
        raise RuntimeError(result)
    return result, seconds, peak


def timed_result(fn, *args, repeat: int = 5, **kwargs):
    """(median wall time in seconds of ``repeat`` calls in this process, the last call's result)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


def timed(fn, *args, repeat: int = 5, **kwargs) -> float:
    """Median wall time in seconds of ``repeat`` calls in this process."""
    return timed_result(fn, *args, repeat=repeat, **kwargs)[0]


def machine_note() -> str:
    import os

    from recsys_lab.reproducibility import applies, unpinned

    kernels = "" if not applies() else " CPU kernels: AVX2 (pinned)" if not unpinned() else \
        f" CPU kernels NOT pinned ({'; '.join(unpinned())})"
    return (f"Machine: {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
            f"{platform.machine()}; generated {time.strftime('%Y-%m-%d')}.{kernels}")


def search_record(results: dict) -> dict:
    """name -> the JSON record of one ``recsys_lab.tuning.search`` result scored by validation NDCG@10:
    the chosen setting, its best epoch, its score and every trial."""
    return {name: {"chosen": r.best_params, "epochs": r.best.best_epoch, "validation_ndcg": r.best.score,
                   "trials": [{"params": t.params, "validation_ndcg": t.score, "best_epoch": t.best_epoch,
                               "seconds": round(t.seconds, 2)} for t in r.trials]}
            for name, r in results.items()}


def search_rows(models: dict, first: str = "first (untuned) setting") -> list[dict]:
    """One table row per model of a :func:`search_record`: settings tried, the choice, best / worst /
    first validation NDCG@10 (the last under the label ``first``)."""
    import json

    rows = []
    for name, m in models.items():
        scores = [t["validation_ndcg"] for t in m["trials"]]
        rows.append({"model": name, "settings tried": len(m["trials"]), "chosen": json.dumps(m["chosen"]),
                     "epochs": m["epochs"] if m["epochs"] is not None else "", "best validation NDCG@10": m["validation_ndcg"],
                     "worst tried": min(scores), first: scores[0]})
    return rows
