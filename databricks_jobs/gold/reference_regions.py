"""gold_reference__regions: regions.csv published with the Gold tables, so reports name and group regions."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.local_time import regions_frame
from databricks_jobs.tables import GOLD_REFERENCE_REGIONS


def build(ctx: GoldContext) -> DataFrame:
    return regions_frame(ctx.spark, ctx.regions).withColumn("batch_id", F.lit(ctx.batch_id))


BUILDERS = (GoldBuilder(GOLD_REFERENCE_REGIONS, build, "sync"),)
