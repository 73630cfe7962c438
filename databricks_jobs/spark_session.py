"""The one way to get a SparkSession: the cluster's on Databricks, a local Spark + Delta session elsewhere."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from databricks_jobs.settings import PROJECT_ROOT


def require_utc_session(spark: SparkSession) -> None:
    zone = spark.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise RuntimeError(
            f"The pipeline needs spark.sql.session.timeZone=UTC (local times are derived from it), got {zone}"
        )


def is_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


# s3a for local sessions: hadoop-aws must match Spark's bundled Hadoop (pyspark 4.2.0 ships hadoop-client 3.5.0), and
# hadoop-aws 3.5.0 is built against AWS SDK v2 2.35.4. Its declared dependency, the shaded SDK `bundle`, is 686 MB on
# Maven Central; the unshaded modules S3A actually loads (s3, s3-transfer-manager and what they pull in) are ~17 MB.
S3A_PACKAGES = (
    "org.apache.hadoop:hadoop-aws:3.5.0",
    "software.amazon.awssdk:s3:2.35.4",
    "software.amazon.awssdk:s3-transfer-manager:2.35.4",
)
S3A_EXCLUDED_PACKAGES = ("software.amazon.awssdk:bundle",)


def s3a_hadoop_settings(
    endpoint_url: str | None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> dict[str, str]:
    """Hadoop settings for s3a:// against any S3 API endpoint (None = AWS).

    Without explicit keys S3A's default provider chain applies (environment variables, then instance role); explicit
    keys are for the local stand-in server only and live in memory, never in a file.
    """
    # The classic input stream: Hadoop 3.5's default "analytics" stream lacks ByteBuffer reads and, against an S3
    # API server on loopback, was seen to exhaust the connection pool (60 s API-call timeouts on HEAD).
    settings: dict[str, str] = {"fs.s3a.fast.upload": "true", "fs.s3a.input.stream.type": "classic"}
    if region:
        settings["fs.s3a.endpoint.region"] = region
    if endpoint_url:
        settings["fs.s3a.endpoint"] = endpoint_url
        # A custom endpoint (moto, MinIO, a VPC endpoint by IP) has no virtual-host DNS for bucket names.
        settings["fs.s3a.path.style.access"] = "true"
        settings["fs.s3a.connection.ssl.enabled"] = str(endpoint_url.startswith("https://")).lower()
        # Servers on loopback (moto's werkzeug) may never answer "Expect: 100-continue"; uploads then stall.
        settings["fs.s3a.connection.expect.continue"] = "false"
        settings["fs.s3a.attempts.maximum"] = "3"
        settings["fs.s3a.retry.limit"] = "3"
    if access_key_id and secret_access_key:
        settings["fs.s3a.aws.credentials.provider"] = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        settings["fs.s3a.access.key"] = access_key_id
        settings["fs.s3a.secret.key"] = secret_access_key
    return settings


def s3a_settings_from_env() -> dict[str, str]:
    """ENERGY_S3_ENDPOINT (unset = AWS) and AWS_REGION / AWS_DEFAULT_REGION; credentials come from the environment."""
    return s3a_hadoop_settings(
        os.environ.get("ENERGY_S3_ENDPOINT") or None,
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
    )


def get_spark(app_name: str = "energy-lakehouse") -> SparkSession:
    """Active session if any (Databricks, tests), else a local[*] session with Delta Lake.

    Delta's and s3a's jars are resolved from Maven Central by delta-spark's pip helper on first start (cached in
    ~/.ivy2*), so `s3a://` URIs work for any root; the S3 endpoint and region come from the environment.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if is_databricks():
        return SparkSession.builder.getOrCreate()

    from delta import configure_spark_with_delta_pip

    # Python workers must run this interpreter (the virtual environment), not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    builder = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        # Storage and every *_utc column are UTC; local times are derived explicitly per region.
        .config("spark.sql.session.timeZone", "UTC")
        # Adaptive execution (on by default) coalesces small shuffles to a few partitions; large ones keep 32, so
        # Silver's duplicate-key count over tens of millions of rows spills less (bench, 50M rows: Silver 274 -> 246 s;
        # 20M and 5M unchanged).
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "32"))
        # Loopback only: a local driver serves no other machine, and binding to whatever the host name resolves to
        # exposes it to the network (or fails where the name resolves to no local interface).
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # Static, so it must be set before the session starts; keeps Spark's default ./spark-warehouse out of the
        # current folder, wherever the command runs from.
        .config("spark.sql.warehouse.dir", str(PROJECT_ROOT / ".local" / "spark-warehouse"))
        # The builder form of setLogLevel (Spark >= 3.5), which needs no SparkContext.
        .config("spark.log.level", "ERROR")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.jars.excludes", ",".join(S3A_EXCLUDED_PACKAGES))
    )
    for key, value in s3a_settings_from_env().items():
        builder = builder.config(f"spark.hadoop.{key}", value)
    extra_packages = [*S3A_PACKAGES, *(p for p in os.environ.get("SPARK_EXTRA_PACKAGES", "").split(",") if p)]
    return configure_spark_with_delta_pip(builder, extra_packages=extra_packages).getOrCreate()
