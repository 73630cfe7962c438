"""Run by test_hostile_csv.py in a child process (its own Spark driver, 1 GB of heap): Bronze and Silver over a raw
folder of hostile CSV lines and one plain file, printing what became of every file as JSON on the last line.

A child, so that a tokenizer that overflows the JVM's stack or runs for minutes fails that test alone (the parent
bounds it with a timeout) instead of killing the session every other Spark test shares.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HEADER = "Hour Ending,Load MW\n"


def good_rows(day: int) -> tuple[str, str]:
    """Two plain rows on a day of their own: each file's rows are kept (no duplicates across files)."""
    return f"01/{day:02d}/2021 01:00,100\n", f"01/{day:02d}/2021 02:00,101\n"


# name -> (line placed between the two good rows, what it is)
HOSTILE = {
    "quoted_20kb.csv": ('"x",' * 5_000, "20 KB: 5,000 quoted fields (overflowed the JVM stack)"),
    "one_quote_commas.csv": ('"' + "," * 100_000, "100 KB: one quote, 100,000 commas (quadratic)"),
    "fields_100k.csv": ("1," * 100_000, "200 KB: 100,000 plain fields"),
    "quoted_fields_100k.csv": ('"a",' * 100_000, "400 KB: 100,000 quoted fields"),
    "line_1mb.csv": ("9" * 1_000_000, "1 MB line, under the 1 MiB cap"),
    "line_2mb.csv": ("9" * 2_000_000, "2 MB line, over the 1 MiB cap"),
}
DEFINITION = {
    "source_id": "hostile_load",
    "dataset": "demand",
    "description": "hostile CSV lines",
    "files": "hostile/*.csv",
    "timestamp": {"column": "Hour Ending", "format": "MM/dd/yyyy HH:mm", "time_zone": "UTC"},
    "region": {"from": "fixed", "value": "COAST"},
    "fields": {"demand_mw": {"column": "Load MW"}},
}


def write_raw(raw: Path) -> None:
    (raw / "hostile").mkdir(parents=True)
    (raw / "hostile" / "plain.csv").write_text(HEADER + "".join(good_rows(1)))
    for day, (name, (line, _)) in enumerate(HOSTILE.items(), start=2):
        first, second = good_rows(day)
        (raw / "hostile" / name).write_text(HEADER + first + line + "\n" + second)


def tokenizer_seconds(spark, copies: int = 20) -> dict[str, float]:
    """Seconds to split and count the hostile lines (those with quotes) and, as the reference measured in the same
    session, plain lines of the same lengths without quotes: a ratio holds on a loaded machine where seconds do not."""
    from pyspark.sql import functions as F

    from databricks_jobs.bronze.csv_line import field_count, split_fields

    quoted = [line for line, _ in HOSTILE.values() if '"' in line]
    plain = ["1," * (len(line) // 2) for line in quoted]
    seconds = {}
    for name, lines in (("plain", plain), ("quoted", quoted)):
        frame = spark.createDataFrame([(line,) for line in lines * copies], "line string")
        work = frame.select(
            F.size(split_fields(F.col("line"), ",")).alias("n"), field_count(F.col("line"), ",").alias("c")
        )
        started = time.monotonic()
        work.agg(F.sum("n"), F.sum("c")).collect()
        seconds[name] = round(time.monotonic() - started, 2)
    return seconds


def main(work: Path) -> None:
    from databricks_jobs import lake
    from databricks_jobs.bronze.ingest import ingest_bronze
    from databricks_jobs.settings import LakeSettings
    from databricks_jobs.silver.build import build_silver
    from databricks_jobs.sources import parse_definition
    from databricks_jobs.spark_session import get_spark
    from databricks_jobs.tables import SILVER_DEMAND_HOURLY, SILVER_QUARANTINE

    write_raw(work / "raw")
    settings = LakeSettings(raw_root=str(work / "raw"), lake_root=str(work / "lake"), export_root=str(work / "out"))
    definitions = {"hostile_load": parse_definition(DEFINITION, "hostile_load.yml")}
    spark = get_spark("hostile-csv")
    started = time.monotonic()
    bronze = ingest_bronze(spark, settings, "hb1", definitions=definitions)
    bronze_seconds = time.monotonic() - started
    silver = build_silver(spark, settings, "hs1", definitions=definitions)
    silver_seconds = time.monotonic() - started - bronze_seconds
    quarantine = lake.read_or_empty(spark, settings, SILVER_QUARANTINE).where("source_id = 'hostile_load'")
    reasons = quarantine.select("source_file", "source_row_number", "reason", "detail").collect()
    kept = lake.read_or_empty(spark, settings, SILVER_DEMAND_HOURLY).where("source_id = 'hostile_load'")
    kept = kept.select("source_file", "source_row_number")
    result = {
        "bronze": {f.path: [f.status, f.rows, f.error] for f in bronze.files},
        "silver": {a.source_file: [a.rows_in, a.rows_kept, a.rows_quarantined] for a in silver.files},
        "quarantine": sorted([r.source_file, r.source_row_number, r.reason, r.detail[:80]] for r in reasons),
        "kept": sorted([r.source_file, r.source_row_number] for r in kept.collect()),
        "seconds": {"bronze": round(bronze_seconds, 1), "silver": round(silver_seconds, 1)},
        "tokenizer_seconds": tokenizer_seconds(spark),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("SPARK_DRIVER_MEMORY", "1g")
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    main(Path(sys.argv[1]))
    sys.stdout.flush()
