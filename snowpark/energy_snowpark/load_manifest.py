"""The load's reading of an export manifest (version 2): checked against the export contract, never trusted.

The layout is defined once on the lakehouse side (databricks_jobs/export/manifest.py, batch.py); this package is
deployed to Snowflake on its own, so it takes the layout's names (manifest file, version, modes, deleted-keys folder,
batch id pattern) from the generated export contract, reads the JSON itself and applies its own, stricter rules:
- manifest_version 2 only (a version 1 manifest must be exported again), format parquet, the folder's batch id;
- mode "full" (each table's files are the whole table) with no base batch and no deleted keys, or "incremental"
  (rows changed since base_batch_id, a batch id older than this one, plus the primary keys deleted since then);
- every table a table of the export contract, with the contract's primary key and columns (the load then uses the
  contract's, never the manifest's); no table twice; the audit table never;
- a full batch lists every contract table, each with at least one file (an empty table is one empty file): a full
  batch replaces CURATED, so a table left out or listed without files would be kept stale or emptied by accident;
- at most MAX_FILES_PER_BATCH files in all (each file costs the load a listing in a COPY and a count check);
- row files `<table>/part-….parquet`, deleted-key files `<table>/deleted_keys/part-….parquet`, file names without
  quotes, backslashes, brackets, spaces or `..`; every count a non-negative integer; files' counts add up.
Messages name the batch, the table and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .export_contract import (
    CONTRACT_VERSION,
    DELETED_KEYS_FOLDER,
    FORMAT,
    FULL,
    INCREMENTAL,
    MANIFEST_FILE,
    MANIFEST_VERSION,
    TABLES,
)
from .identifiers import BATCH_ID, InvalidIdentifierError, check_batch_time

AUDIT_TABLE = "LOAD_HISTORY"
# Spark's part files: part-00000-<uuid>-c000.snappy.parquet. No quote, backslash, bracket, space, slash or '..'.
PART_FILE = re.compile(r"part-[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.parquet")
# Spark writes a few files per table and batch; 5,000 in one batch is a broken export (or a hostile one), and the load
# lists at most 1,000 files per COPY statement (Snowflake's limit), so a table never needs more than a few COPYs.
MAX_FILES_PER_BATCH = 5000


class LoadError(RuntimeError):
    """The export cannot be loaded as it is; the message names the batch / table / file and the problem."""


@dataclass(frozen=True)
class ManifestFile:
    path: str
    row_count: int

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[1]


@dataclass(frozen=True)
class ManifestTable:
    name: str
    row_count: int
    primary_key: tuple[str, ...]
    columns: tuple[str, ...]
    files: tuple[ManifestFile, ...]
    deleted_key_count: int = 0
    deleted_key_files: tuple[ManifestFile, ...] = ()

    @property
    def unchanged(self) -> bool:
        """No row to upsert and no key to delete (an incremental batch's table with no change lists no file)."""
        return not self.files and not self.deleted_key_files


@dataclass(frozen=True)
class Manifest:
    batch_id: str
    tables: tuple[ManifestTable, ...]
    mode: str = FULL
    base_batch_id: str | None = None
    contract_version: int | None = None  # None: exported before contract versions


def parse_manifest(text: str, expected_batch_id: str) -> Manifest:
    """The manifest of batch `expected_batch_id`, checked as the module docstring says; LoadError otherwise."""
    where = f"{MANIFEST_FILE} of batch {expected_batch_id}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise LoadError(f"{where} is not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise LoadError(f"{where} is not a JSON object")
    _check_header(raw, expected_batch_id, where)
    _contract_version(raw, where)  # before the tables: a newer contract's columns would be refused less clearly
    mode, base = _mode_and_base(raw, expected_batch_id, where)
    entries = raw.get("tables")
    if not isinstance(entries, list) or not entries:
        raise LoadError(f"{where} lists no tables")
    _check_file_cap(entries, where)
    tables = tuple(_parse_table(entry, mode, where) for entry in entries)
    names = [table.name for table in tables]
    if len(set(names)) != len(names):
        raise LoadError(f"{where}: a table is listed twice: {sorted(n for n in set(names) if names.count(n) > 1)}")
    if mode == FULL:
        _check_full_batch(tables, where)
    return Manifest(expected_batch_id, tables, mode, base, _contract_version(raw, where))


def _contract_version(raw: dict[str, Any], where: str) -> int | None:
    """The batch's contract version: absent before contract versions (its columns are still checked against the
    contract); a newer one than this code's is refused, naming both (docs/upgrading.md: upgrade the load first)."""
    version = raw.get("contract_version")
    if version is None:
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LoadError(f"{where}: contract_version {version!r} is not a positive integer")
    if version > CONTRACT_VERSION:
        raise LoadError(
            f"{where}: exported with contract version {version}, newer than this load procedure's contract version "
            f"{CONTRACT_VERSION}: deploy the newer release's Snowflake code (snow snowpark deploy) and load again"
        )
    return version


def _check_file_cap(entries: list[Any], where: str) -> None:
    """Counted on the raw entries, before any is parsed: a hostile manifest costs no more than its length."""

    def listed(value: Any) -> int:
        return len(value) if isinstance(value, list) else 0

    files = sum(
        listed(e.get("files"))
        + listed((e.get("deleted_keys") or {}).get("files") if isinstance(e.get("deleted_keys"), dict) else None)
        for e in entries
        if isinstance(e, dict)
    )
    if files > MAX_FILES_PER_BATCH:
        raise LoadError(f"{where} lists {files} files, more than the {MAX_FILES_PER_BATCH} a batch may have")


def _check_full_batch(tables: tuple[ManifestTable, ...], where: str) -> None:
    """A full batch replaces every curated table: it must carry each one, each with its file(s)."""
    missing = sorted(set(TABLES) - {t.name for t in tables})
    if missing:
        raise LoadError(
            f"{where}: a full batch lists every table of the export contract; missing {missing} (a full batch "
            "replaces CURATED, so a table left out would be kept as it was)"
        )
    without_files = sorted(t.name for t in tables if not t.files)
    if without_files:
        raise LoadError(
            f"{where}: full-batch tables {without_files} list no file (an empty table is exported as one empty file; "
            "a table with no file would be emptied)"
        )


def _check_header(raw: dict[str, Any], expected_batch_id: str, where: str) -> None:
    version = raw.get("manifest_version")
    if version == 1:
        raise LoadError(
            f"{where}: manifest_version 1 (whole-table upserts, no mode) is no longer loaded: re-export the batch "
            f"with the current exporter (manifest_version {MANIFEST_VERSION})"
        )
    if version != MANIFEST_VERSION:
        raise LoadError(f"{where}: unsupported manifest_version {version!r} (expected {MANIFEST_VERSION})")
    if raw.get("batch_id") != expected_batch_id:
        raise LoadError(f"{where}: batch_id {raw.get('batch_id')!r} != folder {expected_batch_id!r}")
    if raw.get("format") != FORMAT:
        raise LoadError(f"{where}: format {raw.get('format')!r} is not {FORMAT}")


def _mode_and_base(raw: dict[str, Any], batch_id: str, where: str) -> tuple[str, str | None]:
    mode, base = raw.get("mode"), raw.get("base_batch_id")
    if mode == FULL:
        if base is not None:
            raise LoadError(f"{where}: field base_batch_id {base!r}: a full batch has no base batch")
        return mode, None
    if mode != INCREMENTAL:
        raise LoadError(f"{where}: field mode {mode!r} is not one of {[FULL, INCREMENTAL]}")
    if not isinstance(base, str) or not BATCH_ID.fullmatch(base):
        raise LoadError(f"{where}: field base_batch_id {base!r} is not a batch id (an incremental batch names one)")
    try:
        check_batch_time(base)
    except InvalidIdentifierError as error:
        raise LoadError(f"{where}: field base_batch_id: {error}") from error
    if base >= batch_id:
        raise LoadError(f"{where}: field base_batch_id {base} is not older than the batch itself")
    return mode, base


def _parse_table(entry: Any, mode: str, where: str) -> ManifestTable:
    """One manifest entry, checked against the contract; the result carries the contract's key and columns."""
    if not isinstance(entry, dict):
        raise LoadError(f"{where}: a table entry is not an object: {entry!r}")
    name = entry.get("name", "")
    contract_columns, contract_key = _contract_table(name)
    key = tuple(entry.get("primary_key") or [])
    if key != contract_key:
        raise LoadError(f"manifest table {name}: field primary_key {list(key)} != the contract's {list(contract_key)}")
    _check_columns(name, entry.get("columns") or [], contract_columns)
    files, row_count = _parse_files(name, entry.get("files"), entry.get("row_count"), name, "files")
    deleted = entry.get("deleted_keys")
    if not isinstance(deleted, dict):
        raise LoadError(f"manifest table {name}: field deleted_keys {deleted!r} is not an object")
    deleted_folder = f"{name}/{DELETED_KEYS_FOLDER}"
    key_files, key_count = _parse_files(
        name, deleted.get("files"), deleted.get("row_count"), deleted_folder, "deleted_keys.files"
    )
    if mode == FULL and (key_files or key_count):
        raise LoadError(f"manifest table {name}: field deleted_keys: a full batch deletes by omission, not by keys")
    columns = tuple(c[0] for c in contract_columns)
    return ManifestTable(name, row_count, contract_key, columns, files, key_count, key_files)


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


def _count(value: Any, name: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LoadError(f"manifest table {name}: field {field} {value!r} is not a count")
    return value


def _parse_files(
    name: str, files: Any, row_count: Any, folder: str, field: str
) -> tuple[tuple[ManifestFile, ...], int]:
    """The files of one folder (`field` of the entry), each `{folder}/part-….parquet` with a count; their counts add
    up to `row_count` (the field beside `field`)."""
    count_field = field.replace("files", "row_count")
    if not isinstance(files, list):
        raise LoadError(f"manifest table {name}: field {field} {files!r} is not a list")
    parsed = []
    for file in files:
        if not isinstance(file, dict):
            raise LoadError(f"manifest table {name}: field {field}: entry {file!r} is not an object")
        path = file.get("path")
        _check_file_path(name, path, folder, field)
        parsed.append(ManifestFile(path, _count(file.get("row_count"), name, f"{field}: {path}: row_count")))
    total = _count(row_count, name, count_field)
    listed = sum(f.row_count for f in parsed)
    if listed != total:
        raise LoadError(f"manifest table {name}: {count_field} {total} != sum of its files' row_count {listed}")
    return tuple(parsed), total


def _check_file_path(name: str, path: Any, folder: str, field: str) -> None:
    parent, _, file_name = str(path).rpartition("/")
    if not isinstance(path, str) or parent != folder or not PART_FILE.fullmatch(file_name):
        raise LoadError(
            f"manifest table {name}: field {field}: path {path!r} refused: expected {folder}/part-<letters, digits, "
            "'-', '_', '.'>.parquet"
        )
