"""The wheel the bundle deploys, built by the artifact's own build command (as the real CLI resolves it: `bundle
validate -o json`), then installed (dry run) on the Python of the Databricks runtimes and serverless environment 4.
That every relative path of the bundle resolves and the wheel is uploaded and named by the jobs is the CLI's own
check, in test_bundle_deploy.py."""

from __future__ import annotations

import fnmatch
import json
import shlex
import socket
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


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def wheel(artifact, tmp_path_factory) -> Path:
    """The artifact's build command, run on the repository into a scratch folder (so dist/ stays untouched)."""
    command = shlex.split(artifact["build"])
    out = tmp_path_factory.mktemp("wheel")
    command[command.index("--wheel-dir") + 1] = str(out)
    command[0] = sys.executable if command[0] == "python" else command[0]
    subprocess.run(command, cwd=artifact["path"], check=True, capture_output=True, timeout=600)
    (path,) = out.glob("*.whl")
    assert fnmatch.fnmatchcase(path.name, Path(artifact["files"][0]["source"]).name)
    return path


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


def _dry_run(wheel: Path, python_version: str, report: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--python-version", python_version, "--only-binary=:all:", "--report", str(report), str(wheel)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("python_version", ["3.12", "3.11"])  # Runtime 16 / 17 LTS and serverless; local
def test_wheel_installs_on_the_runtime_python(wheel, python_version, tmp_path):
    if not _index_reachable():
        pytest.skip("the package index is not reachable: the dry run resolves pyyaml and xlrd from it")
    result = _dry_run(wheel, python_version, tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    installed = {
        item["metadata"]["name"].lower() for item in json.loads((tmp_path / "report.json").read_text())["install"]
    }
    assert installed == {"energy-reliability-platform", "pyyaml", "xlrd"}


def test_wheel_refuses_a_python_it_was_not_checked_on(wheel, tmp_path):
    result = _dry_run(wheel, "3.10", tmp_path / "report.json")
    assert result.returncode != 0 and "requires a different Python" in result.stderr
