"""The one way to get a SparkSession: the cluster's on Databricks, a local Spark + Delta session elsewhere."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from databricks_jobs import class_archive
from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.storage import S3Access


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


def s3a_settings(s3: S3Access) -> dict[str, str]:
    """Hadoop's s3a settings for the same access boto3 uses (databricks_jobs.storage): one S3 configuration, two
    clients."""
    return s3a_hadoop_settings(s3.endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key)


# The local JVM's own output (Ivy's dependency resolution, log4j and JVM warnings) goes to one file per session here;
# the newest few are kept.
JVM_LOG_DIR = PROJECT_ROOT / ".local" / "logs"
JVM_LOGS_KEPT = 20
JVM_LOG_TAIL_LINES = 40
# The session's configuration names its log, so whoever holds the session can find it.
JVM_LOG_CONF = "spark.energy.jvmLog"


def new_jvm_log(log_dir: Path | None = None, kept: int = JVM_LOGS_KEPT) -> Path:
    """A fresh spark-<UTC time>.log path in log_dir, after removing all but the newest `kept` - 1 older logs."""
    log_dir = log_dir or JVM_LOG_DIR
    log_dir.mkdir(parents=True, exist_ok=True)
    older = sorted(log_dir.glob("spark-*.log"))  # the UTC stamp in the name sorts them by age
    for old in older[: max(0, len(older) - (kept - 1))]:
        old.unlink(missing_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return log_dir / f"spark-{stamp}.log"


@contextmanager
def process_output_to(path: Path) -> Iterator[None]:
    """File descriptors 1 and 2 point at `path` inside the block, and back where they were after it.

    A child process started inside (the JVM that spark-submit launches) inherits them and keeps writing to the file
    for its whole life, while Python's own output reaches the terminal (or pytest's capture) again afterwards.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def log_tail(path: Path, lines: int = JVM_LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})"


def _shown(path: Path) -> str:
    """The path as typed from the current folder when it is below it (shorter in the one line the terminal gets)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def get_spark(app_name: str = "energy-lakehouse", *, s3: S3Access | None = None) -> SparkSession:
    """Active session if any (Databricks, tests), else a local[*] session with Delta Lake.

    Delta's and s3a's jars are resolved from Maven Central by delta-spark's pip helper on first start (cached in
    ~/.ivy2*), so `s3a://` URIs work for any root; a new local session reaches S3 as `s3` says (the entry point's
    LakeSettings.s3; None = AWS with the default credential chain). An existing session keeps its own settings.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if is_databricks():
        return SparkSession.builder.getOrCreate()

    # Python workers must run this interpreter (the virtual environment), not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    packages, resolution = local_packages()
    java_options, driver_memory = driver_jvm_settings()
    archive = class_archive.java_option(resolution, java_options, driver_memory)

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
        .config("spark.driver.memory", driver_memory)
        # The default options (Spark prepends them to spark.driver.extraJavaOptions, which stays the user's), with
        # the class archive made for exactly this JVM when there is one. Static, like the memory.
        .config("spark.driver.defaultJavaOptions", f"{java_options} {archive}".strip())
        .config("spark.databricks.delta.snapshotPartitions", "2")
        # Static. Spark keeps 100 generated classes by default; a pipeline run plans hundreds of different queries
        # (Delta's log replays, commits and stats of every table), so compiled projections were evicted and compiled
        # again (a profile of a small lake's run and re-run: ~30% of the JVM's CPU samples in code generation). 2,000
        # entries cut that JVM's CPU by 8-20% (bench/RESULTS.md); the cost is the classes' metaspace.
        .config("spark.sql.codegen.cache.maxEntries", "2000")
        .config("spark.jars.excludes", ",".join(S3A_EXCLUDED_PACKAGES))
    )
    for key, value in s3a_settings(s3 or S3Access()).items():
        builder = builder.config(f"spark.hadoop.{key}", value)
    jars = resolved_jars(resolution)
    if jars is None:
        with ivy_resolution_lock():
            jars = resolved_jars(resolution)  # another process may have resolved them while this one waited
            if jars is None:
                spark = start_local_session(builder.config("spark.jars.packages", packages))
                remember_resolved_jars(resolution, spark.conf.get("spark.jars", ""))
                return spark
    return start_local_session(builder.config("spark.jars", ",".join(jars)))


def local_class_archive_path() -> Path | None:
    """The class archive (class_archive.py) of this machine's local session, for its packages, Java options and
    memory, made or not; None when archives are off or there is no java."""
    return class_archive.archive_path(local_packages()[1], *driver_jvm_settings())


def local_packages() -> tuple[str, str]:
    """spark.jars.packages of a local session (Delta's, s3a's and SPARK_EXTRA_PACKAGES), and the resolution they and
    the exclusions make (what resolved_jars remembers)."""
    from delta import configure_spark_with_delta_pip

    extra_packages = [*S3A_PACKAGES, *(p for p in os.environ.get("SPARK_EXTRA_PACKAGES", "").split(",") if p)]
    packages = configure_spark_with_delta_pip(SparkSession.Builder(), extra_packages)._options["spark.jars.packages"]
    return packages, f"{packages} excluding {','.join(S3A_EXCLUDED_PACKAGES)}"


# The throughput collector, not the default G1: a local run is a batch on a few cores, and G1's concurrent threads and
# write barriers cost a cold JVM's first run ~7 % (bench/RESULTS.md).
DEFAULT_DRIVER_JAVA_OPTIONS = "-XX:+UseParallelGC"


def driver_jvm_settings() -> tuple[str, str]:
    """The local driver JVM's default Java options (SPARK_DRIVER_DEFAULT_JAVA_OPTIONS) and memory
    (SPARK_DRIVER_MEMORY)."""
    java_options = os.environ.get("SPARK_DRIVER_DEFAULT_JAVA_OPTIONS", DEFAULT_DRIVER_JAVA_OPTIONS)
    return java_options, os.environ.get("SPARK_DRIVER_MEMORY", "4g")


# Ivy resolves spark.jars.packages on every session start (about 3 s of a 10 s start, all from its cache after the
# first); the jars it resolved to are remembered here per package list and given as spark.jars while they all exist.
RESOLVED_JARS_FILE = PROJECT_ROOT / ".local" / "spark-resolved-jars.json"


# Ivy's cache (~/.ivy2.5.2) is one per user: two sessions resolving into an empty one at once (two test workers, two
# commands on a fresh machine) break each other's downloads ("download failed: ...jar", then JAVA_GATEWAY_EXITED).
# Sessions that have to resolve take this lock in turn; the second then finds the first one's jars remembered.
IVY_RESOLUTION_LOCK = Path.home() / ".ivy2.5.2" / "energy-platform-resolution.lock"


@contextmanager
def ivy_resolution_lock(path: Path | None = None, timeout_s: float = 900) -> Iterator[None]:
    """Held by one process of this user at a time (released when the process ends, however it ends); says when it
    waits, and gives up after `timeout_s` naming the lock."""
    from filelock import FileLock, Timeout

    path = path or IVY_RESOLUTION_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"Waiting for another Spark session resolving its packages into Ivy's cache (lock {path})", flush=True)
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            raise RuntimeError(
                f"Another process has been resolving Spark's packages for over {timeout_s:.0f} s (it holds {path}): "
                "let it finish, or end it, then start again"
            ) from None
    try:
        yield
    finally:
        lock.release()


def resolved_jars(resolution: str, path: Path | None = None) -> list[str] | None:
    """The jar files Ivy resolved `resolution` (packages and exclusions) to in an earlier session, when every one is
    still there; else None."""
    try:
        jars = json.loads((path or RESOLVED_JARS_FILE).read_text()).get(resolution)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(jars, list) or not jars:
        return None
    files = [urlparse(j).path if j.startswith("file:") else j for j in jars]
    return jars if all(isinstance(f, str) and Path(f).is_file() for f in files) else None


def remember_resolved_jars(resolution: str, jars: str, path: Path | None = None) -> None:
    """Keep what Ivy resolved `resolution` to (spark.jars of the session it started), for resolved_jars."""
    path = path or RESOLVED_JARS_FILE
    listed = [j for j in jars.split(",") if j]
    if not listed:
        return
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    known[resolution] = listed
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(known, indent=1))
    partial.replace(path)  # whole or not at all, whatever other process reads it


def start_local_session(builder: SparkSession.Builder) -> SparkSession:
    """Starts the local JVM with its output in a log file; one line on the terminal, or the log's tail on failure."""
    import pyspark

    log = new_jvm_log()
    started = time.monotonic()
    try:
        with process_output_to(log):
            spark = builder.config(JVM_LOG_CONF, str(log)).getOrCreate()
    except Exception:
        print(f"Spark local session failed to start; the last lines of {log}:\n{log_tail(log)}", file=sys.stderr)
        raise
    seconds = time.monotonic() - started
    print(f"Spark {pyspark.__version__} local session ready in {seconds:.1f} s (JVM log: {_shown(log)})", flush=True)
    return spark
