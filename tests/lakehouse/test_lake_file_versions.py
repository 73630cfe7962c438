"""lake.of_file_versions selects exactly the given (file, content hash) versions among the versions a table holds,
for a few and for thousands, and rows_of_file_versions exactly among any rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import write_raw_rows
from databricks_jobs.tables import bronze_raw_rows
from tests.lakehouse.conftest import lake_over

pytestmark = pytest.mark.spark

# Every file in two versions, plus rows pairing one file with another file's hash (f1 with h2a, f0 with h1a): the
# second version of a file can hold the same bytes as another file.
ROWS = [(f"f{i}.csv", f"h{i}{v}") for i in range(2500) for v in "ab"] + [("f1.csv", "h2a"), ("f0.csv", "h1a")]


def _selected(spark, condition) -> set[tuple[str, str]]:
    frame = spark.createDataFrame(ROWS, "source_file string, content_hash string")
    return {(r.source_file, r.content_hash) for r in frame.where(condition).collect()}


@pytest.mark.parametrize("wanted", [3, 2000])
def test_of_file_versions_selects_exactly_these_versions_of_the_held_ones(spark, wanted):
    versions = [(f"f{i}.csv", f"h{i}a") for i in range(wanted)]
    assert _selected(spark, lake.of_file_versions(versions, held=ROWS)) == set(versions)


def test_of_file_versions_without_the_held_versions_is_the_two_in_lists(spark):
    # Not told that f1.csv once held h2a, the lists match it: the reason Bronze passes its file log.
    versions = [(f"f{i}.csv", f"h{i}a") for i in range(3)]
    assert _selected(spark, lake.of_file_versions(versions)) == set(versions) | {("f1.csv", "h2a"), ("f0.csv", "h1a")}
    assert _selected(spark, lake.of_file_versions([])) == set()


@pytest.mark.parametrize("wanted", [0, 3, 2000])
def test_rows_of_file_versions_is_exact_among_any_rows(spark, wanted):
    versions = [(f"f{i}.csv", f"h{i}a") for i in range(wanted)]
    frame = spark.createDataFrame(ROWS, "source_file string, content_hash string")
    got = lake.rows_of_file_versions(spark, frame, versions).collect()
    assert sorted((r.source_file, r.content_hash) for r in got) == sorted(versions)


def _raw_rows(spark, source_id: str, lines: list[tuple[str, str, int]]):
    """Bronze rows of (file, hash, line number), one line each."""
    at = datetime(2026, 12, 3, tzinfo=UTC)
    rows = [(source_id, f, h, n, f"{f},{h},{n}", 3, "batch-1", at) for f, h, n in lines]
    return spark.createDataFrame(rows, bronze_raw_rows(source_id).spark_schema())


def test_bronze_write_replaces_a_crashed_attempts_rows_and_keeps_an_older_version_that_pairs_the_lists(spark, tmp_path):
    settings = lake_over(tmp_path / "raw", tmp_path / "lake")
    table = bronze_raw_rows("src")
    # Logged earlier: f1.csv with the bytes hB (2 lines). Now f1.csv holds hA, and f2.csv holds hB (f1's old bytes).
    write_raw_rows(
        spark,
        settings,
        table,
        [_raw_rows(spark, "src", [("f1.csv", "hB", 2), ("f1.csv", "hB", 3)])],
        [("f1.csv", "hB")],
        set(),
    )
    held = {("f1.csv", "hB")}
    new = [("f1.csv", "hA"), ("f2.csv", "hB")]
    lines = [("f1.csv", "hA", 2), ("f2.csv", "hB", 2), ("f2.csv", "hB", 3)]
    # The first attempt crashes after its Bronze write, before the file log: the retry writes the same versions again.
    write_raw_rows(spark, settings, table, [_raw_rows(spark, "src", lines)], new, held | set(new))
    write_raw_rows(spark, settings, table, [_raw_rows(spark, "src", lines)], new, held)
    held_rows = lake.read(spark, settings, table.name).collect()
    assert sorted((r.source_file, r.content_hash, r.source_row_number) for r in held_rows) == sorted(
        [("f1.csv", "hB", 2), ("f1.csv", "hB", 3), *lines]
    )
