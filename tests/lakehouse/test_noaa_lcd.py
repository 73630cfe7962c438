"""NOAA Local Climatological Data (the real KATL v1 file) onboarded by definition alone: report-type filter, a fixed
UTC offset, several reports an hour folded into the hour's mean, value flags kept or rejected by declaration.

The expected hourly series is computed here with pandas straight from the CSV, not with the pipeline's code.
"""

from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.lake import read as read_table
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

FILE = "noaa_lcd_atlanta_2020/LCDv1_KATL_72219013874_2020-01-01_to_2020-02-22.csv"
STATION = "72219013874"


def expected_hourly(frame: pd.DataFrame, keep_suspect: bool) -> dict[pd.Timestamp, float]:
    """Routine and special reports; 's' (suspect) stripped or the value dropped; '', M, * missing; DATE is UTC-5
    all year; each report belongs to the hour it falls in; the hour's value is the mean in degrees C."""
    reports = frame[frame.REPORT_TYPE.str.strip().isin(["FM-15", "FM-16"])]
    text = reports.HourlyDryBulbTemperature.str.strip()
    if keep_suspect:
        text = text.str.replace(r"s$", "", regex=True)
    celsius = (pd.to_numeric(text, errors="coerce") - 32) * 5 / 9
    hour = (pd.to_datetime(reports.DATE) + pd.Timedelta(hours=5)).dt.floor("h")
    return pd.DataFrame({"hour": hour, "c": celsius}).dropna().groupby("hour").c.mean().to_dict()


def _v2_layout(frame: pd.DataFrame) -> pd.DataFrame:
    """The same reports in the newer layout: GHCN-style station id, location columns, degrees C (one decimal)."""
    fahrenheit = pd.to_numeric(frame.HourlyDryBulbTemperature, errors="coerce")
    celsius = ((fahrenheit - 32) * 5 / 9).round(1).map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    return pd.DataFrame(
        {
            "STATION": "USW00013874",
            "DATE": frame.DATE,
            "LATITUDE": "33.6301",
            "LONGITUDE": "-84.4418",
            "ELEVATION": "308.2",
            "NAME": "ATLANTA HARTSFIELD JACKSON INTERNATIONAL AIRPORT, GA US",
            "REPORT_TYPE": frame.REPORT_TYPE,
            "SOURCE": frame.SOURCE,
            "HourlyDewPointTemperature": "",
            "HourlyDryBulbTemperature": celsius,
        }
    )


def _expected_v2(frame: pd.DataFrame) -> dict[pd.Timestamp, float]:
    reports = frame[frame.REPORT_TYPE.str.strip().isin(["FM-15", "FM-16"])]
    celsius = pd.to_numeric(reports.HourlyDryBulbTemperature, errors="coerce")
    hour = (pd.to_datetime(reports.DATE) + pd.Timedelta(hours=5)).dt.floor("h")
    return pd.DataFrame({"hour": hour, "c": celsius}).dropna().groupby("hour").c.mean().to_dict()


def _flagged(frame: pd.DataFrame) -> pd.DataFrame:
    """The first 40 rows with a suspect value (line 2: '40' -> '45s') and an 'M' (line 4)."""
    rows = frame.head(40).copy()
    rows.loc[0, "HourlyDryBulbTemperature"] = "45s"
    rows.loc[2, "HourlyDryBulbTemperature"] = "M"
    return rows


@pytest.fixture(scope="module")
def lake(spark, sample_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("lcd")
    raw = root / "raw"
    (raw / "noaa_lcd_atlanta_2020").mkdir(parents=True)
    shutil.copy(sample_data / FILE, raw / FILE)
    frame = pd.read_csv(sample_data / FILE, dtype=str, keep_default_na=False)
    for folder in ("flags_keep", "flags_reject"):
        (raw / folder).mkdir()
        _flagged(frame).to_csv(raw / folder / "LCDv1_flagged.csv", index=False)
    v2 = _v2_layout(frame)
    v2.to_csv(raw / "noaa_lcd_atlanta_2020" / "LCDv2_USW00013874_2020.csv", index=False)
    lcd = load_source_definitions()["noaa_lcd_v1"]
    (temperature,) = lcd.fields
    rejecting = dataclasses.replace(temperature, flags={"s": "reject"})
    definitions = {
        "noaa_lcd_v1": lcd,
        "noaa_lcd_v2": load_source_definitions()["noaa_lcd_v2"],
        "lcd_keep": dataclasses.replace(lcd, source_id="lcd_keep", files=("flags_keep/*.csv",)),
        "lcd_reject": dataclasses.replace(
            lcd, source_id="lcd_reject", files=("flags_reject/*.csv",), fields=(rejecting,)
        ),
    }
    settings = lake_over(raw, root / "lake")
    report = ingest_bronze(spark, settings, "lcd-b1", definitions=definitions)
    assert not report.failed, report.summary()
    build_silver(spark, settings, "lcd-s1", definitions=definitions)
    silver = read_table(spark, settings, "silver_weather__hourly").toPandas()
    quarantine = read_table(spark, settings, "silver__quarantine").toPandas()
    accounting = file_accounting_of(spark, settings).toPandas().set_index("source_file")
    return {"frame": frame, "v2": v2, "silver": silver, "quarantine": quarantine, "accounting": accounting}


def _series(silver: pd.DataFrame, source_id: str) -> dict[pd.Timestamp, float]:
    rows = silver[silver.source_id == source_id]
    assert (rows.station_id == STATION).all() and (rows.region_code == "ATL").all()  # v2's GHCN id mapped
    return dict(zip(rows.interval_start_utc, rows.temperature_c, strict=True))


def test_hourly_series_equals_pandas(lake):
    got = _series(lake["silver"], "noaa_lcd_v1")
    expected = expected_hourly(lake["frame"], keep_suspect=True)
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected)
    assert len(got) > 1200  # about 52 days of hours
    # 2020-01-01 00:52 local standard time (METAR 010552Z) is the 05:00 UTC hour: 40 F.
    assert got[pd.Timestamp("2020-01-01 05:00")] == pytest.approx((40 - 32) * 5 / 9)


def test_every_row_of_the_file_is_accounted_for(lake):
    frame = lake["frame"]
    quarantine = lake["quarantine"][lake["quarantine"].source_id == "noaa_lcd_v1"]
    reasons = quarantine.reason.value_counts().to_dict()
    reports = frame.REPORT_TYPE.str.strip().isin(["FM-15", "FM-16"])
    no_value = reports & frame.HourlyDryBulbTemperature.str.strip().isin(["", "M", "*"])
    assert reasons == {"excluded_by_filter": int((~reports).sum()), **({"missing_value": int(no_value.sum())}
                                                                        if no_value.any() else {})}  # fmt: skip
    assert reasons["excluded_by_filter"] == 210 + 52 + 1  # FM-12, SOD, SOM (SOURCE.txt)
    row = lake["accounting"].loc[FILE]
    hours = len(expected_hourly(frame, keep_suspect=True))
    assert (row.rows_in, row.rows_kept) == (len(frame), hours)
    assert row.rows_in == row.rows_kept + row.rows_quarantined + row.rows_exact_duplicate
    assert "REPORT_TYPE = 'SOD' is not in ['FM-15', 'FM-16']" in set(quarantine.detail)


def test_value_flags_are_kept_or_rejected_by_declaration(lake):
    flagged = _flagged(lake["frame"])
    assert _series(lake["silver"], "lcd_keep") == pytest.approx(expected_hourly(flagged, keep_suspect=True))
    assert _series(lake["silver"], "lcd_reject") == pytest.approx(expected_hourly(flagged, keep_suspect=False))
    quarantine = lake["quarantine"]
    rejected = quarantine[(quarantine.source_id == "lcd_reject") & (quarantine.reason == "flagged_value")]
    assert rejected.source_row_number.tolist() == [2]
    assert "HourlyDryBulbTemperature = '45s' carries a flag the source rejects (['s'])" in rejected.detail.iloc[0]
    kept_flag = quarantine[(quarantine.source_id == "lcd_keep") & (quarantine.source_row_number == 2)]
    assert kept_flag.empty
    missing = quarantine[(quarantine.source_id == "lcd_keep") & (quarantine.reason == "missing_value")]
    assert missing.source_row_number.tolist() == [4]


def test_the_newer_layout_needs_only_its_definition(lake):
    v2 = lake["v2"]
    got = _series(lake["silver"], "noaa_lcd_v2")
    expected = _expected_v2(v2)
    assert got.keys() == expected.keys() == _series(lake["silver"], "noaa_lcd_v1").keys()
    assert got == pytest.approx(expected)
    # The same weather as the v1 file, to the rounding of the layout's one decimal.
    v1 = _series(lake["silver"], "noaa_lcd_v1")
    assert max(abs(got[h] - v1[h]) for h in got) <= 0.05 + 1e-9
