"""BUILD_REPORTING_VIEWS procedure: (re)create the REPORTING views that analysts and the app read.

View names and columns are a contract with the app (see the README); the SQL lives here, once. Views that mirror a
curated table select all its columns (upper-cased by Snowflake) plus the region's name. Weeks start on Monday of the
local calendar (DAYOFWEEKISO, independent of the session's WEEK_START).
"""

from __future__ import annotations

from typing import Any

from snowflake.snowpark import Session

from .export_contract import TABLES
from .identifiers import quote_identifier

# {c} = curated schema, {r} = reporting schema, {f} = the schema prefix of the project's UDFs (see build_views),
# {row_counts} = (table_name, row_count) of every curated table now (an incremental load changes only some rows)
VIEWS: dict[str, str] = {
    "REGIONS": """
        SELECT region_code, region_name, parent_region_code, is_aggregate, time_zone
        FROM {c}.GOLD_REFERENCE__REGIONS""",
    "DAILY_DEMAND": """
        SELECT d.source_id, d.region_code, r.region_name, d.date_local, d.energy_mwh, d.peak_demand_mw,
               d.peak_interval_start_local, d.min_demand_mw, d.avg_demand_mw, d.load_factor, d.hours_reported,
               d.hours_expected, d.completeness_pct, d.imputed_hours,
               w.mean_temperature_c, w.heating_degree_days_f, w.cooling_degree_days_f
        FROM {c}.GOLD_DEMAND__DAILY d
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = d.region_code
        LEFT JOIN {c}.GOLD_WEATHER__DAILY_DEGREE_DAYS w
          ON w.region_code = d.region_code AND w.date_local = d.date_local""",
    "HOURLY_DEMAND": """
        SELECT source_id, region_code, interval_start_utc, interval_start_local, date_local, hour_local, demand_mw,
               is_imputed, temperature_c
        FROM {c}.GOLD_DEMAND__HOURLY_WEATHER""",
    "HOURLY_LOAD_SHAPE": """
        SELECT source_id, region_code, month, day_type, hour_local, mean_demand_mw, p95_demand_mw, hours_count
        FROM {c}.GOLD_DEMAND__HOURLY_PROFILE""",
    "LOAD_FACTOR_WEEKLY": """
        SELECT source_id, region_code, period_start_date, energy_mwh, peak_demand_mw, hours_reported,
               energy_mwh / NULLIF(hours_reported, 0) AS avg_demand_mw,
               {f}LOAD_FACTOR(energy_mwh / NULLIF(hours_reported, 0), peak_demand_mw) AS load_factor
        FROM (
            SELECT source_id, region_code,
                   DATEADD(day, 1 - DAYOFWEEKISO(date_local), date_local)::DATE AS period_start_date,
                   SUM(energy_mwh) AS energy_mwh, MAX(peak_demand_mw) AS peak_demand_mw,
                   SUM(hours_reported)::INTEGER AS hours_reported
            FROM {c}.GOLD_DEMAND__DAILY
            GROUP BY 1, 2, 3
        )""",
    "LOAD_FACTOR_MONTHLY": """
        SELECT source_id, region_code, period_start_date, energy_mwh, peak_demand_mw, hours_reported,
               energy_mwh / NULLIF(hours_reported, 0) AS avg_demand_mw,
               {f}LOAD_FACTOR(energy_mwh / NULLIF(hours_reported, 0), peak_demand_mw) AS load_factor
        FROM (
            SELECT source_id, region_code, DATE_TRUNC('month', date_local)::DATE AS period_start_date,
                   SUM(energy_mwh) AS energy_mwh, MAX(peak_demand_mw) AS peak_demand_mw,
                   SUM(hours_reported)::INTEGER AS hours_reported
            FROM {c}.GOLD_DEMAND__DAILY
            GROUP BY 1, 2, 3
        )""",
    "COINCIDENT_PEAK_MONTHLY": """
        SELECT t.*, r.region_name
        FROM {c}.GOLD_DEMAND__MONTHLY_COINCIDENT_PEAK t
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = t.region_code""",
    "RELIABILITY_DAILY": """
        SELECT t.*, r.region_name
        FROM {c}.GOLD_RELIABILITY__DAILY t
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = t.region_code""",
    "RELIABILITY_MONTHLY": """
        SELECT t.*, r.region_name
        FROM {c}.GOLD_RELIABILITY__MONTHLY t
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = t.region_code""",
    "RELIABILITY_YEARLY": """
        SELECT t.*, r.region_name
        FROM {c}.GOLD_RELIABILITY__YEARLY t
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = t.region_code""",
    "OUTAGE_EVENTS": """
        SELECT t.*, r.region_name
        FROM {c}.GOLD_OUTAGES__EVENTS t
        LEFT JOIN {c}.GOLD_REFERENCE__REGIONS r ON r.region_code = t.region_code""",
    "DATA_FRESHNESS": """
        SELECT changed.table_name, changed.batch_id, changed.loaded_at_utc AS last_changed_at_utc,
               checked.last_checked_at_utc, counted.row_count
        FROM (
            SELECT table_name, batch_id, loaded_at_utc, rows_loaded
            FROM {c}.LOAD_HISTORY
            WHERE status = 'LOADED'
            QUALIFY ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY loaded_at_utc DESC) = 1
        ) changed
        JOIN (
            SELECT table_name, MAX(loaded_at_utc) AS last_checked_at_utc
            FROM {c}.LOAD_HISTORY
            WHERE status IN ('LOADED', 'UNCHANGED', 'SKIPPED')
            GROUP BY table_name
        ) checked ON checked.table_name = changed.table_name
        LEFT JOIN ({row_counts}) counted ON counted.table_name = changed.table_name""",
    "FILE_ACCOUNTING": """
        SELECT * FROM {c}.GOLD_QUALITY__FILE_ACCOUNTING""",
    "QUARANTINE_SUMMARY": """
        SELECT * FROM {c}.GOLD_QUALITY__QUARANTINE_SUMMARY""",
}


def view_statements(database_name: str, qualify_functions: bool = True) -> dict[str, str]:
    """CREATE OR REPLACE VIEW statement per view name.

    qualify_functions=False leaves the UDF name bare; only the local warehouse needs it, because DuckDB resolves the
    project's Python UDFs in its system catalog and refuses a database.schema prefix on them.
    """
    database = quote_identifier(database_name, "database name")
    reporting = f'{database}."REPORTING"'
    curated = f'{database}."CURATED"'
    names = {
        "c": curated,
        "r": reporting,
        "f": f"{reporting}." if qualify_functions else "",
        "row_counts": _row_counts(curated),
    }
    # COPY GRANTS: replacing a view keeps the SELECT that analysts and the app's references were granted on it.
    return {
        name: f"CREATE OR REPLACE VIEW {reporting}.{quote_identifier(name)} COPY GRANTS AS "
        f"{body.format(**names).strip()}"
        for name, body in VIEWS.items()
    }


def _row_counts(curated: str) -> str:
    """One row per table of the export contract (names from the contract, never from an argument)."""
    return " UNION ALL ".join(
        f"SELECT '{name}' AS table_name, COUNT(*) AS row_count FROM {curated}.{quote_identifier(name)}"
        for name in sorted(TABLES)
    )


def build_views(session: Any, database_name: str = "ENERGY", qualify_functions: bool = True) -> dict[str, Any]:
    """Create or replace every reporting view; returns the views built."""
    statements = view_statements(database_name, qualify_functions)
    for statement in statements.values():
        session.sql(statement).collect()
    return {"database": database_name.upper(), "schema": "REPORTING", "views": sorted(statements)}


def main(session: Session, database_name: str) -> dict:
    """Stored-procedure handler: CALL ENERGY.REPORTING.BUILD_REPORTING_VIEWS('ENERGY')."""
    return build_views(session, database_name)
