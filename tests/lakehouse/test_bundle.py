"""The Databricks Asset Bundle (databricks_jobs/), as the real Databricks CLI loads, validates and resolves it.

`databricks bundle validate` runs for every target (job cluster and serverless, dev and prod) against the workspace
stand-in and must pass without a warning; `validate -o json` is the resolved configuration the assertions read (task
parameters, libraries and environments, schema and volume names, schedules, permissions, run_as, lifecycle). What the
CLI cannot say (that the entry points exist, that the task arguments parse into the settings the code expects, that
the notebook job gives the notebooks the same values) is checked here on that resolved configuration. The deploy is
in test_bundle_deploy.py; the wheel itself in test_bundle_wheel.py; batch ids across repairs in
test_bundle_batch_id.py.

Docs: "Databricks Asset Bundle configuration" (https://docs.databricks.com/aws/en/dev-tools/bundles/settings),
"Deployment modes" (https://docs.databricks.com/aws/en/dev-tools/bundles/deployment-modes), "Bundle configuration
examples: job that uses serverless compute" (https://docs.databricks.com/aws/en/dev-tools/bundles/resource-examples).
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib

import pytest

from databricks_jobs.jobs.common import settings_from, task_parser
from tests.lakehouse.databricks_cli import BUNDLE_ROOT, PROD_PRINCIPAL, PROD_VARIABLES, TARGETS, cli_fixture

PYPROJECT = tomllib.loads((BUNDLE_ROOT.parent / "pyproject.toml").read_text())
STAGES = ["bronze", "silver", "gold", "export"]
# The wheel job runs the upgrade first (docs/upgrading.md); the notebook job's stages check their tables as they start.
JOB_TASKS = {"energy_pipeline": ["upgrade", *STAGES], "energy_pipeline_notebooks": STAGES}
# The task arguments of the lakehouse entry points on Databricks: tables by name in catalog.schema, files in Volumes.
STAGE_FLAGS = {"--catalog", "--schema", "--raw-root", "--export-root", "--config-root", "--run-id"}
JOBS = {"energy_pipeline", "energy_pipeline_notebooks", "energy_maintenance"}
DEV_SCHEMA = "dev_alice_smith_lakehouse"  # development mode's prefix for alice.smith@example.com, normalised


@pytest.fixture(autouse=True)
def no_config_root_leaks(monkeypatch):
    """settings_from makes --config-root the process's config root (an environment variable); the job's arguments
    name a Volume that does not exist here, so every test of this module gets the variable back as it was."""
    monkeypatch.setenv("ENERGY_CONFIG_ROOT", "")  # records the variable's state, so teardown restores it
    monkeypatch.delenv("ENERGY_CONFIG_ROOT")


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    return cli_fixture(tmp_path_factory)


@pytest.fixture(scope="module")
def resolved(cli):
    """target -> `bundle validate -o json`, each asked once per module."""
    cache: dict[str, dict] = {}

    def of(target: str) -> dict:
        if target not in cache:
            cache[target] = cli.resolved(target)
        return cache[target]

    return of


def _tasks(job: dict) -> dict[str, dict]:
    return {t["task_key"]: t for t in job["tasks"]}


def _resolve(value: str, config: dict, job: dict) -> str:
    """What a task argument becomes at run time: job parameters, then the resource references the deploy fills in
    (schema and volume names, which `validate` leaves as references), then the run id."""
    defaults = {p["name"]: p["default"] for p in job["parameters"]}
    value = re.sub(r"\{\{job\.parameters\.(\w+)\}\}", lambda m: defaults[m.group(1)], value)

    def reference(match: re.Match) -> str:
        kind, name, field = match.group(1).split(".")
        resource = config["resources"][kind][name]
        if field == "schema_name":
            return config["resources"]["schemas"]["lakehouse"]["name"]
        if field == "catalog_name":
            return config["resources"]["schemas"]["lakehouse"]["catalog_name"]
        return resource[field]

    value = re.sub(r"\$\{resources\.([a-z_.]+)\}", reference, value)
    return value.replace("{{job.run_id}}", "550315892394120")


# --- the CLI accepts every target --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_the_cli_validates_the_target_without_a_warning(cli, target):
    user = PROD_PRINCIPAL if target.startswith("prod") else "alice.smith@example.com"
    run = cli.run("validate", target=target, user_name=user)
    assert run.returncode == 0, run.output
    assert "Validation OK!" in run.output
    assert not re.search(r"\b(Warn|Warning|Recommendation|Error)\b", run.output), run.output


def test_the_cli_refuses_a_merge_key_on_an_inline_anchor(cli, tmp_path, monkeypatch):
    """The rule the bundle once broke: the CLI's YAML loader takes `<<:` with an alias only (PyYAML takes both)."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "databricks.yml").write_text(
        "bundle:\n  name: merge_key\nresources:\n  jobs:\n    j:\n      name: j\n      tasks:\n"
        "        - task_key: a\n          <<: &settings\n            max_retries: 1\n"
    )
    monkeypatch.setattr("tests.lakehouse.databricks_cli.BUNDLE_ROOT", bundle)
    run = cli.run("validate", target="default")
    assert run.returncode != 0
    assert "map merge requires map or sequence of maps as the value" in run.output


def test_a_prod_validate_without_the_prod_variables_is_refused(cli, monkeypatch):
    """Variables without a default must be given (the principal, the operators' group, the alert address, the
    export location): production has no fallback to the deploying user."""
    monkeypatch.setattr("tests.lakehouse.databricks_cli.PROD_VARIABLES", {})
    run = cli.run("validate", target="prod", user_name=PROD_PRINCIPAL)
    assert run.returncode != 0
    # The CLI names the first unassigned variable it meets, in no fixed order (CI once saw export_location).
    assert re.search(f"no value assigned to required variable ({'|'.join(PROD_VARIABLES)})", run.output), run.output


# --- names, schedules, permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["dev", "dev_serverless"])
def test_dev_is_per_user_and_paused(resolved, target):
    config = resolved(target)
    resources = config["resources"]
    assert resources["schemas"]["lakehouse"]["name"] == DEV_SCHEMA
    assert {v["volume_path"] for v in resources["volumes"].values()} == {
        f"/Volumes/energy/{DEV_SCHEMA}/{name}" for name in ("raw", "export", "config")
    }
    assert {j["name"] for j in resources["jobs"].values()} == {f"[dev alice_smith] {name}" for name in JOBS}
    assert resources["jobs"]["energy_pipeline"]["schedule"]["pause_status"] == "PAUSED"
    assert resources["jobs"]["energy_maintenance"]["schedule"]["pause_status"] == "PAUSED"
    assert resources["jobs"]["energy_pipeline"]["email_notifications"]["on_failure"] == ["alice.smith@example.com"]
    assert "run_as" not in config and "permissions" not in config
    assert config["workspace"]["root_path"].startswith("/Workspace/Users/alice.smith@example.com/.bundle/")
    assert not any("lifecycle" in r for kind in ("schemas", "volumes") for r in resources[kind].values())
    assert resources["volumes"]["export"]["volume_type"] == "MANAGED"


@pytest.mark.parametrize("target", ["prod", "prod_serverless"])
def test_prod_runs_as_its_principal_on_schedule_and_keeps_its_data(resolved, target):
    config = resolved(target)
    resources = config["resources"]
    assert resources["schemas"]["lakehouse"]["name"] == "lakehouse"
    assert config["run_as"] == {"service_principal_name": PROD_PRINCIPAL}
    assert config["workspace"]["root_path"] == f"/Workspace/Users/{PROD_PRINCIPAL}/.bundle/energy_lakehouse/{target}"
    for job in resources["jobs"].values():
        assert not job["name"].startswith("[dev")
        assert {"group_name": "energy-operators", "level": "CAN_MANAGE"} in job["permissions"]
    assert resources["jobs"]["energy_pipeline"]["schedule"]["pause_status"] == "UNPAUSED"
    assert resources["jobs"]["energy_pipeline"]["email_notifications"]["on_failure"] == ["oncall@example.com"]
    # bundle destroy, or a change that re-creates them, must not drop the tables or the files
    for kind in ("schemas", "volumes"):
        for name, resource in resources[kind].items():
            assert resource.get("lifecycle") == {"prevent_destroy": True}, f"{kind}.{name}"
    export = resources["volumes"]["export"]
    assert (export["volume_type"], export["storage_location"]) == ("EXTERNAL", "s3://energy-export/gold-export/")


def test_maintenance_is_optional_where_predictive_optimization_runs(cli, resolved):
    assert resolved("prod")["resources"]["jobs"]["energy_maintenance"]["schedule"]["pause_status"] == "UNPAUSED"
    run = cli.run(
        "validate", "-o", "json", "--var=maintenance_pause_status=PAUSED", target="prod", user_name=PROD_PRINCIPAL
    )
    maintenance = json.loads(run.stdout)["resources"]["jobs"]["energy_maintenance"]
    assert maintenance["schedule"]["pause_status"] == "PAUSED"


# --- tasks and compute -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_tasks_chain_bronze_silver_gold_export_with_bounded_retries(resolved, target):
    for name, chain in JOB_TASKS.items():
        job = resolved(target)["resources"]["jobs"][name]
        tasks = _tasks(job)
        assert sorted(tasks) == sorted(chain) and job["max_concurrent_runs"] == 1
        assert "depends_on" not in tasks[chain[0]]
        for before, after in zip(chain, chain[1:], strict=False):
            assert tasks[after]["depends_on"] == [{"task_key": before}]
        for task in tasks.values():
            assert task["max_retries"] == 2 and task["min_retry_interval_millis"] >= 60_000
            assert 0 < task["timeout_seconds"] <= job["timeout_seconds"]


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_job_cluster_targets_run_every_task_on_a_standard_access_mode_cluster(resolved, target):
    for job in resolved(target)["resources"]["jobs"].values():
        (cluster,) = job["job_clusters"]
        assert cluster["new_cluster"]["data_security_mode"] == "USER_ISOLATION"  # Spark Connect, Unity Catalog
        assert cluster["new_cluster"]["spark_version"].startswith("17.3.")
        assert not job.get("environments")
        for task in job["tasks"]:
            assert task["job_cluster_key"] == cluster["job_cluster_key"] and "environment_key" not in task
            if "python_wheel_task" in task:
                assert task["libraries"] == [{"whl": "../dist/*.whl"}]
            else:  # notebooks install the deployed wheel themselves (%pip), on either compute
                assert "libraries" not in task


@pytest.mark.parametrize("target", ["dev_serverless", "prod_serverless"])
def test_serverless_targets_carry_the_wheel_in_an_environment(resolved, target):
    """Serverless: no cluster; python wheel tasks name an environment (required there), whose dependencies hold the
    wheel; notebook tasks take neither task libraries nor an environment."""
    for name, job in resolved(target)["resources"]["jobs"].items():
        assert not job.get("job_clusters")
        for task in job["tasks"]:
            assert "job_cluster_key" not in task and "new_cluster" not in task and not task.get("libraries")
        if name == "energy_pipeline_notebooks":
            assert not job.get("environments")
            assert all("environment_key" not in t for t in job["tasks"])
            continue
        (environment,) = job["environments"]
        assert environment["spec"] == {"environment_version": "4", "dependencies": ["../dist/*.whl"]}
        assert {t["environment_key"] for t in job["tasks"]} == {environment["environment_key"]}


@pytest.mark.parametrize("target", TARGETS)
def test_the_variants_differ_in_compute_only(resolved, target):
    compute = {"job_cluster_key", "environment_key", "libraries", "job_clusters", "environments"}

    def without_compute(config: dict, target: str) -> dict:
        """The jobs without their compute fields or deployment metadata, the target's own folder named alike."""
        text = json.dumps(config["resources"]["jobs"]).replace(f"/energy_lakehouse/{target}/", "/energy_lakehouse/T/")
        jobs = json.loads(text)
        for job in jobs.values():
            job.pop("deployment", None)
            for field in compute:
                job.pop(field, None)
            job["tasks"] = [{k: v for k, v in t.items() if k not in compute} for t in job["tasks"]]
        return jobs

    base = target.removesuffix("_serverless")
    assert without_compute(resolved(target), target) == without_compute(resolved(base), base)


def test_entry_points_are_the_local_run_s_main_functions(resolved):
    scripts = PYPROJECT["project"]["scripts"]
    package = PYPROJECT["project"]["name"].replace("-", "_")
    jobs = resolved("dev")["resources"]["jobs"]
    for task in jobs["energy_pipeline"]["tasks"] + jobs["energy_maintenance"]["tasks"]:
        wheel_task = task["python_wheel_task"]
        assert wheel_task["package_name"] == package
        module_name, function = scripts[wheel_task["entry_point"]].split(":")
        assert module_name == f"databricks_jobs.jobs.{task['task_key']}" and function == "main"
        assert callable(getattr(importlib.import_module(module_name), function))


def test_job_parameters_are_declared_once_and_every_task_gets_the_same_arguments(resolved):
    job = resolved("dev")["resources"]["jobs"]["energy_pipeline"]
    arguments = [task["python_wheel_task"]["parameters"] for task in job["tasks"]]
    assert all(a == arguments[0] for a in arguments)
    flags = {a for a in arguments[0] if a.startswith("--")}
    assert flags == STAGE_FLAGS  # no --lake-root on Databricks: tables are addressed by name
    referenced = set(re.findall(r"\{\{job\.parameters\.(\w+)\}\}", " ".join(arguments[0])))
    assert referenced == {p["name"] for p in job["parameters"]}


def test_task_arguments_resolve_to_tables_by_name_and_volume_paths(resolved):
    config = resolved("dev")
    job = config["resources"]["jobs"]["energy_pipeline"]
    values = [_resolve(v, config, job) for v in _tasks(job)["bronze"]["python_wheel_task"]["parameters"]]
    args = dict(zip(values[::2], values[1::2], strict=True))
    assert args["--catalog"] == "energy" and args["--schema"] == DEV_SCHEMA
    assert args["--raw-root"] == f"/Volumes/energy/{DEV_SCHEMA}/raw"
    assert args["--export-root"] == f"/Volumes/energy/{DEV_SCHEMA}/export"
    assert args["--run-id"] == "550315892394120"
    parsed = task_parser("test").parse_args(values)
    settings = settings_from(parsed)
    assert not settings.is_local_catalog
    assert settings.table_name("gold_demand__daily") == f"energy.{DEV_SCHEMA}.gold_demand__daily"
    assert (settings.raw_root, settings.export_root) == (args["--raw-root"], args["--export-root"])
    assert settings.config_root == f"/Volumes/energy/{DEV_SCHEMA}/config"


def test_maintenance_names_the_tables_of_the_pipeline(resolved):
    config = resolved("dev")
    jobs = config["resources"]["jobs"]
    maintenance, pipeline = jobs["energy_maintenance"], jobs["energy_pipeline"]
    assert maintenance["parameters"] == [p for p in pipeline["parameters"] if p["name"] in ("catalog", "schema")]
    (task,) = maintenance["tasks"]
    values = [_resolve(v, config, maintenance) for v in task["python_wheel_task"]["parameters"]]
    assert settings_from(task_parser("test").parse_args(values)).namespace == f"energy.{DEV_SCHEMA}"


def test_notebook_job_gives_the_notebooks_the_wheel_job_s_arguments(resolved):
    """energy_pipeline_notebooks: job parameters pushed down as widgets and run_id as a task parameter give each
    notebook the settings the wheel task of its stage gets."""
    from databricks_jobs import explore

    config = resolved("dev")
    jobs = config["resources"]["jobs"]
    notebooks, wheel_job = jobs["energy_pipeline_notebooks"], jobs["energy_pipeline"]
    assert notebooks["parameters"] == wheel_job["parameters"] and "schedule" not in notebooks
    wheel_arguments = [
        _resolve(v, config, wheel_job) for v in _tasks(wheel_job)["bronze"]["python_wheel_task"]["parameters"]
    ]
    wheel_settings = settings_from(task_parser("test").parse_args(wheel_arguments))
    files = config["workspace"]["file_path"]
    for stage, task in _tasks(notebooks).items():
        assert task["notebook_task"]["notebook_path"] == f"{files}/notebooks/{stage}"
        assert (BUNDLE_ROOT / "notebooks" / f"{stage}.py").read_text().startswith("# Databricks notebook source\n")
        widgets = {p["name"]: _resolve(p["default"], config, notebooks) for p in notebooks["parameters"]}
        given = task["notebook_task"]["base_parameters"]
        assert given["wheel_folder"] == f"{config['workspace']['artifact_path']}/.internal"  # deployed_wheel's widget
        widgets.update({k: _resolve(v, config, notebooks) for k, v in given.items() if k != "wheel_folder"})
        assert set(widgets) <= set(explore.STAGE_WIDGETS), "every value the job passes has a widget to land in"
        arguments = explore.stage_arguments(widgets)
        assert settings_from(arguments) == wheel_settings
        assert arguments.run_id == "550315892394120"


def test_cluster_wheel_does_not_pull_the_local_stack():
    """The runtime brings Spark and Delta; the wheel must not replace them or install the local stand-ins."""
    runtime_or_local_only = ("pyspark", "delta-spark", "streamlit", "fakesnow", "moto", "snowflake-")
    wheel_requirements = PYPROJECT["project"]["dependencies"]
    assert not [r for r in wheel_requirements if r.startswith(runtime_or_local_only)], wheel_requirements
    assert any(r.startswith("pyspark") for r in PYPROJECT["project"]["optional-dependencies"]["local"])
