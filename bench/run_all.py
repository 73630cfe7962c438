"""Run the benchmarks: `python -m bench.run_all` (all, full sizes) or e.g. `--sizes 0.5 --only pipeline` for a quick
look. Each prints its figures and a ratio against a reference measured in the same run; figures are also saved to
.local/bench/results.json. Data comes from the seeded synthetic generator (same seed, same data)."""

from __future__ import annotations

import argparse

from bench import demo, exact_sums, fixed_cost, many_files, noop, pipeline, warehouse
from bench.common import Report, machine

BENCHMARKS = ("pipeline", "incremental", "many_files", "warehouse", "noop", "demo", "fixed_cost", "exact_sums")
SPARK_BENCHMARKS = {"pipeline", "incremental", "many_files", "noop", "fixed_cost", "exact_sums"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    parser.add_argument("--sizes", default="5,20,50", help="pipeline sizes in millions of raw interval rows")
    parser.add_argument(
        "--incremental-sizes", default="5,20", help="millions of rows in the year of data (one run per size)"
    )
    parser.add_argument("--many-files-sizes", default="1", help="many small files: millions of rows (one run per size)")
    parser.add_argument("--many-files-count", type=int, default=2000, help="many small files: files to cut into")
    parser.add_argument(
        "--fixed-cost-sources",
        default="1,5,20",
        help="fixed cost: source counts, one tiny file each (one run per count)",
    )
    parser.add_argument(
        "--exact-sums-rows", type=float, default=20, help="exact sums: millions of hourly values to add up by day"
    )
    parser.add_argument("--regions", type=int, default=50, help="warehouse benchmark: regions")
    parser.add_argument("--years", type=int, default=5, help="warehouse benchmark: years of hourly data")
    parser.add_argument("--runs", type=int, default=20, help="warehouse benchmark: timed runs per query")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    report = Report()
    print(f"machine: {machine()}")
    # Cheapest first: an interrupted run still has the warehouse and incremental figures.
    if "warehouse" in chosen:
        report.add("warehouse: load procedure and app queries", warehouse.run(args.regions, args.years, args.runs))
    if "demo" in chosen:
        # Before this process starts its own JVM: the demo runs as a user runs it, in new processes.
        report.add("demo: `energy-platform demo --no-app`, fresh lake, then nothing new", demo.run())
    spark = None
    if SPARK_BENCHMARKS & set(chosen):
        from databricks_jobs.spark_session import get_spark

        spark = get_spark("energy-bench")
        pipeline.warm_up(spark)
    if "noop" in chosen:
        report.add("no-op run on the demo data (nothing new)", noop.run(spark))
    if "fixed_cost" in chosen:
        counts = [int(n) for n in args.fixed_cost_sources.split(",") if n]
        report.add("fixed cost: N sources of one tiny file each", fixed_cost.run(spark, counts))
    if "exact_sums" in chosen:
        rows = int(args.exact_sums_rows * 1e6)
        report.add(
            f"exact sums: daily sum and mean of {args.exact_sums_rows:g}M hourly doubles", exact_sums.run(spark, rows)
        )
    if "incremental" in chosen:
        for size in (float(s) for s in args.incremental_sizes.split(",") if s):
            report.add(
                f"incremental: one new day on a year of {size:g}M rows", pipeline.incremental(spark, int(size * 1e6))
            )
    if "many_files" in chosen:
        for size in (float(s) for s in args.many_files_sizes.split(",") if s):
            report.add(
                f"many small files: {size:g}M rows in {args.many_files_count} files vs a few",
                many_files.run(spark, int(size * 1e6), args.many_files_count),
            )
    if "pipeline" in chosen:
        sizes = [float(s) for s in args.sizes.split(",") if s]
        totals = {}
        for size in sizes:
            figures = pipeline.throughput(spark, int(size * 1_000_000))
            report.add(f"pipeline throughput, {size:g}M rows", figures)
            totals[size] = (figures["raw_interval_rows"], figures["spark_seconds_total"])
        if len(totals) >= 2:
            (small_rows, small_s), (big_rows, big_s) = totals[sizes[-2]], totals[sizes[-1]]
            report.add(
                "pipeline scaling",
                {
                    "from_to": f"{sizes[-2]:g}M -> {sizes[-1]:g}M rows",
                    "rows_ratio": round(big_rows / small_rows, 2),
                    "time_ratio": round(big_s / small_s, 2),
                    "no_faster_than_linear": big_s / small_s <= big_rows / small_rows,
                },
            )
    print(f"\nsaved {report.save()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
