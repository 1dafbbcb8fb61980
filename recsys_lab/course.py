"""Instructors' tools: a release copy for students and a grader (README, "For instructors").

    python -m recsys_lab.course release OUT [--clear-outputs]
    python -m recsys_lab.course grade SUBMISSIONS [--csv grades.csv]

Layout they rely on: learner notebooks ``notebooks/NN_*.ipynb``; per exercise a code cell tagged
``exercise`` (the placeholder the learner fills in) and a code cell tagged ``check`` whose
metadata holds ``"exercise": "NN.M"``; worked solutions in ``notebooks/solutions/NN_*.ipynb``
with the same check cells. A markdown line that links to ``solutions/`` is a solution link.

- ``release`` copies the learner notebooks into ``OUT`` without solution links (and without
  outputs with ``--clear-outputs``; by default the committed outputs stay, which show no answer);
- ``grade`` runs every notebook of ``SUBMISSIONS`` top to bottom (errors do not stop it) and
  writes one CSV row per notebook and exercise: ``notebook, exercise, passed`` (a check passes
  when its cell printed ✅ and raised nothing).
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import re

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
_SOLUTION_LINK = re.compile(r"\]\((\.\./)?solutions/")


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def release(out_dir, source_dir=NOTEBOOKS, clear_outputs: bool = False) -> list[pathlib.Path]:
    """Write the student copy of every learner notebook of ``source_dir`` into ``out_dir``."""
    import nbformat

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(pathlib.Path(source_dir).glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if "solution" not in _tags(c)]
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = "\n".join(line for line in cell.source.split("\n")
                                        if not _SOLUTION_LINK.search(line))
            elif clear_outputs:
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, out_dir / path.name)
        written.append(out_dir / path.name)
    return written


def _check_results(nb) -> list[tuple[str, bool]]:
    results = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "check" not in _tags(cell):
            continue
        outputs = cell.get("outputs", [])
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        failed = any(o.get("output_type") == "error" for o in outputs)
        results.append((cell.metadata.get("exercise", "?"), bool("✅" in text and not failed)))
    return results


def grade(submissions, csv_path=None, timeout: int = 300) -> list[dict]:
    """Run each notebook of ``submissions`` and record which checks pass; rows as dicts."""
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in sorted(pathlib.Path(submissions).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        rows += [{"notebook": path.name, "exercise": ex, "passed": passed} for ex, passed in _check_results(nb)]
    if csv_path is not None:
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["notebook", "exercise", "passed"])
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m recsys_lab.course", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the students' copy of the learner notebooks")
    rel.add_argument("out")
    rel.add_argument("--clear-outputs", action="store_true")
    gr = sub.add_parser("grade", help="run submitted notebooks and write a CSV of passed checks")
    gr.add_argument("submissions")
    gr.add_argument("--csv", default="grades.csv")
    args = parser.parse_args(argv)
    if args.command == "release":
        written = release(args.out, clear_outputs=args.clear_outputs)
        print(f"{len(written)} learner notebooks written to {args.out}")
    else:
        rows = grade(args.submissions, args.csv)
        print(f"{sum(r['passed'] for r in rows)} of {len(rows)} checks passed; see {args.csv}")


if __name__ == "__main__":
    main()
