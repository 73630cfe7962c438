"""Export Gold to Parquet + `_manifest.json` + `LATEST` (layout: export/manifest.py).

Order matters for readers: every Parquet file, then the manifest (its presence = the batch is complete), then LATEST.
Timestamps go out as TIMESTAMP_NTZ: *_utc hold the UTC wall clock, *_local the region's wall clock, so a Snowflake COPY
with USE_LOGICAL_TYPE = TRUE reads the same instants whatever the session time zone.

The manifest lists the files Spark's reader sees in each table's folder (`_metadata.file_name`): the committed
output. A raw listing could also show files of failed task attempts, which Databricks' commit protocol leaves behind
and its readers skip. A retried export task whose manifest is already written verifies it and finishes LATEST.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs import lake, storage, tables
from databricks_jobs.batch import check_batch_id
from databricks_jobs.export.manifest import (
    DATA_FILE,
    LATEST_FILE,
    MANIFEST_FILE,
    ManifestError,
    batch_root,
    build_manifest,
    columns_of,
    parse_manifest,
    publish,
    table_entry,
)
from databricks_jobs.settings import LakeSettings
from databricks_jobs.spark_session import require_utc_session

ROWS_PER_FILE = 1_000_000
# Spark type name in the Parquet file for each contract type that is written differently.
PARQUET_TYPE = {"timestamp": "timestamp_ntz"}


class ExportVerificationError(Exception):
    """The export does not match its manifest; the message names the batch, table and file."""


def for_parquet(df: DataFrame, contract: tables.TableContract) -> DataFrame:
    """Contract columns in order; TIMESTAMP -> TIMESTAMP_NTZ (UTC wall clock, the session zone is UTC)."""
    return df.select([F.col(c.name).cast(PARQUET_TYPE.get(c.type, c.type)).alias(c.name) for c in contract.columns])


def committed_files(spark: SparkSession, folder: str) -> dict[str, tuple[int, int]]:
    """file name -> (rows, bytes) of the Parquet files Spark reads in `folder` (files with rows only)."""
    try:
        counted = spark.read.parquet(folder).groupBy("_metadata.file_name", "_metadata.file_size").count().collect()
    except Exception as error:  # noqa: BLE001 - Spark raises several types for unreadable Parquet
        raise ExportVerificationError(f"{folder}: the Parquet files cannot be read: {error}") from None
    return {r.file_name: (int(r["count"]), int(r.file_size)) for r in counted}


def _write_table(spark: SparkSession, df: DataFrame, folder: str) -> list[dict]:
    rows = df.count()
    out = df.repartition(max(1, math.ceil(rows / ROWS_PER_FILE))) if rows else df.coalesce(1)
    out.write.mode("overwrite").option("compression", "snappy").parquet(folder)
    storage.delete(f"{folder}/_SUCCESS")
    storage.delete(f"{folder}/._SUCCESS.crc")  # a local folder's checksum sidecar; Hadoop deleted it with _SUCCESS
    if rows == 0:
        # An empty table is one empty file (it carries the schema); no reader row names it, so it is listed.
        empty = [f for f in storage.list_dir(folder) if DATA_FILE.match(f.name)]
        return [{"name": f.name, "row_count": 0, "size_bytes": f.size_bytes} for f in empty]
    files = committed_files(spark, folder)
    if sum(n for n, _ in files.values()) != rows:
        raise ExportVerificationError(f"{folder}: Spark reads {files} back, not {rows} rows")
    return [{"name": name, "row_count": n, "size_bytes": size} for name, (n, size) in files.items()]


def _finish_retry(spark: SparkSession, settings: LakeSettings, batch_id: str, log: Callable[[str], None]) -> dict:
    """The batch's manifest exists (an earlier attempt of this task wrote it): verify it, then (re)write LATEST."""
    manifest = verify_export(settings.export_root, batch_id, spark=spark)
    storage.write_text(f"{settings.export_root.rstrip('/')}/{LATEST_FILE}", batch_id + "\n")
    log(f"  export {batch_id}: already complete from an earlier attempt; verified, LATEST set")
    return manifest


def export_gold(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    log: Callable[[str], None] = print,
) -> dict:
    """Writes every table of tables.GOLD_TABLES under {export_root}/{batch_id}/ and returns the manifest."""
    require_utc_session(spark)
    check_batch_id(batch_id)
    root = batch_root(settings.export_root, batch_id)
    if storage.exists(f"{root}/{MANIFEST_FILE}"):
        return _finish_retry(spark, settings, batch_id, log)
    entries = []
    for contract in tables.GOLD_TABLES:
        # A table no builder has produced yet is exported empty, so the loader sees every contract table.
        df = for_parquet(lake.read_or_empty(spark, settings, contract), contract)
        entries.append(table_entry(contract, _write_table(spark, df, f"{root}/{contract.name}")))
        log(f"  export {contract.name}: {entries[-1]['row_count']} rows in {len(entries[-1]['files'])} file(s)")
    manifest = build_manifest(batch_id, entries)
    publish(settings.export_root, manifest)
    return manifest


def _verify_table(spark: SparkSession, root: str, entry: dict, where: str) -> None:
    name = entry["name"]
    try:
        contract = tables.contract(name)
    except KeyError:
        raise ExportVerificationError(f"{where}: table {name} has no contract in tables.py") from None
    if entry["columns"] != columns_of(contract) or entry["primary_key"] != list(contract.primary_key):
        raise ExportVerificationError(f"{where}: table {name}: manifest columns or key differ from tables.py")
    listed = {f["path"].rsplit("/", 1)[-1]: f for f in entry["files"]}
    for file_name, meta in sorted(listed.items()):
        info = storage.file_info(f"{root}/{name}/{file_name}")
        if info is None:
            raise ExportVerificationError(f"{where}: table {name}: file {file_name} is in the manifest but missing")
        if info.size_bytes != meta["size_bytes"]:
            raise ExportVerificationError(
                f"{where}: file {root}/{name}/{file_name}: {info.size_bytes} bytes, manifest says {meta['size_bytes']}"
            )
    if not listed:
        raise ExportVerificationError(f"{where}: table {name}: no data file listed")
    data = spark.read.parquet(*[f"{root}/{name}/{file_name}" for file_name in sorted(listed)])
    expected_types = [(c.name, PARQUET_TYPE.get(c.type, c.type)) for c in contract.columns]
    actual_types = [(f.name, f.dataType.simpleString()) for f in data.schema.fields]
    if actual_types != expected_types:
        raise ExportVerificationError(f"{where}: table {name}: schema {actual_types} != contract {expected_types}")
    seen = committed_files(spark, f"{root}/{name}") if entry["row_count"] else {}
    with_rows = {file_name for file_name, meta in listed.items() if meta["row_count"]}
    for extra in sorted(set(seen) - with_rows):
        raise ExportVerificationError(f"{where}: table {name}: file {extra} holds rows but is not in the manifest")
    for file_name in sorted(listed):
        rows = seen.get(file_name, (0, 0))[0]
        if rows != listed[file_name]["row_count"]:
            raise ExportVerificationError(
                f"{where}: file {root}/{name}/{file_name}: {rows} rows, manifest says {listed[file_name]['row_count']}"
            )


def verify_export(export_root: str, batch_id: str | None = None, spark: SparkSession | None = None) -> dict:
    """Re-reads a batch's manifest (LATEST's when batch_id is None) and checks every table's files, sizes, row
    counts and schema against it and against tables.py. Returns the manifest; raises ExportVerificationError."""
    from databricks_jobs.spark_session import get_spark

    spark = spark or get_spark()
    root = export_root.rstrip("/")
    if batch_id is None:
        if not storage.exists(f"{root}/{LATEST_FILE}"):
            raise ExportVerificationError(f"{root}/{LATEST_FILE} does not exist: no complete export batch")
        batch_id = storage.read_text(f"{root}/{LATEST_FILE}").strip()
    folder = batch_root(root, batch_id)
    where = f"export batch {folder}"
    if not storage.exists(f"{folder}/{MANIFEST_FILE}"):
        raise ExportVerificationError(f"{where}: {MANIFEST_FILE} is missing (the batch is incomplete)")
    try:
        manifest = parse_manifest(storage.read_text(f"{folder}/{MANIFEST_FILE}"), where)
    except ManifestError as error:
        raise ExportVerificationError(str(error)) from None
    if manifest["batch_id"] != batch_id:
        raise ExportVerificationError(f"{where}: manifest batch id {manifest['batch_id']} != {batch_id}")
    exported = [t["name"] for t in manifest["tables"]]
    expected = [t.name for t in tables.GOLD_TABLES]
    if sorted(exported) != sorted(expected):
        raise ExportVerificationError(f"{where}: tables {sorted(exported)} != contract Gold tables {sorted(expected)}")
    for entry in manifest["tables"]:
        _verify_table(spark, folder, entry, where)
    return manifest
