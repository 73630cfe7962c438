"""DOE OE-417 (real 2021 and 2022 files): Bronze reads every event row, the outage transform types them.

Expected figures are counted here from the files with pandas/xlrd, independently of the pipeline's code.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings

import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.settings import LakeSettings
from databricks_jobs.sources import load_source_definitions

pytestmark = pytest.mark.spark


def transform_outages(bronze, definition):
    """Imported on use: silver.parsing builds Spark expressions at import, which needs the session to exist."""
    from databricks_jobs.silver.outages import transform_outages as transform
    from databricks_jobs.silver.parsing import bronze_headers

    return transform(bronze, definition, bronze_headers(bronze))


FILES = {2021: "doe_oe417/2021_Annual_Summary.xls", 2022: "doe_oe417/2022_Annual_Summary.xls"}


def _sheet(sample_data, year: int) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_excel(sample_data / FILES[year], header=1, dtype=object, engine="xlrd")


@pytest.fixture(scope="module")
def bronze(spark, sample_data, tmp_path_factory):
    lake_root = tmp_path_factory.mktemp("oe417-lake")
    settings = LakeSettings(raw_root=str(sample_data), lake_root=str(lake_root), export_root=str(lake_root / "export"))
    report = ingest_bronze(spark, settings, "b-oe417", source_ids=["doe_oe417"])
    assert not report.failed, report.summary()
    definition = load_source_definitions()["doe_oe417"]
    return lake.read(spark, settings, definition.bronze_table).cache()


@pytest.fixture(scope="module")
def candidates(bronze) -> pd.DataFrame:
    definition = load_source_definitions()["doe_oe417"]
    return transform_outages(bronze, definition).toPandas()


def test_every_event_row_is_read(bronze, sample_data):
    counts = {r.source_file: r["count"] for r in bronze.groupBy("source_file").count().collect()}
    assert counts == {FILES[2021]: 387, FILES[2022]: 390}
    for year in FILES:
        assert len(_sheet(sample_data, year)) == {2021: 387, 2022: 390}[year]


def test_no_row_is_lost_and_only_unknown_nerc_region_is_quarantined(candidates, bronze):
    assert len(candidates) == bronze.count()
    bad = candidates[candidates["reason"].notna()]
    # 2022 has one event whose NERC Region is 'RE' (no such region): the only row that cannot be placed.
    assert bad["reason"].tolist() == ["unknown_region"]
    assert "RE" in bad["detail"].iloc[0]


def test_unknown_customers_and_restorations(candidates, sample_data):
    for year, path in FILES.items():
        sheet = _sheet(sample_data, year)
        rows = candidates[candidates["source_file"] == path]
        customers_text = sheet["Number of Customers Affected"].astype(str).str.strip()
        assert rows["is_customers_unknown"].sum() == (customers_text == "Unknown").sum()
        restoration_text = sheet["Time of Restoration"].astype(str).str.strip()
        assert rows["is_open"].sum() == (restoration_text == "Unknown").sum()
    cells_2022 = _sheet(sample_data, 2022).astype(str)
    assert (cells_2022 == "Unknown ").sum().sum() == 2  # the trailing-space spelling, read as unknown above
    assert candidates.loc[candidates["is_customers_unknown"], "customers_affected"].isna().all()
    assert (candidates["customers_affected"] == 0).sum() > 100  # many OE-417 events affect no customers


def test_excel_serial_restoration_date(candidates):
    rows = candidates[candidates["raw_record"].str.contains('"Date of Restoration":"44641"')]
    assert len(rows) == 1
    restored = rows.iloc[0]["restored_at_utc"]
    started = rows.iloc[0]["started_at_utc"]
    assert restored.date() in (dt.date(2022, 3, 21), dt.date(2022, 3, 22))  # local 2022-03-21, in UTC
    assert started <= restored and not rows.iloc[0]["is_open"]


def test_local_times_follow_the_nerc_region_zone(candidates):
    first = candidates[(candidates["source_file"] == FILES[2021]) & (candidates["source_row_number"] == 3)].iloc[0]
    # 01/01/2021 07:04 in WECC (America/Los_Angeles, PST = UTC-8)
    assert first["region_code"] == "NERC_WECC"
    assert first["started_at_utc"] == pd.Timestamp("2021-01-01 15:04:00")
    assert first["duration_minutes"] == pytest.approx(1.0) and first["is_momentary"]


def test_multi_valued_nerc_region_takes_the_first(candidates):
    multi = candidates[candidates["region_reported"].str.contains("/", na=False)]
    assert len(multi) > 20
    first = multi["region_reported"].str.split("/").str[0].map(lambda r: f"NERC_{r.strip()}")
    assert (multi["region_code"] == first).all()


def test_exact_duplicate_rows_share_one_event_id(candidates, sample_data):
    for year, path in FILES.items():
        rows = candidates[(candidates["source_file"] == path) & candidates["reason"].isna()]
        sheet = _sheet(sample_data, year).astype(str)
        expected_distinct = len(sheet.drop_duplicates())
        unknown_region = len(candidates[(candidates["source_file"] == path) & candidates["reason"].notna()])
        assert rows["event_id"].nunique() == expected_distinct - unknown_region


def test_renamed_and_reordered_columns_read_the_same(spark, bronze, candidates):
    """A later year's layout: columns renamed to other known spellings and in another order."""
    renames = {
        "Date Event Began": "Event Date",
        "Time Event Began": "Event Time",
        "Date of Restoration": "Restoration Date",
        "Time of Restoration": "Restoration Time",
        "NERC Region": "NERC Regions",
        "Number of Customers Affected": "Customers Affected",
        "Event Type": "Event Category",
        "Area Affected": "Geographic Area",
    }
    rows = bronze.where("source_file like '%2021%'").toPandas()
    rows["raw_fields"] = [
        dict(reversed([(renames.get(k, k), v) for k, v in fields.items()])) for fields in rows["raw_fields"]
    ]
    renamed = spark.createDataFrame(rows, bronze.schema)
    definition = load_source_definitions()["doe_oe417"]
    again = transform_outages(renamed, definition).toPandas().sort_values("source_row_number", ignore_index=True)
    original = candidates[candidates["source_file"] == FILES[2021]].sort_values("source_row_number", ignore_index=True)
    columns = ["event_id", "region_code", "started_at_utc", "restored_at_utc", "customers_affected", "is_open", "cause"]
    pd.testing.assert_frame_equal(again[columns], original[columns])
    assert json.loads(again["raw_record"].iloc[0]).get("Event Date") == "01/01/2021"
