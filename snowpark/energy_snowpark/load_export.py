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
older batch than the last one loaded, or a chain that would go through one, is refused unless that batch id is passed
explicitly. Every load, whatever its outcome, is recorded in CURATED.LOAD_HISTORY: LOADED for a table that changed,
UNCHANGED for a table an incremental batch carries no change for.

Loads are serialised: the transaction that changes CURATED starts by updating the one row of CURATED.LOAD_LOCK, which
holds that table's lock until COMMIT (Snowflake: an UPDATE locks its table; a second UPDATE waits for it, up to
LOCK_TIMEOUT), and only then reads the loaded state again. A second load (the TASK and a manual CALL) either waits and
then sees the first one's batch, or (DuckDB locally) fails on the write conflict; never do both apply on one base.

Each file is checked before COPY against the contract (schema_reader: Snowflake's INFER_SCHEMA on the stage, the
Parquet footer locally): the same column names, each with a type of the contract's kind. A table's files are copied
in one COPY (FILES = up to 1,000 names) with the file name from INCLUDE_METADATA, and checked file by file from
COPY's result rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from snowflake.snowpark import Session

from .export_contract import LATEST_FILE, TABLES
from .identifiers import LATEST, quote_identifier, quote_qualified_name, validate_batch_id
from .load_manifest import (
    AUDIT_TABLE,
    DELETED_KEYS_FOLDER,
    FULL,
    INCREMENTAL,
    MANIFEST_FILE,
    LoadError,
    Manifest,
    ManifestFile,
    ManifestTable,
    parse_manifest,
)
from .parquet_schema import SchemaReader, check_schemas, stage_schema_reader
from .plausibility import rules_for
from .upgrade_warehouse import upgrade_warehouse

__all__ = ["LoadError", "load_export", "main", "parse_manifest"]

CURATED = '"CURATED"'
STAGING_PREFIX = "LOAD_STAGING__"
DELETED_KEYS_STAGING = "__DELETED_KEYS"
# Load ids start with the load's UTC start time, which names its staging tables (see _drop_abandoned_staging).
LOAD_ID_TIME = "%Y%m%dT%H%M%SZ"
ABANDONED_AFTER = timedelta(days=1)
# The column of a staging table that says which file a row came from (for the plausibility messages); COPY fills it
# from METADATA$FILENAME. No export column may have this name (parquet_schema refuses columns outside the contract).
LOAD_FILE_NAME = "LOAD_FILE__"
LOAD_FILE_COLUMN = f'"{LOAD_FILE_NAME}"'
LOCK_TABLE = "LOAD_LOCK"
# Snowflake: "FILES = ( ... ) ... The maximum number of file names that can be specified is 1000."
FILES_PER_COPY = 1000
CHANGED, UNCHANGED = "LOADED", "UNCHANGED"
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


def stage_sql_reader(session: Any, stage: str, database: str) -> StageReader:
    """Read a small one-record file from the stage with SQL (internal and external stages in Snowflake).

    `@stage/LATEST` names every file whose path starts with LATEST (a path is a prefix), so the rows of other files
    (`LATEST.tmp`, `LATEST_old`) would be read too: only rows whose METADATA$FILENAME is exactly the file count, and
    there must be exactly one."""

    def read(relative_path: str) -> str:
        file_format = "EXPORT_JSON" if relative_path.endswith(".json") else "EXPORT_TEXT"
        rows = session.sql(
            f"SELECT METADATA$FILENAME, $1 FROM @{stage}/{relative_path} "
            f"(FILE_FORMAT => '{database}.{CURATED}.{file_format}')"
        ).collect()
        return exactly_one_record(relative_path, [(str(r[0]), r[1]) for r in rows], f"@{stage}")

    return read


def exactly_one_record(relative_path: str, rows: list[tuple[str, Any]], where: str) -> str:
    """The one record of the file at exactly `relative_path` among (METADATA$FILENAME, value) rows."""
    own = [value for name, value in rows if name == relative_path or name.endswith(f"/{relative_path}")]
    others = sorted({name for name, _ in rows} - {relative_path})
    if len(own) != 1:
        found = f"{len(own)} records" if own else "no such file (or it is empty)"
        extra = f"; other files matched by the prefix, not read: {others}" if others else ""
        raise LoadError(f"{where}/{relative_path}: expected exactly one record, found {found}{extra}")
    return str(own[0])


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
    schema_reader: SchemaReader | None = None,
) -> dict[str, Any]:
    """Load a batch (or the chain of batches up to LATEST) into `database_name`.CURATED; returns the load report:
    the last batch's report, with `batches` listing the report of every batch loaded by this call."""
    stage = quote_qualified_name(stage_name, "stage name")
    database = quote_identifier(database_name, "database name")
    read = read or stage_sql_reader(session, stage, database)
    # A local stand-in's stage reader also reads Parquet footers (fakesnow has no INFER_SCHEMA).
    schemas = schema_reader or getattr(read, "schemas", None)
    schemas = schemas or stage_schema_reader(session, stage, f"{database}.{CURATED}.EXPORT_PARQUET")
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
        last = _last_loaded(session, database)
        if last == resolved:
            return _skip(session, database, load_id, manifest)
        _refuse_going_back(resolved, last, explicit)
        chain = batch_chain(manifest, last, read, explicit)
    except Exception as error:
        _record_failure(session, database, load_id, resolved, mode, None, error)
        raise
    reports = [
        _load_batch(session, database, stage, load_id, batch, schemas, explicit and batch is chain[-1])
        for batch in chain
    ]
    return {**reports[-1], "batches": reports}


def _last_loaded(session: Any, database: str) -> str | None:
    """The batch CURATED is in: that of the last load that applied (its LOADED / UNCHANGED rows). Not the greatest
    batch id ever loaded: an id is data from the export, and one forged far in the future must not lock every later
    LATEST out; loading an older batch on purpose makes it the state."""
    history = f"{database}.{CURATED}.{AUDIT_TABLE}"
    last = session.sql(
        f"SELECT BATCH_ID FROM {history} WHERE STATUS IN ('{CHANGED}', '{UNCHANGED}') "
        "ORDER BY LOADED_AT_UTC DESC, BATCH_ID DESC LIMIT 1"
    ).collect()
    return last[0][0] if last else None


def _refuse_going_back(batch_id: str, last: str | None, explicit: bool) -> None:
    if not explicit and last is not None and batch_id < last:
        raise LoadError(
            f"{LATEST_FILE} names batch {batch_id}, older than batch {last} already loaded: refused (pass "
            f"'{batch_id}' as the batch id to load it on purpose)"
        )


def batch_chain(manifest: Manifest, last_loaded: str | None, read: StageReader, explicit: bool) -> list[Manifest]:
    """The batches to load, oldest first, ending with `manifest`: an incremental batch applies only on top of its
    base. Named explicitly, the batch's base must be the last loaded batch; from LATEST, the chain is followed back
    through base_batch_id to the last loaded batch or to a full batch, and no batch of it may be older than the last
    loaded one (that would restore an older state: refused, as LATEST naming an older batch is). Base ids are older
    than their batch (checked by parse_manifest), so the walk ends."""
    chain = [manifest]
    while chain[0].mode == INCREMENTAL and chain[0].base_batch_id != last_loaded:
        head, base = chain[0], str(chain[0].base_batch_id)
        if explicit:
            raise LoadError(_base_mismatch(head, last_loaded))
        if last_loaded is not None and base < last_loaded:
            raise LoadError(
                f"{_base_mismatch(head, last_loaded)}: following its chain back would go through batch {base}, "
                f"older than batch {last_loaded} already loaded, and restore an older state: refused (load "
                f"'{head.batch_id}' explicitly on top of '{base}' to go back on purpose)"
            )
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


def _load_batch(
    session: Any,
    database: str,
    stage: str,
    load_id: str,
    manifest: Manifest,
    schemas: SchemaReader,
    explicit: bool,
) -> dict[str, Any]:
    """Stage and check every table of one batch, then apply them all in one transaction; its report."""
    loads: list[TableLoad] = []
    staged: list[str] = []  # staging tables to drop, including the one whose checks failed
    current: str | None = None
    try:
        for table in manifest.tables:
            current = table.name
            loads.append(_stage_table(session, database, stage, load_id, manifest.batch_id, table, staged, schemas))
        current = None
        _apply_staged(session, database, manifest, loads, load_id, explicit)
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
    reached its own clean-up. The start time is in the name, so a running load's tables are never touched. Best
    effort: a failure here (SHOW refused, a table dropped by someone else) leaves clutter, never fails the load."""
    try:
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
    except Exception:  # noqa: BLE001 - clean-up of earlier loads' leftovers; this load does not depend on it
        pass


def _staging_name(database: str, load_id: str, table_name: str, suffix: str = "") -> str:
    """Private to one load: a manual CALL during the scheduled TASK's load cannot touch its staging tables."""
    return f"{database}.{CURATED}.{quote_identifier(f'{STAGING_PREFIX}{load_id}__{table_name}{suffix}')}"


def _stage_table(
    session: Any,
    database: str,
    stage: str,
    load_id: str,
    batch_id: str,
    table: ManifestTable,
    staged: list[str],
    schemas: SchemaReader,
) -> TableLoad:
    """Check the files' schemas, COPY one table's rows and deleted keys into staging tables (appended to `staged`)
    and check them; a table with no file has nothing to stage (no COPY)."""
    curated = _curated_name(database, table.name)
    _require_columns(session, curated, table)
    load = TableLoad(table.name, [f.path for f in table.files], table.row_count)
    load.deleted_key_files = [f.path for f in table.deleted_key_files]
    load.deleted_keys_in_manifest = table.deleted_key_count
    contract_columns, _key = TABLES[table.name]
    by_name = {name: spark_type for name, spark_type, _ in contract_columns}
    if table.files:
        check_schemas(schemas, batch_id, table.name, table.name, [f.file_name for f in table.files], by_name)
        staged.append(_staging_name(database, load_id, table.name))
        _stage_rows(session, database, stage, batch_id, table, curated, staged[-1], load)
    if table.deleted_key_files:
        keys = {name: by_name[name] for name in table.primary_key}
        folder = f"{table.name}/{DELETED_KEYS_FOLDER}"
        check_schemas(schemas, batch_id, table.name, folder, [f.file_name for f in table.deleted_key_files], keys)
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
    results = _copy_files(session, database, stage, batch_id, table, staging, table.files, with_file_name=True)
    for file in table.files:
        loaded, rejected = _check_file_count(table.name, file, results)
        load.rows_loaded += loaded
        load.rows_rejected += rejected
    _check_staged_count(session, staging, table.name, "rows", table.row_count)
    _check_unique_key(session, staging, table, "export")
    _check_plausible(session, staging, table, batch_id)


def _stage_deleted_keys(
    session: Any, database: str, stage: str, batch_id: str, table: ManifestTable, curated: str, staging: str
) -> None:
    """The key columns only, typed as in the curated table (CTAS of no row: DDL, so before the transaction)."""
    key = ", ".join(quote_identifier(c) for c in table.primary_key)
    session.sql(f"CREATE OR REPLACE TRANSIENT TABLE {staging} AS SELECT {key} FROM {curated} WHERE 1 = 0").collect()
    results = _copy_files(session, database, stage, batch_id, table, staging, table.deleted_key_files)
    for file in table.deleted_key_files:
        _check_file_count(table.name, file, results)
    _check_staged_count(session, staging, table.name, "deleted keys", table.deleted_key_count)
    _check_unique_key(session, staging, table, "export's deleted keys")


def _check_staged_count(session: Any, staging: str, table_name: str, what: str, expected: int) -> None:
    staged = session.sql(f"SELECT COUNT(*) FROM {staging}").collect()[0][0]
    if staged != expected:
        raise LoadError(f"table {table_name}: staged {staged} {what} but the manifest says {expected}")


def copy_statements(
    database: str, stage: str, batch_id: str, folder: str, file_names: list[str], with_file_name: bool, staging: str
) -> list[str]:
    """COPY statements for the files of one folder, at most FILES_PER_COPY names each (file names passed
    load_manifest's checks, so they are safe inside quotes). With `with_file_name`, each row gets its file's path in
    LOAD_FILE__ (INCLUDE_METADATA, which Snowflake allows with MATCH_BY_COLUMN_NAME only)."""
    metadata = f" INCLUDE_METADATA = ({LOAD_FILE_NAME} = METADATA$FILENAME)" if with_file_name else ""
    statements = []
    for start in range(0, len(file_names), FILES_PER_COPY):
        names = ", ".join(f"'{name}'" for name in file_names[start : start + FILES_PER_COPY])
        statements.append(
            f"COPY INTO {staging} FROM @{stage}/{batch_id}/{folder}/ FILES = ({names}) "
            f"FILE_FORMAT = (FORMAT_NAME = '{database}.{CURATED}.EXPORT_PARQUET') "
            f"MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE{metadata} ON_ERROR = ABORT_STATEMENT FORCE = TRUE"
        )
    return statements


def _copy_files(
    session: Any,
    database: str,
    stage: str,
    batch_id: str,
    table: ManifestTable,
    staging: str,
    files: tuple[ManifestFile, ...],
    with_file_name: bool = False,
) -> dict[str, dict[str, Any]]:
    """COPY the files (all of one folder) in as few statements as Snowflake allows; COPY's result rows by file name
    (indexed once per table: a table may have thousands of files)."""
    folder = files[0].folder
    results = []
    for statement in copy_statements(
        database, stage, batch_id, folder, [f.file_name for f in files], with_file_name, staging
    ):
        try:
            results.extend(row.as_dict() for row in session.sql(statement).collect())
        except Exception as error:
            raise LoadError(f"table {table.name}: COPY from @{stage}/{batch_id}/{folder}/ failed: {error}") from error
    return {str(r.get("file", "")).rsplit("/", 1)[-1]: r for r in results}


def _check_plausible(session: Any, staging: str, table: ManifestTable, batch_id: str) -> None:
    """The first implausible value of the first rule broken, with the file it came from. One scan counts every rule's
    violations; only a broken rule is queried again for its file and value."""
    columns, _key = TABLES[table.name]
    rules = rules_for(columns, datetime.now(UTC).replace(tzinfo=None))
    if not rules:
        return
    counts = session.sql(
        "SELECT "
        + ", ".join(f"SUM(CASE WHEN {rule.violation} THEN 1 ELSE 0 END)" for rule in rules)
        + f" FROM {staging}",
        params=[value for rule in rules for value in rule.params] or None,
    ).collect()[0]
    for rule in (rule for rule, count in zip(rules, counts, strict=True) if count):
        found = session.sql(
            f"SELECT {LOAD_FILE_COLUMN}, CAST({quote_identifier(rule.column)} AS VARCHAR) FROM {staging} "
            f"WHERE {rule.violation} LIMIT 1",
            params=list(rule.params) or None,
        ).collect()
        if found:
            raise LoadError(
                f"table {table.name}: column {rule.column}: value {found[0][1]} in file "
                f"{_stage_path(str(found[0][0]), batch_id)} is not plausible (expected {rule.expected})"
            )


def _stage_path(file_name: str, batch_id: str) -> str:
    """METADATA$FILENAME from the batch folder on (Snowflake gives the path within the stage, the local warehouse a
    file:// URL)."""
    at = file_name.find(f"{batch_id}/")
    return file_name[at:] if at >= 0 else file_name


def _require_columns(session: Any, curated: str, table: ManifestTable) -> None:
    try:
        existing = {name.strip('"').upper() for name in session.table(curated).columns}
    except Exception as error:
        raise LoadError(f"table {table.name}: no curated table {curated} ({error})") from error
    missing = [c for c in table.columns if c.upper() not in existing]
    if missing:
        raise LoadError(f"table {table.name}: the export has columns {missing} that {curated} lacks")


def _check_file_count(table_name: str, file: ManifestFile, results: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """Compare COPY's result for one file (`results`: by file name) with the manifest's row count of that file;
    (loaded, rejected)."""
    result = results.get(file.file_name)
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


def _apply_staged(
    session: Any, database: str, manifest: Manifest, loads: list[TableLoad], load_id: str, explicit: bool
) -> None:
    """Change every table and record the load, in one transaction: all tables change or none. The first statement
    takes the load lock, so the state read next is final until COMMIT."""
    tables = {t.name: t for t in manifest.tables}
    session.sql("BEGIN TRANSACTION").collect()
    try:
        _take_lock(session, database, load_id)
        _recheck_state(session, database, manifest, explicit)
        for load in loads:
            table = tables[load.table_name]
            _apply_table(session, database, load_id, manifest.mode, table, load)
            _record(session, database, load_id, manifest, load, UNCHANGED if table.unchanged else CHANGED)
        session.sql("COMMIT").collect()
    except Exception:
        session.sql("ROLLBACK").collect()
        raise


def _take_lock(session: Any, database: str, load_id: str) -> None:
    """UPDATE the lock table's one row: Snowflake holds the table's lock until the transaction ends, so a second load
    blocks here until the first commits (then reads its state), and DuckDB refuses the second writer."""
    lock = f"{database}.{CURATED}.{LOCK_TABLE}"
    try:
        updated = _affected(
            session.sql(
                f"UPDATE {lock} SET LOAD_ID = ?, LOCKED_AT_UTC = ? WHERE LOCK_NAME = 'LOAD'",
                params=[load_id, datetime.now(UTC).replace(tzinfo=None)],
            ).collect()
        )
    except Exception as error:
        raise LoadError(f"another load holds {lock} (it is changing CURATED now): {error}") from error
    if updated != 1:
        raise LoadError(f"{lock} has no LOAD row: deploy sql/06_load_history.sql again")


def _recheck_state(session: Any, database: str, manifest: Manifest, explicit: bool) -> None:
    """Under the lock: a load that committed since this one read the state (a manual CALL during the scheduled TASK)
    would make an incremental batch apply on top of the wrong state, or a batch go back behind the newer one."""
    last = _last_loaded(session, database)
    if manifest.mode == INCREMENTAL and last != manifest.base_batch_id:
        raise LoadError(f"{_base_mismatch(manifest, last)} (another load committed while this one ran)")
    if last == manifest.batch_id:
        raise LoadError(f"batch {manifest.batch_id} was loaded by another load while this one ran")
    if not explicit and last is not None and manifest.batch_id < last:
        raise LoadError(
            f"batch {manifest.batch_id} is older than batch {last}, loaded by another load while this one ran"
        )


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
