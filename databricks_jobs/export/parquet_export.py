"""Export Gold to Parquet + `_manifest.json` + `LATEST` (layout and types: /tmp contracts, see README).

Order matters for readers: every Parquet file, then the manifest (its presence = the batch is complete), then LATEST.
Timestamps go out as TIMESTAMP_NTZ: *_utc hold the UTC wall clock, *_local the region's wall clock, so a Snowflake COPY
with USE_LOGICAL_TYPE = TRUE reads the same instants whatever the session time zone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs import storage, tables
from databricks_jobs.gold.context import table_exists
from databricks_jobs.gold.local_time import require_utc_session
from databricks_jobs.jobs.batch import check_batch_id
from databricks_jobs.settings import LakeSettings

MANIFEST = "_manifest.json"
LATEST = "LATEST"
MANIFEST_VERSION = 1
ROWS_PER_FILE = 1_000_000
# Spark type name in the Parquet file for each contract type that is written differently.
PARQUET_TYPE = {"timestamp": "timestamp_ntz"}


class ExportVerificationError(Exception):
    """The export does not match its manifest; the message names the batch, table and file."""


def for_parquet(df: DataFrame, contract: tables.TableContract) -> DataFrame:
    """Contract columns in order; TIMESTAMP -> TIMESTAMP_NTZ (UTC wall clock, the session zone is UTC)."""
    return df.select([F.col(c.name).cast(PARQUET_TYPE.get(c.type, c.type)).alias(c.name) for c in contract.columns])


def _gold_or_empty(spark: SparkSession, settings: LakeSettings, contract: tables.TableContract) -> DataFrame:
    path = settings.table_path(contract.name)
    if table_exists(spark, path):
        return spark.read.format("delta").load(path)
    # A table no builder has produced yet is exported empty, so the loader sees every contract table.
    return spark.createDataFrame([], contract.spark_schema())


def _write_table(spark: SparkSession, df: DataFrame, folder: str) -> list[dict]:
    rows = df.count()
    out = df.repartition(max(1, math.ceil(rows / ROWS_PER_FILE))) if rows else df.coalesce(1)
    out.write.mode("overwrite").option("compression", "snappy").parquet(folder)
    storage.delete(f"{folder}/_SUCCESS")
    storage.delete(f"{folder}/._SUCCESS.crc")  # a local folder's checksum sidecar; Hadoop deleted it with _SUCCESS
    counts = {
        r.file.rsplit("/", 1)[-1]: r["count"]
        for r in spark.read.parquet(folder).groupBy(F.input_file_name().alias("file")).count().collect()
    }
    return [
        {"name": f.name, "size_bytes": f.size_bytes, "row_count": int(counts.get(f.name, 0))}
        for f in storage.list_dir(folder)
        if f.name.startswith("part-") and f.name.endswith(".parquet")
    ]


def _columns(contract: tables.TableContract) -> list[dict]:
    return [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in contract.columns]


def export_gold(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    log: Callable[[str], None] = print,
) -> dict:
    """Writes every table of tables.GOLD_TABLES under {export_root}/{batch_id}/ and returns the manifest."""
    require_utc_session(spark)
    check_batch_id(batch_id)
    root = settings.export_root.rstrip("/")
    batch_root = f"{root}/{batch_id}"
    if storage.exists(f"{batch_root}/{MANIFEST}"):
        raise FileExistsError(f"export batch {batch_root} is already complete; batches are immutable")
    entries = []
    for contract in tables.GOLD_TABLES:
        df = for_parquet(_gold_or_empty(spark, settings, contract), contract)
        written = _write_table(spark, df, f"{batch_root}/{contract.name}")
        entries.append(
            {
                "name": contract.name,
                "row_count": sum(f["row_count"] for f in written),
                "primary_key": list(contract.primary_key),
                "files": [
                    {"path": f"{contract.name}/{f['name']}", "row_count": f["row_count"], "size_bytes": f["size_bytes"]}
                    for f in written
                ],
                "columns": _columns(contract),
            }
        )
        log(f"  export {contract.name}: {entries[-1]['row_count']} rows in {len(written)} file(s)")
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "batch_id": batch_id,
        "created_at_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "format": "parquet",
        "tables": entries,
    }
    storage.write_text(f"{batch_root}/{MANIFEST}", json.dumps(manifest, indent=2))
    storage.write_text(f"{root}/{LATEST}", batch_id + "\n")
    return manifest


def _verify_table(spark: SparkSession, batch_root: str, entry: dict, where: str) -> None:
    name = entry["name"]
    try:
        contract = tables.contract(name)
    except KeyError:
        raise ExportVerificationError(f"{where}: table {name} has no contract in tables.py") from None
    if entry["columns"] != _columns(contract):
        raise ExportVerificationError(f"{where}: table {name}: manifest columns differ from the contract in tables.py")
    listed = {f["path"].rsplit("/", 1)[-1]: f for f in entry["files"]}
    present = {f.name: f for f in storage.list_dir(f"{batch_root}/{name}") if f.name.endswith(".parquet")}
    for missing in sorted(set(listed) - set(present)):
        raise ExportVerificationError(f"{where}: table {name}: file {missing} is in the manifest but not on storage")
    for extra in sorted(set(present) - set(listed)):
        raise ExportVerificationError(f"{where}: table {name}: file {extra} is on storage but not in the manifest")
    total = 0
    for file_name, meta in sorted(listed.items()):
        path = f"{batch_root}/{name}/{file_name}"
        if present[file_name].size_bytes != meta["size_bytes"]:
            raise ExportVerificationError(
                f"{where}: file {path}: {present[file_name].size_bytes} bytes, manifest says {meta['size_bytes']}"
            )
        data = spark.read.parquet(path)
        expected_types = [(c.name, PARQUET_TYPE.get(c.type, c.type)) for c in contract.columns]
        actual_types = [(f.name, f.dataType.simpleString()) for f in data.schema.fields]
        if actual_types != expected_types:
            raise ExportVerificationError(f"{where}: file {path}: schema {actual_types} != contract {expected_types}")
        rows = data.count()
        if rows != meta["row_count"]:
            raise ExportVerificationError(f"{where}: file {path}: {rows} rows, manifest says {meta['row_count']}")
        total += rows
    if total != entry["row_count"]:
        raise ExportVerificationError(
            f"{where}: table {name}: files hold {total} rows, manifest says {entry['row_count']}"
        )


def verify_export(export_root: str, batch_id: str | None = None, spark: SparkSession | None = None) -> dict:
    """Re-reads a batch's manifest (LATEST's when batch_id is None) and checks every table's files, sizes, row
    counts and schema against it and against tables.py. Returns the manifest; raises ExportVerificationError."""
    from databricks_jobs.spark_session import get_spark

    spark = spark or get_spark()
    root = export_root.rstrip("/")
    if batch_id is None:
        if not storage.exists(f"{root}/{LATEST}"):
            raise ExportVerificationError(f"{root}/{LATEST} does not exist: no complete export batch")
        batch_id = storage.read_text(f"{root}/{LATEST}").strip()
    batch_root = f"{root}/{batch_id}"
    where = f"export batch {batch_root}"
    if not storage.exists(f"{batch_root}/{MANIFEST}"):
        raise ExportVerificationError(f"{where}: {MANIFEST} is missing (the batch is incomplete)")
    try:
        manifest = json.loads(storage.read_text(f"{batch_root}/{MANIFEST}"))
    except json.JSONDecodeError as error:
        raise ExportVerificationError(f"{where}: {MANIFEST} is not valid JSON: {error}") from None
    if manifest.get("manifest_version") != MANIFEST_VERSION or manifest.get("batch_id") != batch_id:
        raise ExportVerificationError(
            f"{where}: manifest version/batch id {manifest.get('manifest_version')}/{manifest.get('batch_id')} "
            f"!= {MANIFEST_VERSION}/{batch_id}"
        )
    exported = [t["name"] for t in manifest["tables"]]
    expected = [t.name for t in tables.GOLD_TABLES]
    if sorted(exported) != sorted(expected):
        raise ExportVerificationError(f"{where}: tables {sorted(exported)} != contract Gold tables {sorted(expected)}")
    for entry in manifest["tables"]:
        _verify_table(spark, batch_root, entry, where)
    return manifest
