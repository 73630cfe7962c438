"""Local-only s3a wiring for a running Spark session.

It reaches into the JVM (`_jvm`, `_jsc`), which Spark Connect (serverless, standard access mode) does not have, so it
lives in the local platform: on Databricks, S3 access comes from Unity Catalog external locations, not session code.
"""

from __future__ import annotations

from pyspark.sql import SparkSession


def configure_s3a(spark: SparkSession, settings: dict[str, str], buckets: tuple[str, ...] = ()) -> None:
    """Apply s3a settings to a running session; cached S3A filesystems of `buckets` are dropped so they take effect."""
    jvm = spark.sparkContext._jvm
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in settings.items():
        hadoop_conf.set(key, value)
    for bucket in buckets:
        # FileSystem.get caches one instance per bucket; closing it evicts it from the cache.
        jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI(f"s3a://{bucket}/"), hadoop_conf).close()
