"""`energy-platform synthetic`: write the seeded synthetic utility's raw files (load, weather, OMS outage exports)."""

from __future__ import annotations

import argparse
from pathlib import Path

from databricks_jobs.settings import PROJECT_ROOT

DEFAULT_OUTPUT = PROJECT_ROOT / ".local" / "raw"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synthetic",
        help="generate the seeded synthetic utility (interval load, weather, OMS outage events)",
        description=(
            "Write a seeded, deterministic synthetic utility under OUTPUT/synthetic_utility/: interval load per "
            "feeder (long CSV, kW), hourly weather per region station, yearly OMS outage exports (with overlap "
            "duplicates, open events, unknown customer counts and a few bad rows) and its feeders and customers "
            "served. Interval rows = regions x feeders x intervals per year x years."
        ),
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="folder to write into (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed; same arguments give the same bytes")
    parser.add_argument("--years", type=int, default=6, help="years of history ending at --last-year (default 6)")
    parser.add_argument("--last-year", type=int, default=2025, help="the last (reported) year (default 2025)")
    parser.add_argument("--regions", type=int, default=4, help="number of regions, 1..4 (default 4)")
    parser.add_argument("--feeders", type=int, default=20, help="feeders per region (default 20)")
    parser.add_argument(
        "--interval-minutes", type=int, default=60, choices=(5, 10, 15, 30, 60), help="load interval (default 60)"
    )
    parser.add_argument("--no-bad-rows", action="store_true", help="do not add the rows Silver must quarantine")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from databricks_jobs.synthetic import generate_synthetic_utility

    summary = generate_synthetic_utility(
        args.output,
        seed=args.seed,
        years=args.years,
        regions=args.regions,
        feeders_per_region=args.feeders,
        interval_minutes=args.interval_minutes,
        last_year=args.last_year,
        inject_bad_rows=not args.no_bad_rows,
    )
    print(summary.describe())
    return 0
