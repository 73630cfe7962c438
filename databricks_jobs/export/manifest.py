"""The export manifest: the one definition of `_manifest.json`, used by every writer (the export, the benchmark's
and the tests' fixtures) and every reader on the Python side (export verification, the S3 check).

Layout of a batch: `{export_root}/{batch_id}/{table}/part-*.parquet` (rows to upsert) and
`{batch_id}/{table}/deleted_keys/part-*.parquet` (primary keys to delete), then `{batch_id}/_manifest.json` (its
presence = the batch is complete), then `{export_root}/LATEST` (the newest complete batch id). The manifest is JSON:
  manifest_version (2), batch_id, created_at_utc (ISO 8601, Z), format ("parquet"),
  contract_version: the contract version (tables.CONTRACT_VERSION) the batch was exported with; the load refuses a
        batch from a newer contract than its own,
  mode: "full" (each table's files hold the whole table: the loaded table becomes exactly them) or "incremental"
        (the rows that changed since batch base_batch_id: upsert them by key, then delete deleted_keys),
  base_batch_id: null for full, else the batch whose loaded state this batch applies to,
  tables: [
    {name, row_count, primary_key: [column], files: [{path: "<table>/part-….parquet", row_count, size_bytes}],
     columns: [{name, type (tables.py type name), nullable}],
     deleted_keys: {row_count, files: [{path: "<table>/deleted_keys/part-….parquet", row_count, size_bytes}]}
                   (the primary key columns only; always empty in a full batch),
     gold_table_id, gold_version, gold_committed_at_utc: the Delta table id, version and last commit time the
                   batch brings the table to (null when unknown, e.g. a fixture, or the table not built yet),
     gold_base_version: incremental only, the version the changes start after}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from databricks_jobs import storage
from databricks_jobs.storage import S3Access
from databricks_jobs.tables import CONTRACT_VERSION, TableContract

MANIFEST_FILE = "_manifest.json"
LATEST_FILE = "LATEST"
MANIFEST_VERSION = 2
FULL, INCREMENTAL = "full", "incremental"
MODES = (FULL, INCREMENTAL)
DELETED_KEYS_FOLDER = "deleted_keys"
FORMAT = "parquet"
# What Spark (and the fixtures) name data files; anything else in a manifest is refused.
DATA_FILE = re.compile(r"^part-[A-Za-z0-9._-]+\.parquet$")


class ManifestError(ValueError):
    """A manifest that does not follow the layout above; the message names the batch, table and field."""


def columns_of(contract: TableContract) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in contract.columns]


def _listed(folder: str, files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"path": f"{folder}/{f['name']}", "row_count": int(f["row_count"]), "size_bytes": int(f["size_bytes"])}
        for f in sorted(files, key=lambda f: f["name"])
    ]


def deleted_keys_folder(table: str) -> str:
    """The folder, relative to the batch, of a table's deleted keys."""
    return f"{table}/{DELETED_KEYS_FOLDER}"


def table_entry(
    contract: TableContract,
    files: Sequence[dict[str, Any]],
    deleted_files: Sequence[dict[str, Any]] = (),
    gold_table_id: str | None = None,
    gold_version: int | None = None,
    gold_base_version: int | None = None,
    gold_committed_at_utc: str | None = None,
) -> dict[str, Any]:
    """A table's entry; `files` (rows) and `deleted_files` (keys): {"name": "part-….parquet", "row_count",
    "size_bytes"}, listed in file-name order."""
    listed = _listed(contract.name, files)
    deleted = _listed(deleted_keys_folder(contract.name), deleted_files)
    return {
        "name": contract.name,
        "row_count": sum(f["row_count"] for f in listed),
        "primary_key": list(contract.primary_key),
        "files": listed,
        "columns": columns_of(contract),
        "deleted_keys": {"row_count": sum(f["row_count"] for f in deleted), "files": deleted},
        "gold_table_id": gold_table_id,
        "gold_version": gold_version,
        "gold_base_version": gold_base_version,
        "gold_committed_at_utc": gold_committed_at_utc,
    }


def build_manifest(
    batch_id: str,
    tables: Sequence[dict[str, Any]],
    created_at: datetime | None = None,
    mode: str = FULL,
    base_batch_id: str | None = None,
) -> dict:
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "batch_id": batch_id,
        "created_at_utc": (created_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "format": FORMAT,
        "contract_version": CONTRACT_VERSION,
        "mode": mode,
        "base_batch_id": base_batch_id,
        "tables": list(tables),
    }
    return validate_manifest(manifest, f"export batch {batch_id}")


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise ManifestError(f"{where}: {problem}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _validate_files(files: object, folder: str, row_count: object, at: str, field: str) -> None:
    """Every file is `{folder}/part-….parquet` with counts, and their rows add up to `row_count` (named `field`)."""
    _require(isinstance(files, list), at, f"the files of {field} are not a list")
    _require(_is_count(row_count), at, f"{field} {row_count!r} is not a count")
    for file in files:
        _require(isinstance(file, dict), at, f"file entry {file!r} is not an object")
        path = str(file.get("path", ""))
        parent, _, file_name = path.rpartition("/")
        _require(
            parent == folder and bool(DATA_FILE.match(file_name)), at, f"file path {path!r} is not {folder}/part-…"
        )
        for key in ("row_count", "size_bytes"):
            _require(_is_count(file.get(key)), at, f"file {path}: {key} {file.get(key)!r} is not a count")
    listed = sum(f["row_count"] for f in files)
    _require(listed == row_count, at, f"{field} {row_count} != its files' sum {listed}")


def _validate_table(entry: object, mode: str, where: str) -> None:
    _require(isinstance(entry, dict), where, "a table entry is not an object")
    name = entry.get("name")
    _require(isinstance(name, str) and bool(name), where, "a table entry has no name")
    at = f"{where}: table {name}"
    for key in ("row_count", "primary_key", "files", "columns", "deleted_keys"):
        _require(key in entry, at, f"field {key} is missing")
    _require(isinstance(entry["primary_key"], list) and bool(entry["primary_key"]), at, "primary_key is empty")
    _require(isinstance(entry["columns"], list) and bool(entry["columns"]), at, "columns is empty")
    for column in entry["columns"]:
        _require(isinstance(column, dict) and {"name", "type", "nullable"} <= set(column), at, f"column {column!r}")
    _validate_files(entry["files"], name, entry["row_count"], at, "row_count")
    deleted = entry["deleted_keys"]
    _require(isinstance(deleted, dict), at, "deleted_keys is not an object")
    _validate_files(deleted.get("files"), deleted_keys_folder(name), deleted.get("row_count"), at, "deleted_keys")
    _require(mode == INCREMENTAL or deleted["row_count"] == 0, at, "a full batch carries deleted keys")
    for key in ("gold_version", "gold_base_version"):
        _require(entry.get(key) is None or _is_count(entry.get(key)), at, f"{key} {entry.get(key)!r} is not a version")


def validate_manifest(manifest: object, where: str) -> dict:
    """The manifest itself, once its shape is checked; ManifestError naming the field otherwise."""
    _require(isinstance(manifest, dict), where, "the manifest is not a JSON object")
    version = manifest.get("manifest_version")
    _require(version == MANIFEST_VERSION, where, f"manifest_version {version!r} != {MANIFEST_VERSION}")
    _require(manifest.get("format") == FORMAT, where, f"format {manifest.get('format')!r} != {FORMAT!r}")
    _require(isinstance(manifest.get("batch_id"), str), where, "batch_id is missing")
    _require(isinstance(manifest.get("tables"), list), where, "tables is missing")
    mode, base = manifest.get("mode"), manifest.get("base_batch_id")
    _require(mode in MODES, where, f"mode {mode!r} is not one of {list(MODES)}")
    if mode == FULL:
        _require(base is None, where, f"a full batch has no base batch (base_batch_id {base!r})")
    else:
        _require(isinstance(base, str) and bool(base), where, "an incremental batch names its base_batch_id")
        # Batch ids start with their UTC creation time: a base is always an older batch.
        _require(base < manifest["batch_id"], where, f"base_batch_id {base} is not older than the batch")
    names = [t.get("name") if isinstance(t, dict) else None for t in manifest["tables"]]
    _require(len(set(names)) == len(names), where, f"a table is listed twice: {names}")
    for entry in manifest["tables"]:
        _validate_table(entry, mode, where)
    return manifest


def parse_manifest(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{where}: {MANIFEST_FILE} is not valid JSON: {error}") from None
    return validate_manifest(data, where)


def batch_root(export_root: str, batch_id: str) -> str:
    return f"{export_root.rstrip('/')}/{batch_id}"


def publish(export_root: str, manifest: dict, *, s3: S3Access) -> bool:
    """Writes the batch's manifest, then LATEST (after every data file, so a reader never sees a partial batch);
    whether LATEST moved (see advance_latest). `s3` reaches an export root on S3, as in every function here."""
    root = export_root.rstrip("/")
    text = json.dumps(manifest, indent=2)
    storage.write_text(f"{batch_root(root, manifest['batch_id'])}/{MANIFEST_FILE}", text, s3=s3)
    return advance_latest(root, manifest["batch_id"], s3=s3)


def advance_latest(export_root: str, batch_id: str, *, s3: S3Access) -> bool:
    """LATEST only moves forward: it becomes `batch_id` unless it names this batch or a newer one already (a repair
    of an older run must not hand the loader an older state). Batch ids begin with their UTC start time, so they
    order as their runs started. Whether LATEST was written."""
    current = latest_batch_id(export_root, s3=s3)
    if current is not None and current >= batch_id:
        return False
    storage.write_text(f"{export_root.rstrip('/')}/{LATEST_FILE}", batch_id + "\n", s3=s3)
    return True


def latest_batch_id(export_root: str, *, s3: S3Access) -> str | None:
    """The batch id in LATEST, or None when no batch was ever published."""
    latest = f"{export_root.rstrip('/')}/{LATEST_FILE}"
    return storage.read_text(latest, s3=s3).strip() if storage.exists(latest, s3=s3) else None


def read_manifest(export_root: str, batch_id: str, *, s3: S3Access) -> dict:
    """A published batch's manifest, validated; ManifestError naming the batch when it is missing or malformed."""
    where = f"export batch {batch_root(export_root, batch_id)}"
    path = f"{batch_root(export_root, batch_id)}/{MANIFEST_FILE}"
    if not storage.exists(path, s3=s3):
        raise ManifestError(f"{where}: {MANIFEST_FILE} is missing (the batch is incomplete)")
    manifest = parse_manifest(storage.read_text(path, s3=s3), where)
    _require(manifest["batch_id"] == batch_id, where, f"manifest batch id {manifest['batch_id']} != {batch_id}")
    return manifest


def listed_files(entry: dict) -> list[dict]:
    """Every file a table entry lists: its rows' files, then its deleted keys' files."""
    return [*entry["files"], *entry["deleted_keys"]["files"]]
