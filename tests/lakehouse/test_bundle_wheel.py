"""The wheel the bundle deploys, built by the artifact's own build command (as the real CLI resolves it: `bundle
validate -o json`), then installed (dry run) on the Python of the Databricks runtimes and serverless environment 4.
That every relative path of the bundle resolves and the wheel is uploaded and named by the jobs is the CLI's own
check, in test_bundle_deploy.py."""

from __future__ import annotations

import fnmatch
import json
import shlex
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from tests.lakehouse.databricks_cli import REPOSITORY, cli_fixture


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> dict:
    return cli_fixture(tmp_path_factory).resolved("dev")["artifacts"]["energy_wheel"]


def test_artifact_is_built_from_the_repository_pyproject(artifact):
    assert Path(artifact["path"]) == REPOSITORY and (REPOSITORY / "pyproject.toml").is_file()
    assert artifact["files"] == [{"source": str(REPOSITORY / "dist" / "*.whl")}]
    command = shlex.split(artifact["build"])
    assert command[command.index("--wheel-dir") + 1] == "dist"


# --- the wheel itself -------------------------------------------------------------------------------------------
# The build runs offline (the venv's setuptools, no build isolation) so the wheel's own checks run without the network;
# the artifact's exact command (pip's build isolation downloads setuptools) and resolving the wheel's dependencies need
# the package index, and are marked `network`.


def _build(artifact: dict, isolated: bool, out: Path) -> Path:
    """The artifact's build command, run on the repository into `out` (so dist/ stays untouched)."""
    command = shlex.split(artifact["build"])
    command[command.index("--wheel-dir") + 1] = str(out)
    command[0] = sys.executable if command[0] == "python" else command[0]
    if not isolated:
        command.insert(command.index("--no-deps"), "--no-build-isolation")
    subprocess.run(command, cwd=artifact["path"], check=True, capture_output=True, timeout=600)
    (path,) = out.glob("*.whl")
    assert fnmatch.fnmatchcase(path.name, Path(artifact["files"][0]["source"]).name)
    return path


@pytest.fixture(scope="module")
def wheel(artifact, tmp_path_factory) -> Path:
    return _build(artifact, isolated=False, out=tmp_path_factory.mktemp("wheel"))


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
    assert "energy-upgrade = " in entry_points  # the job's first task
    requirements = [r for r in _metadata(wheel).get_all("Requires-Dist") if "extra ==" not in r]
    assert sorted(requirements) == ["google-re2>=1.1", "pyyaml>=6", "xlrd==2.0.2"]
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
    """Resolves pyyaml, xlrd and google-re2 from the package index for the runtime's Python."""
    result = _dry_run(wheel, python_version, tmp_path / "report.json", offline=False)
    assert result.returncode == 0, result.stderr
    assert _installed(tmp_path / "report.json") == {"energy-reliability-platform", "google-re2", "pyyaml", "xlrd"}


@pytest.mark.network
def test_the_artifacts_own_build_command_builds_the_same_wheel(artifact, wheel, tmp_path):
    """The command as the bundle runs it (build isolation fetches setuptools from the index) gives the same files."""
    isolated = _build(artifact, isolated=True, out=tmp_path)
    with zipfile.ZipFile(isolated) as a, zipfile.ZipFile(wheel) as b:
        assert isolated.name == wheel.name and sorted(a.namelist()) == sorted(b.namelist())
