"""`energy-platform pipeline`: run bronze -> silver -> gold -> export on local Spark + Delta (or any roots)."""

from __future__ import annotations

import argparse

from databricks_jobs.jobs.common import ROOTS_HELP, add_common_arguments, batch_id_from, settings_from
from databricks_jobs.jobs.pipeline import DEFAULT_STAGES, STAGES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pipeline",
        help="run the lakehouse pipeline: raw files -> Bronze -> Silver -> Gold -> Parquet export",
        description=(
            "Run the lakehouse pipeline for one batch on a local Spark + Delta session: ingest raw files into Bronze "
            "(files already ingested with the same content are skipped), build Silver (MERGE, rejects quarantined), "
            "update Gold (only the keys new Silver rows touch, unless --full-refresh) and export Gold as Parquet + "
            "_manifest.json + LATEST, verified after writing. Each step prints its timing. "
            "The same stages run on Databricks as the job in databricks_jobs/resources/energy_pipeline.job.yml. "
            + ROOTS_HELP
        ),
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--stage",
        action="append",
        dest="stages",
        choices=STAGES,
        help="run only this stage (repeatable, run in pipeline order); default: "
        + ", ".join(DEFAULT_STAGES)
        + " (maintain = OPTIMIZE + VACUUM of every table)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from databricks_jobs.jobs.pipeline import run_pipeline

    settings = settings_from(args)
    report = run_pipeline(
        settings,
        batch_id=batch_id_from(args),
        stages=tuple(args.stages or DEFAULT_STAGES),
        full_refresh=args.full_refresh,
        source_ids=args.sources,
        full_export=args.full_export,
    )
    print(f"batch {report.batch_id}: " + ", ".join(f"{s.stage} {s.seconds} s" for s in report.steps))
    print(f"Gold tables: {settings.namespace}.gold_* (stored in {settings.lake_root})")
    if report.exported:
        print(f"Export: {settings.export_root.rstrip('/')}/{report.batch_id} (LATEST points to it)")
    if report.problems:
        print(f"{len(report.problems)} problem(s) during the run:")
        for problem in report.problems:
            print(f"  {problem}")
    return 0 if report.ok else 1
