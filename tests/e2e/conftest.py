"""A real S3 API server (moto) on 127.0.0.1 for the end-to-end tests, and the session's Spark pointed at it."""

from __future__ import annotations

import uuid

import pytest

from local_platform.s3.client import ensure_bucket, s3_client
from local_platform.s3.server import MotoS3Server
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
