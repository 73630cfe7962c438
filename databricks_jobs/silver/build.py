"""Silver build: Bronze rows of files not yet in Silver -> typed rows (Delta MERGE) + quarantine + file accounting.

Per source: the dataset's transform (silver.registry) gives one candidate per Silver row; every candidate gets one
fate, counted per file in `silver__processed_files`:
- quarantined: the transform's reason, or `conflicting_duplicate` (same key, different value);
- exact_duplicate: same key and same values as a row kept earlier (merged once);
- kept: the first row of its key, in (source_file, source_row_number, source_column) order, or the row already in
  Silver. Rule for conflicts: the first one seen wins; later ones are quarantined with the winner named.
Incremental: a file is processed when its newest Bronze version (content hash) is not in silver__processed_files.
A changed file supersedes its older version: that version's Silver and quarantine rows are deleted first.
Re-running with nothing new writes nothing, so every table keeps its Delta version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from databricks_jobs.bronze.ingest import INGESTED, read_ingested_files, table_exists
from databricks_jobs.settings import LakeSettings
from databricks_jobs.silver.registry import DatasetHandler, handler_for
from databricks_jobs.sources import SourceDefinition, load_source_definitions
from databricks_jobs.tables import GOLD_QUALITY_FILE_ACCOUNTING, SILVER_QUARANTINE

PROCESSED_FILES_TABLE = "silver__processed_files"
PROCESSED_FILES_SCHEMA = StructType(
    [
        StructField("source_id", StringType(), False),
        StructField("source_file", StringType(), False),
        StructField("content_hash", StringType(), False),
        StructField("rows_in", LongType(), False),
        StructField("rows_kept", LongType(), False),
        StructField("rows_quarantined", LongType(), False),
        StructField("rows_exact_duplicate", LongType(), False),
        StructField("batch_id", StringType(), False),
        StructField("processed_at_utc", TimestampType(), False),
    ]
)
ORDER = ("source_file", "source_row_number", "source_column")
KEPT, QUARANTINED, EXACT_DUPLICATE = "kept", "quarantined", "exact_duplicate"


@dataclass(frozen=True)
class FileAccount:
    source_id: str
    source_file: str
    content_hash: str
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_exact_duplicate: int


@dataclass
class SilverReport:
    batch_id: str
    files: list[FileAccount] = field(default_factory=list)
    superseded_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = {k: sum(getattr(f, k) for f in self.files) for k in ("rows_in", "rows_kept", "rows_quarantined")}
        head = f"silver batch {self.batch_id}: {len(self.files)} files processed, "
        return head + ", ".join(f"{k} {v}" for k, v in total.items())


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _read(spark: SparkSession, settings: LakeSettings, name: str, schema: StructType) -> DataFrame:
    path = settings.table_path(name)
    return spark.read.format("delta").load(path) if table_exists(spark, path) else spark.createDataFrame([], schema)


def current_versions(spark: SparkSession, settings: LakeSettings) -> DataFrame:
    """The newest ingested content hash of each Bronze file."""
    ingested = read_ingested_files(spark, settings).where(F.col("status") == INGESTED)
    newest = Window.partitionBy("source_id", "source_file").orderBy(F.desc("ingested_at_utc"), F.desc("batch_id"))
    return (
        ingested.withColumn("_n", F.row_number().over(newest))
        .where("_n = 1")
        .select("source_id", "source_file", "content_hash", "ingested_at_utc")
    )


def pending_files(spark: SparkSession, settings: LakeSettings, source_id: str) -> list[tuple[str, str, bool]]:
    """(source_file, content_hash, supersedes_an_older_version) of files whose newest version is not in Silver."""
    current = current_versions(spark, settings).where(F.col("source_id") == source_id)
    processed = _read(spark, settings, PROCESSED_FILES_TABLE, PROCESSED_FILES_SCHEMA).where(
        F.col("source_id") == source_id
    )
    todo = current.join(processed.select("source_file", "content_hash"), ["source_file", "content_hash"], "left_anti")
    older = processed.select("source_file").distinct().withColumn("_older", F.lit(True))
    rows = todo.join(older, "source_file", "left").orderBy("source_file").collect()
    return [(r.source_file, r.content_hash, bool(r._older)) for r in rows]


def _in_files(files: list[tuple[str, str, bool]]) -> F.Column:
    condition = F.lit(False)
    for source_file, digest, _ in files:
        condition = condition | ((F.col("source_file") == source_file) & (F.col("content_hash") == digest))
    return condition


def assign_fates(candidates: DataFrame, existing: DataFrame, handler: DatasetHandler, sub_key: bool) -> DataFrame:
    """Every candidate with `_fate` (kept | quarantined | exact_duplicate) and, for conflicts, reason and detail.

    `existing`: the target table's rows from other files. Pure: DataFrames in, DataFrame out.
    """
    key = list(handler.target.primary_key) + (["_sub_id"] if sub_key else [])
    compared = list(handler.compared_columns())
    bad = candidates.where(F.col("reason").isNotNull()).withColumn("_fate", F.lit(QUARANTINED))
    good = candidates.where(F.col("reason").isNull())
    ranked = good.withColumn("_rank", F.row_number().over(Window.partitionBy(*key).orderBy(*ORDER)))
    winners = ranked.where("_rank = 1").drop("_rank")
    first = winners.select(
        *key,
        *[F.col(c).alias(f"_w_{c}") for c in compared],
        F.concat_ws(":", "source_file", F.col("source_row_number").cast("string")).alias("_w_where"),
    )
    losers = ranked.where("_rank > 1").drop("_rank").join(first, key)
    same = F.lit(True)
    for c in compared:
        same = same & F.col(c).eqNullSafe(F.col(f"_w_{c}"))
    losers = losers.select(
        *candidates.columns,
        F.when(same, F.lit(EXACT_DUPLICATE)).otherwise(F.lit(QUARANTINED)).alias("_fate"),
        F.when(~same, F.lit("conflicting_duplicate")).alias("_reason"),
        F.when(~same, F.concat(F.lit("same key as "), F.col("_w_where"), F.lit(" with different values"))).alias(
            "_detail"
        ),
    )
    # Winners against rows already in Silver from other files: the row already there wins.
    pk = list(handler.target.primary_key)
    there = existing.select(
        *pk,
        *[F.col(c).alias(f"_e_{c}") for c in compared],
        F.concat_ws(":", "source_file", F.col("source_row_number").cast("string")).alias("_e_where"),
        F.lit(True).alias("_exists"),
    )
    same_there = F.lit(not sub_key)
    for c in compared if not sub_key else []:
        same_there = same_there & F.col(c).eqNullSafe(F.col(f"_e_{c}"))
    winners = winners.join(there, pk, "left").select(
        *candidates.columns,
        F.when(F.col("_exists").isNull(), F.lit(KEPT))
        .when(same_there, F.lit(EXACT_DUPLICATE))
        .otherwise(F.lit(QUARANTINED))
        .alias("_fate"),
        F.when(F.col("_exists") & ~same_there, F.lit("conflicting_duplicate")).alias("_reason"),
        F.when(
            F.col("_exists") & ~same_there,
            F.concat(F.lit("key already in Silver from "), F.col("_e_where"), F.lit(" with different values")),
        ).alias("_detail"),
    )
    resolved = losers.unionByName(winners)
    resolved = resolved.withColumn("reason", F.coalesce("_reason", "reason")).withColumn(
        "detail", F.coalesce("_detail", "detail")
    )
    return bad.unionByName(resolved.drop("_reason", "_detail"))


def aggregate_sub_rows(kept: DataFrame, handler: DatasetHandler) -> DataFrame:
    """Sum kept sub-region rows (meters, feeders) to the target key; lineage points at the first contributing row."""
    pk = list(handler.target.primary_key)
    sums = {"demand_mw", "reported_demand_mw"}
    others = [c for c in handler.target.column_names if c not in pk and c != "batch_id"]
    aggregates = []
    for c in others:
        if c in sums:
            aggregates.append(F.sum(c).alias(c))
        elif c == "is_imputed":
            aggregates.append(F.max(c).alias(c))
        elif c in ("source_file", "source_row_number"):
            continue
        else:
            aggregates.append(F.first(c, ignorenulls=True).alias(c))
    first_row = F.min(F.struct("source_file", "source_row_number")).alias("_first")
    return (
        kept.groupBy(*pk)
        .agg(*aggregates, first_row)
        .select("*", "_first.source_file", "_first.source_row_number")
        .drop("_first")
    )


def _merge_insert_only(spark: SparkSession, path: str, rows: DataFrame, key: list[str]) -> None:
    if not table_exists(spark, path):
        rows.write.format("delta").save(path)
        return
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    DeltaTable.forPath(spark, path).alias("t").merge(rows.alias("s"), condition).whenNotMatchedInsertAll().execute()


def _delete_file_rows(spark: SparkSession, settings: LakeSettings, source_id: str, files: list[str], tables) -> None:
    condition = (F.col("source_id") == source_id) & F.col("source_file").isin(*files)
    for name in tables:
        path = settings.table_path(name)
        if table_exists(spark, path):
            DeltaTable.forPath(spark, path).delete(condition)


def build_source(
    spark: SparkSession, settings: LakeSettings, batch_id: str, definition: SourceDefinition
) -> tuple[list[FileAccount], list[str]]:
    files = pending_files(spark, settings, definition.source_id)
    if not files:
        return [], []
    handler = handler_for(definition.dataset)
    target_path = settings.table_path(handler.target.name)
    superseded = [f for f, _, older in files if older]
    if superseded:
        tables = (handler.target.name, SILVER_QUARANTINE.name, PROCESSED_FILES_TABLE)
        _delete_file_rows(spark, settings, definition.source_id, superseded, tables)
    bronze = spark.read.format("delta").load(settings.table_path(definition.bronze_table)).where(_in_files(files))
    candidates = handler.transform(bronze, definition).withColumn(
        "source_column", F.coalesce(F.col("source_column"), F.lit(""))
    )
    if "_sub_id" not in candidates.columns:
        candidates = candidates.withColumn("_sub_id", F.lit(None).cast("string"))
    # Staged once to Delta so the transform runs once, not once per output below.
    staging = settings.table_path(f"_staging_silver__{definition.source_id}")
    candidates.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(staging)
    staged = spark.read.format("delta").load(staging)
    names = [f for f, _, _ in files]
    existing = (
        spark.read.format("delta").load(target_path).where(F.col("source_id") == definition.source_id)
        if table_exists(spark, target_path)
        else spark.createDataFrame([], handler.target.spark_schema())
    ).where(~F.col("source_file").isin(*names))
    fates = assign_fates(staged, existing, handler, bool(definition.sum_over))
    fates_path = settings.table_path(f"_staging_silver_fates__{definition.source_id}")
    fates.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(fates_path)
    fates = spark.read.format("delta").load(fates_path)

    quarantine = fates.where(F.col("_fate") == QUARANTINED).select(
        *[c for c in SILVER_QUARANTINE.column_names if c != "batch_id"], F.lit(batch_id).alias("batch_id")
    )
    _merge_insert_only(
        spark, settings.table_path(SILVER_QUARANTINE.name), quarantine, list(SILVER_QUARANTINE.primary_key)
    )
    kept = fates.where(F.col("_fate") == KEPT)
    if definition.sum_over:
        kept = aggregate_sub_rows(kept, handler)
    target_rows = kept.select(
        *[F.col(c).cast(t) for c, t in ((c.name, c.type) for c in handler.target.columns) if c != "batch_id"],
        F.lit(batch_id).alias("batch_id"),
    )
    _merge_insert_only(spark, target_path, target_rows, list(handler.target.primary_key))

    counts = {(r.source_file, r._fate): r["count"] for r in fates.groupBy("source_file", "_fate").count().collect()}
    # rows_in is counted on the staged candidates, independently of the fates, so the identity is a real check.
    rows_in = {r.source_file: r["count"] for r in staged.groupBy("source_file").count().collect()}
    accounts = []
    for source_file, digest, _ in files:
        per = {fate: counts.get((source_file, fate), 0) for fate in (KEPT, QUARANTINED, EXACT_DUPLICATE)}
        accounts.append(
            FileAccount(
                definition.source_id,
                source_file,
                digest,
                rows_in.get(source_file, 0),
                per[KEPT],
                per[QUARANTINED],
                per[EXACT_DUPLICATE],
            )
        )
    log = spark.createDataFrame(
        [(*(a.__dict__[k] for k in FileAccount.__dataclass_fields__), batch_id, _now_utc()) for a in accounts],
        PROCESSED_FILES_SCHEMA,
    )
    log.write.format("delta").mode("append").save(settings.table_path(PROCESSED_FILES_TABLE))
    return accounts, superseded


def build_silver(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    source_ids: list[str] | None = None,
    *,
    definitions: dict[str, SourceDefinition] | None = None,
) -> SilverReport:
    """Process every Bronze file not yet in Silver, source by source."""
    # Timestamp arithmetic in silver.parsing treats TIMESTAMP values as UTC wall-clock.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    definitions = definitions if definitions is not None else load_source_definitions()
    report = SilverReport(batch_id)
    for source_id in source_ids if source_ids is not None else sorted(definitions):
        if source_id not in definitions:
            raise KeyError(f"unknown source {source_id!r}; known sources: {sorted(definitions)}")
        definition = definitions[source_id]
        if not table_exists(spark, settings.table_path(definition.bronze_table)):
            continue
        accounts, superseded = build_source(spark, settings, batch_id, definition)
        report.files += accounts
        report.superseded_files += superseded
    return report


def file_accounting(spark: SparkSession, settings: LakeSettings) -> DataFrame:
    """Row accounting per file (columns of gold_quality__file_accounting): the newest processed version of each
    file, and every Bronze failure with zero rows so a file that never reached Silver is still visible."""
    processed = _read(spark, settings, PROCESSED_FILES_TABLE, PROCESSED_FILES_SCHEMA)
    newest = Window.partitionBy("source_id", "source_file").orderBy(F.desc("processed_at_utc"), F.desc("batch_id"))
    processed = processed.withColumn("_n", F.row_number().over(newest)).where("_n = 1").drop("_n")
    ingested = read_ingested_files(spark, settings)
    ingested_at = ingested.where(F.col("status") == INGESTED).select("source_file", "content_hash", "ingested_at_utc")
    done = processed.join(ingested_at, ["source_file", "content_hash"], "left")
    failed = (
        ingested.where(F.col("status") != INGESTED)
        .join(processed.select("source_id", "source_file"), ["source_id", "source_file"], "left_anti")
        .withColumn(
            "_n", F.row_number().over(Window.partitionBy("source_id", "source_file").orderBy(F.desc("ingested_at_utc")))
        )
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
