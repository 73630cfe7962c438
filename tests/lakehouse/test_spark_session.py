"""The local session's settings that replaced calls on the SparkContext (Spark Connect has none)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.spark_session import JVM_LOG_CONF, JVM_LOG_DIR

pytestmark = pytest.mark.spark


def test_local_session_binds_to_loopback_logs_errors_only_and_keeps_its_warehouse_in_dot_local(spark):
    assert spark.conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert spark.conf.get("spark.driver.host") == "127.0.0.1"
    warehouse = spark.conf.get("spark.sql.warehouse.dir")
    assert Path(urlparse(warehouse).path) == PROJECT_ROOT / ".local" / "spark-warehouse"
    # The level log4j actually runs with (read through the JVM here, in a test, not in the jobs).
    root_logger = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getRootLogger()
    assert root_logger.getLevel().toString() == "ERROR"


def test_the_jvm_writes_to_its_log_file_not_to_the_terminal(spark, capfd):
    log = Path(spark.conf.get(JVM_LOG_CONF))
    assert log.parent == JVM_LOG_DIR
    # Written by the running JVM (read through the JVM here, in a test, not in the jobs) long after the launch.
    system = spark.sparkContext._jvm.java.lang.System
    system.err.println("marker from the JVM's stderr")
    system.out.println("marker from the JVM's stdout")
    system.out.flush()
    out, err = capfd.readouterr()
    assert "marker from the JVM" not in out + err
    text = log.read_text()
    assert "marker from the JVM's stderr" in text and "marker from the JVM's stdout" in text
    if spark.conf.get("spark.jars.packages", ""):
        assert ":: resolving dependencies" in text  # Ivy's resolution of Delta's and s3a's jars, at launch


def test_the_local_driver_runs_the_throughput_collector(spark):
    """The driver option reaches the JVM (one set after the JVM started would be ignored without a word): its
    collectors are the parallel ones, not G1's (unless SPARK_DRIVER_DEFAULT_JAVA_OPTIONS chose others)."""
    beans = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    collectors = {bean.getName() for bean in beans}
    assert collectors == {"PS Scavenge", "PS MarkSweep"}, (
        collectors,
        os.environ.get("SPARK_DRIVER_DEFAULT_JAVA_OPTIONS"),
    )
