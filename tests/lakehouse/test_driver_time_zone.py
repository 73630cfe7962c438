"""Instants cross between Python and Spark as UTC whatever the driver process's time zone. PySpark reads a naive
datetime (clock.utc_now's kind) as the process's local time and collects a TIMESTAMP as local wall-clock time; a
laptop in Chicago wrote every *_utc stamp of Bronze and Silver six hours off before. The process runs in
America/Chicago here (the JVM's session time zone stays UTC)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from databricks_jobs import lake
from databricks_jobs.bronze import ingest
from databricks_jobs.clock import from_utc_micros, utc_micros, utc_now
from databricks_jobs.export.feed_window import history
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_BUILD_INPUTS

NOON_UTC = dt.datetime(2026, 1, 1, 12, 0)


@pytest.fixture
def chicago_driver(monkeypatch):
    monkeypatch.setenv("TZ", "America/Chicago")
    time.tzset()
    assert time.localtime(0).tm_hour == 18  # the epoch is 18:00 of the day before in Chicago
    yield
    monkeypatch.undo()
    time.tzset()


def test_micros_of_a_naive_utc_datetime_ignore_the_process_time_zone(chicago_driver):
    assert utc_micros(NOON_UTC) == 1_767_268_800 * 1_000_000  # date -u -d '2026-01-01 12:00' +%s
    assert from_utc_micros(utc_micros(NOON_UTC)) == NOON_UTC


def test_bronze_stamps_its_rows_and_its_file_log_in_utc(spark, chicago_driver, monkeypatch):
    monkeypatch.setattr(ingest, "utc_now", lambda: NOON_UTC)
    rows = lake.rows_frame(
        spark,
        [("f.csv", "h", 1, "a,b", 2)],
        "source_file string, content_hash string, source_row_number bigint, raw_line string, field_count int",
    )
    stamped = ingest.with_lineage(rows, "s", "b").selectExpr("CAST(ingested_at_utc AS STRING) AS at").first()
    assert stamped.at == "2026-01-01 12:00:00"
    record = {"table_name": "t", "inputs_fingerprint": "f", "inputs_json": "{}", "batch_id": "b"}
    logged = lake.records_frame(spark, GOLD_BUILD_INPUTS, [record | {"built_at_utc": NOON_UTC}])
    assert logged.selectExpr("CAST(built_at_utc AS STRING) AS at").first().at == "2026-01-01 12:00:00"


def _one_commit(spark, tmp_path) -> LakeSettings:
    """A lake whose gold__build_inputs has one commit, made now."""
    settings = LakeSettings(lake_root=str(tmp_path / "lake"))
    record = {"table_name": "t", "inputs_fingerprint": "f", "inputs_json": "{}", "batch_id": "b"}
    rows = lake.records_frame(spark, GOLD_BUILD_INPUTS, [record | {"built_at_utc": NOON_UTC}])
    lake.append(spark, settings, GOLD_BUILD_INPUTS, rows)
    return settings


def test_a_commit_s_time_is_read_back_in_utc(spark, chicago_driver, tmp_path):
    before = utc_now()
    settings = _one_commit(spark, tmp_path)
    (newest, *_) = history(spark, settings.table_name(GOLD_BUILD_INPUTS.name))
    assert before - dt.timedelta(seconds=1) <= newest.committed_utc <= utc_now() + dt.timedelta(seconds=1)


def test_a_table_s_last_commit_is_the_same_utc_instant_from_its_log_and_from_describe_detail(
    spark, chicago_driver, tmp_path
):
    settings = _one_commit(spark, tmp_path)
    name = settings.table_name(GOLD_BUILD_INPUTS.name)
    from_log = lake.metadata(spark, settings, GOLD_BUILD_INPUTS.name)  # Delta's snapshot, locally
    from_detail = lake.described_metadata(spark.sql(f"DESCRIBE DETAIL {name}"))  # what Unity Catalog answers
    (newest, *_) = history(spark, name)
    assert from_log.last_modified_utc == from_detail.last_modified_utc
    assert from_log.last_modified_utc[:19] == newest.committed_utc.isoformat()[:19]
