"""Onboarding by configuration: a new utility's files are ingested by adding YAML only, no code."""

from __future__ import annotations

import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

ACME_YAML = """
source_id: acme_feeder_load
dataset: demand
description: Acme Power feeder meter reads, kW, semicolon-separated, local Central time, hour beginning.
files: acme/feeder_load_*.csv
csv: {delimiter: ";"}
shape: long
timestamp: {column: [Read Start (local)], format: yyyy-MM-dd HH:mm, time_zone: America/Chicago,
            convention: hour_beginning}
region: {from: column, column: [Service Area, Zone], map: {"Houston Metro": COAST}}
sum_over: [Feeder]
fields:
  demand_mw: {column: [Load kW, kW], unit: kW, valid_range: [0, 50000000]}
null_tokens: ["", "n/a"]
"""

ROWS = [
    # start (local), area, feeder, kW
    ("2021-03-14 00:00", "Houston Metro", "F1", "1500"),
    ("2021-03-14 00:00", "Houston Metro", "F2", "2500.5"),
    ("2021-03-14 00:00", "ercot north central", "F9", "700"),
    ("2021-03-14 01:00", "Houston Metro", "F1", "1000"),
    ("2021-03-14 01:00", "Houston Metro", "F2", "n/a"),  # missing_value
    ("2021-03-14 01:00", "Houston Metro", "F1", "1000"),  # exact duplicate of the F1 read above
    ("2021-03-14 02:00", "Houston Metro", "F1", "1200"),  # 02:00 does not exist on the spring-forward day
    ("2021-03-14 03:00", "Houston Metro", "F1", "1300"),
    ("2021-03-14 03:00", "Atlantis", "F7", "10"),  # unknown_region
]


# A plain source of the same table (no sum_over): built in the same pass as the summing one (silver.build.build_group).
SYSTEM_YAML = """
source_id: acme_system_load
dataset: demand
description: Acme Power's system load per service area, kW, local Central time, hour beginning.
files: acme/system_load_*.csv
csv: {delimiter: ";"}
shape: long
timestamp: {column: [Read Start (local)], format: yyyy-MM-dd HH:mm, time_zone: America/Chicago,
            convention: hour_beginning}
region: {from: column, column: [Service Area], map: {"Houston Metro": COAST}}
fields:
  demand_mw: {column: [Load kW], unit: kW, valid_range: [0, 50000000]}
"""
SYSTEM_ROWS = [
    ("2021-03-14 00:00", "Houston Metro", "9000"),
    ("2021-03-14 01:00", "Houston Metro", "9100"),
    ("2021-03-14 01:00", "Houston Metro", "9200"),  # the same hour again, another value: conflicting_duplicate
]


def _acme(tmp_path, yamls: dict[str, str]):
    """(lake settings, definitions): the given definitions and Acme's one CSV file of ROWS."""
    definitions_dir = tmp_path / "definitions"
    definitions_dir.mkdir()
    for name, text in yamls.items():
        (definitions_dir / f"{name}.yml").write_text(text)
    raw = tmp_path / "raw" / "acme"
    raw.mkdir(parents=True)
    lines = ["Read Start (local);Service Area;Feeder;Load kW"] + [";".join(r) for r in ROWS]
    (raw / "feeder_load_2021_03.csv").write_text("\n".join(lines) + "\n")
    return lake_over(tmp_path / "raw", tmp_path / "lake"), load_source_definitions(definitions_dir)


def test_new_source_by_yaml_only(spark, tmp_path):
    settings, definitions = _acme(tmp_path, {"acme_feeder_load": ACME_YAML, "acme_system_load": SYSTEM_YAML})
    system = ["Read Start (local);Service Area;Load kW"] + [";".join(r) for r in SYSTEM_ROWS]
    (tmp_path / "raw" / "acme" / "system_load_2021_03.csv").write_text("\n".join(system) + "\n")

    bronze = ingest_bronze(spark, settings, "acme-b1", definitions=definitions)
    assert sorted((f.path, f.rows) for f in bronze.ingested) == [
        ("acme/feeder_load_2021_03.csv", 9),
        ("acme/system_load_2021_03.csv", 3),
    ]
    build_silver(spark, settings, "acme-s1", definitions=definitions)

    both = lake.read(spark, settings, "silver_demand__hourly").toPandas()
    plain = both[both.source_id == "acme_system_load"]
    # Not summed, nor mixed with the feeder reads of the same region and hours; the first of a key wins.
    assert {str(r.interval_start_utc): r.demand_mw for r in plain.itertuples()} == pytest.approx(
        {"2021-03-14 06:00:00": 9.0, "2021-03-14 07:00:00": 9.1}
    )
    silver = both[both.source_id == "acme_feeder_load"]
    got = {(r.region_code, str(r.interval_start_utc)): r.demand_mw for r in silver.itertuples()}
    # Independent: kept reads summed per region and local hour, kW -> MW, CST = UTC-6 before 02:00, CDT = UTC-5 after.
    frame = pd.DataFrame(ROWS, columns=["start", "area", "feeder", "kw"])
    kept = frame.iloc[[0, 1, 2, 3, 7]].assign(
        region=["COAST", "COAST", "NCENT", "COAST", "COAST"], mw=lambda f: f.kw.astype(float) / 1000
    )
    utc = pd.to_datetime(kept.start).dt.tz_localize("America/Chicago").dt.tz_convert("UTC").dt.tz_localize(None)
    expected = kept.assign(utc=utc.astype(str)).groupby(["region", "utc"]).mw.sum().to_dict()
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected)
    assert got[("COAST", "2021-03-14 06:00:00")] == pytest.approx(4.0005)
    assert got[("COAST", "2021-03-14 08:00:00")] == pytest.approx(1.3)  # 03:00 CDT

    quarantine = lake.read(spark, settings, "silver__quarantine").toPandas()
    assert sorted(zip(quarantine.source_id, quarantine.source_row_number, quarantine.reason, strict=True)) == [
        ("acme_feeder_load", 6, "missing_value"),
        ("acme_feeder_load", 8, "unparseable_timestamp"),
        ("acme_feeder_load", 10, "unknown_region"),
        ("acme_system_load", 4, "conflicting_duplicate"),
    ]
    accounts = file_accounting_of(spark, settings).toPandas().set_index("source_id")
    assert accounts.loc["acme_system_load"][["rows_in", "rows_kept", "rows_quarantined"]].tolist() == [3, 2, 1]
    account = accounts.loc["acme_feeder_load"]
    assert (account.rows_in, account.rows_kept, account.rows_quarantined, account.rows_exact_duplicate) == (
        9,
        5,
        3,
        1,
    )


def test_a_file_two_definitions_match_is_ingested_once(spark, tmp_path):
    """Sources are ingested at once; a file whose path two definitions' globs match goes to one of them only, and the
    other reports it skipped (as a source-by-source run did), so the file log holds it once."""
    from databricks_jobs.bronze.ingest import INGESTED, SKIPPED
    from databricks_jobs.tables import BRONZE_INGESTED_FILES

    copy = ACME_YAML.replace("source_id: acme_feeder_load", "source_id: acme_feeder_load_copy")
    settings, definitions = _acme(tmp_path, {"acme_feeder_load": ACME_YAML, "acme_feeder_load_copy": copy})

    bronze = ingest_bronze(spark, settings, "acme-b2", definitions=definitions)
    assert sorted((f.status, f.path) for f in bronze.files) == sorted(
        [(SKIPPED, "acme/feeder_load_2021_03.csv"), (INGESTED, "acme/feeder_load_2021_03.csv")]
    )
    assert {f.source_id for f in bronze.files} == {"acme_feeder_load", "acme_feeder_load_copy"}
    (winner,) = [f.source_id for f in bronze.files if f.status == INGESTED]
    logged = lake.read(spark, settings, BRONZE_INGESTED_FILES.name).collect()
    assert [(r.source_id, r.source_file, r.status, r.rows) for r in logged] == [
        (winner, "acme/feeder_load_2021_03.csv", INGESTED, 9)
    ]
