"""Kill the local warehouse server in the middle of a load, restart it, load again: the curated tables must equal a
clean load, and the Parquet files themselves (read by DuckDB, not by the loader). Then the same for an incremental
batch on top of the full one (rows restated, keys deleted): killed and re-run, it must equal the uninterrupted load."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bench.gold_fixture import write_export
from databricks_jobs.export.manifest import INCREMENTAL, build_manifest, publish, table_entry
from databricks_jobs.storage import S3Access
from databricks_jobs.tables import GOLD_TABLES
from local_platform.s3.server import free_port
from local_platform.warehouse import apply_sql, control, runner
from snowpark.energy_snowpark.load_export import load_export
from tests.faults.conftest import REPO_ROOT, kill_pid, kill_process_tree

pytestmark = pytest.mark.e2e

# Seconds a loader gets to exit by itself once its warehouse is killed.
LOADER_GRACE_S = 10


def _load_in_subprocess(settings: control.WarehouseSettings) -> subprocess.Popen:
    env = {**os.environ, "ENERGY_WAREHOUSE_DIR": str(settings.state_dir), "ENERGY_WAREHOUSE_PORT": str(settings.port)}
    return subprocess.Popen(
        [sys.executable, "-m", "local_platform.cli", "warehouse", "load"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _session(settings: control.WarehouseSettings):
    """A Snowpark session for this test process. The connector arms a cancel timer per query (network_timeout); one
    that fires after its server was killed retries for minutes in a non-daemon thread and keeps pytest from exiting,
    so this process allows long statements instead. The loads under test run with the project's own settings."""
    return control.session(settings, network_timeout=900)


def _apply(settings: control.WarehouseSettings, export: Path) -> None:
    with _session(settings) as session:
        apply_sql.apply(session, apply_sql.local_variables(str(export), settings.database))


def _load(settings: control.WarehouseSettings) -> dict:
    with _session(settings) as session:
        reader = runner.local_stage_reader(session, settings.database)
        return load_export(session, runner.stage_name(settings), "LATEST", settings.database, reader)


def _curated(settings: control.WarehouseSettings) -> dict[str, pd.DataFrame]:
    """Every curated Gold table, rows sorted by primary key (column names lower-cased)."""
    with _session(settings) as session:
        frames = {}
        for contract in GOLD_TABLES:
            frame = session.table(f"{settings.database}.CURATED.{contract.name.upper()}").to_pandas()
            frame.columns = [c.lower() for c in frame.columns]
            keys = list(contract.primary_key)
            frames[contract.name] = frame.sort_values(keys).reset_index(drop=True)[contract.column_names]
        return frames


def _parquet_counts_and_sums(export: Path, manifest: dict) -> dict[str, tuple[int, float]]:
    """Per table: rows and the sum of its first double column, read straight from the Parquet files by DuckDB."""
    result = {}
    for table, contract in zip(manifest["tables"], GOLD_TABLES, strict=True):
        files = [str(export / manifest["batch_id"] / f["path"]) for f in table["files"]]
        double = next((c.name for c in contract.columns if c.type == "double"), None)
        total = f"coalesce(sum({double}), 0)" if double else "0"
        rows, value = duckdb.connect().execute(f"SELECT count(*), {total} FROM read_parquet({files})").fetchone()
        result[contract.name] = (int(rows), float(value))
    return result


def _logins(settings: control.WarehouseSettings) -> int:
    """Sessions the server has accepted so far (its log has one line per login)."""
    return settings.log_file.read_text(errors="replace").count("Session login")


def _wait_for_login(settings: control.WarehouseSettings, before: int, loader: subprocess.Popen) -> float:
    """Waits until the loader has logged in (so a kill lands in the load, not in Python start-up); returns when."""
    deadline = time.monotonic() + 300
    while _logins(settings) <= before:
        if loader.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the loader never logged in (rc {loader.poll()}): {loader.communicate()[0][-3000:]!r}")
        time.sleep(0.02)
    return time.monotonic()


def _forget_load(settings: control.WarehouseSettings, batch_id: str) -> None:
    """A load that finished makes its batch the loaded state (its LOADED and UNCHANGED rows), and the next load of it
    would be SKIPPED in no time; forgetting it makes the next attempt copy and apply everything again (same rows, same
    result). An incremental batch forgotten leaves its base as the loaded state, on top of which it is applied again."""
    with _session(settings) as session:
        session.sql(
            f"DELETE FROM {settings.database}.CURATED.LOAD_HISTORY WHERE STATUS IN ('LOADED', 'UNCHANGED') "
            "AND BATCH_ID = ?",
            params=[batch_id],
        ).collect()


def _kill_warehouse_during_load(
    settings: control.WarehouseSettings, export: Path, batch_id: str, after_s: float
) -> bool:
    """Start a load, SIGKILL the warehouse `after_s` seconds into it, restart it; True if the kill cut the load."""
    before = _logins(settings)
    loader = _load_in_subprocess(settings)
    _wait_for_login(settings, before, loader)
    time.sleep(after_s)
    if loader.poll() is not None:
        loader.communicate()
        assert loader.returncode == 0, "a load failed with its warehouse still running"
        _forget_load(settings, batch_id)
        return False
    kill_pid(control.running_pid(settings))
    try:
        # A loader that was done exits at once; one cut mid-load retries its dead server for minutes (the connector's
        # own retries): it has failed, and waiting for it to say so tests nothing (it cost 2 minutes a kill).
        loader.communicate(timeout=LOADER_GRACE_S)
    except subprocess.TimeoutExpired:
        kill_process_tree(loader)
    # A restarted server keeps its tables (DuckDB file) but not its stages: `warehouse start` re-applies sql/.
    control.start(settings)
    _apply(settings, export)
    # Exit code 0: the kill came after the load's last statement, so it cut nothing (and the next try starts over).
    if loader.returncode == 0:
        _forget_load(settings, batch_id)
    return loader.returncode != 0


def _start(tmp_path: Path, name: str, export: Path) -> control.WarehouseSettings:
    settings = control.WarehouseSettings(state_dir=tmp_path / name, port=free_port(), data_dirs=(export,))
    control.start(settings)
    _apply(settings, export)
    return settings


def _expect_25_hour_days(export: Path, manifest: dict) -> None:
    """bench.gold_fixture states 24 expected hours on every day, so its 25-hour fall-back days show completeness above
    100 %, which the load refuses as implausible. Until the fixture counts the day's real hours, state them here:
    hours_expected = hours_reported on those days (same rows, same file)."""
    part = (
        export
        / manifest["batch_id"]
        / next(t for t in manifest["tables"] if t["name"] == "gold_demand__daily")["files"][0]["path"]
    )
    con = duckdb.connect()
    fixed = con.execute(
        f"SELECT * REPLACE (greatest(hours_expected, hours_reported) AS hours_expected, "
        f"100.0 * hours_reported / greatest(hours_expected, hours_reported) AS completeness_pct) FROM '{part}'"
    ).to_arrow_table()
    con.close()
    import pyarrow.parquet as pq

    pq.write_table(fixed, part, compression="snappy")


INCREMENTAL_BATCH = "20260102T000000Z-00be7c41"
# In every table but these, every 3rd row (in key order) is restated by the incremental batch and the next one
# deleted (a batch large enough to be cut mid-load); these are unchanged (no file at all).
UNCHANGED_TABLES = ("gold_reference__regions", "gold_quality__file_accounting")


def _copy_part(con: duckdb.DuckDBPyConnection, query: str, folder: Path) -> dict:
    folder.mkdir(parents=True)
    part = folder / "part-00000.snappy.parquet"
    con.execute(f"COPY ({query}) TO '{part}' (FORMAT parquet, COMPRESSION snappy)")
    rows = con.execute(f"SELECT count(*) FROM '{part}'").fetchone()[0]
    return {"name": part.name, "row_count": rows, "size_bytes": part.stat().st_size}


def _write_incremental(export: Path, base: dict) -> dict:
    """An incremental batch on top of the full one, as the exporter lays it out: upserts (rows restated with the new
    batch id) and deleted keys, no file at all for UNCHANGED_TABLES; published as LATEST."""
    con = duckdb.connect()
    entries = []
    for table, contract in zip(base["tables"], GOLD_TABLES, strict=True):
        files, keys = [], []
        if contract.name not in UNCHANGED_TABLES:
            source = [str(export / base["batch_id"] / f["path"]) for f in table["files"]]
            key = ", ".join(contract.primary_key)
            numbered = f"SELECT *, row_number() OVER (ORDER BY {key}) % 3 AS n__ FROM read_parquet({source})"
            folder = export / INCREMENTAL_BATCH / contract.name
            restated = (
                f"SELECT * EXCLUDE (n__) REPLACE ('{INCREMENTAL_BATCH}' AS batch_id) FROM ({numbered}) WHERE n__ = 0"
            )
            files = [_copy_part(con, restated, folder)]
            keys = [_copy_part(con, f"SELECT {key} FROM ({numbered}) WHERE n__ = 1", folder / "deleted_keys")]
        entries.append(table_entry(contract, files, keys))
    con.close()
    manifest = build_manifest(INCREMENTAL_BATCH, entries, mode=INCREMENTAL, base_batch_id=base["batch_id"])
    publish(str(export), manifest, s3=S3Access())
    return manifest


def _clean_then_killed(
    clean: control.WarehouseSettings, faulty: control.WarehouseSettings, export: Path, batch_id: str
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict]:
    """Load LATEST uninterrupted on `clean`, then on `faulty` with the warehouse killed mid-load (early and late),
    then once more to the end; (clean tables, faulty tables, the last load's report)."""
    # The clean load runs the same way as the killed ones; its time from login to exit places the kill points.
    logins = _logins(clean)
    clean_loader = _load_in_subprocess(clean)
    logged_in = _wait_for_login(clean, logins, clean_loader)
    clean_output = clean_loader.communicate(timeout=600)[0].decode(errors="replace")
    load_seconds = time.monotonic() - logged_in
    assert clean_loader.returncode == 0, clean_output[-3000:]

    # Kill points inside the load: while tables are being staged, and late (apply + commit). On a busy machine
    # a load can outrun the planned point; then it is tried again earlier, until a kill lands mid-load.
    for fraction in (0.4, 0.85):
        for attempt in range(4):
            if _kill_warehouse_during_load(faulty, export, batch_id, fraction * load_seconds * 0.6**attempt):
                break
        else:
            pytest.fail(f"four loads finished before the kill at {fraction:.0%} of the load; nothing was tested")
    report = _load(faulty)
    return _curated(clean), _curated(faulty), report


def _assert_same(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for contract in GOLD_TABLES:
        pd.testing.assert_frame_equal(
            actual[contract.name], expected[contract.name], check_dtype=False, obj=contract.name
        )


def test_load_after_warehouse_killed_mid_load_equals_clean_load(tmp_path):
    export = tmp_path / "export"
    manifest = write_export(export, regions=8, years=1)
    _expect_25_hour_days(export, manifest)
    assert [t["name"] for t in manifest["tables"]] == [c.name for c in GOLD_TABLES]

    clean = _start(tmp_path, "clean", export)
    faulty = _start(tmp_path, "faulty", export)
    try:
        expected, actual, report = _clean_then_killed(clean, faulty, export, manifest["batch_id"])
        incremental = _write_incremental(export, manifest)
        expected_after, actual_after, report_after = _clean_then_killed(clean, faulty, export, INCREMENTAL_BATCH)
    finally:
        control.stop(clean)
        control.stop(faulty)

    # SKIPPED when the last kill landed after the commit: the batch was loaded, and the curated tables say so below.
    assert report["status"] in ("LOADED", "SKIPPED")
    _assert_same(actual, expected)
    parquet = _parquet_counts_and_sums(export, manifest)
    for contract in GOLD_TABLES:
        name = contract.name
        rows, total = parquet[name]
        assert len(actual[name]) == rows, f"{name}: {len(actual[name])} rows loaded, {rows} in the Parquet files"
        double = next((c.name for c in contract.columns if c.type == "double"), None)
        if double:
            assert actual[name][double].fillna(0).sum() == pytest.approx(total, rel=1e-9), name

    # The incremental batch, killed and re-run, equals the uninterrupted one; and it did change what it says.
    assert report_after["status"] in ("LOADED", "SKIPPED") and report_after["batch_id"] == INCREMENTAL_BATCH
    _assert_same(actual_after, expected_after)
    for table, contract in zip(incremental["tables"], GOLD_TABLES, strict=True):
        name = contract.name
        assert len(actual_after[name]) == len(actual[name]) - table["deleted_keys"]["row_count"], name
        restated = int((actual_after[name]["batch_id"] == INCREMENTAL_BATCH).sum())
        assert restated == table["row_count"] and (restated > 0) == (name not in UNCHANGED_TABLES), name
