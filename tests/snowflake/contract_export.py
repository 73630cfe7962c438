"""A small Gold export written exactly per the export contract (pyarrow, schemas from databricks_jobs.tables),
with hand-made demand days whose weekly / monthly figures the tests recompute with pandas."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from databricks_jobs import tables
from databricks_jobs.export.manifest import (
    DELETED_KEYS_FOLDER,
    FULL,
    INCREMENTAL,
    MANIFEST_FILE,
    build_manifest,
    publish,
    table_entry,
)
from databricks_jobs.storage import S3Access

BATCH_1 = "20261125T201500Z-3f9a1c2b"
BATCH_2 = "20261126T201500Z-0badc0de"
ARROW_TYPES = {
    "string": pa.string(),
    "double": pa.float64(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),  # TIMESTAMP_NTZ: isAdjustedToUTC=false, as the contract says
    "timestamp_ntz": pa.timestamp("us"),
}
GENERIC = {
    "string": "x",
    "double": 0.5,  # inside every plausibility range (ratios 0..1 included)
    "int": 1,
    "bigint": 7,
    "boolean": False,
    "date": dt.date(2021, 3, 1),
    "timestamp": dt.datetime(2021, 3, 1, 6),
    "timestamp_ntz": dt.datetime(2021, 3, 1, 0),
}


def generic_row(table: tables.TableContract, **values: Any) -> dict[str, Any]:
    """One row of any contract table, typed by its columns; values override."""
    row = {c.name: GENERIC[c.type] for c in table.columns}
    # Calendar fields whose generic value would be implausible (the load refuses year 1 and a 1-hour day).
    row.update(region_code="COAST", source_id="ercot_native_load", year=2021, hours_expected=24)
    row = {k: v for k, v in row.items() if k in table.column_names}
    row.update(values)
    return row


def daily_rows(batch_id: str, days: list[tuple[dt.date, float, float, int]]) -> list[dict[str, Any]]:
    """gold_demand__daily rows for COAST: (date, energy_mwh, peak_mw, hours_reported)."""
    table = tables.GOLD_DEMAND_DAILY
    return [
        generic_row(
            table,
            date_local=day,
            time_zone="America/Chicago",
            energy_mwh=energy,
            peak_demand_mw=peak,
            avg_demand_mw=energy / hours,
            min_demand_mw=peak / 2,
            load_factor=energy / hours / peak,
            hours_reported=hours,
            hours_expected=hours,
            completeness_pct=100.0,
            imputed_hours=0,
            batch_id=batch_id,
        )
        for day, energy, peak, hours in days
    ]


# March 2021, COAST: a Monday-starting week, the 23-hour DST day (2021-03-14) and the next week's Monday.
DAYS_BATCH_1 = [
    (dt.date(2021, 3, 1), 240_000.0, 12_000.0, 24),
    (dt.date(2021, 3, 2), 216_000.0, 10_000.0, 24),
    (dt.date(2021, 3, 7), 192_000.0, 9_000.0, 24),
    (dt.date(2021, 3, 14), 207_000.0, 11_500.0, 23),
    (dt.date(2021, 3, 15), 228_000.0, 12_500.0, 24),
]


def export_tables(batch_id: str, days=DAYS_BATCH_1) -> dict[str, list[dict[str, Any]]]:
    """Rows for every Gold table: hand-made demand days, one generic row elsewhere, the region rows the views join."""
    rows = {table.name: [generic_row(table, batch_id=batch_id)] for table in tables.GOLD_TABLES}
    rows["gold_reference__regions"] = [
        generic_row(tables.GOLD_REFERENCE_REGIONS, region_code=code, region_name=name, batch_id=batch_id)
        for code, name in (("COAST", "ERCOT Coast weather zone (Houston)"), ("ERCOT", "ERCOT system"))
    ]
    rows["gold_demand__daily"] = daily_rows(batch_id, days)
    rows["gold_weather__daily_degree_days"] = [
        generic_row(
            tables.GOLD_WEATHER_DAILY_DEGREE_DAYS,
            date_local=dt.date(2021, 3, 1),
            mean_temperature_c=10.0,
            heating_degree_days_f=15.0,
            cooling_degree_days_f=0.0,
            batch_id=batch_id,
        )
    ]
    return rows


def key_columns(table: tables.TableContract) -> list[tables.Column]:
    """The primary key's columns, in key order: the schema of a deleted-keys file."""
    by_name = {c.name: c for c in table.columns}
    return [by_name[name] for name in table.primary_key]


def key_of(table: tables.TableContract, row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in table.primary_key}


def _write_part(folder: Path, batch_id: str, columns: list[tables.Column], rows: list[dict]) -> dict[str, Any]:
    """One Parquet part file in `folder`, typed per the contract; its manifest listing."""
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type], c.nullable) for c in columns])
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"part-00000-{batch_id[-8:]}.snappy.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), part, compression="snappy")
    return {"name": part.name, "row_count": len(rows), "size_bytes": part.stat().st_size}


def write_export(
    root: Path,
    batch_id: str,
    rows_by_table: dict[str, list[dict]],
    latest: bool = True,
    mode: str = FULL,
    base_batch_id: str | None = None,
    deleted_keys: dict[str, list[dict]] | None = None,
) -> Path:
    """Write {root}/{batch}/{table}/part-*.parquet (and {table}/deleted_keys/part-*.parquet), then _manifest.json,
    then LATEST, per the export contract. Full: one file per table, empty tables too (the whole table). Incremental:
    `rows_by_table` are the upserts and `deleted_keys` the primary keys deleted since `base_batch_id`; a table with
    neither lists no file at all, as the exporter writes it."""
    batch = root / batch_id
    deleted_keys = deleted_keys or {}
    entries = []
    for table in tables.GOLD_TABLES:
        rows, keys = rows_by_table.get(table.name, []), deleted_keys.get(table.name, [])
        folder = batch / table.name
        files = [] if mode == INCREMENTAL and not rows else [_write_part(folder, batch_id, table.columns, rows)]
        key_files = [_write_part(folder / DELETED_KEYS_FOLDER, batch_id, key_columns(table), keys)] if keys else []
        entries.append(table_entry(table, files, key_files))
    manifest = build_manifest(batch_id, entries, mode=mode, base_batch_id=base_batch_id)
    if latest:
        publish(str(root), manifest, s3=S3Access())
    else:
        batch.mkdir(parents=True, exist_ok=True)
        (batch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return batch


def write_incremental_export(
    root: Path,
    batch_id: str,
    base_batch_id: str,
    upserts: dict[str, list[dict]],
    deleted_keys: dict[str, list[dict]] | None = None,
    latest: bool = True,
) -> Path:
    """An incremental batch on top of `base_batch_id`: rows to upsert and keys to delete, per table."""
    return write_export(root, batch_id, upserts, latest, INCREMENTAL, base_batch_id, deleted_keys)
