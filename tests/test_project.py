"""The project's own files: dependencies declared alike everywhere, no downloads in the kit."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["test"]


def _environment_pip_requirements() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        match = re.match(r"^\s+- (.+)$", line)
        if not match:
            break
        reqs.append(match.group(1).strip())
    return [r for r in reqs if not r.startswith("-")]


def _environment_pip_options() -> list[str]:
    text = (ROOT / "environment.yml").read_text()
    return re.findall(r"^\s+- (-.+)$", text, re.M)


def _lock_pins() -> dict[str, str]:
    """name -> version of every `name==version` line of the lock (pip-compile's format)."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
        else:
            assert not line or line.startswith((" ", "#")), f"not a plain pin in the lock: {line!r}"
    return pins


def test_environment_yml_matches_pyproject():
    assert sorted(_environment_pip_requirements()) == sorted(_pyproject_requirements())
    # Conda's pip step is held to the same lock as `make setup`.
    assert _environment_pip_options() == ["-c requirements/lock.txt", "-e .[test]"]


def test_lock_pins_every_declared_dependency():
    pins = _lock_pins()
    assert len(pins) > 50, "the lock pins the whole environment, transitive packages included"
    for requirement in map(Requirement, _pyproject_requirements()):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"the lock's {name}=={pins[name]} does not satisfy {requirement}: run make lock")


def test_lock_holds_the_cpu_build_of_torch_only():
    pins = _lock_pins()
    assert pins["torch"] == "2.13.0", (
        f"torch=={pins['torch']} in the lock: exactly 2.13.0, without a local label such as +cpu, "
        "so that it takes the CPU build from either source")
    cuda = [n for n in pins if n.startswith("nvidia-") or n == "triton" or "cuda" in n]
    assert not cuda, f"a CUDA build of torch was locked (make lock with TORCH_INDEX set): {cuda}"
    header = LOCK.read_text()
    assert "by pip-compile with Python 3.11" in header and "#    make lock" in header


def test_torch_is_pinned_everywhere():
    assert "torch==2.13.0" in _pyproject_requirements()
    assert "torch==2.13.0" in _environment_pip_requirements()
    assert _lock_pins()["torch"] == "2.13.0"


def test_every_imported_third_party_package_is_declared():
    declared = {_name(r) for r in _pyproject_requirements()}
    stdlib_like = {"recsys_lab", "__future__"}
    module_to_dist = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipython",
                      "matplotlib_inline": "matplotlib"}
    imported = set()
    for path in (ROOT / "recsys_lab").rglob("*.py"):
        for match in re.finditer(r"^\s*(?:from|import) ([A-Za-z_][\w]*)", path.read_text(), re.M):
            imported.add(match.group(1))
    import sys
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in stdlib_like}
    missing = {module_to_dist.get(m, m).lower() for m in third_party} - declared - {"ipython"}
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def test_kit_never_downloads():
    pattern = re.compile(r"urlretrieve|requests\.get\(|urlopen\(|hf_hub_download|torch\.hub|"
                         r"download=True|wget |curl ")
    offenders = [str(p) for p in list((ROOT / "recsys_lab").rglob("*.py")) + list(
        (ROOT / "notebooks").glob("*.ipynb")) if pattern.search(p.read_text())]
    assert not offenders


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]


def test_benchmark_peers_are_pinned_exactly_and_the_rest_held_to_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bench = [Requirement(r) for r in project["optional-dependencies"]["bench"]]
    assert {canonicalize_name(r.name) for r in bench} >= {"scikit-surprise", "implicit"}
    for requirement in bench:
        assert len(requirement.specifier) == 1 and next(iter(requirement.specifier)).operator == "==", (
            f"{requirement}: a benchmark peer is pinned with == so its record can be reproduced")
    makefile = (ROOT / "Makefile").read_text()
    assert "-c $(LOCK) -e '.[bench]'" in makefile, "make bench installs the peers under the lock's constraints"
