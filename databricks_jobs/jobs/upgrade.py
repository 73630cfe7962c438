"""The upgrade task: `python -m databricks_jobs.jobs.upgrade --help` (Databricks entry point `energy-upgrade`).

Brings every stored lake table (Bronze, Silver, Gold, bookkeeping) to the code's contracts: additive changes in
place, destructive ones refused before anything is written (docs/upgrading.md). The bundle runs it as the pipeline
job's first task; every layer also checks its own tables when it starts.
"""

from __future__ import annotations

import sys

from databricks_jobs.jobs.common import settings_from, task_parser


def main(argv: list[str] | None = None) -> int:
    from databricks_jobs.jobs.pipeline import upgrade_for_stages
    from databricks_jobs.spark_session import get_spark
    from databricks_jobs.upgrade import UpgradeRefused

    parser = task_parser("Upgrade the energy lakehouse's tables to this release's contracts.")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would change, table by table; change nothing"
    )
    args = parser.parse_args(argv)
    settings = settings_from(args)
    try:
        plans = upgrade_for_stages(
            get_spark(s3=settings.s3), settings, ("bronze", "silver", "gold"), print, apply=not args.dry_run
        )
    except UpgradeRefused as refused:
        print(refused, file=sys.stderr)
        return 2
    for plan in plans:
        print(plan.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
