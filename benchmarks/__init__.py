"""Benchmarks: `make bench` (= `python -m benchmarks`) regenerates docs/benchmarks.md.

Speed, memory and peer-library comparisons live here, never in timed tests. Each
``bench_*.py`` module exposes ``run(quick: bool) -> list[Section]``; ``__main__``
runs them all and writes one markdown file.
"""
