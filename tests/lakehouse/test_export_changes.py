"""Change-data export: a batch carries only what changed in Gold since LATEST's batch, netted per key; no change, no
batch; a feed that cannot cover the gap gives a full snapshot; applying the batches in order equals a full snapshot."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from databricks_jobs import lake, tables
from databricks_jobs.export import export_gold, verify_export
from databricks_jobs.export.changes import net_changes
from databricks_jobs.gold.runner import build_gold
from databricks_jobs.progress import quiet
from databricks_jobs.settings import LakeSettings
from databricks_jobs.storage import S3Access
from databricks_jobs.tables import GOLD_TABLES, SILVER_DEMAND_HOURLY, SILVER_WEATHER_HOURLY
from tests.lakehouse.export_batches import applied, batch_frames, canonical

pytestmark = pytest.mark.spark

SILVER_1, SILVER_2 = "20261101T000000Z-00000001", "20261102T000000Z-00000002"
EXPORT_1, EXPORT_2, EXPORT_3, EXPORT_4 = (f"2026110{i}T120000Z-0000000{i}" for i in range(1, 5))
START = datetime(2025, 3, 3, 6)  # 06:00 UTC = midnight CST: hour i is local day i // 24


# --- the netting of a change feed, by hand -------------------------------------------------------------------------


def test_net_changes_keeps_the_state_before_the_first_and_after_the_last_change(spark):
    contract = tables.GOLD_REFERENCE_REGIONS
    columns = contract.column_names

    def region(code: str, name: str, batch: str = "b") -> tuple:
        return (code, name, None, False, "America/Chicago", None, batch)

    feed_rows = [
        (*region("NEW", "added"), "insert", 2),  # inserted: upsert
        (*region("UPD", "old"), "update_preimage", 2),  # updated: upsert the post-image
        (*region("UPD", "new"), "update_postimage", 2),
        (*region("GONE", "x"), "delete", 3),  # deleted: its key travels
        (*region("SAME", "s", "b1"), "delete", 4),  # an overwrite re-wrote it unchanged: nothing travels
        (*region("SAME", "s", "b1"), "insert", 4),
        (*region("BLIP", "t"), "insert", 2),  # inserted then deleted again: nothing travels
        (*region("BLIP", "t"), "delete", 3),
        (*region("BACK", "v1"), "delete", 2),  # deleted then inserted with other values: upsert
        (*region("BACK", "v2"), "insert", 4),
        (*region("TWICE", "a"), "update_preimage", 2),  # two updates: before of the first, after of the last
        (*region("TWICE", "b"), "update_postimage", 2),
        (*region("TWICE", "b"), "update_preimage", 3),
        (*region("TWICE", "a"), "update_postimage", 3),  # ... which equal each other: nothing travels
    ]
    schema = contract.spark_schema().add("_change_type", "string").add("_commit_version", "long")
    feed = spark.createDataFrame(feed_rows, schema)
    upserts, deletes = net_changes(feed, contract)
    assert sorted((r.region_code, r.region_name) for r in upserts.collect()) == [
        ("BACK", "v2"),
        ("NEW", "added"),
        ("UPD", "new"),
    ]
    assert upserts.columns == columns
    assert [tuple(r) for r in deletes.collect()] == [("GONE",)]


# --- a lake whose Gold changes between exports ----------------------------------------------------------------------


def silver_rows(spark, settings: LakeSettings) -> None:
    demand = [
        ("s", "COAST", START + timedelta(hours=i), START + timedelta(hours=i + 1), 900.0 + i, 900.0 + i, None, False)
        + ("f.csv", i, SILVER_1)
        for i in range(72)
    ]
    weather = [("noaa", "HOUSTON", "COAST", START + timedelta(hours=i), 10.0, "w.csv", i, SILVER_1) for i in range(72)]
    for rows, contract in ((demand, SILVER_DEMAND_HOURLY), (weather, SILVER_WEATHER_HOURLY)):
        lake.append(spark, settings, contract, spark.createDataFrame(rows, contract.spark_schema()))


@pytest.fixture(scope="module")
def lake_with_changes(spark, tmp_path_factory) -> tuple[LakeSettings, dict[str, dict | None]]:
    """Gold built and exported (full), then one Silver hour changed and a region removed from Gold, exported again
    (incremental), exported a third time with nothing changed, and a full snapshot of the final state."""
    root = tmp_path_factory.mktemp("export-changes")
    settings = LakeSettings(lake_root=str(root / "lake"), export_root=str(root / "export"))
    silver_rows(spark, settings)
    build_gold(spark, settings, SILVER_1, log=quiet)
    manifests = {EXPORT_1: export_gold(spark, settings, EXPORT_1, log=quiet)}
    # One hour of the second local day changes (its batch is new to Gold): the touched Gold keys are recomputed.
    lake.delta_table(spark, settings, SILVER_DEMAND_HOURLY.name).update(
        F.col("interval_start_utc") == START + timedelta(hours=30),
        {"demand_mw": F.lit(5000.0), "batch_id": F.lit(SILVER_2)},
    )
    build_gold(spark, settings, SILVER_2, log=quiet)
    lake.delta_table(spark, settings, tables.GOLD_REFERENCE_REGIONS.name).delete(F.col("region_code") == "ATL")
    manifests[EXPORT_2] = export_gold(spark, settings, EXPORT_2, log=quiet)
    manifests[EXPORT_3] = export_gold(spark, settings, EXPORT_3, log=quiet)
    full = LakeSettings(lake_root=settings.lake_root, export_root=str(root / "full-export"))
    manifests[EXPORT_4] = export_gold(spark, full, EXPORT_4, log=quiet, full=True)
    return settings, manifests


def test_first_export_is_a_full_snapshot(lake_with_changes):
    _, manifests = lake_with_changes
    first = manifests[EXPORT_1]
    assert (first["mode"], first["base_batch_id"]) == ("full", None)
    daily = next(t for t in first["tables"] if t["name"] == "gold_demand__daily")
    assert daily["row_count"] == 3 and daily["gold_version"] is not None


def test_only_the_touched_gold_keys_travel(lake_with_changes):
    settings, manifests = lake_with_changes
    second = manifests[EXPORT_2]
    assert (second["mode"], second["base_batch_id"]) == ("incremental", EXPORT_1)
    travelled = {t["name"]: (t["row_count"], t["deleted_keys"]["row_count"]) for t in second["tables"]}
    # The changed hour: its local day, its (month, day type, hour) profile row, its hour with weather, its month's
    # coincident peak (5,000 MW is the new peak); one region deleted; nothing else.
    assert travelled == {
        t.name: {
            "gold_demand__daily": (1, 0),
            "gold_demand__hourly_profile": (1, 0),
            "gold_demand__hourly_weather": (1, 0),
            "gold_demand__monthly_coincident_peak": (1, 0),
            "gold_reference__regions": (0, 1),
        }.get(t.name, (0, 0))
        for t in GOLD_TABLES
    }
    root = Path(settings.export_root)
    daily, _ = batch_frames(root, EXPORT_2, tables.GOLD_DEMAND_DAILY)
    assert daily["date_local"].astype(str).tolist() == ["2025-03-04"]
    assert daily["peak_demand_mw"].tolist() == [5000.0]
    _, deleted = batch_frames(root, EXPORT_2, tables.GOLD_REFERENCE_REGIONS)
    assert deleted.to_dict("records") == [{"region_code": "ATL"}]
    assert verify_export(settings.export_root, EXPORT_2, s3=settings.s3)["mode"] == "incremental"


def test_no_change_in_gold_no_new_batch(lake_with_changes):
    settings, manifests = lake_with_changes
    assert manifests[EXPORT_3] is None
    assert not (Path(settings.export_root) / EXPORT_3).exists()
    assert (Path(settings.export_root) / "LATEST").read_text().strip() == EXPORT_2


def test_full_then_incremental_equals_a_full_snapshot_row_for_row(lake_with_changes):
    settings, _ = lake_with_changes
    root, full_root = Path(settings.export_root), Path(settings.export_root).with_name("full-export")
    for contract in GOLD_TABLES:
        key = list(contract.primary_key)
        state, _ = batch_frames(root, EXPORT_1, contract)
        rows, deleted = batch_frames(root, EXPORT_2, contract)
        expected, _ = batch_frames(full_root, EXPORT_4, contract)
        result = applied(state, rows, deleted, key)
        assert len(result) == len(expected), contract.name
        if len(expected):
            pd.testing.assert_frame_equal(
                canonical(result[expected.columns], key), canonical(expected, key), check_dtype=False
            )


def test_a_vacuumed_feed_gives_a_full_snapshot(spark, lake_with_changes, tmp_path):
    settings, _ = lake_with_changes
    lake_copy, export_copy = tmp_path / "lake", tmp_path / "export"
    shutil.copytree(settings.lake_root, lake_copy)
    shutil.copytree(settings.export_root, export_copy)
    copy = LakeSettings(lake_root=str(lake_copy), export_root=str(export_copy))
    lake.bind_local_schema(spark, copy)
    try:
        # A MERGE update after LATEST, then its change files gone (what VACUUM does after the retention period).
        daily = lake.delta_table(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        daily.update(F.col("date_local") == F.lit("2025-03-03").cast("date"), {"hours_reported": F.lit(23)})
        shutil.rmtree(lake_copy / tables.GOLD_DEMAND_DAILY.name / "_change_data")
        messages: list[str] = []
        manifest = export_gold(spark, copy, "20261105T120000Z-00000005", log=messages.append)
    finally:
        lake.bind_local_schema(spark, settings)
    assert manifest["mode"] == "full" and manifest["base_batch_id"] is None
    assert any("full snapshot" in m for m in messages), messages
    daily_entry = next(t for t in manifest["tables"] if t["name"] == "gold_demand__daily")
    assert daily_entry["row_count"] == 3


def test_an_export_killed_before_its_manifest_is_redone_whole(spark, lake_with_changes, tmp_path, monkeypatch, request):
    settings, _ = lake_with_changes
    # a copy of the lake too: the module's lake is shared, and a row deleted from it would be a change every later
    # test's export finds
    copy = _copy(spark, settings, tmp_path)
    request.addfinalizer(lambda: lake.bind_local_schema(spark, settings))
    export_copy = tmp_path / "export"
    batch = "20261106T120000Z-00000006"
    lake.delta_table(spark, copy, tables.GOLD_REFERENCE_REGIONS.name).delete(F.col("region_code") == "WEST")
    from databricks_jobs.export import parquet_export

    real = parquet_export._export_table
    calls = []

    def dies_on_the_third_table(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(parquet_export, "_export_table", dies_on_the_third_table)
    with pytest.raises(RuntimeError, match="killed"):
        export_gold(spark, copy, batch, log=quiet)
    assert (export_copy / batch).exists() and not (export_copy / batch / "_manifest.json").exists()
    assert (export_copy / "LATEST").read_text().strip() == EXPORT_2
    stray = export_copy / batch / "gold_demand__daily" / "part-00000-stray.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by the dead attempt")
    monkeypatch.setattr(parquet_export, "_export_table", real)
    manifest = export_gold(spark, copy, batch, log=quiet)
    assert not stray.exists()
    assert (manifest["mode"], manifest["base_batch_id"]) == ("incremental", EXPORT_2)
    regions = next(t for t in manifest["tables"] if t["name"] == "gold_reference__regions")
    assert (regions["row_count"], regions["deleted_keys"]["row_count"]) == (0, 1)
    assert verify_export(str(export_copy), s3=S3Access())["batch_id"] == batch


# --- LATEST only moves forward; commits without row changes; the feed's reach decided up front ---------------------


def _copy(spark, settings: LakeSettings, tmp_path: Path) -> LakeSettings:
    """A copy of the module's lake and export, bound as the session's schema (the caller binds the original back)."""
    shutil.copytree(settings.lake_root, tmp_path / "lake")
    shutil.copytree(settings.export_root, tmp_path / "export")
    copy = LakeSettings(lake_root=str(tmp_path / "lake"), export_root=str(tmp_path / "export"))
    lake.bind_local_schema(spark, copy)
    for contract in GOLD_TABLES:
        lake.exists(spark, copy, contract.name)  # registers the copied table in the local catalog
    return copy


def _no_feed_read(*args, **kwargs):
    raise AssertionError("the change data feed was read: the gap should have been decided up front")


def _decided_full(spark, copy: LakeSettings, batch: str, monkeypatch) -> tuple[dict, str]:
    """Export `copy` with the change feed unreadable: (the manifest, which must be a full snapshot, and the one
    reason logged for it)."""
    monkeypatch.setattr(lake, "changes", _no_feed_read)
    messages: list[str] = []
    manifest = export_gold(spark, copy, batch, log=messages.append)
    assert (manifest["mode"], manifest["base_batch_id"]) == ("full", None)
    (reason,) = [m for m in messages if "full snapshot" in m]
    return manifest, reason


def test_a_repaired_older_run_never_moves_latest_back(spark, lake_with_changes, tmp_path):
    settings, _ = lake_with_changes
    export_copy = tmp_path / "export"
    shutil.copytree(settings.export_root, export_copy)
    copy = LakeSettings(lake_root=settings.lake_root, export_root=str(export_copy))
    messages: list[str] = []
    # its manifest exists (the run exported before): verified, LATEST stays at the newer batch
    assert export_gold(spark, copy, EXPORT_1, log=messages.append)["batch_id"] == EXPORT_1
    assert (export_copy / "LATEST").read_text().strip() == EXPORT_2
    # a run older than LATEST that never exported: nothing written, a clean exit that says why
    older = "20261101T130000Z-0000000a"
    assert export_gold(spark, copy, older, log=messages.append) is None
    assert not (export_copy / older).exists() and (export_copy / "LATEST").read_text().strip() == EXPORT_2
    assert f"export {older}: LATEST is the newer batch {EXPORT_2}; an older run exports nothing" in messages[-1]


def test_commits_that_change_no_row_publish_no_batch(spark, lake_with_changes, tmp_path):
    settings, _ = lake_with_changes
    copy = _copy(spark, settings, tmp_path)
    try:
        before = lake.latest_version(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        daily = lake.delta_table(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        daily.update(F.lit(True), {"hours_reported": F.col("hours_reported")})  # every row rewritten, as it was
        for contract in GOLD_TABLES:
            if lake.exists(spark, copy, contract.name):  # not every Gold table is built from this lake's Silver
                spark.sql(f"OPTIMIZE {copy.table_name(contract.name)}").collect()
        assert lake.latest_version(spark, copy, tables.GOLD_DEMAND_DAILY.name) > before
        messages: list[str] = []
        assert export_gold(spark, copy, "20261107T120000Z-00000007", log=messages.append) is None
    finally:
        lake.bind_local_schema(spark, settings)
    assert messages[-1] == f"  export: no Gold row changed since batch {EXPORT_2}: no new batch"
    assert not (tmp_path / "export" / "20261107T120000Z-00000007").exists()
    assert (tmp_path / "export" / "LATEST").read_text().strip() == EXPORT_2


def test_changes_older_than_the_retention_give_a_full_snapshot_up_front(
    spark, lake_with_changes, tmp_path, monkeypatch
):
    settings, _ = lake_with_changes
    copy = _copy(spark, settings, tmp_path)
    name = copy.table_name(tables.GOLD_DEMAND_DAILY.name)
    try:
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('delta.deletedFileRetentionDuration' = 'interval 1 seconds')")
        daily = lake.delta_table(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        daily.update(F.col("date_local") == F.lit("2025-03-03").cast("date"), {"hours_reported": F.lit(23)})
        time.sleep(1.5)  # the update is now older than the table's retention: VACUUM may take its change files
        _, reason = _decided_full(spark, copy, "20261108T120000Z-00000008", monkeypatch)
    finally:
        lake.bind_local_schema(spark, settings)
    assert (
        "gold_demand__daily: version" in reason and "delta.deletedFileRetentionDuration (interval 1 seconds)" in reason
    )


def test_a_truncated_log_gives_a_full_snapshot_up_front(spark, lake_with_changes, tmp_path, monkeypatch):
    settings, _ = lake_with_changes
    copy = _copy(spark, settings, tmp_path)
    name = copy.table_name(tables.GOLD_DEMAND_DAILY.name)
    log_folder = tmp_path / "lake" / tables.GOLD_DEMAND_DAILY.name / "_delta_log"
    try:
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('delta.checkpointInterval' = '1')")
        daily = lake.delta_table(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        daily.update(F.col("date_local") == F.lit("2025-03-03").cast("date"), {"hours_reported": F.lit(23)})
        checkpoint = lake.latest_version(spark, copy, tables.GOLD_DEMAND_DAILY.name)
        assert (log_folder / f"{checkpoint:020d}.checkpoint.parquet").exists()
        for commit in log_folder.glob("*.json"):  # what log clean-up does after delta.logRetentionDuration
            if int(commit.name.split(".")[0]) < checkpoint:
                commit.unlink()
                commit.with_name(f".{commit.name}.crc").unlink(missing_ok=True)
        manifest, reason = _decided_full(spark, copy, "20261109T120000Z-00000009", monkeypatch)
    finally:
        lake.bind_local_schema(spark, settings)
    assert f"gold_demand__daily: the log starts at version {checkpoint}" in reason
    daily_entry = next(t for t in manifest["tables"] if t["name"] == "gold_demand__daily")
    assert daily_entry["row_count"] == 3


def test_a_re_created_table_gives_a_full_snapshot_up_front(spark, lake_with_changes, tmp_path, monkeypatch):
    """Dropped and made again with the same rows, then written past the exported version: its versions and change
    feed look like a continuation, but they are another table's (another id), so no feed of it is read."""
    settings, manifests = lake_with_changes
    copy = _copy(spark, settings, tmp_path)
    contract = tables.GOLD_DEMAND_DAILY
    exported = next(t for t in manifests[EXPORT_2]["tables"] if t["name"] == contract.name)
    try:
        old_id = lake.table_state(spark, copy, contract.name).table_id
        rows = lake.read(spark, copy, contract.name).collect()
        spark.sql(f"DROP TABLE {copy.table_name(contract.name)}")
        shutil.rmtree(tmp_path / "lake" / contract.name)
        lake.overwrite(spark, copy, contract, spark.createDataFrame(rows, contract.spark_schema()))
        daily = lake.delta_table(spark, copy, contract.name)
        while lake.latest_version(spark, copy, contract.name) <= exported["gold_version"]:
            daily.update(F.col("date_local") == F.lit("2025-03-03").cast("date"), {"hours_reported": F.lit(23)})
        new_id = lake.table_state(spark, copy, contract.name).table_id
        manifest, reason = _decided_full(spark, copy, "20261110T120000Z-00000010", monkeypatch)
    finally:
        lake.bind_local_schema(spark, settings)
    assert new_id != old_id == exported["gold_table_id"]
    assert f"{contract.name} was re-created (table id {old_id} -> {new_id})" in reason
    entry = next(t for t in manifest["tables"] if t["name"] == contract.name)
    assert (entry["row_count"], entry["gold_table_id"]) == (len(rows), new_id)


def test_few_changes_cross_the_driver_many_a_staging_table_and_the_batches_are_equal(
    spark, lake_with_changes, tmp_path, monkeypatch
):
    """A table's netted changes up to lake.DRIVER_ROWS are collected to the driver (no staging table written), more
    are staged to Delta first: the same batch either way."""
    settings, _ = lake_with_changes
    batch = "20261108T120000Z-00000008"
    daily, regions = tables.GOLD_DEMAND_DAILY, tables.GOLD_REFERENCE_REGIONS
    frames = {}
    for path, driver_rows in (("driver", None), ("staged", 0)):
        copy = _copy(spark, settings, tmp_path / path)
        try:
            # every day of the lake (3) changes one value; one region is deleted
            lake.delta_table(spark, copy, daily.name).update(F.lit(True), {"hours_reported": F.lit(20)})
            lake.delta_table(spark, copy, regions.name).delete(F.col("region_code") == "COAST")
            with monkeypatch.context() as patch:
                if driver_rows is not None:
                    patch.setattr(lake, "DRIVER_ROWS", driver_rows)
                manifest = export_gold(spark, copy, batch, log=quiet)
            staged = {c.name for c in (daily, regions) if lake.exists(spark, copy, tables.export_staging(c.name))}
        finally:
            lake.bind_local_schema(spark, settings)
        assert staged == ({daily.name, regions.name} if driver_rows == 0 else set()), path
        travelled = {t["name"]: (t["row_count"], t["deleted_keys"]["row_count"]) for t in manifest["tables"]}
        assert travelled == {
            t.name: {daily.name: (3, 0), regions.name: (0, 1)}.get(t.name, (0, 0)) for t in GOLD_TABLES
        }
        frames[path] = {c.name: batch_frames(Path(copy.export_root), batch, c) for c in (daily, regions)}
    days, _ = frames["driver"][daily.name]
    assert sorted(days["date_local"].astype(str)) == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert days["hours_reported"].tolist() == [20, 20, 20]
    assert frames["driver"][regions.name][1].to_dict("records") == [{"region_code": "COAST"}]
    for name in (daily.name, regions.name):
        for got, want in zip(frames["staged"][name], frames["driver"][name], strict=True):
            pd.testing.assert_frame_equal(canonical(got, list(got.columns)), canonical(want, list(want.columns)))
