"""The single-machine reference: the same Gold demand figures as the Spark pipeline, computed by DuckDB straight from
the synthetic utility's raw interval CSVs (parse, map regions, sum feeders to region-hour MW, local calendar days)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from databricks_jobs.reference.regions import load_regions

INTERVAL_COLUMNS = (
    "{'interval_start_utc': 'TIMESTAMP', 'region': 'VARCHAR', 'feeder_id': 'VARCHAR', 'load_kw': 'DOUBLE'}"
)


def _regions_table(con: duckdb.DuckDBPyConnection) -> None:
    """alias -> region code and time zone, from the same reference data the pipeline uses."""
    rows = [(alias, r.region_code, r.time_zone) for r in load_regions() for alias in (r.region_code, *r.aliases)]
    frame = pd.DataFrame(rows, columns=["alias", "region_code", "time_zone"]).drop_duplicates("alias")
    con.register("region_alias_df", frame)
    con.execute("CREATE OR REPLACE TABLE region_alias AS SELECT * FROM region_alias_df")


def compute_gold_demand(raw_glob: str, out_dir: Path, threads: int | None = None) -> dict[str, int]:
    """Writes daily demand and the hourly profile as Parquet under out_dir; returns their row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    _regions_table(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE hourly AS
        SELECT a.region_code, a.time_zone,
               date_trunc('hour', r.interval_start_utc) AS interval_start_utc,
               sum(r.load_kw) / 1000.0 AS demand_mw
        FROM read_csv('{raw_glob}', header = true, columns = {INTERVAL_COLUMNS},
                      timestampformat = '%Y-%m-%d %H:%M:%S') r
        JOIN region_alias a ON lower(replace(replace(r.region, '-', ' '), '_', ' '))
                             = lower(replace(replace(a.alias, '-', ' '), '_', ' '))
        GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE hourly_local AS
        SELECT *, timezone(time_zone, interval_start_utc::TIMESTAMPTZ) AS interval_start_local
        FROM hourly
        """
    )
    daily = out_dir / "gold_demand__daily.parquet"
    con.execute(
        f"""
        COPY (
          SELECT region_code, CAST(interval_start_local AS DATE) AS date_local,
                 sum(demand_mw) AS energy_mwh, max(demand_mw) AS peak_demand_mw,
                 arg_max(interval_start_utc, demand_mw) AS peak_interval_start_utc,
                 min(demand_mw) AS min_demand_mw, avg(demand_mw) AS avg_demand_mw,
                 avg(demand_mw) / nullif(max(demand_mw), 0) AS load_factor,
                 count(*) AS hours_reported
          FROM hourly_local GROUP BY ALL
        ) TO '{daily}' (FORMAT parquet)
        """
    )
    profile = out_dir / "gold_demand__hourly_profile.parquet"
    con.execute(
        f"""
        COPY (
          SELECT region_code, month(interval_start_local) AS month,
                 CASE WHEN isodow(interval_start_local) >= 6 THEN 'weekend' ELSE 'weekday' END AS day_type,
                 hour(interval_start_local) AS hour_local,
                 avg(demand_mw) AS mean_demand_mw, quantile_cont(demand_mw, 0.95) AS p95_demand_mw,
                 count(*) AS hours_count
          FROM hourly_local GROUP BY ALL
        ) TO '{profile}' (FORMAT parquet)
        """
    )
    counts = {
        "hourly_rows": con.execute("SELECT count(*) FROM hourly").fetchone()[0],
        "daily_rows": con.execute(f"SELECT count(*) FROM '{daily}'").fetchone()[0],
        "profile_rows": con.execute(f"SELECT count(*) FROM '{profile}'").fetchone()[0],
    }
    con.close()
    return counts


def read_daily(out_dir: Path) -> pd.DataFrame:
    return duckdb.connect().execute(f"SELECT * FROM '{out_dir / 'gold_demand__daily.parquet'}'").df()
