"""The Databricks Asset Bundle, checked offline: the `databricks` CLI is a Go binary not installable from the package
registries here, so the rules the CLI and the Jobs service apply are checked in the test, and the resources are parsed
by Databricks' own typed models (`databricks-bundles`, which rejects unknown or misspelled fields). Paths and the wheel
are in test_bundle_paths.py, batch ids across repair runs in test_bundle_batch_id.py."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume

from databricks_jobs.jobs.common import settings_from, task_parser

BUNDLE_ROOT = Path(__file__).resolve().parents[2] / "databricks_jobs"
PYPROJECT = tomllib.loads((BUNDLE_ROOT.parent / "pyproject.toml").read_text())
STAGES = ["bronze", "silver", "gold", "export"]
# The wheel job runs the upgrade first (docs/upgrading.md); the notebook job's stages check their tables as they start.
WHEEL_TASKS = ["upgrade", *STAGES]
# The task arguments of the lakehouse entry points on Databricks: tables by name in catalog.schema, files in Volumes.
STAGE_FLAGS = {"--catalog", "--schema", "--raw-root", "--export-root", "--config-root", "--run-id"}


@pytest.fixture(scope="module")
def bundle() -> dict:
    return yaml.safe_load((BUNDLE_ROOT / "databricks.yml").read_text())


@pytest.fixture(scope="module")
def resources(bundle) -> dict:
    found: dict = {}
    for pattern in bundle["include"]:
        files = sorted(BUNDLE_ROOT.glob(pattern))
        assert files, f"include {pattern} matches no file"
        for path in files:
            for kind, items in yaml.safe_load(path.read_text())["resources"].items():
                found.setdefault(kind, {}).update(items)
    return found


@pytest.fixture(scope="module")
def job(resources) -> dict:
    return resources["jobs"]["energy_pipeline"]


def _resolve_job_parameter(value: str, job: dict) -> str:
    """What a task argument becomes at run time, with the resource references as the deploy fills them in."""
    names = {
        "${resources.schemas.lakehouse.catalog_name}": "energy",
        "${resources.schemas.lakehouse.name}": "dev_alice_lakehouse",
        "${resources.volumes.raw.catalog_name}": "energy",
        "${resources.volumes.raw.schema_name}": "dev_alice_lakehouse",
        "${resources.volumes.raw.name}": "raw",
        "${resources.volumes.export.catalog_name}": "energy",
        "${resources.volumes.export.schema_name}": "dev_alice_lakehouse",
        "${resources.volumes.export.name}": "export",
        "${resources.volumes.config.catalog_name}": "energy",
        "${resources.volumes.config.schema_name}": "dev_alice_lakehouse",
        "${resources.volumes.config.name}": "config",
    }
    defaults = {p["name"]: p["default"] for p in job["parameters"]}
    value = re.sub(r"\{\{job\.parameters\.(\w+)\}\}", lambda m: defaults[m.group(1)], value)
    value = re.sub(r"\$\{resources\.[a-z_.]+\}", lambda m: names[m.group(0)], value)
    return value.replace("{{job.run_id}}", "550315892394120")


def test_resources_parse_with_databricks_models(resources):
    assert [t.task_key for t in Job.from_dict(resources["jobs"]["energy_pipeline"]).tasks] == WHEEL_TASKS
    assert str(Schema.from_dict(resources["schemas"]["lakehouse"]).name) == "${var.schema}"
    assert {name: str(Volume.from_dict(v).name) for name, v in resources["volumes"].items()} == {
        "raw": "raw",
        "export": "export",
        "config": "config",
    }


def test_volumes_name_the_schema_resource_so_it_is_created_first(resources):
    for volume in resources["volumes"].values():
        assert volume["schema_name"] == "${resources.schemas.lakehouse.name}"
        assert volume["catalog_name"] == "${resources.schemas.lakehouse.catalog_name}"


def test_every_referenced_variable_is_declared(bundle, resources):
    text = (BUNDLE_ROOT / "databricks.yml").read_text() + yaml.safe_dump(resources)
    used = set(re.findall(r"\$\{var\.([a-z_]+)\}", text))
    assert used and used <= set(bundle["variables"])


def test_variables_without_default_are_given_by_every_target_that_needs_them(bundle):
    """The CLI refuses a deploy while any declared variable has no value, whichever target is deployed."""
    required = {name for name, spec in bundle["variables"].items() if "default" not in spec}
    assert required, "prod needs its principal, group and alert address from the deployer"
    assert required <= set(bundle["targets"]["dev"]["variables"])


def test_dev_target_is_per_user_and_prod_is_deployable_by_a_person(bundle):
    dev, prod = bundle["targets"]["dev"], bundle["targets"]["prod"]
    assert dev["mode"] == "development" and dev["default"] is True
    assert "${workspace.current_user.short_name}" in dev["presets"]["name_prefix"]
    assert prod["mode"] == "production"
    # production mode refuses a person's deploy unless the *target* sets workspace.root_path
    assert prod["workspace"]["root_path"].startswith("/Workspace/")
    assert "${bundle.target}" in prod["workspace"]["root_path"]
    assert prod["run_as"] == {"service_principal_name": "${var.prod_service_principal}"}
    assert prod["permissions"]


def test_schedule_is_not_forced_paused(job):
    """Development mode pauses schedules by itself; a pause_status in the job would keep prod from ever running."""
    assert job["schedule"]["quartz_cron_expression"] and "pause_status" not in job["schedule"]


def test_failures_are_retried_bounded_and_reported(job):
    assert job["email_notifications"]["on_failure"] == ["${var.alert_email}"]
    assert job["timeout_seconds"] > 0
    for task in job["tasks"]:
        assert task["max_retries"] >= 1 and task["min_retry_interval_millis"] >= 60_000
        assert 0 < task["timeout_seconds"] <= job["timeout_seconds"]


def test_tasks_chain_upgrade_bronze_silver_gold_export(job):
    tasks = {t["task_key"]: t for t in job["tasks"]}
    assert sorted(tasks) == sorted(WHEEL_TASKS)
    assert "depends_on" not in tasks["upgrade"]
    for before, after in zip(WHEEL_TASKS, WHEEL_TASKS[1:], strict=False):
        assert [d["task_key"] for d in tasks[after]["depends_on"]] == [before]


def test_compute_runs_through_spark_connect_on_runtime_17_lts(bundle, job):
    (cluster,) = job["job_clusters"]
    assert cluster["new_cluster"]["data_security_mode"] == "USER_ISOLATION"
    assert bundle["variables"]["spark_version"]["default"].startswith("17.3.")
    assert {t["job_cluster_key"] for t in job["tasks"]} == {cluster["job_cluster_key"]}


def test_entry_points_are_the_local_run_s_main_functions(job):
    scripts = PYPROJECT["project"]["scripts"]
    package = PYPROJECT["project"]["name"].replace("-", "_")
    for task in job["tasks"]:
        wheel_task = task["python_wheel_task"]
        assert wheel_task["package_name"] == package
        module_name, function = scripts[wheel_task["entry_point"]].split(":")
        assert module_name == f"databricks_jobs.jobs.{task['task_key']}" and function == "main"
        assert callable(getattr(importlib.import_module(module_name), function))


def test_job_parameters_are_declared_once_and_every_task_gets_the_same_arguments(job):
    arguments = [task["python_wheel_task"]["parameters"] for task in job["tasks"]]
    assert all(a == arguments[0] for a in arguments)
    flags = {a for a in arguments[0] if a.startswith("--")}
    assert flags == STAGE_FLAGS  # no --lake-root on Databricks: tables are addressed by name
    referenced = set(re.findall(r"\{\{job\.parameters\.(\w+)\}\}", " ".join(arguments[0])))
    assert referenced == {p["name"] for p in job["parameters"]}


def test_task_arguments_resolve_to_tables_by_name_and_volume_paths(job):
    values = [_resolve_job_parameter(v, job) for v in job["tasks"][0]["python_wheel_task"]["parameters"]]
    args = dict(zip(values[::2], values[1::2], strict=True))
    assert args["--catalog"] == "energy" and args["--schema"] == "dev_alice_lakehouse"
    assert args["--raw-root"] == "/Volumes/energy/dev_alice_lakehouse/raw"
    assert args["--export-root"] == "/Volumes/energy/dev_alice_lakehouse/export"
    assert args["--run-id"] == "550315892394120"
    parsed = task_parser("test").parse_args(values)
    settings = settings_from(parsed)
    assert parsed.run_id == "550315892394120"
    assert not settings.is_local_catalog
    assert settings.table_name("gold_demand__daily") == "energy.dev_alice_lakehouse.gold_demand__daily"
    assert (settings.raw_root, settings.export_root) == (args["--raw-root"], args["--export-root"])
    assert settings.config_root == "/Volumes/energy/dev_alice_lakehouse/config"


def test_cluster_wheel_does_not_pull_the_local_stack():
    """The runtime brings Spark and Delta; the wheel must not replace them or install the local stand-ins."""
    runtime_or_local_only = ("pyspark", "delta-spark", "streamlit", "fakesnow", "moto", "snowflake-")
    wheel_requirements = PYPROJECT["project"]["dependencies"]
    assert not [r for r in wheel_requirements if r.startswith(runtime_or_local_only)], wheel_requirements
    assert any(r.startswith("pyspark") for r in PYPROJECT["project"]["optional-dependencies"]["local"])


def test_maintenance_job_parses_and_names_the_tables_of_the_pipeline(resources, job):
    maintenance = resources["jobs"]["energy_maintenance"]
    assert [t.task_key for t in Job.from_dict(maintenance).tasks] == ["maintain"]
    # Same catalog and schema as the pipeline writes to, no file roots (it touches tables only).
    assert maintenance["parameters"] == [p for p in job["parameters"] if p["name"] in ("catalog", "schema")]
    values = [
        _resolve_job_parameter(v, maintenance) for v in maintenance["tasks"][0]["python_wheel_task"]["parameters"]
    ]
    settings = settings_from(task_parser("test").parse_args(values))
    assert settings.namespace == "energy.dev_alice_lakehouse"


def test_notebook_job_runs_the_layer_notebooks_with_the_wheel_job_s_arguments(resources, job):
    """energy_pipeline_notebooks: the same four stages as notebook tasks, on the same cluster and wheel, given the
    same values (job parameters pushed down as widgets, run_id as a task parameter) as the wheel tasks."""
    from databricks_jobs import explore

    notebooks = resources["jobs"]["energy_pipeline_notebooks"]
    assert [t.task_key for t in Job.from_dict(notebooks).tasks] == STAGES
    assert notebooks["parameters"] == job["parameters"] and notebooks["job_clusters"] == job["job_clusters"]
    assert "schedule" not in notebooks and notebooks["max_concurrent_runs"] == 1
    tasks = {t["task_key"]: t for t in notebooks["tasks"]}
    wheel_tasks = {t["task_key"]: t for t in job["tasks"]}
    for before, after in zip(STAGES, STAGES[1:], strict=False):
        assert [d["task_key"] for d in tasks[after]["depends_on"]] == [before]
    wheel_arguments = [_resolve_job_parameter(v, job) for v in job["tasks"][0]["python_wheel_task"]["parameters"]]
    wheel_settings = settings_from(task_parser("test").parse_args(wheel_arguments))
    for stage, task in tasks.items():
        notebook = (BUNDLE_ROOT / "resources" / task["notebook_task"]["notebook_path"]).resolve()
        assert notebook == BUNDLE_ROOT / "notebooks" / f"{stage}.py"
        assert notebook.read_text().startswith("# Databricks notebook source\n")
        assert task["libraries"] == wheel_tasks[stage]["libraries"]
        assert task["max_retries"] == wheel_tasks[stage]["max_retries"]
        assert task["job_cluster_key"] == wheel_tasks[stage]["job_cluster_key"]
        # what the notebook's widgets receive: job parameters (pushed down) and the task's base parameters
        widgets = {p["name"]: _resolve_job_parameter(p["default"], job) for p in notebooks["parameters"]}
        widgets.update({k: _resolve_job_parameter(v, job) for k, v in task["notebook_task"]["base_parameters"].items()})
        assert set(widgets) <= set(explore.STAGE_WIDGETS), "every value the job passes has a widget to land in"
        arguments = explore.stage_arguments(widgets)
        assert settings_from(arguments) == wheel_settings
        assert arguments.run_id == "550315892394120"
