"""Bronze line numbers stay exact when one Spark read packs many small files into a partition and splits a big file
over many partitions (bronze.csv_reader.read_csv_files)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from databricks_jobs.bronze import csv_reader
from databricks_jobs.bronze.csv_reader import (
    BlockLines,
    CsvFile,
    file_lines,
    path_key,
    read_csv_files,
    write_partitions,
)
from databricks_jobs.bronze.raw_files import raw_file
from databricks_jobs.sources import load_source_definitions
from databricks_jobs.storage import S3Access


def test_line_offsets_by_hand():
    # File a: two splits read in partitions 0 (ids 0..2) and 1 (ids 2^33 + 0..1), the second split listed first.
    # File b: one split after a's first split in partition 0 (ids 3..4), its second line not UTF-8.
    second = 1 << 33
    blocks = [
        BlockLines("a", 100, 2, second, None),
        BlockLines("a", 0, 3, 0, None),
        BlockLines("b", 0, 2, 3, 4),
    ]
    got = file_lines(blocks)
    assert got["a"].lines == 5 and got["a"].first_bad_line is None
    # b's lines have ids 3 and 4: the bad one (id 4) is its line 2.
    assert (got["b"].lines, got["b"].first_bad_line) == (2, 2)
    # a's split at block 100 comes second in the file whatever order the aggregation lists it in.
    bad_late = [BlockLines("a", 100, 2, second, second + 1), BlockLines("a", 0, 3, 0, None)]
    assert file_lines(bad_late)["a"].first_bad_line == 5


def test_write_partitions_spread_packed_small_files_only():
    partition = 1 << 33
    # 24 files of 50,000 lines packed into 2 partitions: 12 partitions of 100,000 lines.
    packed = [BlockLines(f"f{i}", 0, 50_000, (i % 2) * partition + i, None) for i in range(24)]
    assert write_partitions(packed, 24) == 12
    # 2 big files in 8 splits (8 partitions): kept as read; as few lines as partitions: kept.
    split = [BlockLines(f"f{i // 4}", i, 2_000_000, i * partition, None) for i in range(8)]
    assert write_partitions(split, 2) is None
    assert write_partitions([BlockLines("f", 0, 10, 0, None)], 1) is None


def test_path_key_matches_spark_names_to_listed_files():
    assert path_key("file:/data/raw/x%20y.csv") == path_key("/data/raw/x y.csv") == "/data/raw/x y.csv"
    assert path_key("file:///data/raw/a.csv") == "/data/raw/a.csv"
    assert path_key("dbfs:/Volumes/c/s/raw/a.csv") == "/Volumes/c/s/raw/a.csv"
    assert path_key("s3a://bucket/raw/a%2Bb.csv") == "s3a://bucket/raw/a+b.csv"


@pytest.mark.spark
def test_line_numbers_are_exact_for_split_and_packed_files(spark, sample_data, tmp_path, monkeypatch):
    monkeypatch.setattr(csv_reader, "LINES_PER_WRITE_PARTITION", 100)  # the numbered lines are also spread out
    big = sample_data / "ercot_native_load_2021/ercot_native_load_2021.csv"
    header = big.read_text().splitlines()[0]
    (tmp_path / "big.csv").write_bytes(big.read_bytes())
    for n in range(40):  # small files of 1..40 data lines, packed several to a partition
        lines = [header, *[f"line {i} of file {n}" for i in range(1, n + 2)]]
        (tmp_path / f"small_{n:02d}.csv").write_text("\n".join(lines) + "\n")
    definition = load_source_definitions()["ercot_native_load"]
    names = sorted(p.name for p in tmp_path.glob("*.csv"))
    files = [
        CsvFile(raw_file(str(tmp_path), name, s3=S3Access()), f"hash-{name}", tuple(header.split(",")), 1)
        for name in names
    ]
    settings = {"spark.sql.files.maxPartitionBytes": "65536", "spark.sql.files.openCostInBytes": "1024"}
    previous = {key: spark.conf.get(key) for key in settings}
    for key, value in settings.items():  # ~1 MB file -> ~16 splits; small files packed into 64 KiB partitions
        spark.conf.set(key, value)
    try:
        batch = read_csv_files(spark, files, definition)
        rows = batch.rows.collect()
        spread = batch.rows.rdd.getNumPartitions()
        layout = spark.read.text([f.file.uri for f in files]).select(
            "_metadata.file_name", "_metadata.file_block_start", F.spark_partition_id().alias("pid")
        )
        splits = layout.distinct().groupBy("file_name").count().collect()
        small_partitions = layout.where(F.col("file_name").startswith("small_")).select("pid").distinct().count()
    finally:
        for key, value in previous.items():
            spark.conf.set(key, value)
    # The rows computed again under other split and packing settings (another cluster size, Databricks' own
    # defaults): the line numbers must not depend on how the counting job and the write's job split the files.
    again = {(r.source_file, r.source_row_number): r.raw_line for r in batch.rows.collect()}
    assert max(r["count"] for r in splits if r.file_name == "big.csv") > 8
    assert small_partitions < 40  # several small files share a partition
    assert spread == len(names)  # ~9,600 lines / 100 per partition, at most one per file
    expected = {
        (name, n): line
        for name in names
        for n, line in enumerate((tmp_path / name).read_text().splitlines(), start=1)
        if n > 1
    }
    assert {(r.source_file, r.source_row_number): r.raw_line for r in rows} == expected
    assert again == expected
    assert batch.row_counts == {name: len((tmp_path / name).read_text().splitlines()) - 1 for name in names}
    assert batch.row_counts["big.csv"] == 8760 and batch.errors == {}
    assert {(r.source_file, r.content_hash) for r in rows} == {(name, f"hash-{name}") for name in names}
