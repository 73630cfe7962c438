"""gold_demand__monthly_coincident_peak: each region's demand at the system's monthly peak hour beside its own peak.

The system of a source is the sum of its non-aggregate regions (aggregates such as the ERCOT total are left out so
nothing counts twice), taken only at hours where every one of those regions reports, so a gap never fakes a low hour.
Months are local calendar months of the regions' time zone.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.demand_daily import peak_of
from databricks_jobs.gold.exact_sums import exact_sum
from databricks_jobs.gold.inputs import demand_local, rows_to_recompute
from databricks_jobs.tables import GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK, SILVER_DEMAND_HOURLY

MONTH_KEY = ["source_id", "month_start_date"]


def with_month_start(hourly_local: DataFrame) -> DataFrame:
    return hourly_local.withColumn("month_start_date", F.trunc(F.col("date_local"), "month"))


def _zones(hourly_local: DataFrame) -> DataFrame:
    return with_month_start(hourly_local).where(~F.col("is_aggregate") & F.col("demand_mw").isNotNull())


def source_region_counts(hourly_local: DataFrame) -> DataFrame:
    """source_id, source_regions: how many non-aggregate regions each source reports (over all its history)."""
    return _zones(hourly_local).groupBy("source_id").agg(F.countDistinct("region_code").alias("source_regions"))


def coincident_peak(hourly_local: DataFrame, batch_id: str, region_counts: DataFrame | None = None) -> DataFrame:
    """Hourly demand with local fields -> one row per source, local month and non-aggregate region.

    `region_counts` (see source_region_counts) defaults to the regions present in `hourly_local`; pass the counts of
    the whole Silver table when `hourly_local` is restricted to some months.
    """
    counts = source_region_counts(hourly_local) if region_counts is None else region_counts
    zones = _zones(hourly_local).join(F.broadcast(counts), "source_id")

    system_hours = (
        zones.groupBy("source_id", "interval_start_utc")
        .agg(
            exact_sum("demand_mw").alias("system_demand_mw"),
            F.count("*").alias("regions_reporting"),
            F.first("source_regions").alias("source_regions"),
            F.min("month_start_date").alias("month_start_date"),
        )
        .where(F.col("regions_reporting") == F.col("source_regions"))
    )
    system_peak = system_hours.groupBy(*MONTH_KEY).agg(
        peak_of("system_demand_mw", "interval_start_utc").alias("system_peak_interval_start_utc"),
        F.max("system_demand_mw").alias("system_peak_demand_mw"),
    )
    region_peak = zones.groupBy(*MONTH_KEY, "region_code").agg(
        F.max("demand_mw").alias("region_peak_demand_mw"),
        peak_of("demand_mw", "interval_start_utc").alias("region_peak_interval_start_utc"),
    )
    at_peak = zones.select(
        "source_id",
        "region_code",
        F.col("interval_start_utc").alias("system_peak_interval_start_utc"),
        F.col("demand_mw").alias("demand_at_system_peak_mw"),
    )
    return (
        region_peak.join(system_peak, MONTH_KEY)
        .join(at_peak, ["source_id", "region_code", "system_peak_interval_start_utc"], "left")
        .withColumn(
            "coincidence_factor",
            F.when(
                F.col("region_peak_demand_mw") > 0,
                F.col("demand_at_system_peak_mw") / F.col("region_peak_demand_mw"),
            ),
        )
        .withColumn("batch_id", F.lit(batch_id))
    )


def build(ctx: GoldContext) -> DataFrame | None:
    months = rows_to_recompute(ctx, demand_local, MONTH_KEY, with_month_start)
    if months is None:
        return None
    return coincident_peak(months, ctx.batch_id, source_region_counts(demand_local(ctx)))


BUILDERS = (GoldBuilder(GOLD_DEMAND_MONTHLY_COINCIDENT_PEAK, build, "upsert", (SILVER_DEMAND_HOURLY.name,)),)
