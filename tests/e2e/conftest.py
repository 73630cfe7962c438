"""The end-to-end fixtures: the whole flow on the real samples (run once for the package), and a real S3 API server
(moto) on 127.0.0.1 with the session's Spark pointed at it."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from databricks_jobs.tables import GOLD_TABLES
from local_platform.flow import FlowConfig, run_flow
from local_platform.s3.client import ensure_bucket, s3_client
from local_platform.s3.server import MotoS3Server, free_port
from local_platform.s3.settings import S3Settings


@pytest.fixture(scope="session")
def moto_server():
    with MotoS3Server() as server:
        yield server


@pytest.fixture()
def s3_settings(moto_server) -> S3Settings:
    """Fresh buckets per test: S3A caches one filesystem per bucket, and tests must not see each other's objects."""
    suffix = uuid.uuid4().hex[:8]
    base = S3Settings(landing_bucket=f"landing-{suffix}", curated_bucket=f"curated-{suffix}")
    settings = moto_server.settings(base)
    client = s3_client(settings)
    for bucket in (settings.landing_bucket, settings.curated_bucket):
        ensure_bucket(client, settings, bucket, create=True)
    return settings


@pytest.fixture()
def s3_spark(spark, s3_settings):
    """The session's Spark with s3a aimed at the moto server (configured at runtime: Spark may already be running)."""
    from databricks_jobs.spark_session import configure_s3a, s3a_hadoop_settings

    hadoop = s3a_hadoop_settings(
        s3_settings.endpoint_url, s3_settings.region, s3_settings.access_key_id, s3_settings.secret_access_key
    )
    configure_s3a(spark, hadoop, (s3_settings.landing_bucket, s3_settings.curated_bucket))
    return spark


E2E_VIEWS = ("DAILY_DEMAND", "RELIABILITY_YEARLY", "LOAD_FACTOR_MONTHLY", "HOURLY_DEMAND", "OUTAGE_EVENTS")


@pytest.fixture(scope="package")
def flow(tmp_path_factory, spark, sample_data):
    """Runs the flow twice on one lake, landing folder and warehouse; yields what the checks need."""
    from local_platform.warehouse import control

    root = tmp_path_factory.mktemp("flow")
    config = FlowConfig(s3=None, raw_source=sample_data, lake_root=str(root / "lake"), stage_dir=root / "stage")
    warehouse = control.WarehouseSettings(state_dir=root / "warehouse", port=free_port())
    try:
        first = run_flow(config, warehouse, spark=spark)
        views_first = _views(warehouse)
        second = run_flow(config, warehouse, spark=spark)
        views_second = _views(warehouse)
        yield {
            "config": config,
            "first": first,
            "second": second,
            "views": views_first,
            "views_after_second_run": views_second,
            "warehouse": warehouse,
        }
    finally:
        control.stop(warehouse)


def _views(warehouse) -> dict[str, pd.DataFrame]:
    from snowflake.snowpark import Session

    from local_platform.warehouse import control

    session = Session.builder.configs(control.connection_parameters(warehouse, "REPORTING")).create()
    try:
        frames = {name: session.table(f"{warehouse.database}.REPORTING.{name}").to_pandas() for name in E2E_VIEWS}
        counts = [
            (t.name, session.table(f"{warehouse.database}.CURATED.{t.name.upper()}").count()) for t in GOLD_TABLES
        ]
        frames["CURATED_COUNTS"] = pd.DataFrame(counts, columns=["table", "rows"])
        return frames
    finally:
        session.connection.close()
