"""The bad-file corpus: clear per-file errors in Bronze, every bad row quarantined with a reason in Silver,
and the row accounting per file holds (rows_in = kept + quarantined + exact duplicates)."""

from __future__ import annotations

import collections
import csv
import dataclasses
import itertools
import json

import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions
from databricks_jobs.tables import BRONZE_INGESTED_FILES
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

SOURCE = "bad_utility_load"


@pytest.fixture(scope="module")
def bad_lake(spark, bad_inputs, tmp_path_factory):
    settings = lake_over(bad_inputs / "raw", tmp_path_factory.mktemp("bad-lake"))
    definitions = load_source_definitions(bad_inputs / "definitions")
    bronze = ingest_bronze(spark, settings, "bad-b1", definitions=definitions)
    silver = build_silver(spark, settings, "bad-s1", definitions=definitions)
    return settings, definitions, bronze, silver


def test_each_bad_file_fails_alone_with_a_message_naming_it(spark, bad_lake):
    settings, _, bronze, _ = bad_lake
    errors = {f.path.rsplit("/", 1)[-1]: f.error for f in bronze.failed}
    assert set(errors) == {"empty.csv", "header_only.csv", "wrong_header.csv", "binary_garbage.csv"}
    assert errors["empty.csv"] == "bad_utility/empty.csv: empty file (0 bytes)"
    assert errors["header_only.csv"] == "bad_utility/header_only.csv: empty file (header only, no data rows)"
    assert errors["wrong_header.csv"].startswith("bad_utility/wrong_header.csv: wrong header: no column for timestamp")
    assert "['Hour Ending']" in errors["wrong_header.csv"]
    assert errors["binary_garbage.csv"].startswith("bad_utility/binary_garbage.csv: binary content")
    assert [f.path for f in bronze.ingested] == ["bad_utility/bad_rows.csv"]
    logged = lake.read(spark, settings, BRONZE_INGESTED_FILES.name).collect()
    assert {(r.source_file, r.status, r.error) for r in logged} == {
        *(("bad_utility/" + name, "failed", error) for name, error in errors.items()),
        ("bad_utility/bad_rows.csv", "ingested", None),
    }


def test_bronze_keeps_every_line_as_it_came_including_the_truncated_one(spark, bad_lake, bad_inputs):
    settings, definitions, _, _ = bad_lake
    raw = lake.read(spark, settings, definitions[SOURCE].bronze_table)
    lines = (bad_inputs / "raw/bad_utility/bad_rows.csv").read_text().split("\n")
    got = {r.source_row_number: (r.raw_line, r.field_count) for r in raw.collect()}
    expected = {n: (line, len(next(csv.reader([line])))) for n, line in enumerate(lines, start=1) if n > 1}
    assert got == expected
    assert got[8] == ("03/01/2021 04:00,1,2", 3)


def test_every_bad_cell_is_quarantined_with_its_reason(spark, bad_lake, bad_inputs):
    settings, *_ = bad_lake
    quarantine = lake.read(spark, settings, "silver__quarantine").collect()
    got = collections.Counter((q.source_row_number, q.source_column, q.reason) for q in quarantine)
    # By hand from bad_inputs/README.md: reasons apply in order malformed, timestamp, region, value, duplicate.
    expected = collections.Counter(
        [(8, c, "malformed_row") for c in ("COAST", "NCENT", "MARS")]
        + [(n, c, "unparseable_timestamp") for n in (4, 5) for c in ("COAST", "NCENT", "MARS")]
        + [(n, "MARS", "unknown_region") for n in (2, 3, 6, 7)]
        + [(3, "COAST", "non_numeric_value"), (3, "NCENT", "negative_demand"), (7, "COAST", "absurd_value")]
        + [(6, "NCENT", "conflicting_duplicate")]
    )
    assert got == expected
    details = {(q.source_row_number, q.source_column): q.detail for q in quarantine}
    assert details[(4, "COAST")] == "time '03/14/2021 03:00' does not exist in America/Chicago (DST gap)"
    assert details[(6, "NCENT")] == "same key as bad_utility/bad_rows.csv:2 with different values"
    assert details[(8, "COAST")] == "line has 3 fields, header has 4"
    # raw_record is the line's fields by header name, also for the conflict found after the transform.
    header, *lines = list(csv.reader((bad_inputs / "raw/bad_utility/bad_rows.csv").read_text().splitlines()))
    by_line = {n: dict(itertools.zip_longest(header, fields)) for n, fields in enumerate(lines, start=2)}
    assert {(q.source_row_number, q.source_column): json.loads(q.raw_record) for q in quarantine} == {
        (q.source_row_number, q.source_column): by_line[q.source_row_number] for q in quarantine
    }


def test_kept_rows_and_accounting(spark, bad_lake):
    settings, *_ = bad_lake
    demand = lake.read(spark, settings, "silver_demand__hourly")
    kept = sorted((r.region_code, r.source_row_number, r.demand_mw) for r in demand.collect())
    assert kept == [("COAST", 2, 100.0), ("NCENT", 2, 200.0), ("NCENT", 7, 5.0)]
    accounting = {r.source_file: r for r in file_accounting_of(spark, settings).collect()}
    rows = accounting["bad_utility/bad_rows.csv"]
    # 7 data lines x 3 region columns; one exact duplicate (line 6 COAST = line 2 COAST).
    assert (rows.rows_in, rows.rows_kept, rows.rows_quarantined, rows.rows_exact_duplicate) == (21, 3, 17, 1)
    assert rows.rows_in == rows.rows_kept + rows.rows_quarantined + rows.rows_exact_duplicate
    for failed in ("empty.csv", "wrong_header.csv", "binary_garbage.csv", "header_only.csv"):
        assert accounting[f"bad_utility/{failed}"].rows_in == 0


def test_unknown_source_and_missing_file_are_reported_and_the_rest_still_runs(spark, bad_inputs, tmp_path):
    settings = lake_over(bad_inputs / "raw", tmp_path / "lake")
    definitions = load_source_definitions(bad_inputs / "definitions")
    paths = ["stray_notes.csv", "bad_utility/no_such_file.csv", "bad_utility/bad_rows.csv"]
    report = ingest_bronze(spark, settings, "b-paths", definitions=definitions, paths=paths)
    errors = sorted(f.error for f in report.failed)
    assert errors == [
        "bad_utility/no_such_file.csv: missing file (no such file under " + str(bad_inputs / "raw") + ")",
        "stray_notes.csv: unknown source: no source definition's glob matches it",
    ]
    assert [(f.path, f.rows) for f in report.ingested] == [("bad_utility/bad_rows.csv", 7)]
    unknown = ingest_bronze(spark, settings, "b-unknown", ["no_such_source"], definitions=definitions)
    assert unknown.failed[0].error.startswith("unknown source 'no_such_source'; known sources: ['bad_utility_load']")


def test_a_source_with_no_landed_files_is_reported_but_fails_only_when_asked_for(spark, bad_inputs, tmp_path):
    definitions = load_source_definitions(bad_inputs / "definitions")
    not_landed = dataclasses.replace(definitions[SOURCE], source_id="not_landed_yet", files=("not_landed/*.csv",))
    definitions = {**definitions, "not_landed_yet": not_landed}
    settings = lake_over(bad_inputs / "raw", tmp_path / "lake")

    everything = ingest_bronze(spark, settings, "b-all", definitions=definitions)
    assert everything.sources_without_files == ["not_landed_yet"]
    assert "not_landed_yet" not in {f.source_id for f in everything.failed}
    assert "no files landed for not_landed_yet" in everything.summary().splitlines()[0]
    logged = lake.read(spark, settings, BRONZE_INGESTED_FILES.name)
    assert logged.where("source_id = 'not_landed_yet'").count() == 0

    named = ingest_bronze(spark, settings, "b-named", ["not_landed_yet"], definitions=definitions)
    assert [f.error for f in named.failed] == [
        f"('not_landed/*.csv',): missing file (no file under {bad_inputs / 'raw'} matches)"
    ]
