"""UTC instants to the region's local wall clock and calendar; the regions reference as a DataFrame.

Every function here assumes the Spark session time zone is UTC (get_spark sets it; `require_utc_session` checks it),
because Spark renders TIMESTAMP -> TIMESTAMP_NTZ casts in the session zone.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from databricks_jobs import lake
from databricks_jobs.reference.regions import Region
from databricks_jobs.tables import GOLD_REFERENCE_REGIONS

# The regions' columns and types, as gold_reference__regions publishes them (the fields a row takes from its region are
# among them).
REGION_COLUMNS = {c.name: c.type for c in GOLD_REFERENCE_REGIONS.columns if c.name != "batch_id"}


def regions_frame(spark: SparkSession, regions: Sequence[Region]) -> DataFrame:
    """The reference regions (reference.regions.load_regions) as a small DataFrame of REGION_COLUMNS."""
    rows = [tuple(getattr(r, name) for name in REGION_COLUMNS) for r in regions]
    schema = StructType([f for f in GOLD_REFERENCE_REGIONS.spark_schema().fields if f.name in REGION_COLUMNS])
    return lake.rows_frame(spark, rows, schema)


def to_local(utc: Column, time_zone: Column) -> Column:
    """A UTC instant as the wall-clock time (TIMESTAMP_NTZ) in `time_zone`."""
    return F.from_utc_timestamp(utc, time_zone).cast("timestamp_ntz")


def local_day_start_utc(date_local: Column, time_zone: Column) -> Column:
    """The UTC instant at which a local calendar day starts (midnight is never skipped or repeated in US zones)."""
    return F.to_utc_timestamp(date_local.cast("timestamp"), time_zone)


def hours_in_local_day(date_local: Column, time_zone: Column) -> Column:
    """23, 24 or 25: the length of the local calendar day in hours, from the zone's rules."""
    start = local_day_start_utc(date_local, time_zone)
    end = local_day_start_utc(F.date_add(date_local, 1), time_zone)
    return ((F.unix_seconds(end) - F.unix_seconds(start)) / 3600).cast("int")


# The fields a row takes from its region (typed as in REGION_COLUMNS).
_REGION_FIELDS = ("time_zone", "is_aggregate", "weather_station_id")


def with_region_time_zone(df: DataFrame, regions: Sequence[Region]) -> DataFrame:
    """Adds time_zone (and is_aggregate, weather_station_id) of the row's region from `regions`
    (reference.regions.load_regions); a row whose region is missing from regions.csv fails the query that reads it,
    naming the region.

    The regions are a reference list of tens of rows, already on the driver, looked up as literal maps: each query
    that reads a row's local time then needs no join with them (a broadcast, a Spark job of its own, per Silver scan of
    every Gold query), and no Spark job collects them (a frame made from a Python list is a parallelized collection in
    classic Spark: collecting it was a job per input of every Gold run). The check rides in the time_zone column
    (Spark's raise_error) instead of a collect of the unknown regions: a collect is its own Spark job over the whole
    input, per plan and per run, while every query that uses a row's local time evaluates its time_zone anyway.
    """
    region = F.col("region_code")
    looked_up = {
        name: F.create_map(*[F.lit(value) for r in regions for value in (r.region_code, getattr(r, name))])[
            region
        ].cast(REGION_COLUMNS[name])
        for name in _REGION_FIELDS
    }
    missing = F.raise_error(
        F.concat(
            F.lit("region "),
            F.coalesce(region, F.lit("NULL")),
            F.lit(" is not in databricks_jobs/reference/regions.csv nor the config root's regions.csv (no time zone)"),
        )
    )
    time_zone = looked_up["time_zone"]
    return df.withColumns({**looked_up, "time_zone": F.when(time_zone.isNull(), missing).otherwise(time_zone)})


def with_local_fields(df: DataFrame, regions: Sequence[Region], utc_col: str = "interval_start_utc") -> DataFrame:
    """Adds time_zone, interval_start_local, date_local, hour_local, month, day_type (weekday | weekend)."""
    local = to_local(F.col(utc_col), F.col("time_zone"))
    return (
        with_region_time_zone(df, regions)
        .withColumn("interval_start_local", local)
        .withColumn("date_local", F.to_date(local))
        .withColumn("hour_local", F.hour(local))
        .withColumn("month", F.month(local))
        # dayofweek: 1 = Sunday, 7 = Saturday
        .withColumn("day_type", F.when(F.dayofweek(local).isin(1, 7), "weekend").otherwise("weekday"))
    )
