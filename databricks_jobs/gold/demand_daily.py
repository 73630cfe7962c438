"""gold_demand__daily: per source, region and local calendar day (23/24/25 hours on DST changes)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.exact_sums import exact_avg, exact_sum
from databricks_jobs.gold.inputs import demand_local, rows_to_recompute
from databricks_jobs.gold.local_time import hours_in_local_day, to_local
from databricks_jobs.tables import GOLD_DEMAND_DAILY, SILVER_DEMAND_HOURLY

KEY = ["source_id", "region_code", "date_local"]


def peak_of(value: str, instant: str) -> F.Column:
    """The instant of the largest non-null value; ties go to the earliest instant, so the result is deterministic."""
    ordering = F.struct(F.col(value), -F.unix_micros(F.col(instant)))
    return F.max_by(F.col(instant), F.when(F.col(value).isNotNull(), ordering))


def daily_demand(hourly_local: DataFrame, batch_id: str) -> DataFrame:
    """Hourly demand with local fields (see local_time.with_local_fields) -> one row per source, region, local day.

    Hours with a null demand_mw are not reported: they count neither in energy nor in hours_reported.
    """
    reported = F.col("demand_mw").isNotNull()
    daily = hourly_local.groupBy(*KEY, "time_zone").agg(
        exact_sum("demand_mw").alias("energy_mwh"),
        F.max("demand_mw").alias("peak_demand_mw"),
        peak_of("demand_mw", "interval_start_utc").alias("peak_interval_start_utc"),
        F.min("demand_mw").alias("min_demand_mw"),
        exact_avg("demand_mw").alias("avg_demand_mw"),
        F.count(F.when(reported, 1)).cast("int").alias("hours_reported"),
        F.count(F.when(F.col("is_imputed") & reported, 1)).cast("int").alias("imputed_hours"),
    )
    hours_expected = hours_in_local_day(F.col("date_local"), F.col("time_zone"))
    return (
        daily.withColumn("peak_interval_start_local", to_local(F.col("peak_interval_start_utc"), F.col("time_zone")))
        .withColumn(
            "load_factor",
            F.when(F.col("peak_demand_mw") > 0, F.col("avg_demand_mw") / F.col("peak_demand_mw")),
        )
        .withColumn("hours_expected", hours_expected)
        .withColumn("completeness_pct", 100.0 * F.col("hours_reported") / F.col("hours_expected"))
        .withColumn("batch_id", F.lit(batch_id))
    )


def build(ctx: GoldContext) -> DataFrame | None:
    rows = rows_to_recompute(ctx, demand_local, KEY)
    return None if rows is None else daily_demand(rows, ctx.batch_id)


BUILDERS = (GoldBuilder(GOLD_DEMAND_DAILY, build, "upsert", (SILVER_DEMAND_HOURLY.name,)),)
