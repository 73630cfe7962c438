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
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.settings import LakeSettings
from databricks_jobs.sources import load_source_definitions

pytestmark = pytest.mark.spark


def transform_outages(bronze, definition, fields):
    """Imported on use: silver.parsing builds Spark expressions at import, which needs the session to exist."""
    from databricks_jobs.silver.outages import transform_outages as transform

    return transform(bronze, definition, fields, load_regions())


FILES = {2021: "doe_oe417/2021_Annual_Summary.xls", 2022: "doe_oe417/2022_Annual_Summary.xls"}


def _sheet(sample_data, year: int) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_excel(sample_data / FILES[year], header=1, dtype=object, engine="xlrd")


@pytest.fixture(scope="module")
def bronze_lake(spark, sample_data, tmp_path_factory):
    lake_root = tmp_path_factory.mktemp("oe417-lake")
    settings = LakeSettings(raw_root=str(sample_data), lake_root=str(lake_root), export_root=str(lake_root / "export"))
    report = ingest_bronze(spark, settings, "b-oe417", source_ids=["doe_oe417"])
    assert not report.failed, report.summary()
    definition = load_source_definitions()["doe_oe417"]
    return lake.read(spark, settings, definition.bronze_table).cache(), settings


@pytest.fixture(scope="module")
def bronze(bronze_lake):
    return bronze_lake[0]


@pytest.fixture(scope="module")
def fields(spark, bronze_lake):
    """How the files' lines split: the headers Bronze logged for them."""
    from databricks_jobs.silver.build import logged_fields

    return logged_fields(spark, bronze_lake[1], "doe_oe417")


@pytest.fixture(scope="module")
def candidates(bronze, fields) -> pd.DataFrame:
    definition = load_source_definitions()["doe_oe417"]
    return transform_outages(bronze, definition, fields).toPandas()


def test_every_event_row_is_read(bronze, sample_data):
    counts = {r.source_file: r["count"] for r in bronze.groupBy("source_file").count().collect()}
    assert counts == {FILES[2021]: 387, FILES[2022]: 390}
    for year in FILES:
        assert len(_sheet(sample_data, year)) == {2021: 387, 2022: 390}[year]


def test_no_row_is_lost_and_none_is_quarantined(candidates, bronze):
    assert len(candidates) == bronze.count()
    assert candidates["reason"].isna().all(), candidates.loc[candidates["reason"].notna(), "detail"].tolist()
    # 2022's one event whose NERC Region is 'RE ' (Texas RE, a region alias) is placed in Texas.
    short = candidates[candidates["region_reported"].str.strip() == "RE"]
    assert len(short) == 1 and short["region_code"].iloc[0] == "NERC_TRE"


def _restoration_unreadable(sheet: pd.DataFrame) -> pd.Series:
    """Independently: no restoration instant can be built when the date or the time cell is not a date / time."""
    date_ok = sheet["Date of Restoration"].map(lambda v: isinstance(v, (int, float, dt.date)) or "/" in str(v))
    time_ok = sheet["Time of Restoration"].map(lambda v: isinstance(v, dt.time))
    return ~(date_ok & time_ok)


def test_unknown_customers_and_restorations(candidates, sample_data):
    for year, path in FILES.items():
        sheet = _sheet(sample_data, year)
        rows = candidates[candidates["source_file"] == path]
        customers_text = sheet["Number of Customers Affected"].astype(str).str.strip()
        assert rows["is_customers_unknown"].sum() == (customers_text == "Unknown").sum()
        # An annual summary has no event still out: an 'Unknown' restoration is unknown, not open.
        expected = _restoration_unreadable(sheet).sum()
        assert rows["is_restoration_unknown"].sum() == expected == {2021: 52, 2022: 55}[year]
        assert not rows["is_open"].any()
        unknown = rows[rows["is_restoration_unknown"]]
        assert unknown["restored_at_utc"].isna().all() and unknown["duration_minutes"].isna().all()
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
    assert len(multi) == 18 + 29  # 2021 and 2022, counted from the files' NERC Region values
    first = multi["region_reported"].str.split("/").str[0].map(lambda r: f"NERC_{r.strip()}")
    assert (multi["region_code"] == first).all()


def test_exact_duplicate_rows_share_one_event_id(candidates, sample_data):
    for year, path in FILES.items():
        rows = candidates[(candidates["source_file"] == path) & candidates["reason"].isna()]
        sheet = _sheet(sample_data, year).astype(str)
        expected_distinct = len(sheet.drop_duplicates())
        assert rows["event_id"].nunique() == expected_distinct


def test_renamed_and_reordered_columns_read_the_same(spark, bronze, fields, candidates):
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
    from databricks_jobs.silver.parsing import RawFields

    rows = bronze.where("source_file like '%2021%'").toPandas()
    header = [renames.get(h, h) for h in fields.header_of(FILES[2021])]
    rows["raw_line"] = [json.dumps(list(reversed(json.loads(line)))) for line in rows["raw_line"]]
    renamed = spark.createDataFrame(rows, bronze.schema)
    definition = load_source_definitions()["doe_oe417"]
    reordered = RawFields.of({FILES[2021]: list(reversed(header))})
    again = (
        transform_outages(renamed, definition, reordered).toPandas().sort_values("source_row_number", ignore_index=True)
    )
    original = candidates[candidates["source_file"] == FILES[2021]].sort_values("source_row_number", ignore_index=True)
    columns = ["event_id", "region_code", "started_at_utc", "restored_at_utc", "customers_affected", "is_open", "cause"]
    pd.testing.assert_frame_equal(again[columns], original[columns])
    assert json.loads(again["raw_record"].iloc[0]).get("Event Date") == "01/01/2021"


# A later year's layout, as DOE has changed it: renamed columns, times without seconds, single-digit dates,
# regions separated by ',' or ' / ', short names, restorations as words, dates alone or nothing.
LATER_YEAR = [
    # (row, NERC region, start date, start time, restoration date, restoration time)
    (3, "MRO, RF", "03/04/2023", "14:30", "03/04/2023", "16:00:00"),
    (4, "SERC / RF", "7/1/2023", "9:05", "07/02/2023", "Unknown"),
    (5, "TRE,SERC", "07/03/2023", "10:00:00", "Unkown", "Unkown"),
    (6, "RE", "07/04/2023", "10:00", "", ""),
    (7, "WECC", "", "10:00", "07/05/2023", "11:00"),
    (8, "WECC", "Unknown", "Unknown", "Unknown", "Unknown"),
    (9, "WECC", "07/06/2023", "10:00", "07/06/2023", "25:99"),
]


@pytest.fixture(scope="module")
def later_year(spark, bronze) -> dict[int, object]:
    from databricks_jobs.silver.parsing import RawFields

    template = bronze.limit(1).toPandas()
    rows = []
    for row, region, date, time, restored_date, restored_time in LATER_YEAR:
        fields = {
            "Event Date": date,
            "Event Time": time,
            "Restoration Date": restored_date,
            "Restoration Time": restored_time,
            "NERC Regions": region,
            "Customers Affected": "100",
            "Event Category": "Severe Weather",
        }
        line = {"source_row_number": row, "raw_line": json.dumps(list(fields.values())), "field_count": len(fields)}
        rows.append(template.iloc[0].to_dict() | line)
    frame = spark.createDataFrame(pd.DataFrame(rows), bronze.schema)
    definition = load_source_definitions()["doe_oe417"]
    layout = RawFields.of({template.source_file.iloc[0]: list(fields)})
    return {r.source_row_number: r for r in transform_outages(frame, definition, layout).collect()}


def test_later_year_regions_and_times(later_year):
    first = later_year[3]  # 14:30 CST in MRO (America/Chicago) -> 20:30 UTC; restored 16:00 -> 90 minutes
    assert (first.reason, first.region_code, first.region_reported) == (None, "NERC_MRO", "MRO, RF")
    assert first.started_at_utc == dt.datetime(2023, 3, 4, 20, 30) and first.duration_minutes == pytest.approx(90.0)
    assert not first.is_restoration_unknown and not first.is_open
    second = later_year[4]  # 9:05 EDT in SERC (America/New_York) -> 13:05 UTC
    assert (second.region_code, second.started_at_utc) == ("NERC_SERC", dt.datetime(2023, 7, 1, 13, 5))
    assert later_year[5].region_code == "NERC_TRE" and later_year[6].region_code == "NERC_TRE"


@pytest.mark.parametrize("row", [4, 5, 6])
def test_later_year_unknown_restorations_keep_the_event(later_year, row):
    """A date alone (4), a misspelt 'Unknown' (5) and empty cells (6, an annual summary has no open events)."""
    event = later_year[row]
    assert event.reason is None and event.is_restoration_unknown and not event.is_open
    assert event.restored_at_utc is None and event.duration_minutes is None and event.customers_affected == 100


def test_later_year_rows_without_a_start_or_with_a_garbled_restoration_stay_quarantined(later_year):
    assert {r: later_year[r].reason for r in (7, 8, 9)} == dict.fromkeys((7, 8, 9), "unparseable_timestamp")
    assert "event start" in later_year[7].detail and "event start <missing>" in later_year[8].detail
    assert "restoration 07/06/2023 25:99 unreadable" in later_year[9].detail
