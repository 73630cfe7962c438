"""Arguments every task takes, and turning them into settings and a batch id."""

from __future__ import annotations

import argparse

from databricks_jobs.batch import batch_id_for_run, check_batch_id, new_batch_id, run_started_ms_from_jobs_api
from databricks_jobs.settings import LakeSettings

ROOTS_HELP = (
    "Tables live in <catalog>.<schema> (Unity Catalog on Databricks; locally Spark's session catalog, stored under "
    "--lake-root). A file root is a local folder, an s3a://bucket/prefix URI (S3; endpoint and region from "
    "ENERGY_S3_ENDPOINT / AWS_REGION, credentials from the environment) or a Unity Catalog Volume path such as "
    "/Volumes/<catalog>/<schema>/raw on Databricks. Unset values come from ENERGY_CATALOG / ENERGY_SCHEMA / "
    "ENERGY_RAW_ROOT / ENERGY_LAKE_ROOT / ENERGY_EXPORT_ROOT, else the embedded defaults under the repository."
)


def task_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"{description} {ROOTS_HELP}")
    add_common_arguments(parser)
    return parser


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-id",
        help="batch id (format 20261125T201500Z-3f9a1c2b); default: derived from --run-id, else a new one",
    )
    parser.add_argument("--run-id", help="Databricks job run id ({{job.run_id}}): every task of a run shares its batch")
    parser.add_argument(
        "--run-started-ms",
        type=int,
        help="job run start, epoch ms, with --run-id; default: the run's start as the Jobs API records it",
    )
    parser.add_argument("--catalog", help="Unity Catalog catalog of the tables (unset: the local session catalog)")
    parser.add_argument("--schema", help="schema of the Bronze/Silver/Gold tables (default energy_lakehouse)")
    parser.add_argument("--raw-root", help="where raw files land (read by bronze)")
    parser.add_argument("--lake-root", help="local catalog only: the folder that stores the schema's tables")
    parser.add_argument("--export-root", help="where Gold is exported as Parquet + _manifest.json + LATEST")
    parser.add_argument(
        "--config-root",
        help="folder or /Volumes/... path with sources/*.yml, regions.csv, customers_served.csv that extend or "
        "replace the packaged ones (default: ENERGY_CONFIG_ROOT, else the packaged set only)",
    )
    parser.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="SOURCE_ID",
        help="limit bronze/silver to this source id (repeatable); default: every declared source",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild Gold from all of Silver instead of only what changed (the export is then a full snapshot)",
    )
    parser.add_argument(
        "--full-export",
        action="store_true",
        help="export every Gold row (manifest mode full) instead of the changes since the last batch",
    )


def settings_from(args: argparse.Namespace) -> LakeSettings:
    """Settings from the arguments, the environment filling what they leave unset (read here, once): every stage
    takes its config root, catalog and roots from these settings."""
    return LakeSettings.from_env(
        raw_root=args.raw_root,
        lake_root=args.lake_root,
        export_root=args.export_root,
        catalog=args.catalog,
        schema=args.schema,
        config_root=args.config_root,
    )


def batch_id_from(args: argparse.Namespace) -> str:
    if args.batch_id:
        return check_batch_id(args.batch_id)
    if args.run_id:
        started_ms = (
            args.run_started_ms if args.run_started_ms is not None else run_started_ms_from_jobs_api(args.run_id)
        )
        return batch_id_for_run(started_ms, args.run_id)
    return new_batch_id()


def run_stage(stage: str, argv: list[str] | None = None) -> int:
    """Entry point body of one Databricks task: parse the common arguments and run that stage of the pipeline."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    args = task_parser(f"Run the {stage} stage of the energy lakehouse pipeline.").parse_args(argv)
    report = run_pipeline(
        settings_from(args),
        batch_id=batch_id_from(args),
        stages=(stage,),
        full_refresh=args.full_refresh,
        source_ids=args.sources,
        full_export=args.full_export,
    )
    return 0 if report.ok else 1
