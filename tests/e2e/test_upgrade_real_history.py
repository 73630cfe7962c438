"""Upgrade on real history: a lake and a warehouse built by the code as it was before contract versions (commit
BASE_COMMIT, taken out of this repository's own history with `git archive` and run in a subprocess), then upgraded
by this code: the lake's tables record their contract version, LOAD_HISTORY gains CONTRACT_VERSION (an additive
change) and CURATED.CONTRACT_VERSIONS is created (an added table). No row is lost or changed (count and checksum per
table), an incremental export and load afterwards carry only what a raw change touched and equal a full reload, and
a destructive change is refused leaving every table as it was. One small synthetic lake for the module (CI time); it
is also the suite's whole-flow change-data test (one raw value changed, one event removed, between two runs)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from contextlib import redirect_stdout
from dataclasses import replace
from io import BytesIO, StringIO
from pathlib import Path

import pytest

from databricks_jobs import lake
from databricks_jobs.jobs.pipeline import upgrade_for_stages
from databricks_jobs.progress import quiet
from databricks_jobs.sources import load_source_definitions
from databricks_jobs.tables import CONTRACT_VERSION, GOLD_DEMAND_DAILY, GOLD_TABLES, Column, TableContract
from databricks_jobs.upgrade import UpgradeRefused, lake_contracts, upgrade_lake
from local_platform.flow import FlowConfig, lake_settings, run_flow
from local_platform.s3.server import free_port
from tests.e2e.conftest import (
    CHANGED_EVENT,
    assert_curated_equals_full_reload,
    change_raw_files,
    compared_with_full_reload,
)

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

# main when this work started: the last commit whose tables carry no contract version.
BASE_COMMIT = "6a00aac21e35eb946928e8c721c1cfcc028c6ad0"
REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_BATCH = "20261202T000000Z-0000f022"
OLD_FLOW = """
import sys
from pathlib import Path
from databricks_jobs.synthetic import generate_synthetic_utility
from local_platform.flow import FlowConfig, run_flow
from local_platform.warehouse import control
import databricks_jobs
root, port = Path(sys.argv[1]), int(sys.argv[2])
assert databricks_jobs.__file__.startswith(sys.argv[3]), databricks_jobs.__file__  # the old code, not this one
generate_synthetic_utility(root / "raw", seed=11, years=1, regions=2, feeders_per_region=2)
config = FlowConfig(s3=None, raw_source=root / "raw", lake_root=str(root / "lake"), stage_dir=root / "stage")
warehouse = control.WarehouseSettings(state_dir=root / "warehouse", port=port)
try:
    result = run_flow(config, warehouse, log=lambda _: None)
    assert result.load["status"] == "LOADED", result.load
finally:
    control.stop(warehouse)
"""


def _shallow() -> bool:
    answer = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
    )
    return answer.stdout.strip() == "true"


def base_checkout(target: Path) -> Path:
    """The repository at BASE_COMMIT, as files (no work tree bookkeeping)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", BASE_COMMIT],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0 and _shallow():
        # .ci/run deepens a shallow clone first; a clone that still lacks the commit cannot build the old lake.
        pytest.skip(f"this clone is shallow and lacks {BASE_COMMIT}: `git fetch --unshallow` to run the upgrade test")
    assert archive.returncode == 0, f"git archive {BASE_COMMIT} failed: {archive.stderr.decode()}"
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def build_with_old_code(old: Path, root: Path, port: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(old), "SPARK_SHUFFLE_PARTITIONS": "2"}
    env.pop("ENERGY_CONFIG_ROOT", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OLD_FLOW), str(root), str(port), str(old)],
        cwd=old,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]


def lake_fingerprints(spark, settings, tables: list[str]) -> dict[str, tuple[int, int]]:
    """Per table: rows and an order-free checksum of every row (sum of xxhash64 over all columns), one query for all
    tables (23 tables of a warm session: 3.0-4.6 s, against 4.7-6.0 s a query each)."""
    sums = []
    for table in tables:
        frame = lake.read(spark, settings, table)
        hashed = f"xxhash64({', '.join(f'`{c}`' for c in frame.columns)})"
        sums.append(frame.selectExpr(f"'{table}' AS table", "count(*)", f"sum(cast({hashed} AS DECIMAL(38, 0)))"))
    union = sums[0]
    for frame in sums[1:]:
        union = union.unionAll(frame)
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in union.collect()}


def warehouse_fingerprints(warehouse, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Per table: rows and a checksum of its rows sorted as text (nulls included)."""
    from local_platform.warehouse import control

    result = {}
    with control.session(warehouse) as session:
        for table in tables:
            frame = session.table(f"{warehouse.database}.CURATED.{table.upper()}").to_pandas()
            text = frame.astype(str).sort_values(list(frame.columns)).to_csv(index=False)
            result[table] = (len(frame), hashlib.sha256(text.encode()).hexdigest())
    return result


def run_cli_dry_run(settings, warehouse) -> tuple[int, str]:
    """`energy-platform upgrade --dry-run` on this lake and warehouse, as a user runs it: exit status and output."""
    from local_platform.cli import main

    environment = {"ENERGY_WAREHOUSE_DIR": str(warehouse.state_dir), "ENERGY_WAREHOUSE_PORT": str(warehouse.port)}
    output = StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(output):
        for name, value in environment.items():
            patch.setenv(name, value)
        status = main(["upgrade", "--dry-run", "--lake-root", settings.lake_root, "--raw-root", settings.raw_root])
    return status, output.getvalue()


def query(warehouse, sql: str) -> set[tuple]:
    from local_platform.warehouse import control

    with control.session(warehouse) as session:
        return {tuple(row) for row in session.sql(sql.format(database=warehouse.database)).collect()}


def warehouse_columns(warehouse, table: str) -> list[str]:
    from local_platform.warehouse import control

    with control.session(warehouse) as session:
        return [c.upper() for c in session.table(f"{warehouse.database}.CURATED.{table}").columns]


@pytest.fixture(scope="module")
def history(tmp_path_factory, spark):
    from local_platform.warehouse import control
    from snowpark.energy_snowpark.upgrade_warehouse import upgrade_warehouse

    root = tmp_path_factory.mktemp("upgrade-history")
    old = base_checkout(root / "old-code")
    warehouse = control.WarehouseSettings(state_dir=root / "warehouse", port=free_port())
    build_with_old_code(old, root, warehouse.port)
    config = FlowConfig(s3=None, raw_source=root / "raw", lake_root=str(root / "lake"), stage_dir=root / "stage")
    settings = lake_settings(config)
    lake.bind_local_schema(spark, settings)
    tables = [c.name for c in lake_contracts(load_source_definitions()) if lake.exists(spark, settings, c.name)]
    curated_tables = [t.name for t in GOLD_TABLES] + ["load_history"]
    try:
        control.start(warehouse)
        before = {
            "lake": lake_fingerprints(spark, settings, tables),
            "warehouse": warehouse_fingerprints(warehouse, curated_tables),
            "load_history_columns": warehouse_columns(warehouse, "LOAD_HISTORY"),
        }
        dry_lake = upgrade_for_stages(spark, settings, ("bronze", "silver", "gold"), quiet, apply=False)
        with control.session(warehouse) as session:
            dry_warehouse = upgrade_warehouse(session, warehouse.database, apply=False)
        cli_dry_run = run_cli_dry_run(settings, warehouse)
        after_dry = {
            "lake": lake_fingerprints(spark, settings, tables),
            "load_history_columns": warehouse_columns(warehouse, "LOAD_HISTORY"),
        }
        upgraded_lake = upgrade_for_stages(spark, settings, ("bronze", "silver", "gold"), quiet)
        with control.session(warehouse) as session:
            upgraded_warehouse = upgrade_warehouse(session, warehouse.database)
        after = {
            "lake": lake_fingerprints(spark, settings, tables),
            "warehouse": warehouse_fingerprints(warehouse, curated_tables),
            "load_history_columns": warehouse_columns(warehouse, "LOAD_HISTORY"),
            "versions": query(
                warehouse, "SELECT TABLE_NAME, CONTRACT_VERSION FROM {database}.CURATED.CONTRACT_VERSIONS"
            ),
        }
        # The next run with this code: one raw value changed and one event removed -> an incremental batch. The flow
        # starts the warehouse itself, allowed to read its stage folder.
        control.stop(warehouse)
        change_raw_files(config.raw_source)
        second = run_flow(config, warehouse, spark=spark, log=quiet)
        history_versions = query(
            warehouse,
            "SELECT DISTINCT BATCH_ID, CONTRACT_VERSION FROM {database}.CURATED.LOAD_HISTORY WHERE STATUS = 'LOADED'",
        )
        compared = compared_with_full_reload(spark, settings, root, FULL_BATCH, warehouse)
        yield {
            "root": root,
            "old": old,
            "settings": settings,
            "tables": tables,
            "warehouse": warehouse,
            "before": before,
            "after_dry": after_dry,
            "after": after,
            "dry_lake": dry_lake,
            "dry_warehouse": dry_warehouse,
            "cli_dry_run": cli_dry_run,
            "upgraded_lake": upgraded_lake,
            "upgraded_warehouse": upgraded_warehouse,
            "second": second,
            "history_versions": history_versions,
            **compared,
        }
    finally:
        control.stop(warehouse)


def test_the_old_code_made_no_contract_versions_and_the_same_lake_contracts(history, spark):
    """The shared-fields refactor changed no contract: the base commit's contracts have this code's fingerprints."""
    spec = importlib.util.spec_from_file_location("base_tables", history["old"] / "databricks_jobs" / "tables.py")
    base = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = base  # dataclasses look their module up there
    try:
        spec.loader.exec_module(base)
    finally:
        del sys.modules[spec.name]
    assert not hasattr(base, "CONTRACT_VERSION")
    for old in (*base.SILVER_TABLES, *base.GOLD_TABLES, *base.BOOKKEEPING_TABLES, base.bronze_raw_rows("x")):
        columns = tuple(Column(c.name, c.type, c.nullable, c.description) for c in old.columns)
        rebuilt = TableContract(old.name, old.description, columns, old.primary_key, old.cluster_by)
        new = next(c for c in lake_contracts(["x"]) if c.name == old.name)
        assert rebuilt.fingerprint == new.fingerprint, old.name
    assert all(p.recorded_version is None for p in history["dry_lake"] if p.exists)


def test_dry_run_lists_every_table_and_changes_nothing(history):
    dry_lake, dry_warehouse = history["dry_lake"], history["dry_warehouse"]
    assert {p.table for p in dry_lake if p.exists} == set(history["tables"])
    assert all(p.changes and not p.refusals for p in dry_lake if p.exists)
    load_history = next(p for p in dry_warehouse if p.table == "load_history")
    assert [what for what, _ in load_history.changes] == ["add column CONTRACT_VERSION NUMBER(10, 0) (nullable)"]
    status, printed = history["cli_dry_run"]
    assert status == 0, printed
    for table in history["tables"]:  # table by table, lake then warehouse
        assert f"  {table} (contract version unrecorded -> {CONTRACT_VERSION}):" in printed, table
    assert "CURATED.LOAD_HISTORY (contract version unrecorded" in printed
    assert "add column CONTRACT_VERSION NUMBER(10, 0) (nullable)" in printed
    assert history["after_dry"]["lake"] == history["before"]["lake"]
    assert "CONTRACT_VERSION" not in history["after_dry"]["load_history_columns"]


def test_upgrade_keeps_every_row_and_records_the_contract_version(history, spark):
    before, after = history["before"], history["after"]
    assert sum(rows for rows, _ in before["lake"].values()) > 0
    assert after["lake"] == before["lake"]  # counts and checksums, table by table
    old_columns = before["load_history_columns"]
    assert after["load_history_columns"] == [*old_columns, "CONTRACT_VERSION"]  # the additive change
    assert after["warehouse"] == before["warehouse"] | {"load_history": after["warehouse"]["load_history"]}
    # LOAD_HISTORY's checksum changed only by the new (all-null) column: same rows.
    assert after["warehouse"]["load_history"][0] == before["warehouse"]["load_history"][0]
    settings = history["settings"]
    for table in history["tables"]:
        properties = spark.sql(f"DESCRIBE DETAIL {settings.table_name(table)}").first()["properties"]
        assert properties["energy_platform.contract_version"] == str(CONTRACT_VERSION), table
    # The added table: every warehouse table's contract version.
    assert after["versions"] == {(t.name, CONTRACT_VERSION) for t in GOLD_TABLES} | {("load_history", CONTRACT_VERSION)}


def test_an_incremental_export_and_load_after_the_upgrade_equal_a_full_reload(history):
    second = history["second"]
    assert second.manifest["mode"] == "incremental" and second.manifest["contract_version"] == CONTRACT_VERSION
    assert second.load["status"] == "LOADED"
    # The old code's load has no contract version; the new load records the batch's.
    old_batch = next(b for b, _ in history["history_versions"] if b != second.batch_id)
    assert history["history_versions"] == {(old_batch, None), (second.batch_id, CONTRACT_VERSION)}
    assert CHANGED_EVENT not in set(history["curated"]["gold_outages__events"]["event_id"])
    assert_curated_equals_full_reload(history)


def test_the_incremental_batch_carries_only_what_changed(history):
    """The run after the upgrade exports the Gold rows the raw change touched, on top of the old code's batch."""
    second = history["second"]
    old_batch = next(b for b, _ in history["history_versions"] if b != second.batch_id)
    assert second.manifest["base_batch_id"] == old_batch
    entries = {t["name"]: t for t in second.manifest["tables"]}
    full = json.loads((history["root"] / "full-stage" / FULL_BATCH / "_manifest.json").read_text())
    full_rows = {t["name"]: t["row_count"] for t in full["tables"]}
    # One hour changed: its local day; the event removed: its key deleted, its day's reliability recomputed.
    assert entries["gold_demand__daily"]["row_count"] == 1
    assert entries["gold_outages__events"]["deleted_keys"]["row_count"] == 1
    reliability = entries["gold_reliability__daily"]
    assert 0 < reliability["row_count"] + reliability["deleted_keys"]["row_count"] <= 2
    assert sum(t["row_count"] for t in entries.values()) < sum(full_rows.values()) / 100


def test_a_destructive_change_is_refused_and_leaves_every_table_as_it_was(history, spark):
    settings, tables = history["settings"], history["tables"]
    versions = {t: lake.latest_version(spark, settings, t) for t in tables}
    fingerprints = lake_fingerprints(spark, settings, tables)
    dropped = replace(GOLD_DEMAND_DAILY, columns=tuple(c for c in GOLD_DEMAND_DAILY.columns if c.name != "load_factor"))
    contracts = [dropped if c.name == dropped.name else c for c in lake_contracts(load_source_definitions())]
    with pytest.raises(UpgradeRefused) as refused:
        upgrade_lake(spark, settings, contracts, log=quiet)
    assert "gold_demand__daily: column load_factor is stored but not in the contract (dropped or renamed)" in str(
        refused.value
    )
    assert "--full-refresh" in str(refused.value)
    assert {t: lake.latest_version(spark, settings, t) for t in tables} == versions
    assert lake_fingerprints(spark, settings, tables) == fingerprints
