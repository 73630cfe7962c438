"""`energy-platform s3 ...`: run the local S3 API server, land raw files, check buckets, inspect the export."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from databricks_jobs.settings import PROJECT_ROOT
from local_platform.s3.client import S3UnavailableError, ensure_bucket, s3_client
from local_platform.s3.landing import (
    IncompleteExportError,
    land_raw_files,
    read_latest_batch_id,
    read_verified_manifest,
)
from local_platform.s3.server import MotoS3Server
from local_platform.s3.settings import S3Settings

ENV_HELP = (
    "S3 comes from the environment: ENERGY_S3_ENDPOINT (unset = AWS), ENERGY_S3_LANDING_BUCKET, "
    "ENERGY_S3_CURATED_BUCKET, AWS_REGION, and credentials the AWS way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "AWS_PROFILE or an instance role)."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("s3", help="S3: local server, raw landing, bucket checks", description=ENV_HELP)
    actions = parser.add_subparsers(dest="s3_command", required=True, metavar="ACTION")

    serve = actions.add_parser("serve", help="run a moto S3 API server on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    serve.set_defaults(func=_serve)

    land = actions.add_parser("land", help="upload raw files to the landing bucket (skips unchanged files)")
    land.add_argument("--source", type=Path, default=PROJECT_ROOT / "sample_data", help="local folder to upload")
    land.set_defaults(func=_land)

    check = actions.add_parser("check", help="check that the endpoint answers and both buckets exist")
    check.set_defaults(func=_check)

    latest = actions.add_parser("latest", help="show the newest complete export batch and verify its manifest")
    latest.set_defaults(func=_latest)


def _serve(args: argparse.Namespace) -> int:
    with MotoS3Server(port=args.port) as server:
        settings = server.settings()
        client = s3_client(settings)
        for bucket in (settings.landing_bucket, settings.curated_bucket):
            ensure_bucket(client, settings, bucket, create=True)
        print(f"moto S3 API server on {server.endpoint_url} (pid {server.pid}); buckets created:")
        print(f"  s3://{settings.landing_bucket}  s3://{settings.curated_bucket}")
        print("Point the platform at it (any placeholder credentials work with moto):")
        print(f"  export ENERGY_S3_ENDPOINT={server.endpoint_url} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local")
        print("Ctrl-C stops the server (its data lives in memory).", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


def _settings_and_client() -> tuple[S3Settings, object]:
    settings = S3Settings.from_env()
    if settings.endpoint_url is None and not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        print("note: ENERGY_S3_ENDPOINT is unset, so this talks to AWS S3 with the default credential chain")
    return settings, s3_client(settings)


def _land(args: argparse.Namespace) -> int:
    settings, client = _settings_and_client()
    try:
        result = land_raw_files(client, settings, args.source)
    except S3UnavailableError as exc:
        print(f"error: {exc}")
        return 2
    print(
        f"landed {args.source} -> s3://{settings.landing_bucket}/{settings.landing_prefix}: "
        f"{len(result.uploaded)} uploaded, {len(result.unchanged)} unchanged"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    settings, client = _settings_and_client()
    try:
        for bucket in (settings.landing_bucket, settings.curated_bucket):
            ensure_bucket(client, settings, bucket, create=False)
            print(f"ok: s3://{bucket} at {settings.endpoint_label}")
    except S3UnavailableError as exc:
        print(f"error: {exc}")
        return 2
    return 0


def _latest(args: argparse.Namespace) -> int:
    settings, client = _settings_and_client()
    try:
        batch_id = read_latest_batch_id(client, settings)
        if batch_id is None:
            print(f"no export yet in s3://{settings.curated_bucket}/{settings.curated_prefix}")
            return 1
        manifest = read_verified_manifest(client, settings, batch_id)
    except (S3UnavailableError, IncompleteExportError) as exc:
        print(f"error: {exc}")
        return 2
    print(f"batch {batch_id} (created {manifest.get('created_at_utc')}), verified:")
    for table in manifest["tables"]:
        print(f"  {table['name']:<45} {table['row_count']:>10} rows in {len(table['files'])} files")
    return 0
