"""The instructors' release and grading commands, run on the course itself."""
import csv
import json
import shutil
import subprocess
import sys

from recsys_lab.course import NOTEBOOKS, release


def test_release_drops_solution_links_and_can_clear_outputs(tmp_path):
    written = release(tmp_path / "out", clear_outputs=True)
    assert {p.name for p in written} == {p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for path in written:
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(nb)
        assert "solutions/" not in text
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    original = json.loads((NOTEBOOKS / "00_welcome.ipynb").read_text(encoding="utf-8"))
    assert "solutions/00_welcome.ipynb" in json.dumps(original)  # the course itself keeps the link


def test_grade_the_solutions_and_an_unanswered_notebook(tmp_path):
    """Solutions pass every check; the learner notebook as shipped passes none."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "solutions" / "00_welcome.ipynb", folder / "alice.ipynb")
    shutil.copy(NOTEBOOKS / "00_welcome.ipynb", folder / "bob.ipynb")
    out = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "recsys_lab.course", "grade", str(folder), "--csv", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    by_student = {name: {r["exercise"]: r["passed"] for r in rows if r["notebook"] == name}
                  for name in ("alice.ipynb", "bob.ipynb")}
    assert set(by_student["alice.ipynb"]) == {"00.1", "00.2", "00.3", "00.4", "00.5"}
    assert all(v == "True" for v in by_student["alice.ipynb"].values())
    assert all(v == "False" for v in by_student["bob.ipynb"].values())
