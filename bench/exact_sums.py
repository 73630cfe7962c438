"""What Gold's order-independent sums cost: a day's energy and mean demand per region over hourly doubles, added as
DOUBLE (Spark's order, which varies between runs) and exactly (`gold/exact_sums.py`, DECIMAL(38, 18)), in the same
minutes on the same Parquet file. Reference: the DOUBLE aggregation, timed before and after the exact one."""

from __future__ import annotations

import shutil

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from bench.common import BENCH_DIR, timed
from databricks_jobs.gold.exact_sums import exact_avg, exact_sum

HOURS_PER_DAY, REGIONS = 24, 20


def _best_seconds(spark: SparkSession, path: str, total: Column, mean: Column, runs: int) -> float:
    """Fastest of `runs` aggregations of the file (no write: Spark's noop sink)."""
    hours = spark.read.parquet(path)
    best = float("inf")
    for _ in range(runs):
        with timed() as t:
            daily = hours.groupBy("region", "day").agg(total.alias("energy_mwh"), mean.alias("avg_demand_mw"))
            daily.write.format("noop").mode("overwrite").save()
        best = min(best, t.seconds)
    return best


def run(spark: SparkSession, rows: int, runs: int = 3) -> dict[str, object]:
    folder = BENCH_DIR / "exact_sums"
    shutil.rmtree(folder, ignore_errors=True)
    path = str(folder / "hours.parquet")
    # Values with two decimals, as ERCOT publishes them; seeded, so every run adds the same numbers.
    spark.range(rows).select(
        (F.col("id") % REGIONS).alias("region"),
        (F.col("id") / (REGIONS * HOURS_PER_DAY)).cast("long").alias("day"),
        F.round(F.rand(7) * 50_000, 2).alias("demand_mw"),
    ).write.parquet(path)
    plain = (F.sum("demand_mw"), F.avg("demand_mw"))
    before = _best_seconds(spark, path, *plain, runs)
    exact = _best_seconds(spark, path, exact_sum("demand_mw"), exact_avg("demand_mw"), runs)
    after = _best_seconds(spark, path, *plain, runs)
    shutil.rmtree(folder, ignore_errors=True)
    double = min(before, after)
    return {
        "hourly_rows": rows,
        "daily_groups": -(-rows // HOURS_PER_DAY),
        "double_seconds": round(double, 2),
        "double_seconds_before_after": [round(before, 2), round(after, 2)],
        "exact_seconds": round(exact, 2),
        "exact_over_double": round(exact / double, 2),
        "exact_extra_seconds_per_million_rows": round((exact - double) / (rows / 1e6), 3),
    }
