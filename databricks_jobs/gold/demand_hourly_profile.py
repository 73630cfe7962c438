"""gold_demand__hourly_profile: typical load shape per source, region, month, day type and local hour.

p95 is EXACT: Spark's `percentile` sorts the group's values and interpolates linearly between the two closest ranks,
like numpy's and pandas' default ('linear') quantile. A group holds one month's hours of one day type and hour
per year covered (at most ~23 a year), so the exact computation is cheap. Profiles pool every year the source covers.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.exact_sums import exact_avg
from databricks_jobs.gold.inputs import demand_local, rows_to_recompute
from databricks_jobs.tables import GOLD_DEMAND_HOURLY_PROFILE, SILVER_DEMAND_HOURLY

KEY = ["source_id", "region_code", "month", "day_type", "hour_local"]
RECOMPUTE_KEY = ["source_id", "region_code", "month"]


def hourly_profile(hourly_local: DataFrame, batch_id: str) -> DataFrame:
    """Hourly demand with local fields -> mean and exact p95 per source, region, month, day type, local hour."""
    reported = hourly_local.where(F.col("demand_mw").isNotNull())
    return reported.groupBy(*KEY).agg(
        exact_avg("demand_mw").alias("mean_demand_mw"),
        F.percentile(F.col("demand_mw"), F.lit(0.95)).alias("p95_demand_mw"),
        F.count("*").cast("int").alias("hours_count"),
        F.lit(batch_id).alias("batch_id"),
    )


def build(ctx: GoldContext) -> DataFrame | None:
    rows = rows_to_recompute(ctx, demand_local, RECOMPUTE_KEY)
    return None if rows is None else hourly_profile(rows, ctx.batch_id)


BUILDERS = (GoldBuilder(GOLD_DEMAND_HOURLY_PROFILE, build, "upsert", (SILVER_DEMAND_HOURLY.name,)),)
