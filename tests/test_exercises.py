"""Every exercise check can fail: on the placeholder, on each plausible wrong answer; and it
passes on the solution (issue: a check that cannot fail is a defect)."""
import importlib
import json
import pathlib

import pytest

from recsys_lab.exercises import REGISTRY

NOTEBOOKS = pathlib.Path(__file__).parent.parent / "notebooks"
for module in sorted(p.stem for p in (pathlib.Path(__file__).parent.parent / "recsys_lab" / "exercises").glob("nb*.py")):
    importlib.import_module(f"recsys_lab.exercises.{module}")


@pytest.fixture(scope="module")
def contexts():
    return {}


@pytest.mark.parametrize("exercise_id", sorted(REGISTRY))
def test_check_fails_on_placeholder_and_wrong_answers_and_passes_on_solution(exercise_id, contexts, capsys):
    ex = REGISTRY[exercise_id]
    ctx = contexts.setdefault(ex.context, ex.context())
    assert not ex.check(..., **ctx)
    assert "not answered yet" in capsys.readouterr().out
    wrong = ex.wrong(**ctx)
    assert wrong, f"exercise {exercise_id} lists no plausible wrong answer"
    solution = ex.solution(**ctx)
    for answer in wrong:
        assert not ex.check(answer, **ctx), (exercise_id, answer)
        out = capsys.readouterr().out
        assert "❌" in out and repr(solution) not in out, (exercise_id, out)  # a hint, never the value
    assert ex.check(solution, **ctx)
    assert "✅" in capsys.readouterr().out


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("notebook", sorted({ex_id.split(".")[0] for ex_id in REGISTRY}))
def test_learner_notebook_shows_no_solution_and_has_every_exercise(notebook):
    path, = NOTEBOOKS.glob(f"{notebook}_*.ipynb")
    cells = _cells(path)
    checks = [c for c in cells if "check" in c["metadata"].get("tags", [])]
    assert sorted(c["metadata"]["exercise"] for c in checks) == sorted(i for i in REGISTRY if i.startswith(notebook + "."))
    assert len(checks) >= 3
    for cell in cells:
        assert "solution" not in cell["metadata"].get("tags", []), f"{path.name}: a solution cell"
        if "exercise" in cell["metadata"].get("tags", []):
            assert "..." in "".join(cell["source"]), f"{path.name}: an exercise cell is already filled in"
    for cell in checks:  # the committed output of every check is "not answered yet"
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
        assert "not answered yet" in text and "✅" not in text, f"{path.name}: {text!r}"
    solutions, = (NOTEBOOKS / "solutions").glob(f"{notebook}_*.ipynb")
    solved = [c for c in _cells(solutions) if "check" in c["metadata"].get("tags", [])]
    assert sorted(c["metadata"]["exercise"] for c in solved) == sorted(c["metadata"]["exercise"] for c in checks)
    for cell in solved:
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
        assert "✅" in text, f"{solutions.name}: exercise {cell['metadata']['exercise']} not solved: {text!r}"


def test_a_numpy_bool_is_judged_by_its_value(capsys):
    import numpy as np

    from recsys_lab.exercises import nb00

    ctx = REGISTRY["00.4"].context()
    truth = REGISTRY["00.4"].solution(**ctx)
    assert nb00.check_shrinkage_helps(np.bool_(truth), **ctx)
    assert not nb00.check_shrinkage_helps(np.bool_(not truth), **ctx)
    assert not nb00.check_shrinkage_helps(1, **ctx)
