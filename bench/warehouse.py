"""Local warehouse: the load procedure's rows/s against DuckDB reading the same Parquet, and the app's own queries
(energy_app.queries, uncached) on years x regions of hourly data, p50 / p95 per query."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sys
from collections.abc import Callable

import duckdb

from bench.common import BENCH_DIR, repeat_ms, summary_ms, timed
from bench.gold_fixture import SOURCE, write_export
from databricks_jobs.settings import PROJECT_ROOT
from local_platform.s3.server import free_port

TARGET_P95_MS = 300


def _app_queries(regions: tuple[str, ...], last_year: int) -> dict[str, Callable[[], object]]:
    """Each app query with the arguments a user's default selection gives (one year, a handful of regions)."""
    sys.path.insert(0, str(PROJECT_ROOT / "streamlit_in_snowflake"))
    from energy_app import queries, views

    # Outside `streamlit run` every cached function warns once that it falls back to an in-memory cache.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)

    start, end = dt.date(last_year, 1, 1), dt.date(last_year, 12, 31)
    calls: dict[str, Callable[[], object]] = {
        "region_reference": lambda q: q(),
        "demand_sources": lambda q: q(),
        "regions_for_source": lambda q: q(SOURCE),
        "outage_regions": lambda q: q(),
        "demand_date_range": lambda q: q(SOURCE),
        "daily_demand": lambda q: q(SOURCE, regions, start, end),
        "demand_totals": lambda q: q(SOURCE, regions, start, end),
        "selection_peak": lambda q: q(SOURCE, regions, start, end),
        "hourly_heatmap": lambda q: q(SOURCE, regions, start, end),
        "load_shape": lambda q: q(SOURCE, regions, (1, 7)),
        "incomplete_days": lambda q: q(SOURCE, regions, start, end),
        "reliability_by_region": lambda q: q(regions, start, end),
        "reliability_daily": lambda q: q(regions, start, end),
        "reliability_monthly": lambda q: q(regions, start, end),
        "event_totals": lambda q: q(regions, start, end, False),
        "largest_events": lambda q: q(regions, start, end, False),
        "events_by_cause": lambda q: q(regions, start, end, False),
        "data_freshness": lambda q: q(),
        "quarantine_by_source": lambda q: q(),
        "file_accounting": lambda q: q(),
    }
    bound = {}
    for name, call in calls.items():
        func = getattr(queries, name, None)
        if func is None:
            print(f"  (the app has no query {name}; skipped)")
            continue
        # Streamlit's cache would answer repeats from memory: time the warehouse, not the cache.
        bound[name] = (lambda f, c: lambda: c(f))(getattr(func, "__wrapped__", func), call)
    weekly = getattr(queries.load_factor_periods, "__wrapped__", queries.load_factor_periods)
    bound["load_factor_periods(weekly)"] = lambda: weekly(views.LOAD_FACTOR_WEEKLY, SOURCE, regions, start, end)
    return bound


def run(regions: int = 50, years: int = 5, runs: int = 20, last_year: int = 2025) -> dict[str, object]:
    from local_platform.warehouse import control, runner

    root = BENCH_DIR / "warehouse"
    shutil.rmtree(root, ignore_errors=True)
    export = root / "export"
    with timed() as gen:
        manifest = write_export(export, regions=regions, years=years, last_year=last_year)
    rows = sum(t["row_count"] for t in manifest["tables"])
    hourly_rows = next(t["row_count"] for t in manifest["tables"] if t["name"] == "gold_demand__hourly_weather")

    settings = control.WarehouseSettings(state_dir=root / "warehouse", port=free_port())
    control.start(settings)
    try:
        # Long statements are expected at this size: the connector's per-query cancel timer must not fire.
        with control.session(settings, network_timeout=3600) as session:
            from local_platform.warehouse import apply_sql
            from snowpark.energy_snowpark.load_export import load_export
            from snowpark.energy_snowpark.reporting_views import build_views

            apply_sql.apply(session, apply_sql.local_variables(str(export), settings.database))
            with timed() as load:
                reader = runner.local_stage_reader(session, settings.database)
                report = load_export(session, runner.stage_name(settings), "LATEST", settings.database, reader)
            with timed() as build:
                build_views(session, settings.database, qualify_functions=False)
            loaded = int(report["rows_loaded"])

            con = duckdb.connect()
            with timed() as duck:
                for table in manifest["tables"]:
                    files = [str(export / manifest["batch_id"] / f["path"]) for f in table["files"]]
                    con.execute(f"CREATE TABLE {table['name']} AS SELECT * FROM read_parquet({files})")
            duck_rows = sum(con.execute(f"SELECT count(*) FROM {t['name']}").fetchone()[0] for t in manifest["tables"])
            con.close()

            session.use_schema(f"{settings.database}.REPORTING")
            selection = tuple(f"R{i:03d}" for i in range(0, regions, max(1, regions // 5)))[:5]
            per_query = {}
            for name, call in _app_queries(selection, last_year).items():
                call()  # warm-up: first compile of the query path
                per_query[name] = summary_ms(repeat_ms(call, runs))
    finally:
        control.stop(settings)
    worst = max(per_query.items(), key=lambda item: item[1]["p95_ms"])
    return {
        "data": f"{regions} regions x {years} years hourly: {hourly_rows:,} hourly rows, {rows:,} rows in all tables",
        "fixture_seconds": round(gen.seconds, 1),
        "load_procedure": {
            "rows_loaded": loaded,
            "rows_in_manifest": rows,
            "seconds": round(load.seconds, 1),
            "rows_per_s": round(loaded / load.seconds),
            "duckdb_read_parquet_rows": duck_rows,
            "duckdb_seconds": round(duck.seconds, 2),
            "duckdb_rows_per_s": round(duck_rows / duck.seconds),
            "ratio_load_to_duckdb_time": round(load.seconds / duck.seconds, 1),
        },
        "build_views_seconds": round(build.seconds, 1),
        "app_queries_ms": per_query,
        "worst_p95": f"{worst[0]}: {worst[1]['p95_ms']} ms (target <= {TARGET_P95_MS} ms)",
        "queries_over_target": sorted(n for n, s in per_query.items() if s["p95_ms"] > TARGET_P95_MS),
    }
