"""LOAD_GOLD_EXPORT procedure: load one Gold export (Parquet + _manifest.json) from a stage into CURATED tables.

The manifest is data written by another system, so it decides nothing: every table it names must be a table of the
export contract (export_contract.py, generated from databricks_jobs/tables.py) with the contract's primary key and
columns, and every file a `part-*.parquet` in the table's folder; anything else is refused before any COPY.

Steps, each table in turn: COPY each file into a staging table private to this load (named with the load id),
check each file's loaded rows and the table's total against the manifest, that the primary key is unique and not
null, and that values are plausible (plausibility.py). Only when every table passed are the curated tables changed,
in one transaction: delete the rows whose key the export carries, insert the export's rows (an upsert on the
contract's key). A batch that is already the loaded state is SKIPPED (nothing copied); LATEST naming an older batch
than one already loaded is refused unless that batch id is passed explicitly. Every load, whatever its outcome, is
recorded in CURATED.LOAD_HISTORY.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from snowflake.snowpark import Session

from .export_contract import TABLES
from .identifiers import LATEST, quote_identifier, quote_qualified_name, validate_batch_id
from .plausibility import rules_for

CURATED = '"CURATED"'
MANIFEST_FILE = "_manifest.json"
LATEST_FILE = "LATEST"
STAGING_PREFIX = "LOAD_STAGING__"
# Load ids start with the load's UTC start time, which names its staging tables (see _drop_abandoned_staging).
LOAD_ID_TIME = "%Y%m%dT%H%M%SZ"
ABANDONED_AFTER = timedelta(days=1)
AUDIT_TABLE = "LOAD_HISTORY"
# The column of a staging table that says which file a row came from (for the plausibility messages).
LOAD_FILE_COLUMN = '"LOAD_FILE__"'
# Spark's part files: part-00000-<uuid>-c000.snappy.parquet. No quote, backslash, bracket, space, slash or '..'.
PART_FILE = re.compile(r"part-[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.parquet")
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
    names = [table.name for table in tables]
    if len(set(names)) != len(names):
        raise LoadError(
            f"{MANIFEST_FILE}: a table is listed twice: {sorted(n for n in set(names) if names.count(n) > 1)}"
        )
    return Manifest(expected_batch_id, tables)


def _parse_table(entry: dict[str, Any]) -> ManifestTable:
    """One manifest entry, checked against the contract; the result carries the contract's key and columns."""
    name = entry.get("name", "")
    contract_columns, contract_key = _contract_table(name)
    key = tuple(entry.get("primary_key") or [])
    if key != contract_key:
        raise LoadError(f"manifest table {name}: field primary_key {list(key)} != the contract's {list(contract_key)}")
    _check_columns(name, entry.get("columns") or [], contract_columns)
    files = tuple(ManifestFile(f["path"], int(f["row_count"])) for f in entry.get("files") or [])
    for file in files:
        _check_file_path(name, file.path)
    row_count = int(entry.get("row_count", -1))
    if sum(f.row_count for f in files) != row_count:
        raise LoadError(
            f"manifest table {name}: row_count {row_count} != sum of its files' row_count "
            f"{sum(f.row_count for f in files)}"
        )
    return ManifestTable(name, row_count, contract_key, tuple(c[0] for c in contract_columns), files)


def _contract_table(name: Any) -> tuple[tuple[tuple[str, str, bool], ...], tuple[str, ...]]:
    if isinstance(name, str) and name.upper() == AUDIT_TABLE:
        raise LoadError(f"manifest table {name}: {AUDIT_TABLE} is the load's audit table, never a load target")
    if not isinstance(name, str) or name not in TABLES:
        raise LoadError(f"manifest table {name!r}: field name is not a table of the export contract ({sorted(TABLES)})")
    return TABLES[name]


def _check_columns(name: str, columns: list[dict[str, Any]], contract: tuple[tuple[str, str, bool], ...]) -> None:
    """Same column names and types as the contract: a missing, extra or retyped column is refused."""
    declared = {str(c.get("name")): c.get("type") for c in columns}
    expected = {column: spark_type for column, spark_type, _ in contract}
    missing = sorted(set(expected) - set(declared))
    extra = sorted(set(declared) - set(expected))
    if missing or extra or len(declared) != len(columns):
        raise LoadError(
            f"manifest table {name}: field columns differs from the contract: missing {missing}, not in the "
            f"contract {extra}{', duplicated names' if len(declared) != len(columns) else ''}"
        )
    for column, spark_type in expected.items():
        if declared[column] != spark_type:
            raise LoadError(
                f"manifest table {name}: column {column}: field type {declared[column]!r} != the contract's "
                f"{spark_type!r}"
            )


def _check_file_path(name: str, path: Any) -> None:
    folder, _, file_name = str(path).partition("/")
    if folder != name or not PART_FILE.fullmatch(file_name):
        raise LoadError(
            f"manifest table {name}: field files: path {path!r} refused: expected {name}/part-<letters, digits, "
            "'-', '_', '.'>.parquet"
        )


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
    started = datetime.now(UTC)
    load_id = f"{started:{LOAD_ID_TIME}}_{uuid.uuid4().hex[:12]}"
    resolved = batch_id
    loads: list[TableLoad] = []
    staged: list[str] = []  # staging tables to drop, including the one whose checks failed
    current: str | None = None
    try:
        _drop_abandoned_staging(session, database, started)
        resolved = resolve_batch_id(batch_id, read)
        manifest = parse_manifest(read(f"{resolved}/{MANIFEST_FILE}"), resolved)
        if _already_loaded(session, database, resolved, explicit=batch_id != LATEST):
            return _skip(session, database, load_id, manifest)
        for table in manifest.tables:
            current = table.name
            staged.append(_staging_name(database, load_id, table.name))
            loads.append(_stage_table(session, database, stage, manifest.batch_id, table, staged[-1]))
        current = None
        _apply_staged(session, database, manifest, loads, load_id)
    except Exception as error:
        _record_failure(session, database, load_id, resolved, current, error)
        raise
    finally:
        for staging in staged:
            session.sql(f"DROP TABLE IF EXISTS {staging}").collect()
    return _report(load_id, manifest.batch_id, loads, "LOADED")


def _already_loaded(session: Any, database: str, batch_id: str, explicit: bool) -> bool:
    """True when `batch_id` is what the last load loaded; refuses LATEST going back behind a loaded batch.

    Batch ids start with their UTC creation time, so they sort by age.
    """
    history = f"{database}.{CURATED}.{AUDIT_TABLE}"
    last = session.sql(
        f"SELECT BATCH_ID FROM {history} WHERE STATUS = 'LOADED' ORDER BY LOADED_AT_UTC DESC LIMIT 1"
    ).collect()
    if last and last[0][0] == batch_id:
        return True
    newest = session.sql(f"SELECT MAX(BATCH_ID) FROM {history} WHERE STATUS = 'LOADED'").collect()[0][0]
    if not explicit and newest is not None and batch_id < newest:
        raise LoadError(
            f"{LATEST_FILE} names batch {batch_id}, older than batch {newest} already loaded: refused (pass "
            f"'{batch_id}' as the batch id to load it on purpose)"
        )
    return False


def _skip(session: Any, database: str, load_id: str, manifest: Manifest) -> dict[str, Any]:
    """Record that the batch was checked and found loaded already (DATA_FRESHNESS: last checked)."""
    loads = [TableLoad(table.name, [], table.row_count) for table in manifest.tables]
    for load in loads:
        _record(session, database, load_id, manifest.batch_id, load, "SKIPPED", None)
    return _report(load_id, manifest.batch_id, loads, "SKIPPED")


def _curated_name(database: str, table_name: str) -> str:
    return f"{database}.{CURATED}.{quote_identifier(table_name)}"


def _drop_abandoned_staging(session: Any, database: str, now: datetime) -> None:
    """Drop staging tables of loads that started over a day ago: a load killed mid-way (cancelled, timed out) never
    reached its own clean-up. The start time is in the name, so a running load's tables are never touched."""
    rows = session.sql(f"SHOW TABLES LIKE '{STAGING_PREFIX}%' IN SCHEMA {database}.{CURATED}").collect()
    for row in rows:
        name = str(row["name"])
        started = name[len(STAGING_PREFIX) :].split("_", 1)[0]
        try:
            abandoned = datetime.strptime(started, LOAD_ID_TIME).replace(tzinfo=UTC) < now - ABANDONED_AFTER
        except ValueError:
            continue  # not a name this procedure made
        if abandoned:
            session.sql(f"DROP TABLE IF EXISTS {database}.{CURATED}.{quote_identifier(name)}").collect()


def _staging_name(database: str, load_id: str, table_name: str) -> str:
    """Private to one load: a manual CALL during the scheduled TASK's load cannot touch its staging tables."""
    return f"{database}.{CURATED}.{quote_identifier(f'{STAGING_PREFIX}{load_id}__{table_name}')}"


def _stage_table(
    session: Any, database: str, stage: str, batch_id: str, table: ManifestTable, staging: str
) -> TableLoad:
    """COPY one table's files into its staging table and check them; raises LoadError naming the file."""
    curated = _curated_name(database, table.name)
    _require_columns(session, curated, table)
    session.sql(f"CREATE OR REPLACE TRANSIENT TABLE {staging} LIKE {curated}").collect()
    session.sql(f"ALTER TABLE {staging} ADD COLUMN {LOAD_FILE_COLUMN} VARCHAR").collect()
    load = TableLoad(table.name, [f.path for f in table.files], table.row_count)
    for file in table.files:
        rows = _copy_file(session, database, stage, batch_id, table.name, staging, file)
        _check_file_count(table.name, file, rows, load)
        session.sql(
            f"UPDATE {staging} SET {LOAD_FILE_COLUMN} = ? WHERE {LOAD_FILE_COLUMN} IS NULL", params=[file.path]
        ).collect()
    staged = session.sql(f"SELECT COUNT(*) FROM {staging}").collect()[0][0]
    if staged != table.row_count:
        raise LoadError(f"table {table.name}: staged {staged} rows but the manifest says {table.row_count}")
    _check_unique_key(session, staging, table)
    _check_plausible(session, staging, table)
    return load


def _copy_file(
    session: Any, database: str, stage: str, batch_id: str, table_name: str, staging: str, file: ManifestFile
) -> list[dict[str, Any]]:
    """COPY one file (its name passed PART_FILE, so it is safe inside quotes); returns COPY's result rows."""
    folder = f"@{stage}/{batch_id}/{table_name}/"
    try:
        rows = session.sql(
            f"COPY INTO {staging} FROM {folder} FILES = ('{file.path.split('/', 1)[1]}') "
            f"FILE_FORMAT = (FORMAT_NAME = '{database}.{CURATED}.EXPORT_PARQUET') "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT FORCE = TRUE"
        ).collect()
    except Exception as error:
        raise LoadError(f"table {table_name}: COPY of {file.path} from {folder} failed: {error}") from error
    return [row.as_dict() for row in rows]


def _check_plausible(session: Any, staging: str, table: ManifestTable) -> None:
    """The first implausible value of each rule, with the file it came from."""
    columns, _key = TABLES[table.name]
    for rule in rules_for(columns, datetime.now(UTC).replace(tzinfo=None)):
        found = session.sql(
            f"SELECT {LOAD_FILE_COLUMN}, CAST({quote_identifier(rule.column)} AS VARCHAR) FROM {staging} "
            f"WHERE {rule.violation} LIMIT 1",
            params=list(rule.params) or None,
        ).collect()
        if found:
            raise LoadError(
                f"table {table.name}: column {rule.column}: value {found[0][1]} in file {found[0][0]} is not "
                f"plausible (expected {rule.expected})"
            )


def _require_columns(session: Any, curated: str, table: ManifestTable) -> None:
    try:
        existing = {name.strip('"').upper() for name in session.table(curated).columns}
    except Exception as error:
        raise LoadError(f"table {table.name}: no curated table {curated} ({error})") from error
    missing = [c for c in table.columns if c.upper() not in existing]
    if missing:
        raise LoadError(f"table {table.name}: the export has columns {missing} that {curated} lacks")


def _check_file_count(table_name: str, file: ManifestFile, results: list[dict[str, Any]], load: TableLoad) -> None:
    """Compare COPY's result for one file with the manifest's row count of that file."""
    by_name = {str(r.get("file", "")).rsplit("/", 1)[-1]: r for r in results}
    result = by_name.get(file.path.rsplit("/", 1)[-1])
    if result is None and file.row_count == 0:
        return  # an empty table is exported as one empty file, which COPY may not report
    if result is None or result.get("status") not in ("LOADED", "PARTIALLY_LOADED"):
        raise LoadError(f"table {table_name}: file {file.path} was not loaded (COPY result: {result})")
    loaded, parsed = int(result["rows_loaded"]), int(result.get("rows_parsed") or result["rows_loaded"])
    load.rows_loaded += loaded
    load.rows_rejected += parsed - loaded
    if loaded != file.row_count:
        raise LoadError(
            f"table {table_name}: file {file.path} has {loaded} rows but the manifest says {file.row_count}"
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
            curated, staging = _curated_name(database, table.name), _staging_name(database, load_id, table.name)
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
        f"INSERT INTO {database}.{CURATED}.{AUDIT_TABLE} (LOAD_ID, BATCH_ID, TABLE_NAME, STATUS, FILES_LOADED, "
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


def _report(load_id: str, batch_id: str, loads: list[TableLoad], status: str) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "batch_id": batch_id,
        "status": status,
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
