"""`databricks bundle deploy` (direct engine) with the real CLI, against the workspace stand-in: the REST calls it
makes are recorded and asserted on. The wheel is built by the artifact's own build command and uploaded; the jobs
name it where the deploy put it; the schema and volumes are created with the dev names, the schema first.

Docs: "Databricks Asset Bundles library dependencies" (https://docs.databricks.com/aws/en/dev-tools/bundles/
library-dependencies: local wheel paths are uploaded and rewritten to their workspace path), "Bundle lifecycle:
prevent_destroy" (https://docs.databricks.com/aws/en/dev-tools/bundles/resources#lifecycle), Jobs API
(https://docs.databricks.com/api/workspace/jobs/create), Unity Catalog schemas and volumes APIs
(https://docs.databricks.com/api/workspace/schemas/create, https://docs.databricks.com/api/workspace/volumes/create).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import zipfile
from io import BytesIO

import pytest

from tests.lakehouse.databricks_cli import BUNDLE_ROOT, PROD_PRINCIPAL, cli_fixture, remove_local_state
from tests.lakehouse.workspace_standin import WorkspaceStandIn

DEV_SCHEMA = "dev_alice_smith_lakehouse"
ROOT = "/Workspace/Users/alice.smith@example.com/.bundle/energy_lakehouse"
STAGES = ("bronze", "silver", "gold", "export")


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    return cli_fixture(tmp_path_factory)


@pytest.fixture(scope="module", params=["dev", "dev_serverless"])
def deployed(request, cli):
    """One deploy of the target to a fresh stand-in, then a second deploy of the same bundle to the same one."""
    target = request.param
    remove_local_state(target)
    with WorkspaceStandIn() as standin:
        first = cli.run("deploy", target=target, workspace=standin)
        assert first.returncode == 0, first.output
        calls_of_first = len(standin.workspace.calls)
        second = cli.run("deploy", target=target, workspace=standin)
        assert second.returncode == 0, second.output
    yield target, standin.workspace, calls_of_first
    remove_local_state(target)


def _uploaded_wheel(workspace, target: str) -> str:
    (wheel,) = [p for p in workspace.files if p.endswith(".whl")]
    assert wheel.startswith(f"{ROOT}/{target}/artifacts/.internal/energy_reliability_platform-")
    return wheel


def _jobs_by_name(workspace) -> dict[str, dict]:
    return {settings["name"].removeprefix("[dev alice_smith] "): settings for settings in workspace.jobs.values()}


def test_the_schema_then_its_volumes_are_created_with_the_dev_names(deployed):
    _, workspace, calls_of_first = deployed
    first = workspace.calls[:calls_of_first]
    schema_calls = [c for c in first if c.method == "POST" and c.path == "/api/2.1/unity-catalog/schemas"]
    volume_calls = [c for c in first if c.method == "POST" and c.path == "/api/2.1/unity-catalog/volumes"]
    assert [c.body["name"] for c in schema_calls] == [DEV_SCHEMA]
    assert schema_calls[0].body["catalog_name"] == "energy"
    assert sorted((c.body["schema_name"], c.body["name"], c.body["volume_type"]) for c in volume_calls) == [
        (DEV_SCHEMA, "config", "MANAGED"),
        (DEV_SCHEMA, "export", "MANAGED"),
        (DEV_SCHEMA, "raw", "MANAGED"),
    ]
    assert first.index(schema_calls[0]) < min(first.index(c) for c in volume_calls)


def test_the_wheel_built_from_the_repository_is_uploaded_and_every_job_names_it(deployed):
    target, workspace, _ = deployed
    wheel = _uploaded_wheel(workspace, target)
    with zipfile.ZipFile(BytesIO(workspace.files[wheel])) as archive:
        entry_points = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt"))
    assert "energy-export = databricks_jobs.jobs.export:main" in entry_points
    jobs = _jobs_by_name(workspace)
    for name in ("energy_pipeline", "energy_maintenance"):
        job = jobs[name]
        for task in job["tasks"]:
            if target == "dev":
                assert task["libraries"] == [{"whl": wheel}]
            else:
                (environment,) = job["environments"]
                assert task["environment_key"] == environment["environment_key"] and "libraries" not in task
                assert environment["spec"]["dependencies"] == [wheel]


def test_the_notebooks_find_the_uploaded_wheel_where_they_look(deployed):
    """Each notebook task's notebook is uploaded beside deployed_wheel, which it %runs; that one's glob, in the folder
    the task's wheel_folder names (and, without it, relative to the notebook's folder), names the uploaded wheel."""
    target, workspace, _ = deployed
    wheel = _uploaded_wheel(workspace, target)
    notebooks = _jobs_by_name(workspace)["energy_pipeline_notebooks"]
    for task in notebooks["tasks"]:
        path = task["notebook_task"]["notebook_path"]
        assert path == f"{ROOT}/{target}/files/notebooks/{task['task_key']}"
        assert workspace.files[f"{path}.py"] == (BUNDLE_ROOT / "notebooks" / f"{task['task_key']}.py").read_bytes()
        assert "# MAGIC %run ./deployed_wheel" in workspace.files[f"{path}.py"].decode()
        helper = workspace.files[posixpath.join(posixpath.dirname(path), "deployed_wheel.py")].decode()
        (default,) = re.findall(r'dbutils\.widgets\.get\("wheel_folder"\) or "([^"]+)"', helper)
        (pattern,) = re.findall(r'glob\.glob\(f"\{folder\}/([^"]+)"', helper)
        given = task["notebook_task"]["base_parameters"]["wheel_folder"]
        for folder in (given, posixpath.normpath(posixpath.join(posixpath.dirname(path), default))):
            assert fnmatch.fnmatchcase(wheel, f"{folder}/{pattern}"), (folder, wheel)
        assert not task.get("libraries") and "environment_key" not in task


def test_the_jobs_carry_the_tasks_parameters_and_compute(deployed):
    target, workspace, _ = deployed
    jobs = _jobs_by_name(workspace)
    pipeline = jobs["energy_pipeline"]
    parameters = {p["name"]: p["default"] for p in pipeline["parameters"]}
    assert parameters == {
        "catalog": "energy",
        "schema": DEV_SCHEMA,
        "raw_root": f"/Volumes/energy/{DEV_SCHEMA}/raw",
        "export_root": f"/Volumes/energy/{DEV_SCHEMA}/export",
        "config_root": f"/Volumes/energy/{DEV_SCHEMA}/config",
    }
    entry_points = {t["task_key"]: t["python_wheel_task"]["entry_point"] for t in pipeline["tasks"]}
    assert entry_points == {stage: f"energy-{stage}" for stage in ("upgrade", *STAGES)}
    for job in jobs.values():
        if target == "dev":
            (cluster,) = job["job_clusters"]
            assert cluster["new_cluster"]["data_security_mode"] == "USER_ISOLATION"
            assert {t["job_cluster_key"] for t in job["tasks"]} == {cluster["job_cluster_key"]}
        else:
            assert "job_clusters" not in job and all("job_cluster_key" not in t for t in job["tasks"])
        assert job["schedule"]["pause_status"] == "PAUSED" if "schedule" in job else True


def test_a_second_deploy_updates_the_jobs_in_place(deployed):
    _, workspace, calls_of_first = deployed
    first, second = workspace.calls[:calls_of_first], workspace.calls[calls_of_first:]
    assert len([c for c in first if c.path == "/api/2.2/jobs/create"]) == 3
    assert not [c for c in second if c.path.endswith(("/jobs/create", "/schemas", "/volumes"))]
    assert len(workspace.jobs) == 3  # nothing created twice


def test_prod_refuses_to_destroy_its_schema_and_volumes(cli):
    """lifecycle.prevent_destroy: `bundle destroy` of prod stops before deleting anything."""
    remove_local_state("prod")
    with WorkspaceStandIn(PROD_PRINCIPAL) as standin:
        deploy = cli.run("deploy", target="prod", user_name=PROD_PRINCIPAL, workspace=standin)
        assert deploy.returncode == 0, deploy.output
        volume = standin.workspace.volumes["energy.lakehouse.export"]
        assert (volume["volume_type"], volume["storage_location"]) == ("EXTERNAL", "s3://energy-export/gold-export/")
        for job in standin.workspace.jobs.values():
            assert job["run_as"] == {"service_principal_name": PROD_PRINCIPAL} and not job["name"].startswith("[")
        job_grants = [acl for (kind, _), acl in standin.workspace.permissions.items() if kind == "jobs"]
        assert len(job_grants) == 3
        assert all({"group_name": "energy-operators", "permission_level": "CAN_MANAGE"} in acl for acl in job_grants)
        destroy = cli.run("destroy", "--auto-approve", target="prod", user_name=PROD_PRINCIPAL, workspace=standin)
    remove_local_state("prod")
    assert destroy.returncode != 0
    assert "lifecycle.prevent_destroy" in destroy.output
    assert not [c for c in standin.workspace.calls if c.method == "DELETE" or c.path.endswith("/jobs/delete")]
    assert set(standin.workspace.schemas) == {"energy.lakehouse"} and len(standin.workspace.volumes) == 3
