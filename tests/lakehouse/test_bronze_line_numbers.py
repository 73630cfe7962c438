"""Bronze line numbers stay exact when Spark splits one file over many partitions."""

from __future__ import annotations

import pytest

from databricks_jobs.sources.readers import number_lines

pytestmark = pytest.mark.spark


def test_line_numbers_are_exact_across_partitions(spark, sample_data):
    path = sample_data / "ercot_native_load_2021/ercot_native_load_2021.csv"
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "65536")  # ~1 MB file -> ~16 partitions
    try:
        lines = spark.read.text(str(path))
        assert lines.rdd.getNumPartitions() > 8
        numbered, count = number_lines(lines)
        got = {r.source_row_number: r.raw_line for r in numbered.collect()}
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    expected = dict(enumerate(path.read_text().splitlines(), start=1))
    assert count == len(expected) == 8761
    assert got == expected
