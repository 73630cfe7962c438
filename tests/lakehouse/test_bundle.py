"""The Databricks Asset Bundle, checked offline: the `databricks` CLI is a Go binary not installable from the package
registries here, so the structure is checked in the test and the job is parsed by Databricks' own typed model of job
resources (`databricks-bundles`, which rejects unknown or misspelled fields)."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from databricks.bundles.jobs import Job

from databricks_jobs.batch import BATCH_ID_PATTERN
from databricks_jobs.jobs.common import batch_id_from, settings_from, task_parser

BUNDLE_ROOT = Path(__file__).resolve().parents[2] / "databricks_jobs"
PYPROJECT = tomllib.loads((BUNDLE_ROOT.parent / "pyproject.toml").read_text())
STAGES = ["bronze", "silver", "gold", "export"]


@pytest.fixture(scope="module")
def bundle() -> dict:
    return yaml.safe_load((BUNDLE_ROOT / "databricks.yml").read_text())


@pytest.fixture(scope="module")
def jobs(bundle) -> dict:
    found: dict = {}
    for pattern in bundle["include"]:
        files = sorted(BUNDLE_ROOT.glob(pattern))
        assert files, f"include {pattern} matches no file"
        for path in files:
            found.update(yaml.safe_load(path.read_text())["resources"]["jobs"])
    return found


def test_bundle_has_name_variables_and_dev_prod_targets(bundle):
    assert bundle["bundle"]["name"]
    assert {"catalog", "schema", "raw_root", "lake_root", "export_root"} <= set(bundle["variables"])
    assert bundle["targets"]["dev"] == {**bundle["targets"]["dev"], "mode": "development", "default": True}
    assert bundle["targets"]["prod"]["mode"] == "production"
    assert sum(1 for t in bundle["targets"].values() if t.get("default")) == 1


def test_wheel_artifact_is_built_from_the_repository_pyproject(bundle, jobs):
    (artifact,) = bundle["artifacts"].values()
    assert artifact["type"] == "whl"
    assert (BUNDLE_ROOT / artifact["path"] / "pyproject.toml").is_file()
    for task in jobs["energy_pipeline"]["tasks"]:
        (library,) = task["libraries"]
        assert Path(library["whl"]).parent == Path(artifact["path"]) / "dist"


def test_every_referenced_variable_is_declared(bundle, jobs):
    text = (BUNDLE_ROOT / "databricks.yml").read_text() + yaml.safe_dump(jobs)
    used = set(re.findall(r"\$\{var\.([a-z_]+)\}", text))
    assert used and used <= set(bundle["variables"])


def test_job_parses_with_databricks_job_model(jobs):
    job = Job.from_dict(jobs["energy_pipeline"])
    assert [t.task_key for t in job.tasks] == STAGES


def test_tasks_chain_bronze_silver_gold_export(jobs):
    tasks = {t["task_key"]: t for t in jobs["energy_pipeline"]["tasks"]}
    assert sorted(tasks) == sorted(STAGES)
    assert "depends_on" not in tasks["bronze"]
    for before, after in zip(STAGES, STAGES[1:], strict=False):
        assert [d["task_key"] for d in tasks[after]["depends_on"]] == [before]


def test_entry_points_are_the_local_run_s_main_functions(jobs):
    scripts = PYPROJECT["project"]["scripts"]
    package = PYPROJECT["project"]["name"].replace("-", "_")
    for task in jobs["energy_pipeline"]["tasks"]:
        wheel_task = task["python_wheel_task"]
        assert wheel_task["package_name"] == package
        module_name, function = scripts[wheel_task["entry_point"]].split(":")
        assert module_name == f"databricks_jobs.jobs.{task['task_key']}" and function == "main"
        assert callable(getattr(importlib.import_module(module_name), function))


def test_every_task_derives_the_same_batch_id_and_roots(bundle, jobs):
    variables = {name: spec.get("default", "") for name, spec in bundle["variables"].items()}
    run = {"{{job.run_id}}": "550315892394120", "{{job.start_time.timestamp_ms}}": "1795637700000"}

    def resolve(value: str) -> str:
        for _ in range(3):  # defaults may refer to other variables
            value = re.sub(r"\$\{var\.([a-z_]+)\}", lambda m: str(variables[m.group(1)]), value)
        return run.get(value, value)

    seen = set()
    for task in jobs["energy_pipeline"]["tasks"]:
        args = task_parser("test").parse_args([resolve(p) for p in task["python_wheel_task"]["parameters"]])
        settings = settings_from(args)
        seen.add((batch_id_from(args), settings.raw_root, settings.lake_root, settings.export_root))
    ((batch_id, raw_root, lake_root, export_root),) = seen
    assert BATCH_ID_PATTERN.match(batch_id) and batch_id.startswith("20261125T")
    assert (
        lake_root == "/Volumes/energy/lakehouse/lake" and raw_root.endswith("/raw") and export_root.endswith("/export")
    )


def test_cluster_wheel_does_not_pull_the_local_stack():
    """The runtime brings Spark and Delta; the wheel must not replace them or install the local stand-ins."""
    runtime_or_local_only = ("pyspark", "delta-spark", "streamlit", "fakesnow", "moto", "snowflake-")
    wheel_requirements = PYPROJECT["project"]["dependencies"]
    assert not [r for r in wheel_requirements if r.startswith(runtime_or_local_only)], wheel_requirements
    assert any(r.startswith("pyspark") for r in PYPROJECT["project"]["optional-dependencies"]["local"])
