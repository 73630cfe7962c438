"""Data-quality Gold tables: per-file row accounting and quarantine counts, for the reports."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.tables import (
    BRONZE_INGESTED_FILES,
    FILE_INGESTED,
    GOLD_QUALITY_FILE_ACCOUNTING,
    GOLD_QUALITY_QUARANTINE_SUMMARY,
    SILVER_PROCESSED_FILES,
    SILVER_QUARANTINE,
)


def quarantine_summary(quarantine: DataFrame, batch_id: str) -> DataFrame:
    """silver__quarantine -> rows per source, file and reason."""
    return quarantine.groupBy("source_id", "source_file", "reason").agg(
        F.count("*").alias("row_count"), F.lit(batch_id).alias("batch_id")
    )


def file_accounting(processed: DataFrame, ingested: DataFrame) -> DataFrame:
    """Row accounting per file (silver__processed_files + bronze__ingested_files -> the columns of
    gold_quality__file_accounting): the newest processed version of each file, and every Bronze failure with zero
    rows so a file that never reached Silver is still visible."""
    newest = Window.partitionBy("source_id", "source_file").orderBy(F.desc("processed_at_utc"), F.desc("batch_id"))
    processed = processed.withColumn("_n", F.row_number().over(newest)).where("_n = 1").drop("_n")
    ingested_at = ingested.where(F.col("status") == FILE_INGESTED).select(
        "source_file", "content_hash", "ingested_at_utc"
    )
    done = processed.join(ingested_at, ["source_file", "content_hash"], "left")
    last_failure = Window.partitionBy("source_id", "source_file").orderBy(F.desc("ingested_at_utc"))
    failed = (
        ingested.where(F.col("status") != FILE_INGESTED)
        .join(processed.select("source_id", "source_file"), ["source_id", "source_file"], "left_anti")
        .withColumn("_n", F.row_number().over(last_failure))
        .where("_n = 1")
        .select(
            "source_id",
            "source_file",
            *[
                F.lit(0).cast("bigint").alias(c)
                for c in ("rows_in", "rows_kept", "rows_quarantined", "rows_exact_duplicate")
            ],
            "ingested_at_utc",
            "batch_id",
        )
    )
    columns = GOLD_QUALITY_FILE_ACCOUNTING.column_names
    return done.select(*columns).unionByName(failed.select(*columns))


def build_file_accounting(ctx: GoldContext) -> DataFrame | None:
    """Silver counts every file's rows as it processes them (it knows duplicates and quarantine); Gold publishes."""
    ingested = ctx.read(BRONZE_INGESTED_FILES.name)
    if ingested is None:
        return None  # nothing ingested yet, so nothing to account for
    return file_accounting(ctx.read_or_empty(SILVER_PROCESSED_FILES), ingested)


def build_quarantine_summary(ctx: GoldContext) -> DataFrame | None:
    return quarantine_summary(ctx.read_or_empty(SILVER_QUARANTINE), ctx.batch_id)


BUILDERS = (
    GoldBuilder(
        GOLD_QUALITY_FILE_ACCOUNTING,
        build_file_accounting,
        "sync",
        reads=(BRONZE_INGESTED_FILES.name, SILVER_PROCESSED_FILES.name),
    ),
    GoldBuilder(GOLD_QUALITY_QUARANTINE_SUMMARY, build_quarantine_summary, "sync", (SILVER_QUARANTINE.name,)),
)
