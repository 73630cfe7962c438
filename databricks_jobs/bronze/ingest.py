"""Bronze: every raw row as it came, with lineage, one Delta table per source; a file log makes it idempotent.

`bronze_{source_id}__raw_rows`: source_id, source_file (relative to raw_root), content_hash, source_row_number
(csv: physical line number, 1-based, the header is line 1; xls: 1-based spreadsheet row), raw_line (csv; xls: the
row's cells as a JSON array), raw_fields (header name -> raw string), field_count, batch_id, ingested_at_utc.

`bronze__ingested_files`: one row per (source_file, content_hash) ingested, and per failure. A file whose content hash
is already logged as ingested is skipped; a changed file (same path, new hash) is ingested again and Bronze keeps
both versions: Silver reads only the newest version of each file and replaces the rows of the older one.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass, field

import pyspark.sql.functions as F
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import (
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from databricks_jobs.settings import LakeSettings
from databricks_jobs.sources import SourceDefinition, load_source_definitions
from databricks_jobs.sources.readers import (
    RawFile,
    RawFileError,
    check_header,
    content_hash,
    list_files,
    raw_file,
    read_csv_header,
    read_csv_rows,
    read_xls_rows,
)

INGESTED_FILES_TABLE = "bronze__ingested_files"

INGESTED_FILES_SCHEMA = StructType(
    [
        StructField("source_id", StringType(), False),
        StructField("source_file", StringType(), False),
        StructField("content_hash", StringType(), False),  # "" when the file could not be read at all
        StructField("size_bytes", LongType(), True),
        StructField("status", StringType(), False),  # ingested | failed
        StructField("rows", LongType(), False),
        StructField("error", StringType(), True),
        StructField("header_json", StringType(), True),
        StructField("batch_id", StringType(), False),
        StructField("ingested_at_utc", TimestampType(), False),
    ]
)

RAW_ROWS_SCHEMA = StructType(
    [
        StructField("source_id", StringType(), False),
        StructField("source_file", StringType(), False),
        StructField("content_hash", StringType(), False),
        StructField("source_row_number", LongType(), False),
        StructField("raw_line", StringType(), True),
        StructField("raw_fields", MapType(StringType(), StringType()), False),
        StructField("field_count", IntegerType(), False),
        StructField("batch_id", StringType(), False),
        StructField("ingested_at_utc", TimestampType(), False),
    ]
)

INGESTED, SKIPPED, FAILED = "ingested", "skipped_already_ingested", "failed"
# A source of the run-everything default whose files have not landed (yet): reported, not logged, not a failure.
NO_FILES = "no_files"


@dataclass(frozen=True)
class FileResult:
    source_id: str
    path: str  # relative to raw_root (or the path as given, for a missing file)
    content_hash: str | None
    status: str  # ingested | skipped_already_ingested | failed | no_files
    rows: int
    error: str | None = None


@dataclass
class BronzeReport:
    batch_id: str
    files: list[FileResult] = field(default_factory=list)

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def ingested(self) -> list[FileResult]:
        return self.by_status(INGESTED)

    @property
    def skipped(self) -> list[FileResult]:
        return self.by_status(SKIPPED)

    @property
    def failed(self) -> list[FileResult]:
        return self.by_status(FAILED)

    @property
    def sources_without_files(self) -> list[str]:
        return [f.source_id for f in self.by_status(NO_FILES)]

    def summary(self) -> str:
        lines = [f"bronze batch {self.batch_id}: {len(self.ingested)} ingested, {len(self.skipped)} skipped, "]
        lines[0] += f"{len(self.failed)} failed, {sum(f.rows for f in self.ingested)} rows"
        if self.sources_without_files:
            lines[0] += f"; no files landed for {', '.join(self.sources_without_files)}"
        lines += [f"  FAILED {f.source_id}: {f.error}" for f in self.failed]
        return "\n".join(lines)


def _now_utc() -> dt.datetime:
    # Spark's session zone is UTC, so a naive UTC datetime stores the same instant.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def table_exists(spark: SparkSession, path: str) -> bool:
    return DeltaTable.isDeltaTable(spark, path)


def read_ingested_files(spark: SparkSession, settings: LakeSettings) -> DataFrame:
    path = settings.table_path(INGESTED_FILES_TABLE)
    if not table_exists(spark, path):
        return spark.createDataFrame([], INGESTED_FILES_SCHEMA)
    return spark.read.format("delta").load(path)


def _log(spark: SparkSession, settings: LakeSettings, entries: list[tuple]) -> None:
    if entries:
        df = spark.createDataFrame(entries, INGESTED_FILES_SCHEMA)
        df.write.format("delta").mode("append").save(settings.table_path(INGESTED_FILES_TABLE))


def _known_state(spark: SparkSession, settings: LakeSettings) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    """(source_file, hash) already ingested, and (source_file, hash, error) already logged as failed."""
    rows = read_ingested_files(spark, settings).select("source_file", "content_hash", "status", "error").collect()
    ingested = {(r.source_file, r.content_hash) for r in rows if r.status == INGESTED}
    failed = {(r.source_file, r.content_hash, r.error) for r in rows if r.status == FAILED}
    return ingested, failed


def _raw_rows(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], DataFrame, int]:
    """(header, data rows, row count) of one file; RawFileError when the file cannot be ingested."""
    if definition.format == "xls":
        header, rows = read_xls_rows(spark, file, definition)
        schema = StructType([f for f in RAW_ROWS_SCHEMA.fields if f.name in XLS_ROW_COLUMNS])
        df = spark.createDataFrame(rows, schema)
        count = len(rows)
    else:
        header = read_csv_header(spark, file, definition)
        check_header(definition, header, file.relative_path)
        df, count = read_csv_rows(spark, file, header, definition)
    if count == 0:
        raise RawFileError(f"{file.relative_path}: empty file (header only, no data rows)")
    return header, df, count


XLS_ROW_COLUMNS = ("source_row_number", "raw_line", "raw_fields", "field_count")


def with_lineage(rows: DataFrame, definition: SourceDefinition, file: RawFile, digest: str, batch_id: str) -> DataFrame:
    return rows.select(
        F.lit(definition.source_id).alias("source_id"),
        F.lit(file.relative_path).alias("source_file"),
        F.lit(digest).alias("content_hash"),
        "source_row_number",
        "raw_line",
        "raw_fields",
        F.col("field_count").cast("int").alias("field_count"),
        F.lit(batch_id).alias("batch_id"),
        F.lit(_now_utc()).cast("timestamp").alias("ingested_at_utc"),
    )


def write_raw_rows(
    spark: SparkSession, settings: LakeSettings, definition: SourceDefinition, parts: list[tuple[str, str, DataFrame]]
) -> None:
    """One Delta commit for a source's new files. replaceWhere on (file, hash) makes a retry after a crash between
    this write and the file log idempotent."""
    if not parts:
        return
    df = parts[0][2]
    for _, _, other in parts[1:]:
        df = df.unionByName(other)
    path = settings.table_path(definition.bronze_table)
    if table_exists(spark, path):
        condition = " OR ".join(f"(source_file = '{_sql_str(f)}' AND content_hash = '{h}')" for f, h, _ in parts)
        df.write.format("delta").mode("overwrite").option("replaceWhere", condition).save(path)
    else:
        df.write.format("delta").mode("append").save(path)


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _assign_files(
    spark: SparkSession,
    settings: LakeSettings,
    definitions: dict[str, SourceDefinition],
    paths: list[str],
) -> tuple[list[tuple[SourceDefinition, RawFile]], list[FileResult]]:
    """Explicit paths -> their source (the definition whose glob matches); failures for unknown or missing files."""
    assigned, failures = [], []
    for path in paths:
        try:
            file = raw_file(settings.raw_root, path)
        except RawFileError as error:
            failures.append(FileResult("unknown", path, None, FAILED, 0, str(error)))
            continue
        matches = [d for d in definitions.values() if any(fnmatch.fnmatch(file.relative_path, g) for g in d.files)]
        if len(matches) != 1:
            problem = "no source definition's glob matches it" if not matches else "several definitions match it: "
            problem += ", ".join(d.source_id for d in matches)
            error = f"{path}: unknown source: {problem}"
            failures.append(FileResult("unknown", file.relative_path, None, FAILED, 0, error))
            continue
        assigned.append((matches[0], file))
    return assigned, failures


def ingest_bronze(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    source_ids: list[str] | None = None,
    *,
    definitions: dict[str, SourceDefinition] | None = None,
    paths: list[str] | None = None,
) -> BronzeReport:
    """Ingest every file of the chosen sources (or the explicit `paths`) into Bronze; one bad file fails alone."""
    definitions = definitions if definitions is not None else load_source_definitions()
    report = BronzeReport(batch_id)
    if paths is not None:
        work, failures = _assign_files(spark, settings, definitions, paths)
        report.files += failures
    else:
        work = []
        for source_id in source_ids if source_ids is not None else sorted(definitions):
            definition = definitions.get(source_id)
            if definition is None:
                error = f"unknown source {source_id!r}; known sources: {sorted(definitions)}"
                report.files.append(FileResult(source_id, "", None, FAILED, 0, error))
                continue
            files = [f for glob in definition.files for f in list_files(settings.raw_root, glob)]
            if not files:
                # Asked for by name, its files must be there; in the run-everything default a source whose files
                # have not landed yet (an OMS export not configured, the synthetic utility not generated) is normal.
                status = FAILED if source_ids is not None else NO_FILES
                error = f"{definition.files}: missing file (no file under {settings.raw_root} matches)"
                report.files.append(FileResult(source_id, ",".join(definition.files), None, status, 0, error))
            work += [(definition, f) for f in files]
    ingested, failed = _known_state(spark, settings)
    log: list[tuple] = []
    for source_id in dict.fromkeys(d.source_id for d, _ in work):
        definition = definitions[source_id]
        parts, pending = [], []
        for _, file in [(d, f) for d, f in work if d.source_id == source_id]:
            digest = content_hash(file.uri)
            if (file.relative_path, digest) in ingested:
                report.files.append(FileResult(source_id, file.relative_path, digest, SKIPPED, 0))
                continue
            try:
                header, rows, count = _raw_rows(spark, file, definition)
            except RawFileError as error:
                report.files.append(FileResult(source_id, file.relative_path, digest, FAILED, 0, str(error)))
                if (file.relative_path, digest, str(error)) not in failed:
                    entry = (source_id, file.relative_path, digest, file.size_bytes, FAILED, 0, str(error), None)
                    log.append((*entry, batch_id, _now_utc()))
                continue
            parts.append((file.relative_path, digest, with_lineage(rows, definition, file, digest, batch_id)))
            pending.append((file, digest, count, json.dumps(header)))
            ingested.add((file.relative_path, digest))
        write_raw_rows(spark, settings, definition, parts)
        for file, digest, count, header in pending:
            report.files.append(FileResult(source_id, file.relative_path, digest, INGESTED, count))
            entry = (source_id, file.relative_path, digest, file.size_bytes, INGESTED, count, None, header)
            log.append((*entry, batch_id, _now_utc()))
    for result in report.failed:
        key = (result.path, result.content_hash or "", result.error)
        if result.content_hash is None and key not in failed:
            log.append((result.source_id, result.path, "", None, FAILED, 0, result.error, None, batch_id, _now_utc()))
    _log(spark, settings, log)
    return report
