"""`energy-platform upgrade [--dry-run]`: bring the local lake and warehouse to this release's contracts."""

from __future__ import annotations

import argparse
import sys

from databricks_jobs.jobs.common import ROOTS_HELP, add_common_arguments, settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "upgrade",
        help="upgrade the lake's tables and the warehouse's CURATED tables to this release's contracts",
        description=(
            "Compare every stored table (Bronze, Silver, Gold and bookkeeping in the lake; CURATED and LOAD_HISTORY "
            "in the warehouse) with this release's contracts and print, table by table, what changes. Additive "
            "changes (a new nullable column, int -> bigint, a new NOT NULL column with a declared backfill, a new "
            "table, comments, clustering) are applied in place; a change that would lose or rewrite data is refused "
            "before anything is written, naming the table, the change and the way to do it (docs/upgrading.md). "
            "The warehouse part needs the local warehouse running (energy-platform warehouse start). " + ROOTS_HELP
        ),
    )
    add_common_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    # Both at once would upgrade nothing and still exit 0: refused by the parser.
    one_side = parser.add_mutually_exclusive_group()
    one_side.add_argument("--lake-only", action="store_true", help="leave the warehouse alone")
    one_side.add_argument("--warehouse-only", action="store_true", help="leave the lake alone")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from databricks_jobs.upgrade import UpgradeRefused
    from snowpark.energy_snowpark.upgrade_warehouse import WarehouseUpgradeRefused

    verb = "would change" if args.dry_run else "changed"
    try:
        if not args.warehouse_only:
            print(f"lake ({verb}):")
            for plan in upgrade_lake_tables(args):
                print("  " + plan.describe().replace("\n", "\n  "))
        if not args.lake_only:
            print(f"warehouse ({verb}):")
            for plan in upgrade_local_warehouse(args.dry_run):
                print("  " + plan.describe().replace("\n", "\n  "))
    except (UpgradeRefused, WarehouseUpgradeRefused) as refused:
        print(refused, file=sys.stderr)
        return 2
    return 0


def upgrade_lake_tables(args: argparse.Namespace) -> list:
    from databricks_jobs.jobs.pipeline import upgrade_for_stages
    from databricks_jobs.progress import quiet
    from databricks_jobs.spark_session import get_spark

    settings = settings_from(args)
    spark = get_spark(s3=settings.s3)
    return upgrade_for_stages(spark, settings, ("bronze", "silver", "gold"), quiet, apply=not args.dry_run)


def upgrade_local_warehouse(dry_run: bool) -> list:
    from local_platform.warehouse import control
    from snowpark.energy_snowpark.upgrade_warehouse import upgrade_warehouse

    settings = control.WarehouseSettings.from_env()
    if not control.running_pid(settings):
        raise SystemExit(f"the local warehouse is not running ({settings.state_dir}): energy-platform warehouse start")
    with control.session(settings) as session:
        return upgrade_warehouse(session, settings.database, apply=not dry_run)
