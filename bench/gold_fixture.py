"""A Gold export at warehouse scale (years x regions of hourly data), written in the export contract's layout
(Parquet per table + _manifest.json + LATEST) by DuckDB, so the load procedure and the app's queries can be timed on
data far larger than the samples. Figures are seeded and self-consistent (daily rows aggregate the hourly rows)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from databricks_jobs import tables
from databricks_jobs.export.manifest import build_manifest, publish, table_entry
from databricks_jobs.storage import S3Access

BATCH_ID = "20260101T000000Z-00be7c40"
SOURCE = "bench_hourly"
ZONES = ("America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles")
DUCK_TYPE = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
}
DEFAULTS = {
    "string": "'n/a'",
    "double": "0.0",
    "int": "0",
    "bigint": "0",
    "boolean": "false",
    "date": "DATE '2021-01-01'",
    "timestamp": "TIMESTAMP '2021-01-01'",
    "timestamp_ntz": "TIMESTAMP '2021-01-01'",
}

# Per table: the relation rows come from, and expressions for the columns that matter (others get type defaults).
SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "gold_reference__regions": (
        "regions",
        {"region_code": "region_code", "region_name": "'Bench region ' || region_code", "time_zone": "time_zone"},
    ),
    "gold_demand__hourly_weather": (
        "hourly",
        {c: c for c in ("region_code", "interval_start_utc", "interval_start_local", "demand_mw", "temperature_c")}
        | {"source_id": f"'{SOURCE}'", "date_local": "CAST(interval_start_local AS DATE)"}
        | {"hour_local": "hour(interval_start_local)", "station_id": "region_code || '_WX'"},
    ),
    "gold_demand__daily": (
        "daily",
        {
            c: c
            for c in (
                "region_code",
                "date_local",
                "time_zone",
                "energy_mwh",
                "peak_demand_mw",
                "peak_interval_start_utc",
                "peak_interval_start_local",
                "min_demand_mw",
                "avg_demand_mw",
                "hours_reported",
            )
        }
        | {"source_id": f"'{SOURCE}'", "load_factor": "avg_demand_mw / peak_demand_mw"}
        | {"hours_expected": "hours_expected", "completeness_pct": "100.0 * hours_reported / hours_expected"},
    ),
    "gold_demand__hourly_profile": (
        "profile",
        {c: c for c in ("region_code", "month", "day_type", "hour_local", "mean_demand_mw", "p95_demand_mw")}
        | {"source_id": f"'{SOURCE}'", "hours_count": "hours_count"},
    ),
    "gold_weather__daily_degree_days": (
        "daily",
        {"region_code": "region_code", "station_id": "region_code || '_WX'", "date_local": "date_local"}
        | {"mean_temperature_c": "mean_temperature_c", "hours_reported": "hours_reported"}
        | {"heating_degree_days_f": "greatest(65 - (mean_temperature_c * 9 / 5 + 32), 0)"}
        | {"cooling_degree_days_f": "greatest((mean_temperature_c * 9 / 5 + 32) - 65, 0)"},
    ),
    "gold_demand__monthly_coincident_peak": (
        "monthly",
        {"source_id": f"'{SOURCE}'", "month_start_date": "month_start_date", "region_code": "region_code"}
        | {"system_peak_demand_mw": "1000.0", "demand_at_system_peak_mw": "100.0", "coincidence_factor": "0.9"},
    ),
    "gold_reliability__daily": (
        "daily",
        {"region_code": "region_code", "date_local": "date_local", "customers_served": "100000"}
        | {"sustained_interruptions": "(hash(region_code, date_local) % 5)::BIGINT"}
        | {"customer_interruptions": "(hash(region_code, date_local) % 3000)::BIGINT"}
        | {"customer_minutes_interrupted": "(hash(region_code, date_local) % 300000)::DOUBLE"}
        | {"saidi_minutes": "(hash(region_code, date_local) % 300000) / 100000.0"}
        | {"saifi": "(hash(region_code, date_local) % 3000) / 100000.0"}
        | {"is_major_event_day": "hash(region_code, date_local) % 200 = 0", "med_history_days": "1825"},
    ),
    "gold_reliability__monthly": (
        "monthly",
        {"region_code": "region_code", "month_start_date": "month_start_date", "customers_served": "100000"}
        | {"period_hours": "720", "saidi_w_major_event_days_minutes": "10.0", "saifi_w_major_event_days": "0.1"},
    ),
    "gold_reliability__yearly": (
        "yearly",
        {"region_code": "region_code", "year": "year", "customers_served": "100000", "period_hours": "8760"}
        | {"saidi_w_major_event_days_minutes": "120.0", "saifi_w_major_event_days": "1.1"},
    ),
    "gold_outages__events": (
        "events",
        {c: c for c in ("event_id", "region_code", "started_at_utc", "started_at_local", "date_local")}
        | {"source_id": f"'{SOURCE}'", "duration_minutes": "duration_minutes", "customers_affected": "customers"}
        | {"cause": "'vegetation'", "device": "'fuse'"}
        # Restored after the duration (the load refuses a restoration before the start).
        | {"restored_at_utc": "started_at_utc + to_minutes(CAST(duration_minutes AS BIGINT))"}
        | {"restored_at_local": "started_at_local + to_minutes(CAST(duration_minutes AS BIGINT))"},
    ),
    "gold_quality__file_accounting": ("files", {"source_id": f"'{SOURCE}'", "source_file": "source_file"}),
    "gold_quality__quarantine_summary": (
        "files",
        {"source_id": f"'{SOURCE}'", "source_file": "source_file", "reason": "'bench'", "row_count": "1"},
    ),
}


def _base_relations(con: duckdb.DuckDBPyConnection, regions: int, years: int, last_year: int) -> None:
    first = last_year - years + 1
    con.execute("SET TimeZone = 'UTC'")
    zones = ", ".join(f"'{z}'" for z in ZONES)
    con.execute(
        f"""CREATE TABLE regions AS SELECT printf('R%03d', i) AS region_code, ([{zones}])[i % 4 + 1] AS time_zone
            FROM range({regions}) t(i)"""
    )
    con.execute(
        f"""CREATE TABLE hourly AS
            SELECT r.region_code, r.time_zone, h AS interval_start_utc,
                   timezone(r.time_zone, h::TIMESTAMPTZ) AS interval_start_local,
                   round(500 + 200 * sin(2 * pi() * hour(h) / 24) + 100 * sin(2 * pi() * dayofyear(h) / 365)
                         + 30 * (hash(r.region_code, h) % 1000) / 1000.0, 3) AS demand_mw,
                   round(15 + 12 * sin(2 * pi() * dayofyear(h) / 365), 1) AS temperature_c
            FROM regions r,
                 range(TIMESTAMP '{first}-01-01', TIMESTAMP '{last_year + 1}-01-01', INTERVAL 1 HOUR) t(h)"""
    )
    con.execute(
        """CREATE TABLE daily AS
           SELECT region_code, time_zone, CAST(interval_start_local AS DATE) AS date_local,
                  sum(demand_mw) AS energy_mwh, max(demand_mw) AS peak_demand_mw,
                  arg_max(interval_start_utc, demand_mw) AS peak_interval_start_utc,
                  arg_max(interval_start_local, demand_mw) AS peak_interval_start_local,
                  min(demand_mw) AS min_demand_mw, avg(demand_mw) AS avg_demand_mw,
                  count(*)::INTEGER AS hours_reported, avg(temperature_c) AS mean_temperature_c,
                  -- 23, 24 or 25: the local day's length in its zone (DST days), as Gold computes it
                  date_diff('hour', timezone(time_zone, CAST(interval_start_local AS DATE)::TIMESTAMP),
                            timezone(time_zone, (CAST(interval_start_local AS DATE) + 1)::TIMESTAMP)
                  )::INTEGER AS hours_expected
           FROM hourly GROUP BY ALL"""
    )
    con.execute(
        """CREATE TABLE profile AS
           SELECT region_code, month(interval_start_local) AS month,
                  CASE WHEN isodow(interval_start_local) >= 6 THEN 'weekend' ELSE 'weekday' END AS day_type,
                  hour(interval_start_local) AS hour_local, avg(demand_mw) AS mean_demand_mw,
                  quantile_cont(demand_mw, 0.95) AS p95_demand_mw, count(*) AS hours_count
           FROM hourly GROUP BY ALL"""
    )
    con.execute(
        """CREATE TABLE monthly AS SELECT DISTINCT region_code, date_trunc('month', date_local)::DATE
           AS month_start_date FROM daily"""
    )
    con.execute("CREATE TABLE yearly AS SELECT DISTINCT region_code, year(date_local) AS year FROM daily")
    con.execute(
        f"""CREATE TABLE events AS
           SELECT region_code || '-' || i AS event_id, region_code, s AS started_at_utc,
                  timezone(time_zone, s::TIMESTAMPTZ) AS started_at_local,
                  CAST(timezone(time_zone, s::TIMESTAMPTZ) AS DATE) AS date_local,
                  (hash(region_code, i) % 600)::DOUBLE AS duration_minutes, (hash(i, region_code) % 5000) AS customers
           FROM (SELECT region_code, time_zone, i,
                        TIMESTAMP '{first}-01-01' + to_hours((hash(region_code, i) % {years * 8760})::BIGINT) AS s
                 FROM regions, range({100 * years}) t(i))"""
    )
    con.execute("CREATE TABLE files AS SELECT 'bench/file_' || i || '.csv' AS source_file FROM range(10) t(i)")


def _select(contract: tables.TableContract) -> str:
    relation, expressions = SOURCES[contract.name]
    columns = []
    for column in contract.columns:
        if column.name == "batch_id":
            expr = f"'{BATCH_ID}'"
        else:
            expr = expressions.get(column.name, DEFAULTS[column.type])
        columns.append(f"CAST({expr} AS {DUCK_TYPE[column.type]}) AS {column.name}")
    return f"SELECT {', '.join(columns)} FROM {relation}"


def write_export(
    export_root: Path, regions: int = 50, years: int = 5, last_year: int = 2025, files_per_table: int = 1
) -> dict:
    """Writes {export_root}/{BATCH_ID}/... and LATEST; returns the manifest. `files_per_table` > 1 cuts each table
    into that many part files (rows dealt round-robin), as a Spark export of many partitions would."""
    batch_dir = export_root / BATCH_ID
    shutil.rmtree(batch_dir, ignore_errors=True)
    batch_dir.mkdir(parents=True)
    con = duckdb.connect()
    _base_relations(con, regions, years, last_year)
    entries = []
    for contract in tables.GOLD_TABLES:
        folder = batch_dir / contract.name
        folder.mkdir()
        numbered = f"SELECT row_number() OVER () AS n__, * FROM ({_select(contract)})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE export_rows AS {numbered}")
        files = []
        for number in range(files_per_table):
            part = folder / f"part-{number:05d}.snappy.parquet"
            rows = f"SELECT * EXCLUDE (n__) FROM export_rows WHERE n__ % {files_per_table} = {number}"
            con.execute(f"COPY ({rows}) TO '{part}' (FORMAT parquet, COMPRESSION snappy)")
            count = con.execute(f"SELECT count(*) FROM '{part}'").fetchone()[0]
            files.append({"name": part.name, "row_count": count, "size_bytes": part.stat().st_size})
        entries.append(table_entry(contract, files))
    con.close()
    manifest = build_manifest(BATCH_ID, entries, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    publish(str(export_root), manifest, s3=S3Access())  # a local folder: no S3 to reach
    return manifest
