"""UTC instants to the region's local wall clock and calendar; the regions reference as a DataFrame.

Every function here assumes the Spark session time zone is UTC (get_spark sets it; `require_utc_session` checks it),
because Spark renders TIMESTAMP -> TIMESTAMP_NTZ casts in the session zone.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs.reference.regions import Region


def regions_frame(spark: SparkSession, regions: tuple[Region, ...]) -> DataFrame:
    """The reference regions (reference.regions.load_regions) as a small DataFrame: region_code, region_name,
    parent_region_code, is_aggregate, time_zone, weather_station_id."""
    rows = [
        (r.region_code, r.region_name, r.parent_region_code, r.is_aggregate, r.time_zone, r.weather_station_id)
        for r in regions
    ]
    schema = (
        "region_code string, region_name string, parent_region_code string, is_aggregate boolean, "
        "time_zone string, weather_station_id string"
    )
    return spark.createDataFrame(rows, schema)


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


def with_region_time_zone(df: DataFrame, regions: DataFrame) -> DataFrame:
    """Adds time_zone (and is_aggregate, weather_station_id); a row whose region is missing from regions.csv fails the
    query that reads it, naming the region.

    The check rides in the time_zone column (Spark's raise_error) instead of a collect of the unknown regions: a collect
    is its own Spark job over the whole input, per plan and per run, while every query that uses a row's local time
    evaluates its time_zone anyway.
    """
    joined = df.join(
        F.broadcast(regions.select("region_code", "time_zone", "is_aggregate", "weather_station_id")),
        "region_code",
        "left",
    )
    missing = F.raise_error(
        F.concat(
            F.lit("region "),
            F.coalesce(F.col("region_code"), F.lit("NULL")),
            F.lit(" is not in databricks_jobs/reference/regions.csv nor the config root's regions.csv (no time zone)"),
        )
    )
    return joined.withColumn("time_zone", F.when(F.col("time_zone").isNull(), missing).otherwise(F.col("time_zone")))


def with_local_fields(df: DataFrame, regions: DataFrame, utc_col: str = "interval_start_utc") -> DataFrame:
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
