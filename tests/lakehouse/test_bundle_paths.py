"""Every relative path in every bundle YAML file, resolved as the Databricks CLI resolves it, and the wheel it points
at, installed (dry run) on the Python of the Databricks runtimes.

The CLI (bundle/config/mutator/normalize_paths.go, translate_paths.go) joins a relative path to the folder of the
YAML file that states it, then globs library paths from there; an artifact's `path` and `files` likewise. A path
written relative to the bundle root or the shell's folder resolves somewhere else and the deploy fails with
"no files match pattern"."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

BUNDLE_ROOT = Path(__file__).resolve().parents[2] / "databricks_jobs"
REPOSITORY = BUNDLE_ROOT.parent

# Where the CLI reads a local path (dotted trail of the YAML value, `*` = any key or list index).
LOCAL_PATH_FIELDS = (
    "include.*",
    "sync.paths.*",
    "artifacts.*.path",
    "artifacts.*.files.*.source",
    "resources.jobs.*.tasks.*.libraries.*.whl",
    "resources.jobs.*.tasks.*.libraries.*.jar",
    "resources.jobs.*.tasks.*.libraries.*.requirements",
    "resources.jobs.*.environments.*.spec.dependencies.*",
    "resources.jobs.*.tasks.*.notebook_task.notebook_path",
    "resources.jobs.*.tasks.*.spark_python_task.python_file",
)
LIBRARY_FIELDS = ("resources.jobs.*.tasks.*.libraries.*.whl", "resources.jobs.*.environments.*.spec.dependencies.*")


def bundle_files() -> dict[Path, dict]:
    """databricks.yml and every file its `include` globs name (globbed from the bundle root, as the CLI does)."""
    root_file = BUNDLE_ROOT / "databricks.yml"
    files = {root_file: yaml.safe_load(root_file.read_text())}
    for pattern in files[root_file].get("include", []):
        for path in sorted(BUNDLE_ROOT.glob(pattern)):
            files[path] = yaml.safe_load(path.read_text())
    return files


def _walk(node: object, trail: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*trail, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*trail, str(index)))
    else:
        yield ".".join(trail), node


def _is_local_relative(value: str) -> bool:
    """Not a workspace / Volume path, URI, PyPI requirement or variable: what the CLI treats as a local file."""
    if value.startswith(("/", "${")) or "://" in value:
        return False
    return value.startswith(".") or value.endswith((".whl", ".jar", ".txt", ".py", ".ipynb")) or "/" in value


def local_paths(files: dict[Path, dict]) -> list[tuple[Path, str, str, Path]]:
    """(file, trail, value as written, where the CLI looks) for every relative local path."""
    found = []
    for path, document in files.items():
        for trail, value in _walk(document):
            field = next((f for f in LOCAL_PATH_FIELDS if fnmatch.fnmatchcase(trail, _pattern(f))), None)
            if field and isinstance(value, str) and _is_local_relative(value):
                base = BUNDLE_ROOT if field == "include.*" else path.parent
                found.append((path, trail, value, Path(os.path.normpath(base / value))))
    return found


def _pattern(field: str) -> str:
    return field.replace("*", "[!.]*")


def artifact_output(files: dict[Path, dict]) -> tuple[Path, Path]:
    """(folder the build runs in, glob of what it produces), from the artifact's `path` and its build's --wheel-dir."""
    root = BUNDLE_ROOT / "databricks.yml"
    (artifact,) = files[root]["artifacts"].values()
    build_dir = Path(os.path.normpath(root.parent / artifact["path"]))
    command = shlex.split(artifact["build"])
    wheel_dir = command[command.index("--wheel-dir") + 1]
    return build_dir, Path(os.path.normpath(build_dir / wheel_dir)) / "*.whl"


def path_problems(files: dict[Path, dict]) -> list[str]:
    _, built = artifact_output(files)
    problems = []
    for path, trail, value, resolved in local_paths(files):
        where = f"{path.relative_to(REPOSITORY)}: {trail} = {value!r} -> {resolved.relative_to(REPOSITORY)}"
        is_library = any(fnmatch.fnmatchcase(trail, _pattern(f)) for f in LIBRARY_FIELDS)
        if is_library or trail.endswith(".source"):
            if resolved != built:
                problems.append(f"{where} is not the artifact's output {built.relative_to(REPOSITORY)}")
        elif not any(Path(p) for p in resolved.parent.glob(resolved.name)):
            problems.append(f"{where} matches nothing")
    return problems


def test_every_relative_path_resolves_where_the_cli_looks():
    files = bundle_files()
    found = {trail for _, trail, _, _ in local_paths(files)}
    assert "artifacts.energy_wheel.path" in found and "artifacts.energy_wheel.files.0.source" in found
    # one library per task: 4 pipeline, 1 maintenance, 4 notebook tasks
    assert sum(1 for t in found if t.endswith(".whl")) == 9
    assert sum(1 for t in found if t.endswith(".notebook_path")) == 4  # each must exist (else "matches nothing")
    assert path_problems(files) == []


def test_artifact_is_built_from_the_repository_pyproject():
    build_dir, built = artifact_output(bundle_files())
    assert (build_dir / "pyproject.toml").is_file() and build_dir == REPOSITORY
    assert built == REPOSITORY / "dist" / "*.whl"


@pytest.mark.parametrize(
    "task_index, stale_value",
    [
        (0, "../dist/*.whl"),  # written relative to the bundle root: the CLI looks in databricks_jobs/dist
        (2, "dist/*.whl"),  # written relative to the repository root: databricks_jobs/resources/dist
    ],
)
def test_a_path_written_relative_to_another_folder_is_caught(task_index, stale_value):
    files = copy.deepcopy(bundle_files())
    job_file = BUNDLE_ROOT / "resources" / "energy_pipeline.job.yml"
    task = files[job_file]["resources"]["jobs"]["energy_pipeline"]["tasks"][task_index]
    task["libraries"] = [{"whl": stale_value}]  # a list of its own: the tasks share one through a YAML anchor
    (problem,) = path_problems(files)
    assert stale_value in problem and "is not the artifact's output dist/*.whl" in problem


# --- the wheel itself -------------------------------------------------------------------------------------------
# The build runs offline (the venv's setuptools, no build isolation) so the wheel's own checks run without the network;
# the artifact's exact command (pip's build isolation downloads setuptools) and resolving the wheel's dependencies need
# the package index, and are marked `network`.


def _build(isolated: bool, out: Path) -> Path:
    """The artifact's build command, run on the repository into `out` (so dist/ stays untouched)."""
    build_dir, built = artifact_output(bundle_files())
    command = shlex.split(bundle_files()[BUNDLE_ROOT / "databricks.yml"]["artifacts"]["energy_wheel"]["build"])
    command[command.index("--wheel-dir") + 1] = str(out)
    command[0] = sys.executable if command[0] == "python" else command[0]
    if not isolated:
        command.insert(command.index("--no-deps"), "--no-build-isolation")
    subprocess.run(command, cwd=build_dir, check=True, capture_output=True, timeout=600)
    (path,) = out.glob("*.whl")
    assert fnmatch.fnmatchcase(path.name, built.name)
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build(isolated=False, out=tmp_path_factory.mktemp("wheel"))


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_is_pure_python_and_carries_the_entry_points(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt"))
    for stage in ("bronze", "silver", "gold", "export"):
        assert f"energy-{stage} = databricks_jobs.jobs.{stage}:main" in entry_points
    requirements = [r for r in _metadata(wheel).get_all("Requires-Dist") if "extra ==" not in r]
    assert sorted(requirements) == ["pyyaml>=6", "xlrd==2.0.2"]
    supported = SpecifierSet(_metadata(wheel)["Requires-Python"])
    assert "3.12.3" in supported and "3.11.9" in supported  # Runtime 16 / 17 LTS and serverless; local


def _dry_run(wheel: Path, python_version: str, report: Path, offline: bool) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--python-version", python_version, "--only-binary=:all:", "--report", str(report), str(wheel)]
    if offline:  # the wheel alone: its tags and Requires-Python against the target Python, no index asked
        command += ["--no-index", "--no-deps"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _installed(report: Path) -> set[str]:
    return {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}


@pytest.mark.parametrize("python_version", ["3.12", "3.11"])  # Runtime 16 / 17 LTS and serverless; local
def test_wheel_accepts_the_runtime_python_offline(wheel, python_version, tmp_path):
    result = _dry_run(wheel, python_version, tmp_path / "report.json", offline=True)
    assert result.returncode == 0, result.stderr
    assert _installed(tmp_path / "report.json") == {"energy-reliability-platform"}


def test_wheel_refuses_a_python_it_was_not_checked_on(wheel, tmp_path):
    result = _dry_run(wheel, "3.10", tmp_path / "report.json", offline=True)
    assert result.returncode != 0 and "requires a different Python" in result.stderr


@pytest.mark.network
@pytest.mark.parametrize("python_version", ["3.12", "3.11"])  # Runtime 16 / 17 LTS and serverless; local
def test_wheel_installs_with_its_dependencies_on_the_runtime_python(wheel, python_version, tmp_path):
    """Resolves pyyaml and xlrd from the package index for the runtime's Python."""
    result = _dry_run(wheel, python_version, tmp_path / "report.json", offline=False)
    assert result.returncode == 0, result.stderr
    assert _installed(tmp_path / "report.json") == {"energy-reliability-platform", "pyyaml", "xlrd"}


@pytest.mark.network
def test_the_artifacts_own_build_command_builds_the_same_wheel(wheel, tmp_path):
    """The command as the bundle runs it (build isolation fetches setuptools from the index) gives the same files."""
    isolated = _build(isolated=True, out=tmp_path)
    with zipfile.ZipFile(isolated) as a, zipfile.ZipFile(wheel) as b:
        assert isolated.name == wheel.name and sorted(a.namelist()) == sorted(b.namelist())
