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
from databricks_jobs.export.manifest import MANIFEST_FILE, build_manifest, publish, table_entry

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
    "double": 1.5,
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
    row.update(region_code="COAST", source_id="ercot_native_load")
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


def write_export(root: Path, batch_id: str, rows_by_table: dict[str, list[dict]], latest: bool = True) -> Path:
    """Write {root}/{batch}/{table}/part-*.parquet, then _manifest.json, then LATEST, per the export contract."""
    batch = root / batch_id
    entries = []
    for table in tables.GOLD_TABLES:
        rows = rows_by_table.get(table.name, [])
        schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type], c.nullable) for c in table.columns])
        folder = batch / table.name
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"part-00000-{batch_id[-8:]}.snappy.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), part, compression="snappy")
        entries.append(
            table_entry(table, [{"name": part.name, "row_count": len(rows), "size_bytes": part.stat().st_size}])
        )
    manifest = build_manifest(batch_id, entries)
    if latest:
        publish(str(root), manifest)
    else:
        (batch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return batch
