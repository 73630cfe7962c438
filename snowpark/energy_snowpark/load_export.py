"""LOAD_GOLD_EXPORT procedure: load one Gold export (Parquet + _manifest.json) from a stage into CURATED tables.

Steps, each table in turn: COPY the manifest's files into a transient staging table (MATCH_BY_COLUMN_NAME), check
each file's loaded rows and the table's total against the manifest, check the primary key is unique. Only when
every table passed are the curated tables changed, in one transaction: delete the rows whose key the export carries,
insert the export's rows (an upsert on the manifest's primary key, so loading the same or a newer export of the
same days never duplicates rows). Every load, successful or not, is recorded in CURATED.LOAD_HISTORY.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from snowflake.snowpark import Session

from .identifiers import LATEST, quote_identifier, quote_qualified_name, validate_batch_id

CURATED = '"CURATED"'
MANIFEST_FILE = "_manifest.json"
LATEST_FILE = "LATEST"
STAGING_PREFIX = "LOAD_STAGING__"
StageReader = Callable[[str], str]


class LoadError(RuntimeError):
    """The export cannot be loaded as it is; the message names the table / file and the problem."""


@dataclass(frozen=True)
class ManifestFile:
    path: str
    row_count: int


@dataclass(frozen=True)
class ManifestTable:
    name: str
    row_count: int
    primary_key: tuple[str, ...]
    columns: tuple[str, ...]
    files: tuple[ManifestFile, ...]


@dataclass(frozen=True)
class Manifest:
    batch_id: str
    tables: tuple[ManifestTable, ...]


@dataclass
class TableLoad:
    """What one table's load did; becomes a LOAD_HISTORY row and part of the procedure's report."""

    table_name: str
    files: list[str] = field(default_factory=list)
    rows_in_manifest: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0


def parse_manifest(text: str, expected_batch_id: str) -> Manifest:
    """Validate the manifest's structure and internal consistency (file counts add up to table counts)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise LoadError(f"{MANIFEST_FILE} of batch {expected_batch_id} is not JSON: {error}") from error
    if raw.get("manifest_version") != 1:
        raise LoadError(f"{MANIFEST_FILE}: unsupported manifest_version {raw.get('manifest_version')!r}")
    if raw.get("batch_id") != expected_batch_id:
        raise LoadError(f"{MANIFEST_FILE}: batch_id {raw.get('batch_id')!r} != folder {expected_batch_id!r}")
    if raw.get("format") != "parquet":
        raise LoadError(f"{MANIFEST_FILE}: format {raw.get('format')!r} is not parquet")
    tables = tuple(_parse_table(entry) for entry in raw.get("tables") or [])
    if not tables:
        raise LoadError(f"{MANIFEST_FILE} of batch {expected_batch_id} lists no tables")
    return Manifest(expected_batch_id, tables)


def _parse_table(entry: dict[str, Any]) -> ManifestTable:
    name = entry.get("name", "")
    quote_identifier(name, "table name in manifest")
    columns = tuple(column["name"] for column in entry.get("columns") or [])
    key = tuple(entry.get("primary_key") or [])
    for column in (*columns, *key):
        quote_identifier(column, f"column name of {name} in manifest")
    if not key or not set(key) <= set(columns):
        raise LoadError(f"manifest table {name}: primary_key {list(key)} must be a non-empty subset of its columns")
    files = tuple(ManifestFile(f["path"], int(f["row_count"])) for f in entry.get("files") or [])
    for file in files:
        if not file.path.startswith(f"{name}/") or ".." in file.path or "'" in file.path:
            raise LoadError(f"manifest table {name}: file path {file.path!r} is not inside the table's folder")
    row_count = int(entry.get("row_count", -1))
    if sum(f.row_count for f in files) != row_count:
        raise LoadError(
            f"manifest table {name}: row_count {row_count} != sum of its files' row_count "
            f"{sum(f.row_count for f in files)}"
        )
    return ManifestTable(name, row_count, key, columns, files)


def stage_sql_reader(session: Any, stage: str, database: str) -> StageReader:
    """Read a small text file from the stage with SQL (works on internal and external stages in Snowflake)."""

    def read(relative_path: str) -> str:
        file_format = "EXPORT_JSON" if relative_path.endswith(".json") else "EXPORT_TEXT"
        rows = session.sql(
            f"SELECT $1 FROM @{stage}/{relative_path} (FILE_FORMAT => '{database}.{CURATED}.{file_format}')"
        ).collect()
        if not rows:
            raise LoadError(f"@{stage}/{relative_path} not found or empty")
        return str(rows[0][0])

    return read


def resolve_batch_id(batch_id: str, read: StageReader) -> str:
    """LATEST -> the batch id in the export's LATEST file (written last by the exporter)."""
    batch_id = validate_batch_id(batch_id)
    if batch_id != LATEST:
        return batch_id
    return validate_batch_id(read(LATEST_FILE).strip())


def load_export(
    session: Any,
    stage_name: str,
    batch_id: str = LATEST,
    database_name: str = "ENERGY",
    read: StageReader | None = None,
) -> dict[str, Any]:
    """Load a batch (or the LATEST one) into `database_name`.CURATED; returns the load report."""
    stage = quote_qualified_name(stage_name, "stage name")
    database = quote_identifier(database_name, "database name")
    read = read or stage_sql_reader(session, stage, database)
    load_id = uuid.uuid4().hex
    resolved = batch_id
    loads: list[TableLoad] = []
    staged: list[str] = []  # staging tables to drop, including the one whose checks failed
    current: str | None = None
    try:
        resolved = resolve_batch_id(batch_id, read)
        manifest = parse_manifest(read(f"{resolved}/{MANIFEST_FILE}"), resolved)
        for table in manifest.tables:
            current = table.name
            staged.append(table.name)
            loads.append(_stage_table(session, database, stage, manifest.batch_id, table))
        current = None
        _apply_staged(session, database, manifest, loads, load_id)
    except Exception as error:
        _record_failure(session, database, load_id, resolved, current, error)
        raise
    finally:
        for table_name in staged:
            session.sql(f"DROP TABLE IF EXISTS {_staging_name(database, table_name)}").collect()
    return _report(load_id, manifest.batch_id, loads)


def _curated_name(database: str, table_name: str) -> str:
    return f"{database}.{CURATED}.{quote_identifier(table_name)}"


def _staging_name(database: str, table_name: str) -> str:
    return f"{database}.{CURATED}.{quote_identifier(STAGING_PREFIX + table_name)}"


def _stage_table(session: Any, database: str, stage: str, batch_id: str, table: ManifestTable) -> TableLoad:
    """COPY one table's files into its staging table and check the counts; raises LoadError naming the file."""
    curated = _curated_name(database, table.name)
    staging = _staging_name(database, table.name)
    _require_columns(session, curated, table)
    session.sql(f"CREATE OR REPLACE TRANSIENT TABLE {staging} LIKE {curated}").collect()
    load = TableLoad(table.name, [f.path for f in table.files], table.row_count)
    if table.files:
        files = ", ".join(f"'{f.path.split('/', 1)[1]}'" for f in table.files)
        try:
            rows = session.sql(
                f"COPY INTO {staging} FROM @{stage}/{batch_id}/{table.name}/ FILES = ({files}) "
                f"FILE_FORMAT = (FORMAT_NAME = '{database}.{CURATED}.EXPORT_PARQUET') "
                "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT FORCE = TRUE"
            ).collect()
        except Exception as error:
            raise LoadError(
                f"table {table.name}: COPY from @{stage}/{batch_id}/{table.name}/ failed: {error}"
            ) from error
        _check_file_counts(table, [row.as_dict() for row in rows], load)
    staged = session.sql(f"SELECT COUNT(*) FROM {staging}").collect()[0][0]
    if staged != table.row_count:
        raise LoadError(f"table {table.name}: staged {staged} rows but the manifest says {table.row_count}")
    _check_unique_key(session, staging, table)
    return load


def _require_columns(session: Any, curated: str, table: ManifestTable) -> None:
    try:
        existing = {name.strip('"').upper() for name in session.table(curated).columns}
    except Exception as error:
        raise LoadError(f"table {table.name}: no curated table {curated} ({error})") from error
    missing = [c for c in table.columns if c.upper() not in existing]
    if missing:
        raise LoadError(f"table {table.name}: the export has columns {missing} that {curated} lacks")


def _check_file_counts(table: ManifestTable, results: list[dict[str, Any]], load: TableLoad) -> None:
    """Compare COPY's per-file result with the manifest's per-file row counts."""
    by_name = {str(r.get("file", "")).rsplit("/", 1)[-1]: r for r in results}
    for file in table.files:
        result = by_name.get(file.path.rsplit("/", 1)[-1])
        if result is None and file.row_count == 0:
            continue  # an empty table is exported as one empty file, which COPY may not report
        if result is None or result.get("status") not in ("LOADED", "PARTIALLY_LOADED"):
            raise LoadError(f"table {table.name}: file {file.path} was not loaded (COPY result: {result})")
        loaded, parsed = int(result["rows_loaded"]), int(result.get("rows_parsed") or result["rows_loaded"])
        load.rows_loaded += loaded
        load.rows_rejected += parsed - loaded
        if loaded != file.row_count:
            raise LoadError(
                f"table {table.name}: file {file.path} has {loaded} rows but the manifest says {file.row_count}"
            )


def _check_unique_key(session: Any, staging: str, table: ManifestTable) -> None:
    key = ", ".join(quote_identifier(c) for c in table.primary_key)
    nulls = " OR ".join(f"{quote_identifier(c)} IS NULL" for c in table.primary_key)
    duplicates = session.sql(
        f"SELECT COUNT(*) FROM (SELECT {key} FROM {staging} GROUP BY {key} HAVING COUNT(*) > 1)"
    ).collect()[0][0]
    null_keys = session.sql(f"SELECT COUNT(*) FROM {staging} WHERE {nulls}").collect()[0][0]
    if duplicates or null_keys:
        raise LoadError(
            f"table {table.name}: primary key ({', '.join(table.primary_key)}) has {duplicates} duplicated and "
            f"{null_keys} null values in the export"
        )


def _apply_staged(session: Any, database: str, manifest: Manifest, loads: list[TableLoad], load_id: str) -> None:
    """Upsert every staged table and record the load, in one transaction: all tables change or none."""
    tables = {t.name: t for t in manifest.tables}
    session.sql("BEGIN TRANSACTION").collect()
    try:
        for load in loads:
            table = tables[load.table_name]
            curated, staging = _curated_name(database, table.name), _staging_name(database, table.name)
            match = " AND ".join(f"t.{quote_identifier(c)} = s.{quote_identifier(c)}" for c in table.primary_key)
            deleted = session.sql(f"DELETE FROM {curated} t USING {staging} s WHERE {match}").collect()
            load.rows_replaced = int(deleted[0][0]) if deleted else 0
            columns = ", ".join(quote_identifier(c) for c in table.columns)
            session.sql(f"INSERT INTO {curated} ({columns}) SELECT {columns} FROM {staging}").collect()
            _record(session, database, load_id, manifest.batch_id, load, "LOADED", None)
        session.sql("COMMIT").collect()
    except Exception:
        session.sql("ROLLBACK").collect()
        raise


def _record(
    session: Any,
    database: str,
    load_id: str,
    batch_id: str,
    load: TableLoad | None,
    status: str,
    error: str | None,
    table_name: str | None = None,
) -> None:
    session.sql(
        f"INSERT INTO {database}.{CURATED}.LOAD_HISTORY (LOAD_ID, BATCH_ID, TABLE_NAME, STATUS, FILES_LOADED, "
        "ROWS_IN_MANIFEST, ROWS_LOADED, ROWS_REJECTED, ROWS_REPLACED, LOADED_AT_UTC, ERROR_MESSAGE) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params=[
            load_id,
            batch_id,
            load.table_name if load else table_name,
            status,
            len(load.files) if load else 0,
            load.rows_in_manifest if load else 0,
            load.rows_loaded if load else 0,
            load.rows_rejected if load else 0,
            load.rows_replaced if load else 0,
            datetime.now(UTC).replace(tzinfo=None),
            error,
        ],
    ).collect()


def _record_failure(
    session: Any, database: str, load_id: str, batch_id: str, table_name: str | None, error: Exception
) -> None:
    """Best effort: a failure to record must not hide the load's own error."""
    try:
        _record(session, database, load_id, batch_id, None, "FAILED", str(error)[:4000], table_name)
    except Exception:  # noqa: BLE001 - the original error is re-raised by the caller
        pass


def _report(load_id: str, batch_id: str, loads: list[TableLoad]) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "batch_id": batch_id,
        "status": "LOADED",
        "tables": [
            {
                "table": load.table_name,
                "files": load.files,
                "rows_in_manifest": load.rows_in_manifest,
                "rows_loaded": load.rows_loaded,
                "rows_rejected": load.rows_rejected,
                "rows_replaced": load.rows_replaced,
            }
            for load in loads
        ],
        "files_loaded": sum(len(load.files) for load in loads),
        "rows_loaded": sum(load.rows_loaded for load in loads),
        "rows_rejected": sum(load.rows_rejected for load in loads),
        "errors": [],
    }


def main(session: Session, stage_name: str, batch_id: str, database_name: str) -> dict:
    """Procedure handler: CALL ENERGY.CURATED.LOAD_GOLD_EXPORT('ENERGY.CURATED.EXPORT_STAGE', 'LATEST', 'ENERGY')."""
    return load_export(session, stage_name, batch_id, database_name)
