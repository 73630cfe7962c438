"""Gold written incrementally (MERGE of the keys new Silver batches touch) equals a full rebuild; re-runs are no-ops."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from databricks_jobs import lake
from databricks_jobs.gold.runner import build_gold
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import (
    GOLD_PROCESSED_SILVER_BATCHES,
    SILVER_DEMAND_HOURLY,
    SILVER_QUARANTINE,
    SILVER_WEATHER_HOURLY,
)

pytestmark = pytest.mark.spark

TABLES = [
    "gold_demand__daily",
    "gold_demand__hourly_profile",
    "gold_demand__hourly_weather",
    "gold_weather__daily_degree_days",
    "gold_demand__monthly_coincident_peak",
]


def append_silver(spark, settings: LakeSettings, batch: str, start: datetime, hours: int) -> None:
    """Silver rows of one batch for COAST and EAST (demand) and HOUSTON (weather), as the Silver part writes them,
    and a quarantined row."""
    demand, weather = [], []
    for i in range(hours):
        t = start + timedelta(hours=i)
        for region, base in (("COAST", 10000.0), ("EAST", 1500.0)):
            value = base + (i * 53) % 400
            demand.append(("s", region, t, t + timedelta(hours=1), value, value, None, False, "f.csv", i, batch))
        weather.append(("noaa", "HOUSTON", "COAST", t, 10.0 + (i % 24), "w.csv", i, batch))
    quarantine = [("s", "f.csv", hours, "", "unparseable_timestamp", "interval_start: 'x'", None, batch)]
    for rows, contract in (
        (demand, SILVER_DEMAND_HOURLY),
        (weather, SILVER_WEATHER_HOURLY),
        (quarantine, SILVER_QUARANTINE),
    ):
        lake.append(spark, settings, contract, spark.createDataFrame(rows, contract.spark_schema()))


def snapshot(spark, settings: LakeSettings, name: str, with_batch: bool = True) -> list[tuple]:
    frame = lake.read(spark, settings, name)
    if not with_batch:
        frame = frame.drop("batch_id")
    rows = [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in frame.collect()]
    return sorted(rows, key=repr)


def test_incremental_gold_equals_full_rebuild_and_reruns_change_nothing(spark, tmp_path):
    incremental = LakeSettings(lake_root=str(tmp_path / "lake"), schema="gold_incremental")
    # Day 1..3 of March 2021 (local), then a second batch with Mar 3 18:00 local onwards: it touches Mar 3 and 4.
    append_silver(spark, incremental, "20210301T000000Z-00000001", datetime(2021, 3, 1, 6), 66)
    build_gold(spark, incremental, "20210301T000000Z-00000001", tables=None, log=lambda _: None)
    before = {name: snapshot(spark, incremental, name) for name in TABLES}

    append_silver(spark, incremental, "20210304T000000Z-00000002", datetime(2021, 3, 4, 0), 30)
    results = build_gold(spark, incremental, "20210304T000000Z-00000002", log=lambda _: None)

    full = LakeSettings(lake_root=str(tmp_path / "full"), schema="gold_full_rebuild")
    for contract in (SILVER_DEMAND_HOURLY, SILVER_WEATHER_HOURLY):
        lake.append(spark, full, contract, lake.read(spark, incremental, contract.name))
    build_gold(spark, full, "20210304T000000Z-00000003", full_refresh=True, log=lambda _: None)
    for name in TABLES:
        assert snapshot(spark, incremental, name, with_batch=False) == snapshot(spark, full, name, with_batch=False), (
            name
        )

    daily = {(r[1], str(r[2])): r for r in snapshot(spark, incremental, "gold_demand__daily")}
    # Mar 1 and 2 were not touched by the second batch: they keep the first batch id; Mar 3 was recomputed.
    assert daily[("COAST", "2021-03-01")][-1] == "20210301T000000Z-00000001"
    assert daily[("COAST", "2021-03-03")][-1] == "20210304T000000Z-00000002"
    assert set(before["gold_demand__daily"]) - set(snapshot(spark, incremental, "gold_demand__daily"))  # Mar 3 changed
    assert results["gold_demand__daily"]["rows_written"] == 4  # Mar 3 updated, Mar 4 inserted, x 2 regions

    settled = {name: snapshot(spark, incremental, name) for name in TABLES}
    again = build_gold(spark, incremental, "20210305T000000Z-00000004", log=lambda _: None)
    assert all(again[name]["rows_written"] == 0 for name in TABLES)
    assert {name: snapshot(spark, incremental, name) for name in TABLES} == settled
    # Gold records the batches of the upsert builders' inputs, which alone read that record; the quarantine's batches
    # (read whole by a sync builder, which summarised both) are not listed.
    assert results["gold_quality__quarantine_summary"]["rows_written"] == 1
    recorded = sorted(map(tuple, lake.read(spark, incremental, GOLD_PROCESSED_SILVER_BATCHES.name).collect()))
    batches = ["20210301T000000Z-00000001", "20210304T000000Z-00000002"]
    assert recorded == [(table.name, b) for table in (SILVER_DEMAND_HOURLY, SILVER_WEATHER_HOURLY) for b in batches]


def test_builders_run_at_once_and_a_failure_keeps_what_the_others_built(spark, tmp_path, monkeypatch):
    """Builders run in threads; the one that fails (here the last) is raised after the others have written their
    tables and remembered their inputs, so the re-run builds only the failed table."""
    from dataclasses import replace

    import databricks_jobs.gold.runner as runner

    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="gold_concurrent")
    append_silver(spark, settings, "20210301T000000Z-00000001", datetime(2021, 3, 1, 6), 30)
    builders = runner.gold_builders()
    threads: set[str] = set()

    def recorded(build):
        def build_in_thread(ctx):
            threads.add(threading.current_thread().name)
            return build(ctx)

        return build_in_thread

    def boom(ctx):
        raise RuntimeError("boom in the last builder")

    # The failing builder is submitted last, so every other one has started when it fails.
    last = next(b for b in builders if b.table.name == "gold_demand__monthly_coincident_peak")
    others = [b for b in builders if b is not last]
    failing = tuple(replace(b, build=recorded(b.build)) for b in others) + (replace(last, build=boom),)
    monkeypatch.setattr(runner, "gold_builders", lambda: failing)
    with pytest.raises(RuntimeError, match="boom in the last builder"):
        build_gold(spark, settings, "20210301T000000Z-00000001", log=lambda _: None)
    assert len(threads) > 1, threads

    monkeypatch.setattr(runner, "gold_builders", lambda: builders)
    again = build_gold(spark, settings, "20210301T000000Z-00000001", log=lambda _: None)
    assert list(again) == [b.table.name for b in builders]  # reported in the builders' order
    assert again[last.table.name]["operation"] == "overwrite"  # its first write
    # The others were built and remembered in the failed run (those without input had nothing to remember).
    assert {again[name]["operation"] for name in TABLES if name != last.table.name} == {"unchanged inputs"}
    assert {again[b.table.name]["operation"] for b in others} <= {"unchanged inputs", "no input"}


def test_a_missing_gold_table_is_built_from_all_of_silver(spark, tmp_path):
    """A Gold table that is not there (dropped, or added by a release) after Gold has processed every Silver batch is
    built from all of Silver on the next run, as upgrade.py promises, not only from the batches that are new."""
    import shutil
    from pathlib import Path

    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="gold_missing_table")
    append_silver(spark, settings, "20210301T000000Z-00000001", datetime(2021, 3, 1, 6), 66)
    build_gold(spark, settings, "20210301T000000Z-00000001", log=lambda _: None)
    built = {name: snapshot(spark, settings, name, with_batch=False) for name in TABLES}
    assert all(built.values())

    for name in TABLES:
        spark.sql(f"DROP TABLE {settings.table_name(name)}")
        shutil.rmtree(Path(settings.lake_root) / name)
    results = build_gold(spark, settings, "20210302T000000Z-00000002", log=lambda _: None)
    assert {name: results[name]["rows_written"] for name in TABLES} == {name: len(built[name]) for name in TABLES}
    assert {name: snapshot(spark, settings, name, with_batch=False) for name in TABLES} == built


def test_a_shared_result_is_computed_once_onto_the_driver_or_into_a_staging_table(spark, tmp_path, monkeypatch):
    """GoldContext.computed_once: up to lake.DRIVER_ROWS rows are collected once and shared as a local frame (its plan
    reads nothing again); more are staged once and every builder reads the staging table, not the plan. The same
    rows, with their instants, either way; a name that is not a registered shared result is refused (its staging
    table would not be known to tables.staging_tables, which the pipeline keeps)."""
    from pyspark.sql import functions as F

    from databricks_jobs.gold.context import GoldContext
    from databricks_jobs.tables import gold_shared_staging

    def plan():
        return spark.range(3).withColumn("at_utc", F.timestamp_seconds(F.col("id") * 3600))

    expected = sorted(plan().collect())
    settings = LakeSettings(lake_root=str(tmp_path / "lake"), schema="gold_computed_once")
    small = GoldContext(spark, settings, "b").computed_once("reliability_daily", plan)
    assert sorted(small.collect()) == expected
    # Rows sent from the driver (classic Spark parallelizes them; Spark Connect sends a local relation), not the plan.
    assert "Range" not in small._jdf.queryExecution().executedPlan().toString()
    assert not lake.exists(spark, settings, gold_shared_staging("reliability_daily"))
    monkeypatch.setattr(lake, "DRIVER_ROWS", 2)
    large = GoldContext(spark, settings, "b").computed_once("reliability_daily", plan)
    assert sorted(large.collect()) == expected
    executed = large._jdf.queryExecution().executedPlan().toString()
    assert "Range" not in executed and gold_shared_staging("reliability_daily") in executed
    assert sorted(lake.read(spark, settings, gold_shared_staging("reliability_daily")).collect()) == expected
    with pytest.raises(ValueError, match="'daily' is not a shared Gold result"):
        GoldContext(spark, settings, "b").computed_once("daily", plan)
