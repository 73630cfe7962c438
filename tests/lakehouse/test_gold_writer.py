"""write_gold's row counts: an overwrite's from its own commit (no scan of the table), a MERGE's from what
`execute()` returns, or, on a runtime where it returns None (Delta before 3.0; the MERGE has committed by then),
from the MERGE's commit. Nothing is persisted (serverless refuses DataFrame.persist / cache).

Docs: Delta Lake "Table utility commands: history" (operationMetrics of WRITE and MERGE,
https://docs.delta.io/latest/delta-utility.html#history-schema), Delta Lake 3.0 release notes (DeltaMergeBuilder.
execute returns the MERGE's metrics as a DataFrame), "Serverless compute limitations"
(https://docs.databricks.com/aws/en/compute/serverless/limitations).
"""

from __future__ import annotations

import uuid

import pytest
from delta.tables import DeltaMergeBuilder

from databricks_jobs.gold.writer import write_gold
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import Column, TableContract


def _contract(name: str, value: Column) -> TableContract:
    """A small Gold-shaped table: region_code (its key), one value column, batch_id."""
    columns = (Column("region_code", "string", False), value, Column("batch_id", "string", False))
    return TableContract(
        name, f"a small Gold-shaped table for the writer's tests ({value.name})", columns, ("region_code",)
    )


CONTRACT = _contract("gold_test__writer", Column("energy_mwh", "double", True))
# An instant, as the demand tables' peak_interval_start_utc.
PEAKS = _contract("gold_test__writer_instants", Column("peak_interval_start_utc", "timestamp", True))


@pytest.fixture()
def settings(tmp_path) -> LakeSettings:
    return LakeSettings(lake_root=str(tmp_path / "lake"), schema=f"writer_{uuid.uuid4().hex[:8]}")


def _rows(spark, *rows: tuple[str, float, str]):
    return spark.createDataFrame(list(rows), CONTRACT.spark_schema())


def _table_rows(spark, settings: LakeSettings) -> list[tuple[str, float, str]]:
    table = spark.read.table(settings.table_name(CONTRACT.name))
    return sorted((r.region_code, r.energy_mwh, r.batch_id) for r in table.collect())


@pytest.fixture(params=["returns metrics", "returns None"])
def merge_result(request, monkeypatch):
    """Delta's execute() as this runtime has it, or as a runtime that returns None after committing; the writer
    learns which from its first MERGE (here, the test's first)."""
    from databricks_jobs.gold import writer

    monkeypatch.setitem(writer._MERGE_COUNTS, "returned", False)
    if request.param == "returns None":
        original = DeltaMergeBuilder.execute

        def execute_returning_none(self):
            original(self)
            return None

        monkeypatch.setattr(DeltaMergeBuilder, "execute", execute_returning_none)
    return request.param


def test_counts_come_from_the_write_and_the_merge(spark, settings, merge_result, monkeypatch):
    from databricks_jobs.gold import writer

    history_reads = []
    read_history = writer._history
    monkeypatch.setattr(writer, "_history", lambda *args: history_reads.append(args[-1]) or read_history(*args))
    first = write_gold(
        spark, settings, CONTRACT, _rows(spark, ("A", 1.0, "b1"), ("B", 2.0, "b1"), ("C", 3.0, "b1")), "upsert", False
    )
    assert first == {"operation": "overwrite", "rows_written": 3}

    # B changes, D is new, A and C are the same: 1 update + 1 insert
    changed = _rows(spark, ("A", 1.0, "b2"), ("B", 2.5, "b2"), ("D", 4.0, "b2"))
    assert write_gold(spark, settings, CONTRACT, changed, "upsert", False) == {
        "operation": "merge",
        "rows_written": 2,
        "rows_deleted": 0,
    }
    # From the table's history: the overwrite's count, the version before the first MERGE (and, where execute()
    # returns None, the MERGE's counts).
    returned = merge_result == "returns metrics"
    assert history_reads == ([3, 1] if returned else [3, 1, 1])
    # the same rows again: the MERGE changes nothing and counts nothing (not the previous commit's figures)
    again = _rows(spark, ("A", 1.0, "b3"), ("B", 2.5, "b3"))
    assert write_gold(spark, settings, CONTRACT, again, "upsert", False)["rows_written"] == 0
    # A runtime that returned the first MERGE's counts returns every MERGE's: no history read before the next one.
    assert write_gold(spark, settings, CONTRACT, _rows(spark, ("C", 3.5, "b4")), "upsert", False)["rows_written"] == 1
    assert history_reads == ([3, 1] if returned else [3, 1, 1, 1, 1])
    assert _table_rows(spark, settings) == [
        ("A", 1.0, "b1"),
        ("B", 2.5, "b2"),
        ("C", 3.5, "b4"),
        ("D", 4.0, "b2"),
    ]


def _versions(spark, settings: LakeSettings) -> list:
    return spark.sql(f"DESCRIBE HISTORY {settings.table_name(CONTRACT.name)}").orderBy("version").collect()


def test_an_upsert_merges_only_the_rows_the_table_does_not_hold(spark, settings):
    """A MERGE whose matched rows all fail its update condition would still rewrite their files and commit: rows the
    table holds as they are (batch_id aside) are left out of it, and with none left there is no MERGE (reported as a
    skip: nothing to write)."""
    write_gold(spark, settings, CONTRACT, _rows(spark, ("A", 1.0, "b1"), ("B", None, "b1")), "upsert", False)
    before = len(_versions(spark, settings))
    same = _rows(spark, ("A", 1.0, "b2"), ("B", None, "b2"))  # a null equals a null, as in the MERGE's condition
    skipped = write_gold(spark, settings, CONTRACT, same, "upsert", False)
    assert skipped == {"operation": "skip", "rows_written": 0}
    assert len(_versions(spark, settings)) == before
    skipped["seconds"] = 1.0  # as the runner adds a table's time: the next skip's result is its own
    assert write_gold(spark, settings, CONTRACT, same, "upsert", False) == {"operation": "skip", "rows_written": 0}

    one_changed = _rows(spark, ("A", 1.0, "b3"), ("B", 2.0, "b3"))
    assert write_gold(spark, settings, CONTRACT, one_changed, "upsert", False)["rows_written"] == 1
    merge = _versions(spark, settings)[-1]
    assert (merge.operation, merge.operationMetrics["numSourceRows"]) == ("MERGE", "1")
    assert _table_rows(spark, settings) == [("A", 1.0, "b1"), ("B", 2.0, "b3")]


@pytest.mark.parametrize("compared_on", ["the driver", "the MERGE"])
def test_doubles_that_differ_in_their_last_bits_are_one_value_and_a_watt_hour_is_a_change(
    spark, settings, monkeypatch, compared_on
):
    """A row an older release summed as doubles (5947.787481000001) and the same row summed exactly (5947.787481)
    are one value: neither an upsert nor a sync rewrites it. Tolerance: 1e-9 absolute or 1e-12 of the value."""
    from databricks_jobs.gold import writer

    if compared_on == "the MERGE":  # a sync table too large to compare on the driver
        monkeypatch.setattr(writer, "SMALL_SYNC_ROWS", 0)
    write_gold(
        spark,
        settings,
        CONTRACT,
        _rows(spark, ("A", 5947.787481, "b1"), ("B", 1.2e6, "b1"), ("C", None, "b1")),
        "upsert",
        False,
    )
    before = len(_versions(spark, settings))
    noise = _rows(spark, ("A", 5947.787481000001, "b2"), ("B", 1.2e6 + 1e-6, "b2"), ("C", None, "b2"))
    assert write_gold(spark, settings, CONTRACT, noise, "upsert", False)["rows_written"] == 0
    assert write_gold(spark, settings, CONTRACT, noise, "sync", False)["rows_written"] == 0
    if compared_on == "the driver":  # a MERGE that updates nothing still commits (as before the tolerance)
        assert len(_versions(spark, settings)) == before
    assert _table_rows(spark, settings) == [("A", 5947.787481, "b1"), ("B", 1.2e6, "b1"), ("C", None, "b1")]

    # A watt-hour more on A (1e-6 MWh; tolerance 5.9e-9), 2 Wh on B's 1.2 million MWh (tolerance 1.2 Wh), a value
    # where C had none.
    changed = _rows(spark, ("A", 5947.787482, "b3"), ("B", 1.2e6 + 2e-6, "b3"), ("C", 0.0, "b3"))
    assert write_gold(spark, settings, CONTRACT, changed, "sync", False)["rows_written"] == 3
    assert _table_rows(spark, settings) == [("A", 5947.787482, "b3"), ("B", 1.2e6 + 2e-6, "b3"), ("C", 0.0, "b3")]
    back = _rows(spark, ("A", 5947.787481, "b4"), ("B", 1.2e6 + 2e-6, "b4"), ("C", None, "b4"))
    assert write_gold(spark, settings, CONTRACT, back, "upsert", False)["rows_written"] == 2  # A and C, not B


def test_a_full_refresh_counts_its_rows_without_reading_the_table(spark, settings, monkeypatch):
    write_gold(spark, settings, CONTRACT, _rows(spark, ("A", 1.0, "b1")), "upsert", False)
    import databricks_jobs.lake as lake

    def no_read(*args, **kwargs):
        raise AssertionError("the table was read back to count it")

    monkeypatch.setattr(lake, "read", no_read)
    rows = _rows(spark, ("A", 1.0, "b2"), ("E", 5.0, "b2"))
    assert write_gold(spark, settings, CONTRACT, rows, "sync", True) == {"operation": "overwrite", "rows_written": 2}


def test_few_recomputed_rows_are_merged_from_the_driver_many_through_a_staging_table(spark, settings, monkeypatch):
    """Up to lake.DRIVER_ROWS recomputed rows the table does not hold go to the MERGE from the driver (no staging table
    written); more through the staging table. Same figures either way."""
    from databricks_jobs import lake
    from databricks_jobs.tables import gold_staging

    monkeypatch.setattr(lake, "DRIVER_ROWS", 2)
    write_gold(spark, settings, CONTRACT, _rows(spark, ("A", 1.0, "b1"), ("B", 2.0, "b1")), "upsert", False)
    few = _rows(spark, ("A", 1.5, "b2"), ("C", 3.0, "b2"))
    assert write_gold(spark, settings, CONTRACT, few, "upsert", False)["rows_written"] == 2
    assert not lake.exists(spark, settings, gold_staging(CONTRACT.name))
    # three rows the table does not hold (C as it is does not count)
    many = _rows(spark, ("A", 1.7, "b3"), ("B", 2.5, "b3"), ("C", 3.0, "b3"), ("D", 4.0, "b3"))
    assert write_gold(spark, settings, CONTRACT, many, "upsert", False)["rows_written"] == 3
    assert lake.exists(spark, settings, gold_staging(CONTRACT.name))
    assert _table_rows(spark, settings) == [
        ("A", 1.7, "b3"),
        ("B", 2.5, "b3"),
        ("C", 3.0, "b2"),
        ("D", 4.0, "b3"),
    ]


@pytest.fixture()
def driver_in_chicago(monkeypatch):
    """This Python process's local zone is America/Chicago (the JVM's session zone stays UTC)."""
    import time

    monkeypatch.setenv("TZ", "America/Chicago")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_instants_merged_from_the_driver_stay_exact_in_a_local_zone_with_a_repeated_hour(
    spark, settings, driver_in_chicago
):
    """2021-11-07 06:30 and 07:30 UTC are both 01:30 in Chicago (the autumn's repeated hour): a driver passing them as
    local wall-clock times would make one of them the other."""
    from datetime import UTC, datetime

    from pyspark.sql import functions as F

    first, second = (datetime(2021, 11, 7, hour, 30, tzinfo=UTC) for hour in (6, 7))
    rows = [("A", first, "b1"), ("B", second, "b1")]
    write_gold(spark, settings, PEAKS, spark.createDataFrame(rows[:1], PEAKS.spark_schema()), "upsert", False)
    changed = spark.createDataFrame([("A", second, "b2"), rows[1]], PEAKS.spark_schema())
    assert write_gold(spark, settings, PEAKS, changed, "upsert", False)["rows_written"] == 2
    table = spark.read.table(settings.table_name(PEAKS.name))
    micros = table.select("region_code", F.unix_micros("peak_interval_start_utc").alias("us")).collect()
    expected = int(second.timestamp()) * 1_000_000
    assert sorted((r.region_code, r.us) for r in micros) == [("A", expected), ("B", expected)]


def test_a_first_build_is_one_write_into_the_table_created_with_its_clustering(spark, settings):
    clustered = TableContract(
        "gold_test__writer_clustered",
        "a clustered Gold-shaped table",
        CONTRACT.columns,
        ("region_code",),
        ("region_code",),
    )
    name = settings.table_name(clustered.name)
    rows = _rows(spark, ("A", 1.0, "b1"), ("B", 2.0, "b1"))
    assert write_gold(spark, settings, clustered, rows, "upsert", False) == {
        "operation": "overwrite",
        "rows_written": 2,
    }
    history = spark.sql(f"DESCRIBE HISTORY {name}").collect()
    # Created from the contract, then the rows appended: no overwrite whose reset clustering needs an ALTER after it.
    assert [h["operation"] for h in history] == ["WRITE", "CREATE TABLE"]
    assert history[0]["operationParameters"]["mode"] == "Append"
    assert spark.sql(f"DESCRIBE DETAIL {name}").first()["clusteringColumns"] == ["region_code"]

    # A full refresh overwrites the table whole and keeps its clustering.
    again = _rows(spark, ("C", 3.0, "b2"))
    assert write_gold(spark, settings, clustered, again, "upsert", True) == {
        "operation": "overwrite",
        "rows_written": 1,
    }
    assert spark.sql(f"DESCRIBE DETAIL {name}").first()["clusteringColumns"] == ["region_code"]
    assert [tuple(r) for r in spark.read.table(name).collect()] == [("C", 3.0, "b2")]


def test_rows_of_new_keys_only_are_appended_without_a_merge(spark, settings):
    """An upsert whose recomputed rows are all new keys (a new day's daily rows), or a sync whose only change is new
    rows (a new file's account), is one append of those rows: no MERGE joins them with the table to find no match.
    Rows already held stay as they were (their batch_id too)."""
    write_gold(spark, settings, CONTRACT, _rows(spark, ("A", 1.0, "b1"), ("B", 2.0, "b1")), "upsert", False)
    new_day = _rows(spark, ("A", 1.0, "b2"), ("C", 3.0, "b2"), ("D", None, "b2"))  # A as held: not written
    assert write_gold(spark, settings, CONTRACT, new_day, "upsert", False) == {"operation": "append", "rows_written": 2}
    latest = _versions(spark, settings)[-1]
    assert (latest.operation, latest.operationParameters["mode"]) == ("WRITE", "Append")
    assert _table_rows(spark, settings) == [("A", 1.0, "b1"), ("B", 2.0, "b1"), ("C", 3.0, "b2"), ("D", None, "b2")]

    whole = _rows(spark, ("A", 1.0, "b3"), ("B", 2.0, "b3"), ("C", 3.0, "b3"), ("D", None, "b3"), ("E", 5.0, "b3"))
    assert write_gold(spark, settings, CONTRACT, whole, "sync", False) == {"operation": "append", "rows_written": 1}
    assert _table_rows(spark, settings)[-1] == ("E", 5.0, "b3")
    assert [r[2] for r in _table_rows(spark, settings)[:4]] == ["b1", "b1", "b2", "b2"]
    appended = len(_versions(spark, settings))

    # A sync that also drops a key, or changes a value, is a MERGE (new rows and all).
    gone = _rows(spark, ("A", 1.0, "b4"), ("B", 2.0, "b4"), ("C", 3.0, "b4"), ("E", 5.0, "b4"), ("F", 6.0, "b4"))
    assert write_gold(spark, settings, CONTRACT, gone, "sync", False) == {
        "operation": "merge",
        "rows_written": 1,
        "rows_deleted": 1,
    }
    changed = _rows(spark, ("A", 1.5, "b5"), ("B", 2.0, "b5"), ("C", 3.0, "b5"), ("E", 5.0, "b5"), ("F", 6.0, "b5"))
    assert write_gold(spark, settings, CONTRACT, changed, "sync", False)["operation"] == "merge"
    assert [v.operation for v in _versions(spark, settings)[appended:]] == ["MERGE", "MERGE"]
    assert _table_rows(spark, settings) == [
        ("A", 1.5, "b5"),
        ("B", 2.0, "b1"),
        ("C", 3.0, "b2"),
        ("E", 5.0, "b3"),
        ("F", 6.0, "b4"),
    ]


def test_a_sync_table_compared_on_the_driver_tells_the_two_instants_of_a_repeated_hour_apart(
    spark, settings, driver_in_chicago
):
    """A sync row whose instant moves from 06:30 to 07:30 UTC on 2021-11-07 (both 01:30 in Chicago) has changed: the
    driver's comparison must not see two equal local wall-clock times and skip the write."""
    from datetime import UTC, datetime

    from pyspark.sql import functions as F

    first, second = (datetime(2021, 11, 7, hour, 30, tzinfo=UTC) for hour in (6, 7))
    write_gold(spark, settings, PEAKS, spark.createDataFrame([("A", first, "b1")], PEAKS.spark_schema()), "sync", False)
    moved = spark.createDataFrame([("A", second, "b2")], PEAKS.spark_schema())
    assert write_gold(spark, settings, PEAKS, moved, "sync", False)["rows_written"] == 1
    table = spark.read.table(settings.table_name(PEAKS.name))
    (row,) = table.select(F.unix_micros("peak_interval_start_utc").alias("us"), "batch_id").collect()
    assert (row.us, row.batch_id) == (int(second.timestamp()) * 1_000_000, "b2")
