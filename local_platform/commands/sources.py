"""`energy-platform sources`: list the source definitions in force, and check one against sample files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from databricks_jobs.settings import LakeSettings

SOURCES_HELP = "list source definitions, or check one against sample files before any pipeline run"
SOURCES_DESCRIPTION = (
    "Source definitions are the packaged ones plus those under <config root>/sources (--config-root or "
    "ENERGY_CONFIG_ROOT); regions.csv and customers_served.csv there extend or replace the packaged ones."
)


CONFIG_ROOT_HELP = "folder with sources/*.yml, regions.csv, customers_served.csv"


def accept_config_root(action: argparse.ArgumentParser) -> None:
    """Accept --config-root after the action too (`sources check X --config-root C`), where users put it.

    SUPPRESS leaves the attribute unset when the option is not given after the action, so a value given before the
    action (`sources --config-root C check X`) is kept rather than reset to None by the action's own default.
    """
    action.add_argument("--config-root", default=argparse.SUPPRESS, help=CONFIG_ROOT_HELP)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sources", help=SOURCES_HELP, description=SOURCES_DESCRIPTION)
    parser.add_argument("--config-root", help=CONFIG_ROOT_HELP)
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every definition in force, with the file it comes from")
    accept_config_root(listing)
    listing.set_defaults(func=run_list)
    check = actions.add_parser(
        "check",
        help="validate a definition file against sample files; prints header match, parsed rows and quarantines",
        description=(
            "Reads the sample files with the pipeline's own readers and Silver transform, writing nothing: prints "
            "the header match, the first rows as parsed (UTC and local time, region, value with unit), every row "
            "that would be quarantined with its reason, and the row accounting. Exit status 1 when the definition "
            "is invalid or a file would be refused."
        ),
    )
    accept_config_root(check)
    check.add_argument("definition", help="the YAML definition file to check")
    check.add_argument("samples", nargs="*", help="sample files (default: files under --raw-root matching its glob)")
    check.add_argument("--raw-root", help="folder the definition's `files` glob is relative to (default: cwd)")
    check.add_argument("--rows", type=int, default=5, help="kept rows to show per file (default 5)")
    check.set_defaults(func=run_check)


def _settings(args: argparse.Namespace) -> LakeSettings:
    """The command's settings, read once: --config-root, else ENERGY_CONFIG_ROOT, else None (packaged only); S3 from
    ENERGY_S3_ENDPOINT / AWS_REGION (for samples named by s3a:// URI)."""
    from databricks_jobs.settings import LakeSettings

    return LakeSettings.from_env(config_root=args.config_root)


def run_list(args: argparse.Namespace) -> int:
    from databricks_jobs.sources import load_source_definitions

    for source_id, definition in sorted(load_source_definitions(config_root=_settings(args).config_root).items()):
        print(f"{source_id:<28} {definition.dataset:<14} {definition.definition_path}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from databricks_jobs.bronze.raw_files import RawFileError
    from databricks_jobs.reference.regions import load_regions
    from databricks_jobs.sources import SourceDefinitionError, load_definition_file

    settings = _settings(args)
    regions = load_regions(settings.config_root)
    try:
        definition = load_definition_file(Path(args.definition))
    except SourceDefinitionError as error:
        print(f"definition invalid: {error}")
        return 1
    print(f"{definition.source_id} ({definition.dataset}, {definition.format}, {definition.shape}): definition valid")

    from databricks_jobs.source_check import check_file, sample_files
    from databricks_jobs.spark_session import get_spark

    spark = get_spark("energy-sources-check", s3=settings.s3)
    raw_root = str(Path(args.raw_root or ".").resolve())
    try:
        files = sample_files(definition, raw_root, args.samples, s3=settings.s3)
    except RawFileError as error:
        print(f"file refused: {error}")
        return 1
    if not files:
        print(f"no sample file: none given and none under {raw_root} matches {list(definition.files)}")
        return 1
    refused = 0
    for file in files:
        result = check_file(spark, definition, file, regions, args.rows)
        print(f"\n{result.path}")
        print("\n".join(result.lines))
        refused += result.refused
    return 1 if refused else 0
