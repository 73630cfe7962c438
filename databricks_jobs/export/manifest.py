"""The export manifest: the one definition of `_manifest.json`, used by every writer (the export, the benchmark's
and the tests' fixtures) and every reader on the Python side (export verification, the S3 check).

Layout of a batch: `{export_root}/{batch_id}/{table}/part-*.parquet`, then `{batch_id}/_manifest.json` (its presence
= the batch is complete), then `{export_root}/LATEST` (the newest complete batch id). The manifest is JSON:
  manifest_version (1), batch_id, created_at_utc (ISO 8601, Z), format ("parquet"), tables: [
    {name, row_count, primary_key: [column], files: [{path: "<table>/part-….parquet", row_count, size_bytes}],
     columns: [{name, type (tables.py type name), nullable}]}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from databricks_jobs import storage
from databricks_jobs.tables import TableContract

MANIFEST_FILE = "_manifest.json"
LATEST_FILE = "LATEST"
MANIFEST_VERSION = 1
FORMAT = "parquet"
# What Spark (and the fixtures) name data files; anything else in a manifest is refused.
DATA_FILE = re.compile(r"^part-[A-Za-z0-9._-]+\.parquet$")


class ManifestError(ValueError):
    """A manifest that does not follow the layout above; the message names the batch, table and field."""


def columns_of(contract: TableContract) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in contract.columns]


def table_entry(contract: TableContract, files: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A table's entry; `files`: {"name": "part-….parquet", "row_count", "size_bytes"} in file-name order."""
    listed = [
        {"path": f"{contract.name}/{f['name']}", "row_count": int(f["row_count"]), "size_bytes": int(f["size_bytes"])}
        for f in sorted(files, key=lambda f: f["name"])
    ]
    return {
        "name": contract.name,
        "row_count": sum(f["row_count"] for f in listed),
        "primary_key": list(contract.primary_key),
        "files": listed,
        "columns": columns_of(contract),
    }


def build_manifest(batch_id: str, tables: Sequence[dict[str, Any]], created_at: datetime | None = None) -> dict:
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "batch_id": batch_id,
        "created_at_utc": (created_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "format": FORMAT,
        "tables": list(tables),
    }
    return validate_manifest(manifest, f"export batch {batch_id}")


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise ManifestError(f"{where}: {problem}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _validate_table(entry: object, where: str) -> None:
    _require(isinstance(entry, dict), where, "a table entry is not an object")
    name = entry.get("name")
    _require(isinstance(name, str) and bool(name), where, "a table entry has no name")
    at = f"{where}: table {name}"
    for key in ("row_count", "primary_key", "files", "columns"):
        _require(key in entry, at, f"field {key} is missing")
    _require(_is_count(entry["row_count"]), at, f"row_count {entry['row_count']!r} is not a count")
    _require(isinstance(entry["primary_key"], list) and bool(entry["primary_key"]), at, "primary_key is empty")
    _require(isinstance(entry["columns"], list) and bool(entry["columns"]), at, "columns is empty")
    for column in entry["columns"]:
        _require(isinstance(column, dict) and {"name", "type", "nullable"} <= set(column), at, f"column {column!r}")
    for file in entry["files"]:
        _require(isinstance(file, dict), at, f"file entry {file!r} is not an object")
        path = file.get("path", "")
        folder, _, file_name = str(path).partition("/")
        _require(folder == name and bool(DATA_FILE.match(file_name)), at, f"file path {path!r} is not {name}/part-…")
        for key in ("row_count", "size_bytes"):
            _require(_is_count(file.get(key)), at, f"file {path}: {key} {file.get(key)!r} is not a count")
    listed = sum(f["row_count"] for f in entry["files"])
    _require(listed == entry["row_count"], at, f"row_count {entry['row_count']} != its files' sum {listed}")


def validate_manifest(manifest: object, where: str) -> dict:
    """The manifest itself, once its shape is checked; ManifestError naming the field otherwise."""
    _require(isinstance(manifest, dict), where, "the manifest is not a JSON object")
    version = manifest.get("manifest_version")
    _require(version == MANIFEST_VERSION, where, f"manifest_version {version!r} != {MANIFEST_VERSION}")
    _require(manifest.get("format") == FORMAT, where, f"format {manifest.get('format')!r} != {FORMAT!r}")
    _require(isinstance(manifest.get("batch_id"), str), where, "batch_id is missing")
    _require(isinstance(manifest.get("tables"), list), where, "tables is missing")
    names = [t.get("name") if isinstance(t, dict) else None for t in manifest["tables"]]
    _require(len(set(names)) == len(names), where, f"a table is listed twice: {names}")
    for entry in manifest["tables"]:
        _validate_table(entry, where)
    return manifest


def parse_manifest(text: str, where: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{where}: {MANIFEST_FILE} is not valid JSON: {error}") from None
    return validate_manifest(data, where)


def batch_root(export_root: str, batch_id: str) -> str:
    return f"{export_root.rstrip('/')}/{batch_id}"


def publish(export_root: str, manifest: dict) -> None:
    """Writes the batch's manifest, then LATEST: after every data file, so a reader never sees a partial batch."""
    root = export_root.rstrip("/")
    storage.write_text(f"{batch_root(root, manifest['batch_id'])}/{MANIFEST_FILE}", json.dumps(manifest, indent=2))
    storage.write_text(f"{root}/{LATEST_FILE}", manifest["batch_id"] + "\n")
