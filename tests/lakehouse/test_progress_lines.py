"""The pipeline's progress lines (databricks_jobs/progress.py) for the cases the golden run does not produce."""

from __future__ import annotations

from databricks_jobs.bronze.ingest import FAILED, INGESTED, SKIPPED, FileResult
from databricks_jobs.progress import bronze_source_line, gold_table_line, silver_source_line
from databricks_jobs.silver.build import FileAccount


def test_bronze_counts_files_by_status_and_rows_of_the_ingested_ones_only():
    files = [
        FileResult("acme", "a.csv", "h1", INGESTED, 1_200),
        FileResult("acme", "b.csv", "h2", INGESTED, 34_000),
        FileResult("acme", "c.csv", "h3", SKIPPED, 0),
        FileResult("acme", "d.csv", "h4", FAILED, 0, "wrong header"),
    ]
    line = bronze_source_line("acme", files, 3.14)
    assert line == "  bronze acme: 2 files ingested, 1 file already in Bronze, 1 file failed, 35,200 rows, 3.1 s"


def test_silver_shows_the_row_accounting_and_duplicates_only_when_there_are_some():
    files = [FileAccount("acme", "a.csv", "h1", 1_000_001, 999_990, 10, 1)]
    assert silver_source_line("acme", "demand", files, 61.26) == (
        "  silver acme (demand): 1 file, 1,000,001 rows in -> 999,990 kept, 10 quarantined, 1 exact duplicate, 61.3 s"
    )
    clean = [FileAccount("acme", "b.csv", "h2", 5, 5, 0, 0), FileAccount("acme", "c.csv", "h3", 2, 1, 1, 0)]
    assert silver_source_line("acme", "demand", clean, 0.04) == (
        "  silver acme (demand): 2 files, 7 rows in -> 6 kept, 1 quarantined, 0.0 s"
    )
    assert silver_source_line("acme", "demand", [], 0.3) == "  silver acme (demand): no new Bronze files, 0.3 s"


def test_gold_reads_build_golds_result_and_shows_deletes_when_a_sync_removes_rows():
    result = {"operation": "merge", "rows_written": 19_365, "rows_deleted": 12, "seconds": 7.63}
    assert gold_table_line("gold_reliability__yearly", result) == (
        "  gold gold_reliability__yearly: merge, 19,365 rows written, 12 deleted, 7.6 s"
    )
    assert gold_table_line("gold_demand__daily", {"operation": "skip", "rows_written": 0, "seconds": 0.0}) == (
        "  gold gold_demand__daily: skip, 0 rows written, 0.0 s"
    )
