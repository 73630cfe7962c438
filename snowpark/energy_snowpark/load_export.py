"""LOAD_GOLD_EXPORT procedure: load Gold export batches (Parquet + _manifest.json) from a stage into CURATED tables.

The manifest is data written by another system, so it decides nothing: load_manifest.py checks it against the
export contract (export_contract.py, generated from databricks_jobs/tables.py) before any COPY, and the load uses
the contract's key and columns.

A batch is "full" (each table's files hold the whole table) or "incremental" (the rows changed since its base batch,
plus the keys deleted since then). Steps, each table in turn: COPY each file into a staging table private to this
load (named with the load id), the deleted keys into another; check each file's loaded rows and each total against
the manifest, that the primary key is unique and not null in both, that no key is both upserted and deleted, and that
values are plausible (plausibility.py). Only when every table passed are the curated tables changed, in one
transaction with the LOAD_HISTORY rows: full, each table becomes exactly the batch's rows (DELETE, then INSERT;
DELETE rather than TRUNCATE keeps it inside the transaction); incremental, the deleted keys and the upserted keys are
deleted, then the upserts inserted.

An incremental batch applies only on top of its base: its base_batch_id must be the batch CURATED last loaded. With
'LATEST', the chain of batches from the last loaded one (or from a full batch) to LATEST is loaded in order, each
batch in its own transaction. A batch that is already the loaded state is SKIPPED (nothing copied); LATEST naming an
older batch than one already loaded is refused unless that batch id is passed explicitly. Every load, whatever its
outcome, is recorded in CURATED.LOAD_HISTORY.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from snowflake.snowpark import Session

from .export_contract import TABLES
from .identifiers import LATEST, quote_identifier, quote_qualified_name, validate_batch_id
from .load_manifest import (
    AUDIT_TABLE,
    FULL,
    INCREMENTAL,
    MANIFEST_FILE,
    LoadError,
    Manifest,
    ManifestFile,
    ManifestTable,
    parse_manifest,
)
from .plausibility import rules_for
from .upgrade_warehouse import upgrade_warehouse

__all__ = ["LoadError", "load_export", "main", "parse_manifest"]

CURATED = '"CURATED"'
LATEST_FILE = "LATEST"
STAGING_PREFIX = "LOAD_STAGING__"
DELETED_KEYS_STAGING = "__DELETED_KEYS"
# Load ids start with the load's UTC start time, which names its staging tables (see _drop_abandoned_staging).
LOAD_ID_TIME = "%Y%m%dT%H%M%SZ"
ABANDONED_AFTER = timedelta(days=1)
# The column of a staging table that says which file a row came from (for the plausibility messages).
LOAD_FILE_COLUMN = '"LOAD_FILE__"'
StageReader = Callable[[str], str]


@dataclass
class TableLoad:
    """What one table's load did; becomes a LOAD_HISTORY row and part of the procedure's report."""

    table_name: str
    files: list[str] = field(default_factory=list)
    rows_in_manifest: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    deleted_key_files: list[str] = field(default_factory=list)
    deleted_keys_in_manifest: int = 0
    rows_deleted: int = 0


@dataclass(frozen=True)
class LoadedState:
    """What CURATED holds, from LOAD_HISTORY: the batch of the last load that changed it, the newest batch loaded."""

    last: str | None
    newest: str | None


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


def read_manifest(read: StageReader, batch_id: str) -> Manifest:
    return parse_manifest(read(f"{batch_id}/{MANIFEST_FILE}"), batch_id)


def load_export(
    session: Any,
    stage_name: str,
    batch_id: str = LATEST,
    database_name: str = "ENERGY",
    read: StageReader | None = None,
) -> dict[str, Any]:
    """Load a batch (or the chain of batches up to LATEST) into `database_name`.CURATED; returns the load report:
    the last batch's report, with `batches` listing the report of every batch loaded by this call."""
    stage = quote_qualified_name(stage_name, "stage name")
    database = quote_identifier(database_name, "database name")
    read = read or stage_sql_reader(session, stage, database)
    started = datetime.now(UTC)
    load_id = f"{started:{LOAD_ID_TIME}}_{uuid.uuid4().hex[:12]}"
    resolved, mode = batch_id, None
    try:
        # CURATED and LOAD_HISTORY brought to this code's contracts first (additive changes in place, or refused).
        upgrade_warehouse(session, database)
        _drop_abandoned_staging(session, database, started)
        explicit = validate_batch_id(batch_id) != LATEST
        resolved = resolve_batch_id(batch_id, read)
        manifest = read_manifest(read, resolved)
        mode = manifest.mode
        state = _loaded_state(session, database)
        if state.last == resolved:
            return _skip(session, database, load_id, manifest)
        _refuse_going_back(resolved, state, explicit)
        chain = batch_chain(manifest, state.last, read, explicit)
    except Exception as error:
        _record_failure(session, database, load_id, resolved, mode, None, error)
        raise
    reports = [_load_batch(session, database, stage, load_id, batch) for batch in chain]
    return {**reports[-1], "batches": reports}


def _loaded_state(session: Any, database: str) -> LoadedState:
    """Batch ids start with their UTC creation time, so they sort by age."""
    history = f"{database}.{CURATED}.{AUDIT_TABLE}"
    last = session.sql(
        f"SELECT BATCH_ID FROM {history} WHERE STATUS = 'LOADED' ORDER BY LOADED_AT_UTC DESC, BATCH_ID DESC LIMIT 1"
    ).collect()
    newest = session.sql(f"SELECT MAX(BATCH_ID) FROM {history} WHERE STATUS = 'LOADED'").collect()[0][0]
    return LoadedState(last[0][0] if last else None, newest)


def _refuse_going_back(batch_id: str, state: LoadedState, explicit: bool) -> None:
    if not explicit and state.newest is not None and batch_id < state.newest:
        raise LoadError(
            f"{LATEST_FILE} names batch {batch_id}, older than batch {state.newest} already loaded: refused (pass "
            f"'{batch_id}' as the batch id to load it on purpose)"
        )


def batch_chain(manifest: Manifest, last_loaded: str | None, read: StageReader, explicit: bool) -> list[Manifest]:
    """The batches to load, oldest first, ending with `manifest`: an incremental batch applies only on top of its
    base. Named explicitly, the batch's base must be the last loaded batch; from LATEST, the chain is followed back
    through base_batch_id to the last loaded batch or to a full batch. Base ids are older than their batch (checked
    by parse_manifest), so the walk ends."""
    chain = [manifest]
    while chain[0].mode == INCREMENTAL and chain[0].base_batch_id != last_loaded:
        head, base = chain[0], str(chain[0].base_batch_id)
        if explicit:
            raise LoadError(_base_mismatch(head, last_loaded))
        try:
            text = read(f"{base}/{MANIFEST_FILE}")
        except LoadError as error:
            raise LoadError(f"{_base_mismatch(head, last_loaded)} (the stage has no batch {base}: {error})") from error
        chain.insert(0, parse_manifest(text, base))
    return chain


def _base_mismatch(manifest: Manifest, last_loaded: str | None) -> str:
    loaded = f"CURATED last loaded batch {last_loaded}" if last_loaded else "CURATED has loaded no batch yet"
    return (
        f"batch {manifest.batch_id} applies on top of batch {manifest.base_batch_id}, but {loaded}; load "
        f"{manifest.base_batch_id} first or export a full batch"
    )


def _skip(session: Any, database: str, load_id: str, manifest: Manifest) -> dict[str, Any]:
    """Record that the batch was checked and found loaded already (DATA_FRESHNESS: last checked)."""
    loads = [TableLoad(table.name, [], table.row_count) for table in manifest.tables]
    for load in loads:
        _record(session, database, load_id, manifest, load, "SKIPPED")
    return {**_report(load_id, manifest, loads, "SKIPPED"), "batches": []}


def _load_batch(session: Any, database: str, stage: str, load_id: str, manifest: Manifest) -> dict[str, Any]:
    """Stage and check every table of one batch, then apply them all in one transaction; its report."""
    loads: list[TableLoad] = []
    staged: list[str] = []  # staging tables to drop, including the one whose checks failed
    current: str | None = None
    try:
        for table in manifest.tables:
            current = table.name
            loads.append(_stage_table(session, database, stage, load_id, manifest.batch_id, table, staged))
        current = None
        _apply_staged(session, database, manifest, loads, load_id)
    except Exception as error:
        _record_failure(session, database, load_id, manifest.batch_id, manifest.mode, current, error)
        raise
    finally:
        for staging in staged:
            session.sql(f"DROP TABLE IF EXISTS {staging}").collect()
    return _report(load_id, manifest, loads, "LOADED")


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


def _staging_name(database: str, load_id: str, table_name: str, suffix: str = "") -> str:
    """Private to one load: a manual CALL during the scheduled TASK's load cannot touch its staging tables."""
    return f"{database}.{CURATED}.{quote_identifier(f'{STAGING_PREFIX}{load_id}__{table_name}{suffix}')}"


def _stage_table(
    session: Any, database: str, stage: str, load_id: str, batch_id: str, table: ManifestTable, staged: list[str]
) -> TableLoad:
    """COPY one table's rows and deleted keys into staging tables (appended to `staged`) and check them; a table
    with no file has nothing to stage (no COPY)."""
    curated = _curated_name(database, table.name)
    _require_columns(session, curated, table)
    load = TableLoad(table.name, [f.path for f in table.files], table.row_count)
    load.deleted_key_files = [f.path for f in table.deleted_key_files]
    load.deleted_keys_in_manifest = table.deleted_key_count
    if table.files:
        staged.append(_staging_name(database, load_id, table.name))
        _stage_rows(session, database, stage, batch_id, table, curated, staged[-1], load)
    if table.deleted_key_files:
        staged.append(_staging_name(database, load_id, table.name, DELETED_KEYS_STAGING))
        _stage_deleted_keys(session, database, stage, batch_id, table, curated, staged[-1])
        if table.files:
            _refuse_upserted_and_deleted(session, staged[-2], staged[-1], table, batch_id)
    return load


def _stage_rows(
    session: Any,
    database: str,
    stage: str,
    batch_id: str,
    table: ManifestTable,
    curated: str,
    staging: str,
    load: TableLoad,
) -> None:
    session.sql(f"CREATE OR REPLACE TRANSIENT TABLE {staging} LIKE {curated}").collect()
    session.sql(f"ALTER TABLE {staging} ADD COLUMN {LOAD_FILE_COLUMN} VARCHAR").collect()
    for file in table.files:
        copied = _copy_file(session, database, stage, batch_id, table, staging, file)
        loaded, rejected = _check_file_count(table.name, file, copied)
        load.rows_loaded += loaded
        load.rows_rejected += rejected
        session.sql(
            f"UPDATE {staging} SET {LOAD_FILE_COLUMN} = ? WHERE {LOAD_FILE_COLUMN} IS NULL", params=[file.path]
        ).collect()
    _check_staged_count(session, staging, table.name, "rows", table.row_count)
    _check_unique_key(session, staging, table, "export")
    _check_plausible(session, staging, table)


def _stage_deleted_keys(
    session: Any, database: str, stage: str, batch_id: str, table: ManifestTable, curated: str, staging: str
) -> None:
    """The key columns only, typed as in the curated table (CTAS of no row: DDL, so before the transaction)."""
    key = ", ".join(quote_identifier(c) for c in table.primary_key)
    session.sql(f"CREATE OR REPLACE TRANSIENT TABLE {staging} AS SELECT {key} FROM {curated} WHERE 1 = 0").collect()
    for file in table.deleted_key_files:
        _check_file_count(table.name, file, _copy_file(session, database, stage, batch_id, table, staging, file))
    _check_staged_count(session, staging, table.name, "deleted keys", table.deleted_key_count)
    _check_unique_key(session, staging, table, "export's deleted keys")


def _check_staged_count(session: Any, staging: str, table_name: str, what: str, expected: int) -> None:
    staged = session.sql(f"SELECT COUNT(*) FROM {staging}").collect()[0][0]
    if staged != expected:
        raise LoadError(f"table {table_name}: staged {staged} {what} but the manifest says {expected}")


def _copy_file(
    session: Any, database: str, stage: str, batch_id: str, table: ManifestTable, staging: str, file: ManifestFile
) -> list[dict[str, Any]]:
    """COPY one file (its path passed load_manifest's checks, so it is safe inside quotes); COPY's result rows."""
    folder = f"@{stage}/{batch_id}/{file.folder}/"
    try:
        rows = session.sql(
            f"COPY INTO {staging} FROM {folder} FILES = ('{file.file_name}') "
            f"FILE_FORMAT = (FORMAT_NAME = '{database}.{CURATED}.EXPORT_PARQUET') "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT FORCE = TRUE"
        ).collect()
    except Exception as error:
        raise LoadError(f"table {table.name}: COPY of {file.path} from {folder} failed: {error}") from error
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


def _check_file_count(table_name: str, file: ManifestFile, results: list[dict[str, Any]]) -> tuple[int, int]:
    """Compare COPY's result for one file with the manifest's row count of that file; (loaded, rejected)."""
    by_name = {str(r.get("file", "")).rsplit("/", 1)[-1]: r for r in results}
    result = by_name.get(file.file_name)
    if result is None and file.row_count == 0:
        return 0, 0  # an empty table is exported as one empty file, which COPY may not report
    if result is None or result.get("status") not in ("LOADED", "PARTIALLY_LOADED"):
        raise LoadError(f"table {table_name}: file {file.path} was not loaded (COPY result: {result})")
    loaded, parsed = int(result["rows_loaded"]), int(result.get("rows_parsed") or result["rows_loaded"])
    if loaded != file.row_count:
        raise LoadError(
            f"table {table_name}: file {file.path} has {loaded} rows but the manifest says {file.row_count}"
        )
    return loaded, parsed - loaded


def _check_unique_key(session: Any, staging: str, table: ManifestTable, what: str) -> None:
    key = ", ".join(quote_identifier(c) for c in table.primary_key)
    nulls = " OR ".join(f"{quote_identifier(c)} IS NULL" for c in table.primary_key)
    duplicates = session.sql(
        f"SELECT COUNT(*) FROM (SELECT {key} FROM {staging} GROUP BY {key} HAVING COUNT(*) > 1)"
    ).collect()[0][0]
    null_keys = session.sql(f"SELECT COUNT(*) FROM {staging} WHERE {nulls}").collect()[0][0]
    if duplicates or null_keys:
        raise LoadError(
            f"table {table.name}: primary key ({', '.join(table.primary_key)}) has {duplicates} duplicated and "
            f"{null_keys} null values in the {what}"
        )


def _key_match(table: ManifestTable, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{quote_identifier(c)} = {right}.{quote_identifier(c)}" for c in table.primary_key)


def _refuse_upserted_and_deleted(session: Any, rows: str, keys: str, table: ManifestTable, batch_id: str) -> None:
    """A key may be upserted or deleted by a batch, never both: which one wins would be the loader's guess."""
    values = ", ".join(f"CAST(s.{quote_identifier(c)} AS VARCHAR)" for c in table.primary_key)
    found = session.sql(
        f"SELECT {values} FROM {rows} s JOIN {keys} k ON {_key_match(table, 's', 'k')} LIMIT 1"
    ).collect()
    if found:
        raise LoadError(
            f"batch {batch_id}: table {table.name}: key ({', '.join(table.primary_key)}) = "
            f"({', '.join(str(v) for v in found[0])}) is both upserted and deleted"
        )


def _apply_staged(session: Any, database: str, manifest: Manifest, loads: list[TableLoad], load_id: str) -> None:
    """Change every table and record the load, in one transaction: all tables change or none."""
    tables = {t.name: t for t in manifest.tables}
    session.sql("BEGIN TRANSACTION").collect()
    try:
        _recheck_base(session, database, manifest)
        for load in loads:
            _apply_table(session, database, load_id, manifest.mode, tables[load.table_name], load)
            _record(session, database, load_id, manifest, load, "LOADED")
        session.sql("COMMIT").collect()
    except Exception:
        session.sql("ROLLBACK").collect()
        raise


def _recheck_base(session: Any, database: str, manifest: Manifest) -> None:
    """An incremental batch was checked against the last loaded batch before staging; a load that committed since
    (a manual CALL during the scheduled TASK) would make it apply on top of the wrong state."""
    if manifest.mode == INCREMENTAL:
        last = _loaded_state(session, database).last
        if last != manifest.base_batch_id:
            raise LoadError(f"{_base_mismatch(manifest, last)} (another load committed while this one ran)")


def _apply_table(session: Any, database: str, load_id: str, mode: str, table: ManifestTable, load: TableLoad) -> None:
    """Full: the rows whose key the batch carries are replaced, every other row deleted. Incremental: the deleted
    keys are deleted, the upserted keys replaced. Counts go to `load`."""
    curated = _curated_name(database, table.name)
    if table.deleted_key_files:
        keys = _staging_name(database, load_id, table.name, DELETED_KEYS_STAGING)
        load.rows_deleted = _delete_matching(session, curated, keys, table)
    if table.files:
        rows = _staging_name(database, load_id, table.name)
        load.rows_replaced = _delete_matching(session, curated, rows, table)
    if mode == FULL:
        load.rows_deleted = _affected(session.sql(f"DELETE FROM {curated}").collect())
    if table.files:
        columns = ", ".join(quote_identifier(c) for c in table.columns)
        session.sql(f"INSERT INTO {curated} ({columns}) SELECT {columns} FROM {rows}").collect()


def _delete_matching(session: Any, curated: str, staging: str, table: ManifestTable) -> int:
    return _affected(
        session.sql(f"DELETE FROM {curated} t USING {staging} s WHERE {_key_match(table, 't', 's')}").collect()
    )


def _affected(result: list[Any]) -> int:
    """The row count a DELETE returns (its first column)."""
    return int(result[0][0]) if result else 0


def _record(
    session: Any,
    database: str,
    load_id: str,
    manifest: Manifest,
    load: TableLoad,
    status: str,
) -> None:
    _insert_history(
        session,
        database,
        [
            load_id,
            manifest.batch_id,
            load.table_name,
            status,
            manifest.mode,
            len(load.files) + len(load.deleted_key_files),
            load.rows_in_manifest,
            load.rows_loaded,
            load.rows_rejected,
            load.rows_replaced,
            load.rows_deleted,
            datetime.now(UTC).replace(tzinfo=None),
            None,
            manifest.contract_version,
        ],
    )


def _insert_history(session: Any, database: str, values: list[Any]) -> None:
    """One LOAD_HISTORY row; CONTRACT_VERSION only when known, so a failure is still recorded in a LOAD_HISTORY that
    the warehouse upgrade could not bring up to date."""
    columns = (
        "LOAD_ID, BATCH_ID, TABLE_NAME, STATUS, MODE, FILES_LOADED, ROWS_IN_MANIFEST, ROWS_LOADED, ROWS_REJECTED, "
        "ROWS_REPLACED, ROWS_DELETED, LOADED_AT_UTC, ERROR_MESSAGE"
    )
    if values[-1] is None:
        values = values[:-1]
    else:
        columns += ", CONTRACT_VERSION"
    session.sql(
        f"INSERT INTO {database}.{CURATED}.{AUDIT_TABLE} ({columns}) VALUES ({', '.join('?' for _ in values)})",
        params=values,
    ).collect()


def _record_failure(
    session: Any,
    database: str,
    load_id: str,
    batch_id: str,
    mode: str | None,
    table_name: str | None,
    error: Exception,
) -> None:
    """Best effort: a failure to record must not hide the load's own error."""
    now = datetime.now(UTC).replace(tzinfo=None)
    values = [load_id, batch_id, table_name, "FAILED", mode, 0, 0, 0, 0, 0, 0, now, str(error)[:4000], None]
    try:
        _insert_history(session, database, values)
    except Exception:  # noqa: BLE001 - the original error is re-raised by the caller
        pass


def _report(load_id: str, manifest: Manifest, loads: list[TableLoad], status: str) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "batch_id": manifest.batch_id,
        "mode": manifest.mode,
        "base_batch_id": manifest.base_batch_id,
        "status": status,
        "tables": [
            {
                "table": load.table_name,
                "files": load.files,
                "rows_in_manifest": load.rows_in_manifest,
                "rows_loaded": load.rows_loaded,
                "rows_rejected": load.rows_rejected,
                "rows_replaced": load.rows_replaced,
                "deleted_key_files": load.deleted_key_files,
                "deleted_keys_in_manifest": load.deleted_keys_in_manifest,
                "rows_deleted": load.rows_deleted,
            }
            for load in loads
        ],
        "files_loaded": sum(len(load.files) + len(load.deleted_key_files) for load in loads),
        "rows_loaded": sum(load.rows_loaded for load in loads),
        "rows_rejected": sum(load.rows_rejected for load in loads),
        "rows_deleted": sum(load.rows_deleted for load in loads),
        "errors": [],
    }


def main(session: Session, stage_name: str, batch_id: str, database_name: str) -> dict:
    """Procedure handler: CALL ENERGY.CURATED.LOAD_GOLD_EXPORT('ENERGY.CURATED.EXPORT_STAGE', 'LATEST', 'ENERGY')."""
    return load_export(session, stage_name, batch_id, database_name)
