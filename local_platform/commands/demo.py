"""`energy-platform demo`: the whole platform on embedded stand-ins, from raw samples to the app on localhost."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from databricks_jobs.settings import PROJECT_ROOT

DESCRIPTION = """\
Run the whole platform locally, one step after another, each printed with its timing:
  raw samples + the seeded synthetic utility -> landing -> Bronze -> Silver -> Gold (Spark + Delta) -> Parquet
  export + manifest -> stage -> LOAD_GOLD_EXPORT procedure -> REPORTING views -> Streamlit app on http://localhost:PORT
On the embedded defaults the landing area and the export are folders (.local/raw, .local/export), Spark is local with
Delta Lake (lake in .local/lake), and Snowflake is a fakesnow server on a DuckDB file (.local/warehouse). --s3 runs
the landing and the export through a moto S3 API server on 127.0.0.1 instead (boto3 lands, Spark uses s3a://). A
second run is fast and changes nothing: the synthetic files are left untouched when their bytes are the same, Bronze
recognises unchanged raw files by size and modification time without reading them, Gold recomputes only touched
keys, and the load replaces each table's rows by key.
The local JVM's output (dependency resolution, warnings) goes to .local/logs/spark-<UTC time>.log; each stage prints
a line per source or table with rows and seconds, and on a terminal a status line shows the running step's time.
"""

EPILOG = """\
Pointing each part at the real service instead:
  S3 bucket    --external-s3 uses ENERGY_S3_LANDING_BUCKET and ENERGY_S3_CURATED_BUCKET (which must exist) at
               ENERGY_S3_ENDPOINT (unset = AWS S3), region AWS_REGION; credentials the AWS way (AWS_PROFILE,
               AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role) - never in the repository. Spark reads and
               writes it through s3a://, boto3 lands the raw files. `energy-platform s3 check` tests the setup.
  Databricks   from databricks_jobs/ (the bundle): `databricks bundle deploy -t <target>
               --var raw_root=s3a://<landing>/raw --var export_root=s3a://<curated>/curated` then
               `databricks bundle run energy_pipeline`; the workspace reaches the buckets through an instance profile
               or a Unity Catalog external location, with the same code as here.
  Snowflake    with a connection in ~/.snowflake/connections.toml (or SNOWFLAKE_* variables): create the objects with
               `snow sql -c <conn> -f sql/<file>.sql` (storage integration + external stage on the curated bucket),
               deploy with `snow snowpark deploy -c <conn>` and `snow streamlit deploy -c <conn>`, then load with
               CALL ENERGY.CURATED.REFRESH_REPORTING('ENERGY.CURATED.EXPORT_STAGE', 'LATEST', 'ENERGY').
Environment: ENERGY_LAKE_ROOT (Delta lake), ENERGY_EXPORT_ROOT (the local stage folder), ENERGY_WAREHOUSE_DIR,
ENERGY_WAREHOUSE_PORT (local warehouse), ENERGY_APP_PORT (app).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole platform locally: samples -> S3 -> lakehouse -> export -> warehouse -> app",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--raw-source", type=Path, default=PROJECT_ROOT / "sample_data", help="raw files to land")
    parser.add_argument("--s3", action="store_true", help="land and export through a moto S3 API server on 127.0.0.1")
    parser.add_argument("--external-s3", action="store_true", help="use the S3 of the environment (see below)")
    parser.add_argument("--no-synthetic", action="store_true", help="only the real samples, no synthetic utility")
    parser.add_argument("--no-app", action="store_true", help="stop after loading (do not start the app)")
    parser.add_argument(
        "--app-port", type=int, default=int(os.environ.get("ENERGY_APP_PORT", 8501)), help="app port (8501)"
    )
    parser.add_argument("--full-refresh", action="store_true", help="rebuild Gold from all of Silver")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from databricks_jobs.settings import LakeSettings
    from local_platform.flow import FlowConfig, loaded_tables, prepare_landing_folder, run_flow
    from local_platform.live_status import live_status
    from local_platform.s3.client import S3UnavailableError
    from local_platform.s3.server import MotoS3Server
    from local_platform.s3.settings import S3Settings
    from local_platform.warehouse.control import WarehouseSettings

    started = time.monotonic()
    lake = LakeSettings.from_env()
    warehouse = WarehouseSettings.from_env()
    # On a terminal a status line under the log shows the running step's time and Spark's tasks.
    with live_status():
        print("[0] raw files for this run ...")
        landing = prepare_landing_folder(
            args.raw_source, Path(lake.lake_root).parent / "raw", synthetic=not args.no_synthetic
        )
        server = MotoS3Server().start() if args.s3 and not args.external_s3 else None
        try:
            s3 = S3Settings.from_env() if args.external_s3 else server.settings(S3Settings()) if server else None
            if server is not None:
                print(f"S3: moto S3 API server on {server.endpoint_url} (pid {server.pid})")
            config = FlowConfig(
                s3=s3,
                raw_source=landing,
                lake_root=lake.lake_root,
                stage_dir=Path(lake.export_root),
                create_buckets=server is not None,
                full_refresh=args.full_refresh,
            )
            try:
                result = run_flow(config, warehouse)
            except S3UnavailableError as exc:
                print(f"error: {exc}")
                return 2
        finally:
            # The app reads only the warehouse; S3's job is done once the export is staged.
            if server is not None:
                server.stop()

    load = result.load
    if load["status"] == "SKIPPED":
        print(f"\nNothing new: batch {load['batch_id']} (LATEST) is loaded in {warehouse.database}.CURATED already.")
    else:
        mode = load.get("mode", "full")
        print(f"\nLoaded batch {load['batch_id']} ({mode}) into {warehouse.database}.CURATED, rows in the batch:")
        for table, rows in loaded_tables(result):
            print(f"  {table:<45} {rows:>10,} rows")
    print(f"Views rebuilt in {warehouse.database}.REPORTING. Whole flow: {time.monotonic() - started:.1f} s")
    if args.no_app:
        return 0
    return _serve_app(args.app_port)


def _serve_app(port: int) -> int:
    """The app in the foreground until Ctrl-C (`energy-platform app` owns how it connects to the warehouse)."""
    command = [sys.executable, "-m", "local_platform.cli", "app", "--port", str(port)]
    print(f"\nApp: http://localhost:{port}")
    print("Ctrl-C stops the app; the warehouse keeps running until `energy-platform warehouse stop`.")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=15)
        return 0
