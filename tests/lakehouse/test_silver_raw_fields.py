"""Silver reads Bronze's raw line once stored: split by the header Bronze logged for its file (parsing.RawFields)."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import functions as F

from databricks_jobs.sources import parse_definition

pytestmark = pytest.mark.spark

DEFINITION = {
    "source_id": "two_layouts",
    "dataset": "demand",
    "files": "*.csv",
    "timestamp": {"column": "time", "format": "yyyy-MM-dd HH:mm", "convention": "hour_beginning"},
    "region": {"from": "column", "column": ["region"]},
    "fields": {"demand_mw": {"column": ["load", "Load MW"], "unit": "MW"}},
}


def test_fields_by_each_files_header(spark):
    from databricks_jobs.silver.parsing import RawFields

    # Two files with the same columns in another order and spelling; b.csv has one more column.
    headers = {"a.csv": ["time", "load", "region"], "b.csv": ["Region", "Time", "Load MW", "note"]}
    lines = [
        ("a.csv", 2, "2021-01-01 00:00,10,COAST"),
        ("a.csv", 3, "2021-01-01 01:00,11"),  # short: region missing
        ("b.csv", 2, 'NCENT,2021-01-01 00:00,20,"x, y"'),  # a quoted delimiter stays in its field
        ("b.csv", 3, "NCENT,2021-01-01 01:00,21,z,extra"),  # an extra field has no name
    ]
    bronze = spark.createDataFrame(lines, "source_file string, source_row_number long, raw_line string")
    fields = RawFields.of(headers)
    assert fields.layout_of == {"a.csv": 0, "b.csv": 1}
    rows = fields.split(bronze, parse_definition(DEFINITION)).select(
        "source_file",
        "source_row_number",
        fields.value(("load", "load mw")).alias("load"),
        fields.value(("region",)).alias("region"),
        fields.value(("note",)).alias("note"),
        fields.header_size().alias("header_size"),
        F.to_json(fields.record()).alias("record"),
        F.to_json(fields.cells(["load", "Load MW"])).alias("cells"),
    )
    got = {(r.source_file, r.source_row_number): r for r in rows.collect()}
    a2, a3, b2, b3 = (got[k] for k in [("a.csv", 2), ("a.csv", 3), ("b.csv", 2), ("b.csv", 3)])
    assert (a2.load, a2.region, a2.note, a2.header_size) == ("10", "COAST", None, 3)
    assert (a3.load, a3.region, a3.header_size) == ("11", None, 3)
    assert (b2.load, b2.region, b2.note, b2.header_size) == ("20", "NCENT", "x, y", 4)
    assert (b3.load, b3.note) == ("21", "z")
    assert json.loads(a3.record) == {"time": "2021-01-01 01:00", "load": "11", "region": None}
    assert json.loads(b3.record) == {"Region": "NCENT", "Time": "2021-01-01 01:00", "Load MW": "21", "note": "z"}
    assert json.loads(a2.cells) == [{"key": "load", "value": "10"}]
    assert json.loads(b2.cells) == [{"key": "Load MW", "value": "20"}]
