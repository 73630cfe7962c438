"""`energy-platform warehouse ...`: the local Snowflake stand-in (fakesnow server on a DuckDB file, 127.0.0.1)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from databricks_jobs.settings import LakeSettings
from local_platform.warehouse import control, runner


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "warehouse",
        help="local Snowflake warehouse: start | stop | status | apply-sql | load | build-views | refresh",
        description=(
            "The local Snowflake stand-in: a fakesnow server on a DuckDB file on 127.0.0.1 (port from "
            ".snowflake/config.toml, or ENERGY_WAREHOUSE_PORT), state in .local/warehouse (ENERGY_WAREHOUSE_DIR). "
            'Query it with: .venv/bin/snow --config-file .local/snowflake/config.toml sql -c local -q "select ..." '
            "(written by start, with this install's generated password)"
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start the server (if not running) and apply sql/ to it")
    start.add_argument(
        "--export-root", help="export folder the stage points at (default: ENERGY_EXPORT_ROOT / .local/export)"
    )
    start.set_defaults(func=_start)
    actions.add_parser("stop", help="stop the server started from this state folder").set_defaults(func=_stop)
    actions.add_parser("status", help="say whether the server runs, and where").set_defaults(func=_status)
    apply = actions.add_parser("apply-sql", help="apply sql/*.sql; prints what ran and what was skipped and why")
    apply.add_argument("--export-root", help="export folder the stage points at")
    apply.set_defaults(func=_apply)
    for name, func, text in (
        ("load", _load, "load an export batch into CURATED (LOAD_GOLD_EXPORT's handler)"),
        ("refresh", _refresh, "load, then rebuild the views (REFRESH_REPORTING's handler)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--batch-id", default="LATEST", help="batch id, or LATEST (default)")
        action.set_defaults(func=func)
    actions.add_parser("build-views", help="(re)build the REPORTING views").set_defaults(func=_build)


def _settings() -> control.WarehouseSettings:
    return control.WarehouseSettings.from_env()


def _export_root(args: argparse.Namespace) -> str:
    return args.export_root or LakeSettings.from_env().export_root


def _start(args: argparse.Namespace) -> int:
    export_root = _export_root(args)
    settings = _settings()
    if "://" not in export_root:  # the warehouse's DuckDB may read the export folder, nothing else outside its own
        settings = dataclasses.replace(settings, data_dirs=(*settings.data_dirs, Path(export_root)))
    pid = control.start(settings)
    config = control.write_cli_config(control.PROJECT_ROOT / ".local" / "snowflake" / "config.toml", settings)
    results = runner.apply(settings, export_root)
    skipped = sum(1 for r in results if r.skipped_reason)
    print(
        f"local warehouse pid {pid} on {settings.host}:{settings.resolved_port} ({settings.db_path}); "
        f"sql/ applied: {len(results) - skipped} statements ran, {skipped} skipped (run apply-sql to list them)\n"
        f'query it: .venv/bin/snow --config-file {config.relative_to(control.PROJECT_ROOT)} sql -c local -q "..."'
    )
    return 0


def _stop(args: argparse.Namespace) -> int:
    print("stopped" if control.stop(_settings()) else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = _settings()
    pid = control.running_pid(settings)
    print(f"running, pid {pid}, {settings.host}:{settings.resolved_port}" if pid else "not running")
    return 0 if pid else 1


def _apply(args: argparse.Namespace) -> int:
    for result in runner.apply(_settings(), _export_root(args)):
        print(result.summary)
    return 0


def _load(args: argparse.Namespace) -> int:
    print(json.dumps(runner.load(_settings(), args.batch_id), indent=2))
    return 0


def _build(args: argparse.Namespace) -> int:
    print(json.dumps(runner.build(_settings()), indent=2))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    print(json.dumps(runner.load_and_build(_settings(), args.batch_id), indent=2))
    return 0
