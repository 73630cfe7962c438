"""The real Databricks CLI, run on the bundle (databricks_jobs/) against the workspace stand-in on 127.0.0.1.

`make venv` installs the CLI into .venv/bin from ../shared/tools/databricks-cli (built from databricks/cli, see its
SOURCE.txt; no package registry serves it). Where it is not installed the tests install it into a scratch folder from
../shared; a clone without ../shared skips them, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lakehouse.workspace_standin import USER_NAME, Workspace, WorkspaceStandIn

REPOSITORY = Path(__file__).resolve().parents[2]
BUNDLE_ROOT = REPOSITORY / "databricks_jobs"
SHARED_CLI = REPOSITORY.parent / "shared" / "tools" / "databricks-cli"
PROD_PRINCIPAL = "6f1c0c3a-1111-2222-3333-444455556666"  # an application id: a service principal's userName
PROD_VARIABLES = {
    "prod_service_principal": PROD_PRINCIPAL,
    "operators_group": "energy-operators",
    "alert_email": "oncall@example.com",
    "export_location": "s3://energy-export/gold-export/",
}
TARGETS = ("dev", "dev_serverless", "prod", "prod_serverless")


def find_cli(scratch: Path) -> Path:
    """The CLI in the virtual environment, else installed from ../shared into `scratch`; skip without either."""
    installed = Path(sys.executable).parent / "databricks"
    if installed.is_file():
        return installed
    if not (SHARED_CLI / "install.sh").is_file():
        pytest.skip(
            f"the Databricks CLI is not in {installed.parent} and {SHARED_CLI} is absent (a clone without ../shared): "
            "`make venv` installs it from there"
        )
    subprocess.run([SHARED_CLI / "install.sh", scratch], check=True, capture_output=True, timeout=120)
    return scratch / "databricks"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    workspace: Workspace

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class DatabricksCli:
    """Runs `databricks bundle ...` in databricks_jobs/ with a fresh HOME, no profile, and the stand-in as host."""

    def __init__(self, binary: Path, home: Path) -> None:
        self.binary = binary
        self.home = home

    def environment(self, host: str) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BUNDLE_"))}
        environment = {
            **kept,
            "HOME": str(self.home),
            "DATABRICKS_HOST": host,
            "DATABRICKS_TOKEN": "stand-in-token",  # any value: the stand-in checks no credentials
            "DATABRICKS_CONFIG_FILE": str(self.home / "no.databrickscfg"),
            # the artifact's `python -m pip wheel` runs with this interpreter
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        if importlib.util.find_spec("setuptools"):
            # the build backend is installed here: no isolated build environment to fetch from the index
            environment["PIP_NO_BUILD_ISOLATION"] = "false"
        return environment

    def run(self, *arguments: str, target: str, user_name: str = USER_NAME, workspace: WorkspaceStandIn | None = None):
        """`databricks bundle <arguments> -t target` (prod targets get the prod variables) against a stand-in."""
        command = [str(self.binary), "bundle", *arguments, "-t", target]
        if target.startswith("prod"):
            command += [f"--var={name}={value}" for name, value in PROD_VARIABLES.items()]
        standin = workspace or WorkspaceStandIn(user_name)
        with standin if workspace is None else _kept_open(standin):
            result = subprocess.run(
                command,
                cwd=BUNDLE_ROOT,
                env=self.environment(standin.url),
                capture_output=True,
                text=True,
                timeout=300,
            )
        run = CliRun(result.returncode, result.stdout, result.stderr, standin.workspace)
        assert not run.workspace.unknown, f"calls the stand-in does not know: {run.workspace.unknown}\n{run.output}"
        return run

    def resolved(self, target: str) -> dict:
        """The configuration as the CLI resolves it for a target (`bundle validate -o json`)."""
        user = PROD_PRINCIPAL if target.startswith("prod") else USER_NAME
        run = self.run("validate", "-o", "json", target=target, user_name=user)
        assert run.returncode == 0, run.output
        return json.loads(run.stdout)


class _kept_open:
    """A stand-in the caller started: used as is, left running."""

    def __init__(self, standin: WorkspaceStandIn) -> None:
        self.standin = standin

    def __enter__(self) -> WorkspaceStandIn:
        return self.standin

    def __exit__(self, *exc: object) -> None:
        pass


def cli_fixture(tmp_path_factory) -> DatabricksCli:
    scratch = tmp_path_factory.mktemp("databricks-cli")
    home = scratch / "home"
    home.mkdir()
    return DatabricksCli(find_cli(scratch), home)


def remove_local_state(target: str) -> None:
    """The CLI's local cache of a target's deployment (databricks_jobs/.databricks/bundle/<target>): a deploy to a
    fresh stand-in starts without one, as a first deploy from a fresh clone does."""
    shutil.rmtree(BUNDLE_ROOT / ".databricks" / "bundle" / target, ignore_errors=True)
