"""Make the local Spark driver's class data sharing archive (databricks_jobs/class_archive.py says which one a session
maps): `python -m local_platform.make_class_archive`, which `make jvm-archive` runs (and `make demo`, `make test` and
`make bench` before their work). Nothing happens when the archive for this machine's session exists.

A child process starts a session whose JVM has -XX:ArchiveClassesAtExit on a scratch file, runs Delta and Spark SQL
over a few rows, stops, and closes its JVM's stdin: pyspark's gateway exits on that, and the JVM writes the classes it
loaded as it exits; the child waits for it. Only a whole archive (its header, written last, there) is renamed to the
name sessions look for; older archives (another JDK, pyspark or package list) are deleted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from databricks_jobs.class_archive import ARCHIVE_OUT_ENV, is_complete
from databricks_jobs.spark_session import local_class_archive_path

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def exercise(spark: SparkSession, scratch: Path) -> None:
    """A few rows through what a pipeline run loads: Delta's create, append, MERGE, DELETE and log replay, Spark SQL's
    joins, windows and aggregates, CSV text and Parquet."""
    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = spark.range(200).select(
        F.col("id"),
        (F.col("id") % 7).alias("region_code"),
        (F.col("id") * 1.5).alias("demand_mw"),
        F.timestamp_seconds(F.col("id") * 3600).alias("datetime_utc"),
        F.concat(F.lit("file-"), (F.col("id") % 3).cast("string")).alias("source_file"),
    )
    table = str(scratch / "delta")
    rows.write.format("delta").partitionBy("region_code").save(table)
    rows.where("id < 20").write.format("delta").mode("append").save(table)
    target = DeltaTable.forPath(spark, table)
    changed = rows.withColumn("demand_mw", F.col("demand_mw") + 1)
    target.alias("t").merge(
        changed.alias("s"), "t.id = s.id"
    ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()
    target.delete(F.col("source_file") == "file-2")
    stored = spark.read.format("delta").load(table)
    ranked = stored.withColumn("n", F.row_number().over(Window.partitionBy("region_code").orderBy(F.desc("id"))))
    daily = ranked.groupBy("region_code", F.to_date("datetime_utc").alias("date")).agg(
        F.max("demand_mw"), F.sum("demand_mw"), F.count("*")
    )
    daily.join(stored.select("region_code").distinct(), "region_code", "left_anti").collect()
    daily.write.parquet(str(scratch / "parquet"))
    spark.read.parquet(str(scratch / "parquet")).count()
    (scratch / "raw.csv").write_text("datetime,value\n2026-01-01 00:00,1.5\n2026-01-01 01:00,2.5\n")
    spark.read.text(str(scratch / "raw.csv")).select(F.split("value", ",")).collect()
    spark.read.option("header", True).csv(str(scratch / "raw.csv")).count()
    target.history().collect()


def _train(scratch: Path, timeout_s: float) -> None:
    """The child: a session (its JVM writing the archive at exit), the exercise, then the JVM's exit, waited for."""
    from pyspark import SparkContext

    from databricks_jobs.spark_session import get_spark

    spark = get_spark("energy-class-archive")
    exercise(spark, scratch)
    spark.stop()
    # spark-submit execs java: the gateway's process is the JVM. It exits when its stdin closes (pyspark's
    # PythonGatewayServer), normally, so it writes the archive; that takes ~15 s for ~200 MB.
    jvm = SparkContext._gateway.proc
    jvm.stdin.close()
    if jvm.wait(timeout=timeout_s) != 0:
        raise RuntimeError(f"the JVM exited with {jvm.returncode} writing its class archive")


def make_archive(timeout_s: float = 600) -> Path | None:
    """Make the archive for this machine's local session unless it exists; the path, or None when turned off or the
    JVM wrote none (then sessions start without one, as before)."""
    from filelock import FileLock

    path = local_class_archive_path()
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.parent / "make.lock"):
        if is_complete(path):
            return path
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="class-archive-") as scratch:
            child = subprocess.run(
                [sys.executable, "-m", "local_platform.make_class_archive", "--train", scratch],
                env={**os.environ, ARCHIVE_OUT_ENV: str(partial)},
                capture_output=True,
                text=True,
                timeout=timeout_s * 2,
                check=False,
            )
        if child.returncode != 0 or not is_complete(partial):
            partial.unlink(missing_ok=True)
            raise RuntimeError(
                f"no class archive made: the training session exited with {child.returncode}"
                f"{'' if child.returncode else ' and the JVM wrote no whole archive'}:\n"
                f"{child.stdout[-3000:]}{child.stderr[-3000:]}"
            )
        partial.replace(path)
        for older in path.parent.glob("spark-driver-*.jsa*"):
            if older != path:
                older.unlink(missing_ok=True)  # a session mapping it keeps its pages; the name is free
        size_mb = path.stat().st_size / 1e6
        print(f"class archive for local Spark sessions: {path} ({size_mb:.0f} MB, {time.monotonic() - started:.0f} s)")
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make the local Spark driver's class data sharing archive.")
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train:
        _train(args.train, timeout_s=600)
        return 0
    try:
        made = make_archive()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        # An archive only speeds sessions up: without it they start as before, so the install goes on.
        print(f"warning: {error}\nlocal Spark sessions will start without a class archive", file=sys.stderr)
        return 0
    if made is None:
        print("no class archive: turned off (ENERGY_CLASS_ARCHIVE_DIR=off) or no java found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
