"""Shared fixtures. One Spark session for the whole test run (starting Spark costs ~20 s)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from databricks_jobs.spark_session import get_spark

    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    session = get_spark("energy-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def moto_server():
    """A real S3 API server (moto) on 127.0.0.1, its own process: boto3 and s3a reach it over HTTP as they reach AWS."""
    from local_platform.s3.server import MotoS3Server

    with MotoS3Server() as server:
        yield server


@pytest.fixture()
def s3_settings(moto_server):
    """Fresh buckets per test: S3A caches one filesystem per bucket, and tests must not see each other's objects."""
    from local_platform.s3.client import ensure_bucket, s3_client
    from local_platform.s3.settings import S3Settings

    suffix = uuid.uuid4().hex[:8]
    base = S3Settings(landing_bucket=f"landing-{suffix}", curated_bucket=f"curated-{suffix}")
    settings = moto_server.settings(base)
    client = s3_client(settings)
    for bucket in (settings.landing_bucket, settings.curated_bucket):
        ensure_bucket(client, settings, bucket, create=True)
    return settings


@pytest.fixture()
def s3_env(s3_settings, monkeypatch):
    """The process environment aimed at the moto server, as the local flow sets it for databricks_jobs.storage."""
    for key, value in s3_settings.storage_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return s3_settings


def pytest_unconfigure(config):
    """Forget Snowpark sessions before interpreter exit.

    Snowpark registers every Session for closing at exit, and closing one whose connection is still open first sends
    a cancel-all query. By then the tests have stopped (or killed) the local warehouse that served it, and the
    connector retries that query for many minutes, so the run would not exit after its summary. The tests close
    what they open; this only keeps a session left over from a killed server from holding the process.
    """
    import atexit
    import sys
    import threading

    snowpark_session = sys.modules.get("snowflake.snowpark.session")
    if snowpark_session is not None:
        with snowpark_session._session_management_lock:
            for session in list(snowpark_session._active_sessions):
                atexit.unregister(session._close_at_exit)
            snowpark_session._active_sessions.clear()
    for thread in threading.enumerate():
        # The connector's per-query cancel timers are non-daemon threads that would also retry against a dead server.
        if isinstance(thread, threading.Timer) and type(thread).__name__ == "_TrackedQueryCancellationTimer":
            thread.cancel()
