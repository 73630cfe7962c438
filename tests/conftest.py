"""Shared fixtures. One Spark session for the whole test run (starting Spark costs ~20 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from databricks_jobs.spark_session import get_spark

    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    # spark.sql.warehouse.dir is static (cannot be set on a running session); the lake is path-based anyway.
    session = get_spark("energy-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return SAMPLE_DATA
