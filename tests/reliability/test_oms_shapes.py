"""The OMS CSV shape in its restoration-time and duration variants, open events and every quarantine reason."""

from __future__ import annotations

from datetime import datetime

import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.settings import LakeSettings
from databricks_jobs.sources import load_source_definitions

pytestmark = pytest.mark.spark


def transform_outages(spark, settings, bronze, definition):
    """Imported on use: silver.parsing builds Spark expressions at import, which needs the session to exist."""
    from databricks_jobs.silver.build import logged_fields
    from databricks_jobs.silver.outages import transform_outages as transform

    return transform(bronze, definition, logged_fields(spark, settings, definition.source_id), load_regions())


RESTORATION_VARIANT = """event_id,region,feeder_id,outage_start,restoration_time,customers_affected,cause,device
R1,SYN-N,SYN_NORTH-F0001,2021-11-07T01:30:00-05:00,2021-11-07T01:10:00-06:00,120,vegetation,fuse
R2,syn north,SYN_NORTH-F0002,2021-07-01T23:50:00-05:00,2021-07-02T00:20:00-05:00,UNKNOWN,animal,fuse
R3,SYN_NORTH,SYN_NORTH-F0003,2021-07-03T10:00:00-05:00,,55,equipment failure,breaker
R4,SYN-N,SYN_NORTH-F0001,2021-07-04T10:00:00-05:00,2021-07-04T10:04:00-05:00,300,unknown,recloser
Q1,SYN-N,SYN_NORTH-F0001,2021-07-05T10:00:00-05:00,2021-07-05T09:00:00-05:00,10,unknown,fuse
Q2,SYN-N,SYN_NORTH-F0001,2021-07-06T10:00:00-05:00,2021-07-06T11:00:00-05:00,-3,unknown,fuse
Q3,SYN-N,SYN_NORTH-F0001,2021-07-07T10:00:00-05:00,2021-07-07T11:00:00-05:00,20000000,unknown,fuse
Q4,Atlantis,SYN_NORTH-F0001,2021-07-08T10:00:00-05:00,2021-07-08T11:00:00-05:00,7,unknown,fuse
Q5,SYN-N,SYN_NORTH-F0001,07/09/2021 10:00,2021-07-09T11:00:00-05:00,7,unknown,fuse
Q6,SYN-N,SYN_NORTH-F0001,2021-07-10T10:00:00-05:00,yesterday,7,unknown,fuse
Q7,SYN-N,SYN_NORTH-F0001,2021-07-11T10:00:00-05:00,2021-07-11T11:00:00-05:00,12.5,unknown,fuse
U1,SYN-N,SYN_NORTH-F0002,2021-07-12T10:00:00-05:00,Unknown,15,unknown,fuse
U2,SYN-N,SYN_NORTH-F0002,2021-07-13T10:00:00-05:00,2021-07-13,16,unknown,fuse
Q8,SYN-N,SYN_NORTH-F0002,2021-07-14T10:00:00-05:00,2021-07-14T25:99:00-05:00,17,unknown,fuse
"""
DURATION_VARIANT = """outage_id,service_area,circuit,start_time,duration_min,customers_out,cause_code
D1,SYN-S,SYN_SOUTH-F0001,2021-03-14T01:50:00-06:00,20,40,lightning
D2,SYN-S,SYN_SOUTH-F0002,2021-03-15T08:00:00-05:00,,12,vehicle
D3,SYN-S,SYN_SOUTH-F0003,2021-03-16T08:00:00-05:00,2.5,900,animal
"""


@pytest.fixture(scope="module")
def rows(spark, tmp_path_factory):
    raw = tmp_path_factory.mktemp("oms-raw")
    (raw / "oms_outage_events").mkdir()
    (raw / "oms_outage_events" / "restoration_export.csv").write_text(RESTORATION_VARIANT)
    (raw / "oms_outage_events" / "duration_export.csv").write_text(DURATION_VARIANT)
    settings = LakeSettings(raw_root=str(raw), lake_root=str(raw / "lake"), export_root=str(raw / "export"))
    report = ingest_bronze(spark, settings, "b-oms", source_ids=["oms_outage_events"])
    assert not report.failed, report.summary()
    definition = load_source_definitions()["oms_outage_events"]
    bronze = lake.read(spark, settings, definition.bronze_table)
    return {r.event_id: r for r in transform_outages(spark, settings, bronze, definition).collect()}


def test_every_row_becomes_one_candidate(rows):
    assert len(rows) == 14 + 3


def test_restoration_variant_across_the_fall_back_hour(rows):
    r1 = rows["R1"]  # 01:30 CDT -> 01:10 CST on 2021-11-07: 40 minutes, not -20
    assert r1.reason is None and r1.region_code == "SYN_NORTH"
    assert r1.started_at_utc == datetime(2021, 11, 7, 6, 30) and r1.duration_minutes == pytest.approx(40.0)
    assert not r1.is_momentary and not r1.is_open and r1.customers_affected == 120


def test_unknown_customers_open_and_momentary(rows):
    assert rows["R2"].is_customers_unknown and rows["R2"].customers_affected is None and rows["R2"].reason is None
    assert rows["R2"].duration_minutes == pytest.approx(30.0)  # spans midnight
    r3 = rows["R3"]  # an empty restoration in an OMS export: still out
    assert r3.is_open and r3.restored_at_utc is None and r3.duration_minutes is None and r3.reason is None
    assert not r3.is_restoration_unknown
    assert rows["R4"].is_momentary and rows["R4"].duration_minutes == pytest.approx(4.0)


def test_duration_variant(rows):
    d1 = rows["D1"]  # 01:50 CST on the spring-forward day + 20 minutes = 03:10 CDT
    assert d1.reason is None and d1.region_code == "SYN_SOUTH" and d1.feeder_id == "SYN_SOUTH-F0001"
    assert d1.restored_at_utc == datetime(2021, 3, 14, 8, 10) and d1.duration_minutes == pytest.approx(20.0)
    assert d1.cause == "lightning" and d1.customers_affected == 40
    assert rows["D2"].is_open and rows["D2"].reason is None
    assert rows["D3"].is_momentary and rows["D3"].duration_minutes == pytest.approx(2.5)


def test_quarantine_reasons_name_the_problem(rows):
    expected = {
        "Q1": "restoration_before_start",
        "Q2": "negative_customers",
        "Q3": "absurd_customers",
        "Q4": "unknown_region",
        "Q5": "unparseable_timestamp",
        "Q7": "absurd_customers",
        "Q8": "unparseable_timestamp",
    }
    assert {k: rows[k].reason for k in expected} == expected
    assert "Atlantis" in rows["Q4"].detail and "07/09/2021 10:00" in rows["Q5"].detail
    assert "25:99" in rows["Q8"].detail and "-3" in rows["Q2"].detail
    assert rows["Q1"].source_file == "oms_outage_events/restoration_export.csv" and rows["Q1"].source_row_number == 6
    assert sum(r.reason is not None for r in rows.values()) == 7


@pytest.mark.parametrize("event_id", ["Q6", "U1", "U2"])
def test_a_restoration_given_as_words_or_a_date_alone_keeps_the_event_flagged(rows, event_id):
    """'yesterday', 'Unknown' (a null token) and '2021-07-13' (no time) say the event ended, not when."""
    row = rows[event_id]
    assert row.reason is None and row.is_restoration_unknown and not row.is_open
    assert row.restored_at_utc is None and row.duration_minutes is None and not row.is_momentary
    assert row.started_at_utc is not None
