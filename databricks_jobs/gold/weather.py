"""Demand against weather: gold_demand__hourly_weather and gold_weather__daily_degree_days (base 65 F)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.exact_sums import exact_avg
from databricks_jobs.gold.inputs import (
    changed_days,
    demand_local,
    keys_of,
    restrict,
    rows_to_recompute,
    union_keys,
    weather_local,
)
from databricks_jobs.tables import (
    GOLD_DEMAND_HOURLY_WEATHER,
    GOLD_WEATHER_DAILY_DEGREE_DAYS,
    SILVER_DEMAND_HOURLY,
    SILVER_WEATHER_HOURLY,
)

DEGREE_DAY_BASE_F = 65.0
REGION_DAY = ["region_code", "date_local"]


def celsius_to_fahrenheit(celsius: F.Column) -> F.Column:
    return celsius * 9.0 / 5.0 + 32.0


def station_temperature(weather: DataFrame) -> DataFrame:
    """One temperature per station and hour; if two weather sources report a station, the first source_id wins."""
    return weather.groupBy("station_id", "interval_start_utc").agg(
        F.min_by("temperature_c", "source_id").alias("temperature_c")
    )


def hourly_weather(demand_local_rows: DataFrame, weather: DataFrame, batch_id: str) -> DataFrame:
    """Hourly demand (with local fields) + the temperature of the region's weather station at the same UTC hour.

    Left join: hours without a station or a reading keep their demand with a null temperature.
    """
    temperature = station_temperature(weather).withColumnRenamed("station_id", "weather_station_id")
    return (
        demand_local_rows.join(temperature, ["weather_station_id", "interval_start_utc"], "left")
        .withColumnRenamed("weather_station_id", "station_id")
        .withColumn("batch_id", F.lit(batch_id))
    )


def daily_degree_days(weather_local_rows: DataFrame, batch_id: str) -> DataFrame:
    """Hourly temperatures (with the region's local fields) -> daily mean/min/max and HDD/CDD on the local day.

    Degree days use the daily mean of the hourly readings: HDD = max(0, 65 - mean_F), CDD = max(0, mean_F - 65).
    Only the region's reference station (regions.csv) counts, so a region has one series.
    """
    station = F.coalesce(F.col("weather_station_id"), F.col("station_id"))
    readings = weather_local_rows.where(F.col("station_id") == station)
    per_hour = readings.groupBy("region_code", "station_id", "date_local", "interval_start_utc").agg(
        F.min_by("temperature_c", "source_id").alias("temperature_c")
    )
    daily = per_hour.groupBy("region_code", "station_id", "date_local").agg(
        exact_avg("temperature_c").alias("mean_temperature_c"),
        F.min("temperature_c").alias("min_temperature_c"),
        F.max("temperature_c").alias("max_temperature_c"),
        F.count("temperature_c").cast("int").alias("hours_reported"),
    )
    mean_f = celsius_to_fahrenheit(F.col("mean_temperature_c"))
    return (
        daily.withColumn("heating_degree_days_f", F.greatest(F.lit(0.0), DEGREE_DAY_BASE_F - mean_f))
        .withColumn("cooling_degree_days_f", F.greatest(F.lit(0.0), mean_f - DEGREE_DAY_BASE_F))
        .withColumn("batch_id", F.lit(batch_id))
    )


def build_hourly_weather(ctx: GoldContext) -> DataFrame | None:
    demand = demand_local(ctx)
    if demand is None:
        return None
    weather = ctx.read_or_empty(SILVER_WEATHER_HOURLY)
    if not ctx.full_refresh:
        keys = union_keys(
            keys_of(changed_days(ctx, demand_local), REGION_DAY), keys_of(changed_days(ctx, weather_local), REGION_DAY)
        )
        demand = restrict(demand, keys, REGION_DAY)
    return hourly_weather(demand, weather, ctx.batch_id)


def build_degree_days(ctx: GoldContext) -> DataFrame | None:
    rows = rows_to_recompute(ctx, weather_local, REGION_DAY)
    return None if rows is None else daily_degree_days(rows, ctx.batch_id)


BUILDERS = (
    GoldBuilder(
        GOLD_DEMAND_HOURLY_WEATHER,
        build_hourly_weather,
        "upsert",
        (SILVER_DEMAND_HOURLY.name, SILVER_WEATHER_HOURLY.name),
    ),
    GoldBuilder(GOLD_WEATHER_DAILY_DEGREE_DAYS, build_degree_days, "upsert", (SILVER_WEATHER_HOURLY.name,)),
)
