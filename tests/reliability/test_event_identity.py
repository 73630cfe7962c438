"""Events counted once: an outage source without event ids gets ids hashed from the event's declared fields, so a
running row-number column (OBS) or another undeclared column does not make one event two; a definition may name the
identity fields instead. Checked through the candidates and fates Silver's build uses, on rows written here."""

from __future__ import annotations

import pytest

from databricks_jobs.sources import parse_definition

pytestmark = pytest.mark.spark

HEADER = ["OBS", "Start", "Restored", "NERC Region", "Customers", "Cause", "Demand Loss (MW)"]
ROWS = [
    # OBS runs on; rows 1 and 3 are one event reported twice (the second with a demand loss, undeclared).
    ["1", "2021-02-14 08:30", "2021-02-19 18:00", "TRE", "4500000", "Severe Weather", "Unknown"],
    ["2", "2021-02-14 08:30", "2021-02-19 18:00", "TRE", "4500000", "Vandalism", "Unknown"],
    ["3", "2021-02-14 08:30", "2021-02-19 18:00", "TRE ", "4,500,000", "Severe Weather", "7214"],
    ["4", "2021-02-14 08:30", "2021-02-19 18:00", "TRE", "12", "Severe Weather", "Unknown"],
]
DEFINITION = {
    "source_id": "obs_outages",
    "dataset": "outage_events",
    "files": "obs/*.csv",
    "timestamp": {"column": "Start", "format": "yyyy-MM-dd HH:mm", "time_zone": "America/Chicago"},
    "region": {"from": "column", "column": "NERC Region"},
    "null_tokens": ["", "Unknown"],
    "fields": {
        "customers_affected": {"column": "Customers", "type": "string", "required": False},
        "cause": {"column": "Cause", "type": "string", "required": False},
    },
    "options": {"restoration": {"column": "Restored", "format": "yyyy-MM-dd HH:mm"}},
}


def fates(spark, definition):
    """(OBS, event_id, fate, reason) per row, as Silver's build would decide them against an empty table."""
    import csv
    import io

    from databricks_jobs.reference.regions import load_regions
    from databricks_jobs.silver.build import assign_fates
    from databricks_jobs.silver.candidates import source_candidates
    from databricks_jobs.silver.parsing import RawFields
    from databricks_jobs.silver.registry import handler_for

    def line(row: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(row)
        return out.getvalue()

    bronze = spark.createDataFrame(
        [("obs/2021.csv", n + 2, line(row), len(row)) for n, row in enumerate(ROWS)],
        "source_file string, source_row_number long, raw_line string, field_count int",
    )
    candidates = source_candidates(bronze, definition, RawFields.of({"obs/2021.csv": HEADER}), load_regions())
    handler = handler_for("outage_events")
    existing = spark.createDataFrame([], handler.target.spark_schema())
    result = assign_fates(candidates, existing, handler).select("source_row_number", "event_id", "_fate", "reason")
    return {r.source_row_number - 1: (r.event_id, r._fate, r.reason) for r in result.collect()}


def test_declared_fields_identify_an_event_not_the_raw_line(spark):
    got = fates(spark, parse_definition(DEFINITION, "obs.yml"))
    # OBS 1 and 3: same start, restoration, region (TRE / 'TRE '), customers (4500000 / '4,500,000'), cause.
    assert got[1][0] == got[3][0] and got[1][0].startswith("h-")
    assert len({got[1][0], got[2][0], got[4][0]}) == 3  # another cause, other customers: other events
    assert [got[n][1] for n in (1, 2, 3, 4)] == ["kept", "kept", "exact_duplicate", "kept"]


def test_a_definition_names_the_identity_fields(spark):
    named = {**DEFINITION, "options": {**DEFINITION["options"], "identity_fields": ["started_at_utc", "region_code"]}}
    got = fates(spark, parse_definition(named, "obs.yml"))
    # One event by start and region: the first row wins; rows that differ in cause or customers conflict.
    assert len({got[n][0] for n in (1, 2, 3, 4)}) == 1
    assert [got[n][1:] for n in (1, 2, 3, 4)] == [
        ("kept", None),
        ("quarantined", "conflicting_duplicate"),
        ("exact_duplicate", None),
        ("quarantined", "conflicting_duplicate"),
    ]


def test_identity_fields_must_be_fields_of_the_source(spark):
    from databricks_jobs.silver.outages import identity_fields

    bad = {**DEFINITION, "options": {**DEFINITION["options"], "identity_fields": ["started_at_utc", "OBS"]}}
    with pytest.raises(ValueError, match=r"obs\.yml: options\.identity_fields must list fields of"):
        identity_fields(parse_definition(bad, "obs.yml"))
