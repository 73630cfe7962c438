"""The one way to get a SparkSession: the cluster's on Databricks, a local Spark + Delta session elsewhere."""

from __future__ import annotations

import os

from pyspark.sql import SparkSession


def is_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def get_spark(app_name: str = "energy-lakehouse") -> SparkSession:
    """Active session if any (Databricks, tests), else a local[*] session with Delta Lake.

    Delta's jars are resolved from Maven Central by delta-spark's pip helper on first start (cached in ~/.ivy2*).
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if is_databricks():
        return SparkSession.builder.getOrCreate()

    from delta import configure_spark_with_delta_pip

    builder = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        # Storage and every *_utc column are UTC; local times are derived explicitly per region.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
    )
    extra_packages = [p for p in os.environ.get("SPARK_EXTRA_PACKAGES", "").split(",") if p]
    spark = configure_spark_with_delta_pip(builder, extra_packages=extra_packages).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
