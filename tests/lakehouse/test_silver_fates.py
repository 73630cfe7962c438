"""assign_fates: the path that ranks only shared keys gives exactly the fates of ranking every key with a window."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from databricks_jobs.silver.build import (
    EXACT_DUPLICATE,
    KEPT,
    ORDER,
    QUARANTINED,
    assign_fates,
    duplicate_keys,
    fate_key,
)
from databricks_jobs.silver.dataset import DatasetHandler
from databricks_jobs.silver.registry import handler_for
from databricks_jobs.tables import SILVER_DEMAND_HOURLY

pytestmark = pytest.mark.spark

COLUMNS = (
    "source_id string, region_code string, interval_start_utc timestamp, interval_end_utc timestamp, "
    "demand_mw double, reported_demand_mw double, imputation_category string, is_imputed boolean, "
    "source_file string, source_row_number bigint, reason string, detail string, source_column string, "
    "raw_record string, _sub_id string"
)
H0, H1, H2, H3 = (datetime(2025, 1, 1, h) for h in range(4))


def candidate(region, start, mw, file, line, sub=None, reason=None, source="s"):
    end = start.replace(hour=start.hour + 1)
    return (source, region, start, end, mw, mw, None, False, file, line, reason, reason and "why", "", "{}", sub)


def window_fates(candidates: DataFrame, existing: DataFrame, handler: DatasetHandler, sub_key: bool) -> DataFrame:
    """The reference: every usable key ranked by a window (the implementation before shared keys were split off)."""
    key = list(handler.target.primary_key) + (["_sub_id"] if sub_key else [])
    compared = list(handler.compared_columns())
    bad = candidates.where(F.col("reason").isNotNull()).withColumn("_fate", F.lit(QUARANTINED))
    ranked = candidates.where(F.col("reason").isNull()).withColumn(
        "_rank", F.row_number().over(Window.partitionBy(*key).orderBy(*ORDER))
    )
    winners = ranked.where("_rank = 1").drop("_rank")
    where = F.concat_ws(":", "source_file", F.col("source_row_number").cast("string"))
    first = winners.select(*key, *[F.col(c).alias(f"_w_{c}") for c in compared], where.alias("_w_where"))
    same = F.lit(True)
    for c in compared:
        same = same & F.col(c).eqNullSafe(F.col(f"_w_{c}"))
    losers = (
        ranked.where("_rank > 1")
        .join(first, key)
        .select(
            *candidates.columns,
            F.when(same, F.lit(EXACT_DUPLICATE)).otherwise(F.lit(QUARANTINED)).alias("_fate"),
            F.when(~same, F.lit("conflicting_duplicate")).alias("_reason"),
            F.when(~same, F.concat(F.lit("same key as "), "_w_where", F.lit(" with different values"))).alias("_d"),
        )
    )
    pk = list(handler.target.primary_key)
    there = existing.select(
        *pk, *[F.col(c).alias(f"_e_{c}") for c in compared], where.alias("_e_where"), F.lit(True).alias("_exists")
    )
    same_there = F.lit(not sub_key)
    for c in compared if not sub_key else []:
        same_there = same_there & F.col(c).eqNullSafe(F.col(f"_e_{c}"))
    conflict = F.col("_exists") & ~same_there
    winners = winners.join(there, pk, "left").select(
        *candidates.columns,
        F.when(F.col("_exists").isNull(), F.lit(KEPT))
        .when(same_there, F.lit(EXACT_DUPLICATE))
        .otherwise(F.lit(QUARANTINED))
        .alias("_fate"),
        F.when(conflict, F.lit("conflicting_duplicate")).alias("_reason"),
        F.when(
            conflict, F.concat(F.lit("key already in Silver from "), "_e_where", F.lit(" with different values"))
        ).alias("_d"),
    )
    resolved = losers.unionByName(winners)
    resolved = resolved.withColumn("reason", F.coalesce("_reason", "reason")).withColumn(
        "detail", F.coalesce("_d", "detail")
    )
    return bad.unionByName(resolved.drop("_reason", "_d"))


def rows(frame: DataFrame) -> list[tuple]:
    return sorted((tuple(r) for r in frame.collect()), key=repr)


def every_kind_of_duplicate(sub_key: bool, source: str = "s") -> tuple[list[tuple], list[tuple]]:
    """(candidates, rows already in Silver) of one source, plain or summing feeder rows (sub_key)."""
    sub = "f1" if sub_key else None
    data = [
        candidate("COAST", H0, 10.0, "a.csv", 2, sub),  # unique key: kept
        candidate("COAST", H1, 11.0, "a.csv", 3, sub),  # first of three: kept
        candidate("COAST", H1, 11.0, "b.csv", 2, sub),  # same values: exact duplicate
        candidate("COAST", H1, 12.5, "b.csv", 3, sub),  # different value: conflicting, a.csv:3 named
        candidate("EAST", H1, 5.0, "b.csv", 4, sub),  # key already in Silver with the same values
        candidate("EAST", H2, 6.0, "b.csv", 5, sub),  # key already in Silver with a different value
        candidate("EAST", H3, -1.0, "b.csv", 6, sub, reason="negative_demand"),  # quarantined by the transform
        candidate("WEST", H0, 7.0, "b.csv", 7, sub),  # unique: kept
    ]
    if sub_key:
        data.append(candidate("WEST", H0, 8.0, "b.csv", 8, "f2"))  # another feeder of the same hour: kept, no clash
    there = [candidate("EAST", H1, 5.0, "old.csv", 2), candidate("EAST", H2, 9.0, "old.csv", 3)]
    as_source = [(source, *row[1:]) for row in data]
    return as_source, [(source, *row[1:10], "batch-0") for row in there]


@pytest.mark.parametrize("sub_key", [False, True])
def test_shared_key_path_equals_window_on_every_kind_of_duplicate(spark, sub_key):
    handler = handler_for("demand")
    data, there = every_kind_of_duplicate(sub_key)
    candidates = spark.createDataFrame(data, COLUMNS)
    existing = spark.createDataFrame(there, SILVER_DEMAND_HOURLY.spark_schema())

    reference = window_fates(candidates, existing, handler, sub_key).collect()
    expected = sorted((tuple(r) for r in reference), key=repr)
    assert rows(assign_fates(candidates, existing, handler)) == expected
    shared = duplicate_keys(candidates, fate_key(handler)).localCheckpoint()
    assert shared.count() == 1  # COAST at H1 (the quarantined row does not count)
    assert rows(assign_fates(candidates, existing, handler, F.broadcast(shared))) == expected

    fates = {(r.source_file, r.source_row_number): (r._fate, r.reason, r.detail) for r in reference}
    assert fates[("a.csv", 3)] == (KEPT, None, None)
    assert fates[("b.csv", 2)] == (EXACT_DUPLICATE, None, None)
    assert fates[("b.csv", 3)] == (QUARANTINED, "conflicting_duplicate", "same key as a.csv:3 with different values")
    assert fates[("b.csv", 6)][:2] == (QUARANTINED, "negative_demand")
    already = "key already in Silver from old.csv:{} with different values"
    if sub_key:  # a feeder row cannot be compared with a region sum already in Silver: that key is a conflict
        assert fates[("b.csv", 4)] == (QUARANTINED, "conflicting_duplicate", already.format(2))
    else:
        assert fates[("b.csv", 4)] == (EXACT_DUPLICATE, None, None)
    assert fates[("b.csv", 5)] == (QUARANTINED, "conflicting_duplicate", already.format(3))
    assert len(expected) == len(data)


def test_a_plain_and_a_summing_source_together_get_the_fates_each_gets_alone(spark):
    """One pass over two sources of one table (silver.build.build_group): each source's fates are those of the
    reference run on that source alone, the plain one with its key, the summing one with its feeder key."""
    handler = handler_for("demand")
    plain, plain_there = every_kind_of_duplicate(False, "plain")
    summed, summed_there = every_kind_of_duplicate(True, "summed")
    schema = SILVER_DEMAND_HOURLY.spark_schema()
    expected = []
    for data, there, sub_key in ((plain, plain_there, False), (summed, summed_there, True)):
        alone = spark.createDataFrame(data, COLUMNS)
        expected += window_fates(alone, spark.createDataFrame(there, schema), handler, sub_key).collect()
    together = spark.createDataFrame(plain + summed, COLUMNS)
    existing = spark.createDataFrame(plain_there + summed_there, schema)
    assert rows(assign_fates(together, existing, handler)) == sorted((tuple(r) for r in expected), key=repr)
    fates = {(r.source_id, r.source_row_number): r._fate for r in expected if r.source_file == "b.csv"}
    assert (fates[("plain", 4)], fates[("summed", 4)]) == (EXACT_DUPLICATE, QUARANTINED)


@pytest.mark.parametrize("driver_rows", [None, 0])
def test_duplicate_keys_are_materialised_on_the_driver_when_few_else_staged(spark, tmp_path, monkeypatch, driver_rows):
    """The shared keys a pass computes once: collected to the driver up to lake.DRIVER_ROWS (no staging table), more
    staged to Delta; the same keys either way."""
    from databricks_jobs import lake
    from databricks_jobs.settings import LakeSettings
    from databricks_jobs.silver.build import _materialised_duplicates
    from databricks_jobs.tables import silver_staging

    candidates = spark.createDataFrame(every_kind_of_duplicate(False)[0], COLUMNS)
    key = fate_key(handler_for("demand"))
    settings = LakeSettings(lake_root=str(tmp_path / "lake"))
    if driver_rows is not None:
        monkeypatch.setattr(lake, "DRIVER_ROWS", driver_rows)
    group = SILVER_DEMAND_HOURLY.name
    shared = _materialised_duplicates(spark, settings, group, candidates, key)
    assert lake.exists(spark, settings, silver_staging(group, "duplicate_keys")) == (driver_rows == 0)
    # COAST at H1 only (held by three usable rows; the quarantined row does not count)
    coast_h1 = candidates.where((F.col("region_code") == "COAST") & (F.col("interval_start_utc") == H1))
    expected = coast_h1.select(F.xxhash64(*key).alias("_d_hash")).distinct().collect()
    assert shared.collect() == expected
