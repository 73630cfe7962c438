"""Pipeline throughput (raw interval rows -> Gold, per layer, against DuckDB) and incremental (one new day appended)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from bench import spark_floor
from bench.common import BENCH_DIR, spark_jobs_started, timed
from bench.duckdb_reference import INTERVAL_COLUMNS, compute_gold_demand, read_daily
from databricks_jobs.settings import LakeSettings

SOURCE = "synthetic_interval_load"
REGIONS = 4
LAST_YEAR = 2025
HOURS_PER_YEAR = 8760  # 2025 local years in every synthetic zone have 8760 hours


def generate(rows: int, root: Path) -> tuple[Path, int]:
    """The seeded synthetic utility with about `rows` hourly interval rows (one year, 4 regions); reused if present."""
    from databricks_jobs.synthetic import generate_synthetic_utility

    feeders = max(1, round(rows / (REGIONS * HOURS_PER_YEAR)))
    raw = root / f"raw_{feeders}f"
    marker = raw / "GENERATED"
    if not marker.exists():
        shutil.rmtree(raw, ignore_errors=True)
        summary = generate_synthetic_utility(
            raw, seed=42, years=1, regions=REGIONS, feeders_per_region=feeders, last_year=LAST_YEAR
        )
        marker.write_text(str(summary.interval_rows))
        print(f"  generated {summary.interval_rows:,} interval rows in {summary.seconds:.1f} s -> {raw}")
    return raw, int(marker.read_text())


def interval_glob(raw: Path) -> str:
    return str(raw / "synthetic_utility" / "interval_load" / "*.csv")


def run_layers(spark, settings: LakeSettings, source_ids: list[str]) -> dict[str, dict[str, float]]:
    """Bronze, Silver, Gold for `source_ids`, each layer a run of its own so its Spark jobs can be counted:
    {"seconds": per layer, "spark_jobs": per layer}."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    seconds, jobs = {}, {}
    for stage in ("bronze", "silver", "gold"):
        before = spark_jobs_started(spark)
        report = run_pipeline(settings, stages=(stage,), source_ids=source_ids, spark=spark, log=lambda _m: None)
        if report.error:
            raise RuntimeError(f"{stage} failed on {settings.raw_root}: {report.error}")
        seconds[stage] = report.step(stage).seconds
        jobs[stage] = spark_jobs_started(spark) - before
    return {"seconds": seconds, "spark_jobs": jobs}


def run_spark_layers(spark, raw: Path, lake: Path) -> dict[str, dict[str, float]]:
    """run_layers for the interval-load source of the synthetic utility in `raw`."""
    settings = LakeSettings(raw_root=str(raw), lake_root=str(lake), export_root=str(lake.parent / "export"))
    return run_layers(spark, settings, [SOURCE])


def spark_daily(spark, lake_root: Path) -> pd.DataFrame:
    from databricks_jobs import lake
    from databricks_jobs.tables import GOLD_DEMAND_DAILY

    return (
        lake.read(spark, LakeSettings(lake_root=str(lake_root)), GOLD_DEMAND_DAILY.name)
        .where(f"source_id = '{SOURCE}'")
        .select("region_code", "date_local", "energy_mwh", "peak_demand_mw", "hours_reported")
        .toPandas()
    )


def compare_daily(spark_frame: pd.DataFrame, duck_frame: pd.DataFrame) -> dict[str, object]:
    """Same keys, and the largest differences of energy and peak: the reference computes the same figures."""
    key = ["region_code", "date_local"]
    s = spark_frame.assign(date_local=pd.to_datetime(spark_frame["date_local"]))
    d = duck_frame.assign(date_local=pd.to_datetime(duck_frame["date_local"]))
    merged = s.merge(d, on=key, how="outer", suffixes=("_spark", "_duckdb"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    return {
        "days_spark": len(s),
        "days_duckdb": len(d),
        "days_only_one_side": int((merged["_merge"] != "both").sum()),
        "max_abs_diff_energy_mwh": float((both["energy_mwh_spark"] - both["energy_mwh_duckdb"]).abs().max()),
        "max_abs_diff_peak_mw": float((both["peak_demand_mw_spark"] - both["peak_demand_mw_duckdb"]).abs().max()),
        "hours_reported_equal": bool((both["hours_reported_spark"] == both["hours_reported_duckdb"]).all()),
    }


def throughput(spark, rows: int) -> dict[str, object]:
    """One size: generate, run Spark layers on a fresh lake, run the DuckDB reference, compare."""
    root = BENCH_DIR / "pipeline"
    raw, actual_rows = generate(rows, root)
    lake = root / f"lake_{actual_rows}"
    shutil.rmtree(lake, ignore_errors=True)
    run = run_spark_layers(spark, raw, lake)
    layers = run["seconds"]
    spark_total = sum(layers.values())
    duck_out = root / f"duckdb_{actual_rows}"
    with timed() as duck:
        counts = compute_gold_demand(interval_glob(raw), duck_out)
    check = compare_daily(spark_daily(spark, lake), read_daily(duck_out))
    shutil.rmtree(lake, ignore_errors=True)
    with timed() as floor:
        floor_daily = spark_floor.daily_demand(spark, interval_glob(raw))
    return {
        "raw_interval_rows": actual_rows,
        "spark_seconds_per_layer": layers,
        "spark_jobs_per_layer": run["spark_jobs"],
        "spark_rows_per_s_per_layer": {k: round(actual_rows / v) for k, v in layers.items() if v},
        "spark_seconds_total": round(spark_total, 1),
        "spark_rows_per_s_total": round(actual_rows / spark_total),
        "duckdb_seconds": round(duck.seconds, 1),
        "duckdb_rows_per_s": round(actual_rows / duck.seconds),
        "ratio_spark_to_duckdb": round(spark_total / duck.seconds, 2),
        "duckdb_output_rows": counts,
        "figures_match": check,
        "spark_one_job_seconds": round(floor.seconds, 1),
        "ratio_spark_one_job_to_duckdb": round(floor.seconds / duck.seconds, 2),
        "ratio_spark_pipeline_to_one_job": round(spark_total / floor.seconds, 2),
        "spark_one_job_figures_match": compare_daily(floor_daily, read_daily(duck_out)),
    }


def warm_up(spark) -> None:
    """One small unreported run, so JVM warm-up and first-use costs do not land on the first measured size."""
    raw, rows = generate(50_000, BENCH_DIR / "pipeline")
    lake = BENCH_DIR / "pipeline" / "lake_warm_up"
    shutil.rmtree(lake, ignore_errors=True)
    run_spark_layers(spark, raw, lake)
    shutil.rmtree(lake, ignore_errors=True)


NEW_DAYS = 2  # the days held back from the year and landed one at a time (incremental)


def _new_day_file(target: Path, day: int) -> Path:
    return target / "new_days" / f"interval_load_new_day_{day}.csv"


def _split_last_days(raw: Path, target: Path, days: int) -> tuple[int, int]:
    """A copy of `raw` without its last `days` days, plus each of those days as a new file of its own (_new_day_file;
    1 = the earliest); returns (base rows, rows of the first held-back day)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(raw, target, ignore=shutil.ignore_patterns("interval_load"))
    (target / "synthetic_utility" / "interval_load").mkdir(parents=True)
    con = duckdb.connect()
    src = f"read_csv('{interval_glob(raw)}', header = true, columns = {INTERVAL_COLUMNS})"
    # Days counted back in 24-hour steps from each region's last hour (regions end their local year at different UTC
    # instants): 0 = the base, 1 .. days = the held-back days, earliest first.
    con.execute(
        f"""CREATE TEMP TABLE split AS SELECT *, greatest(0, {int(days)} - CAST(floor(date_diff('hour',
            interval_start_utc, max(interval_start_utc) OVER (PARTITION BY region)) / 24) AS INTEGER)) AS new_day
            FROM {src}"""
    )
    base = target / "synthetic_utility" / "interval_load" / "interval_load_base.csv"
    outputs = {0: base, **{day: _new_day_file(target, day) for day in range(1, days + 1)}}
    outputs[1].parent.mkdir(parents=True)
    fmt = "(HEADER, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S')"
    columns = "interval_start_utc, region, feeder_id, load_kw"
    for day, path in outputs.items():
        con.execute(f"COPY (SELECT {columns} FROM split WHERE new_day = {day}) TO '{path}' {fmt}")
    rows = [con.execute(f"SELECT count(*) FROM read_csv('{outputs[day]}')").fetchone()[0] for day in (0, 1)]
    con.close()
    return rows[0], rows[1]


def incremental(spark, rows: int) -> dict[str, object]:
    """Full run on a year minus its last two days; then each day lands as a new file and the pipeline runs again.

    The first new day is the process's first incremental run: its JVM meets Gold's incremental code paths (comparing
    recomputed rows with the stored ones, appending and MERGEing them) for the first time, as a scheduled job's new
    driver does every day, while the full run takes only paths warm_up already took. The second day is the same kind
    of work on warm paths; the two days' Gold can still differ in work (a day that moves a month's system peak MERGEs
    the coincident peak too), so compare their Spark jobs before reading the difference as warm-up."""
    root = BENCH_DIR / "incremental"
    raw, _ = generate(rows, BENCH_DIR / "pipeline")
    data = root / "raw"
    base_rows, day_rows = _split_last_days(raw, data, NEW_DAYS)
    lake = root / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    full_run = run_spark_layers(spark, data, lake)
    day_runs = []
    for day in range(1, NEW_DAYS + 1):
        shutil.move(str(_new_day_file(data, day)), data / "synthetic_utility" / "interval_load")
        day_runs.append(run_spark_layers(spark, data, lake))
    days = spark_daily(spark, lake)
    shutil.rmtree(lake, ignore_errors=True)
    full_s = sum(full_run["seconds"].values())
    first, second = day_runs
    first_s, second_s = sum(first["seconds"].values()), sum(second["seconds"].values())
    return {
        "base_rows": base_rows,
        "new_day_rows": day_rows,
        "full_run_seconds_per_layer": full_run["seconds"],
        "incremental_run_seconds_per_layer": first["seconds"],
        "full_run_spark_jobs_per_layer": full_run["spark_jobs"],
        "incremental_run_spark_jobs_per_layer": first["spark_jobs"],
        "full_run_seconds": round(full_s, 1),
        "incremental_run_seconds": round(first_s, 1),
        "ratio_incremental_to_full": round(first_s / full_s, 3),
        "target_ratio": 0.15,
        "second_day_seconds_per_layer": second["seconds"],
        "second_day_spark_jobs_per_layer": second["spark_jobs"],
        "second_day_seconds": round(second_s, 1),
        "ratio_second_day_to_full": round(second_s / full_s, 3),
        "gold_days_after_increment": len(days),
    }
