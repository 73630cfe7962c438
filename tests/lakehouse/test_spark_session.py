"""The local session's settings that replaced calls on the SparkContext (Spark Connect has none)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from databricks_jobs.settings import PROJECT_ROOT

pytestmark = pytest.mark.spark


def test_local_session_binds_to_loopback_logs_errors_only_and_keeps_its_warehouse_in_dot_local(spark):
    assert spark.conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert spark.conf.get("spark.driver.host") == "127.0.0.1"
    warehouse = spark.conf.get("spark.sql.warehouse.dir")
    assert Path(urlparse(warehouse).path) == PROJECT_ROOT / ".local" / "spark-warehouse"
    # The level log4j actually runs with (read through the JVM here, in a test, not in the jobs).
    root_logger = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getRootLogger()
    assert root_logger.getLevel().toString() == "ERROR"
