"""Bronze: every raw row as it came, with lineage, one Delta table per source; a file log makes it idempotent.

`bronze_{source_id}__raw_rows`: source_id, source_file (relative to raw_root), content_hash, source_row_number
(csv: physical line number, 1-based, the header is line 1; xls: 1-based spreadsheet row), raw_line (csv; xls: the
row's cells as a JSON array), raw_fields (header name -> raw string), field_count, batch_id, ingested_at_utc.

`bronze__ingested_files`: one row per (source_file, content_hash) ingested, and per failure. A file whose content hash
is already logged as ingested is skipped; a changed file (same path, new hash) is ingested again and Bronze keeps
both versions: Silver reads only the newest version of each file and replaces the rows of the older one.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from databricks_jobs import lake
from databricks_jobs.clock import utc_now
from databricks_jobs.progress import bronze_source_line
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
from databricks_jobs.tables import BRONZE_INGESTED_FILES, FILE_FAILED, FILE_INGESTED, TableContract, bronze_raw_rows

INGESTED, SKIPPED, FAILED = FILE_INGESTED, "skipped_already_ingested", FILE_FAILED
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


@dataclass(frozen=True)
class KnownFiles:
    """What bronze__ingested_files says Bronze already holds."""

    ingested: set[tuple[str, str]]  # (source_file, content_hash)
    failed: set[tuple[str, str, str]]  # (source_file, content_hash, error) logged as failed
    listed: dict[tuple[str, int, int], str]  # (source_file, size, modified_ms) as listed at ingestion -> hash

    def hash_if_unchanged(self, file: RawFile) -> str | None:
        """The content hash of a file whose listing (size and modification time) is one Bronze ingested: the file is
        known without reading it. None when the listing is new (the file is then hashed)."""
        if file.modified_ms is None:
            return None
        return self.listed.get((file.relative_path, file.size_bytes, file.modified_ms))


def _known_state(spark: SparkSession, settings: LakeSettings) -> KnownFiles:
    log = lake.read_or_empty(spark, settings, BRONZE_INGESTED_FILES)
    rows = log.select("source_file", "content_hash", "status", "error", "size_bytes", "modified_ms").collect()
    return KnownFiles(
        ingested={(r.source_file, r.content_hash) for r in rows if r.status == INGESTED},
        failed={(r.source_file, r.content_hash, r.error) for r in rows if r.status == FAILED},
        listed={
            (r.source_file, r.size_bytes, r.modified_ms): r.content_hash
            for r in rows
            if r.status == INGESTED and r.size_bytes is not None and r.modified_ms is not None
        },
    )


def _log_entry(
    source_id: str,
    path: str,
    file: RawFile | None,
    digest: str,
    status: str,
    rows: int,
    batch_id: str,
    error: str | None = None,
    header: list[str] | None = None,
) -> dict[str, object]:
    """One row of bronze__ingested_files."""
    return {
        "source_id": source_id,
        "source_file": path,
        "content_hash": digest,
        "size_bytes": file.size_bytes if file else None,
        "modified_ms": file.modified_ms if file else None,
        "status": status,
        "rows": rows,
        "error": error,
        "header_json": json.dumps(header) if header is not None else None,
        "batch_id": batch_id,
        "ingested_at_utc": utc_now(),
    }


def _raw_rows(spark: SparkSession, file: RawFile, definition: SourceDefinition) -> tuple[list[str], DataFrame, int]:
    """(header, data rows, row count) of one file; RawFileError when the file cannot be ingested."""
    if definition.format == "xls":
        header, rows = read_xls_rows(spark, file, definition)
        columns = bronze_raw_rows(definition.source_id).spark_schema()
        df = spark.createDataFrame(rows, StructType([f for f in columns.fields if f.name in XLS_ROW_COLUMNS]))
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
        F.lit(utc_now()).cast("timestamp").alias("ingested_at_utc"),
    )


def write_raw_rows(
    spark: SparkSession, settings: LakeSettings, table: TableContract, parts: list[tuple[str, str, DataFrame]]
) -> None:
    """One Delta commit for a source's new files. Overwriting the rows of exactly these (file, hash) pairs makes a
    retry after a crash between this write and the file log idempotent."""
    if not parts:
        return
    df = parts[0][2]
    for _, _, other in parts[1:]:
        df = df.unionByName(other)
    lake.overwrite(spark, settings, table, df, lake.of_file_versions((f, h) for f, h, _ in parts))


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
    progress: Callable[[str], None] | None = None,
) -> BronzeReport:
    """Ingest every file of the chosen sources (or the explicit `paths`) into Bronze; one bad file fails alone.
    `progress` gets a line per source as it finishes (files, rows, seconds)."""
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
    known = _known_state(spark, settings)
    ingested, failed = known.ingested, known.failed
    log: list[dict[str, object]] = []
    for source_id in dict.fromkeys(d.source_id for d, _ in work):
        started = time.monotonic()
        definition = definitions[source_id]
        parts, pending = [], []
        for _, file in [(d, f) for d, f in work if d.source_id == source_id]:
            # Like rsync's quick check: an unchanged listing is not read again (a rewrite that keeps both size and
            # modification time goes unseen; touching the file makes Bronze hash it).
            digest = known.hash_if_unchanged(file) or content_hash(file.uri)
            if (file.relative_path, digest) in ingested:
                report.files.append(FileResult(source_id, file.relative_path, digest, SKIPPED, 0))
                continue
            try:
                header, rows, count = _raw_rows(spark, file, definition)
            except RawFileError as error:
                report.files.append(FileResult(source_id, file.relative_path, digest, FAILED, 0, str(error)))
                if (file.relative_path, digest, str(error)) not in failed:
                    log.append(_log_entry(source_id, file.relative_path, file, digest, FAILED, 0, batch_id, str(error)))
                continue
            parts.append((file.relative_path, digest, with_lineage(rows, definition, file, digest, batch_id)))
            pending.append((file, digest, count, header))
            ingested.add((file.relative_path, digest))
        write_raw_rows(spark, settings, bronze_raw_rows(source_id), parts)
        for file, digest, count, header in pending:
            report.files.append(FileResult(source_id, file.relative_path, digest, INGESTED, count))
            log.append(_log_entry(source_id, file.relative_path, file, digest, INGESTED, count, batch_id, None, header))
        if progress is not None:
            done = [f for f in report.files if f.source_id == source_id]
            progress(bronze_source_line(source_id, done, time.monotonic() - started))
    for result in report.failed:
        key = (result.path, result.content_hash or "", result.error)
        if result.content_hash is None and key not in failed:
            log.append(_log_entry(result.source_id, result.path, None, "", FAILED, 0, batch_id, result.error))
    if log:
        lake.append(spark, settings, BRONZE_INGESTED_FILES, lake.records_frame(spark, BRONZE_INGESTED_FILES, log))
    return report
