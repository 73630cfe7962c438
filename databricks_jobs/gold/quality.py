"""Data-quality Gold tables: per-file row accounting and quarantine counts, for the reports."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from databricks_jobs.gold import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.tables import (
    GOLD_QUALITY_FILE_ACCOUNTING,
    GOLD_QUALITY_QUARANTINE_SUMMARY,
    SILVER_QUARANTINE,
)


def quarantine_summary(quarantine: DataFrame, batch_id: str) -> DataFrame:
    """silver__quarantine -> rows per source, file and reason."""
    return quarantine.groupBy("source_id", "source_file", "reason").agg(
        F.count("*").alias("row_count"), F.lit(batch_id).alias("batch_id")
    )


INGESTED_FILES = "bronze__ingested_files"


def build_file_accounting(ctx: GoldContext) -> DataFrame | None:
    """The Silver part owns the accounting (it knows duplicates and quarantine per file); Gold publishes it."""
    if ctx.read(INGESTED_FILES) is None:
        return None  # nothing ingested yet, so nothing to account for
    from databricks_jobs.silver.build import file_accounting

    accounting = file_accounting(ctx.spark, ctx.settings)
    if "batch_id" not in accounting.columns:
        accounting = accounting.withColumn("batch_id", F.lit(ctx.batch_id))
    return accounting


def build_quarantine_summary(ctx: GoldContext) -> DataFrame | None:
    quarantine = ctx.read(SILVER_QUARANTINE.name)
    if quarantine is None:
        quarantine = ctx.spark.createDataFrame([], SILVER_QUARANTINE.spark_schema())
    return quarantine_summary(quarantine, ctx.batch_id)


BUILDERS = (
    GoldBuilder(GOLD_QUALITY_FILE_ACCOUNTING, build_file_accounting, "sync"),
    GoldBuilder(GOLD_QUALITY_QUARANTINE_SUMMARY, build_quarantine_summary, "sync", (SILVER_QUARANTINE.name,)),
)
