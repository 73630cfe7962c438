"""The real samples through Bronze and Silver, checked against independent pandas/csv computations."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

SOURCES = ["ercot_native_load", "eia930_cleaned", "eia930_original", "noaa_isd_temperature"]
ERCOT_FILE = "ercot_native_load_2021/ercot_native_load_2021.csv"
ZONES = ["COAST", "EAST", "FWEST", "NORTH", "NCENT", "SOUTH", "SCENT", "WEST", "ERCOT"]


def delta_versions(lake: Path) -> dict[str, int]:
    """Latest commit number of every Delta table under the lake root."""
    return {
        log.parent.name: max(int(p.stem) for p in log.glob("*.json"))
        for log in lake.glob("*/_delta_log")
        if not log.parent.name.startswith("_staging")
    }


@pytest.fixture(scope="module")
def sample_lake(spark, sample_data, tmp_path_factory):
    lake = tmp_path_factory.mktemp("sample-lake")
    settings = lake_over(sample_data, lake)
    bronze = ingest_bronze(spark, settings, "samples-b1", SOURCES)
    silver = build_silver(spark, settings, "samples-s1", SOURCES)
    return settings, lake, bronze, silver


def load(spark, settings, table: str) -> pd.DataFrame:
    return lake.read(spark, settings, table).toPandas()


def ercot_expected(sample_data: Path) -> pd.DataFrame:
    """Independent conversion of ERCOT's labels: hour ending, local Central time, '24:00' and the 'DST' repeat."""
    raw = pd.read_csv(sample_data / ERCOT_FILE, dtype=str)
    label = raw["Hour Ending"].str.strip()
    repeat = label.str.endswith(" DST")
    label = label.str.removesuffix(" DST")
    date = pd.to_datetime(label.str[:10], format="%m/%d/%Y")
    hour = label.str[11:13].astype(int)
    start_local = date + pd.to_timedelta(hour - 1, unit="h")  # hour ending -> hour beginning; 24 -> 23:00
    # In the repeated hour the unmarked label is the first (daylight) occurrence, the marked one the second.
    utc = start_local.dt.tz_localize("America/Chicago", ambiguous=(~repeat).to_numpy()).dt.tz_convert("UTC")
    raw["interval_start_utc"] = utc.dt.tz_localize(None)
    raw["line"] = range(2, len(raw) + 2)
    return raw


def test_bronze_holds_every_line_with_its_physical_line_number(spark, sample_lake, sample_data):
    settings, _, bronze, _ = sample_lake
    assert not bronze.failed
    for result in bronze.ingested:
        with open(sample_data / result.path, newline="") as handle:
            lines = handle.read().splitlines()
        assert result.rows == len(lines) - 1, result.path
    raw = lake.read(spark, settings, "bronze_ercot_native_load__raw_rows")
    lines = (sample_data / ERCOT_FILE).read_text().splitlines()
    picked = {
        r.source_row_number: r.raw_line for r in raw.where("source_row_number IN (2, 1732, 7443, 8761)").collect()
    }
    assert picked == {n: lines[n - 1] for n in (2, 1732, 7443, 8761)}
    assert picked[7443].startswith("11/07/2021 02:00 DST,")


def test_ercot_is_aligned_to_utc_hour_beginning(spark, sample_lake, sample_data):
    settings, *_ = sample_lake
    silver = load(spark, settings, "silver_demand__hourly")
    ercot = silver[silver.source_id == "ercot_native_load"]
    assert len(ercot) == 8760 * len(ZONES)
    expected = ercot_expected(sample_data).melt(
        id_vars=["interval_start_utc", "line"], value_vars=ZONES, var_name="region_code", value_name="demand"
    )
    merged = ercot.merge(expected, on=["region_code", "interval_start_utc"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["demand_mw"] == merged["demand"].astype(float)).all()
    assert (merged["source_row_number"] == merged["line"]).all()
    # By hand: line 2 '01/01/2021 01:00' = 00:00-01:00 CST = 06:00 UTC; spring '03/14/2021 04:00' = 03:00 CDT =
    # 08:00 UTC right after '02:00' = 01:00 CST = 07:00 UTC; fall '02:00' = 01:00 CDT = 06:00 UTC, '02:00 DST' =
    # 01:00 CST = 07:00 UTC; '12/31/2021 24:00' = 23:00 CST = 2022-01-01 05:00 UTC.
    coast = ercot[ercot.region_code == "COAST"].set_index("source_row_number")["interval_start_utc"]
    assert {n: str(coast[n]) for n in (2, 1731, 1732, 7442, 7443, 8761)} == {
        2: "2021-01-01 06:00:00",
        1731: "2021-03-14 07:00:00",
        1732: "2021-03-14 08:00:00",
        7442: "2021-11-07 06:00:00",
        7443: "2021-11-07 07:00:00",
        8761: "2022-01-01 05:00:00",
    }
    local_day = (
        coast.dt.tz_localize("UTC").dt.tz_convert("America/Chicago").dt.date.value_counts().rename(lambda d: str(d))
    )
    assert local_day["2021-03-14"] == 23 and local_day["2021-11-07"] == 25 and local_day["2021-12-31"] == 24
    assert set(local_day.drop(["2021-03-14", "2021-11-07"])) == {24}
    assert ercot.interval_end_utc.sub(ercot.interval_start_utc).eq(pd.Timedelta(hours=1)).all()


def test_eia_cleaned_keeps_raw_and_cleaned_values_apart(spark, sample_lake, sample_data):
    settings, *_ = sample_lake
    silver = load(spark, settings, "silver_demand__hourly")
    folder = sample_data / "eia930_hourly_demand/cleaned_2020_2024"
    for name, region in (("ERCO-COAS", "COAST"), ("ERCO-NCEN", "NCENT"), ("ERCO-SCEN", "SCENT")):
        raw = pd.read_csv(folder / f"{name}.csv", dtype=str)
        got = silver[(silver.source_id == "eia930_cleaned") & (silver.region_code == region)]
        got = got.set_index("interval_start_utc").sort_index()
        # UTC hour ending -> the hour starts one hour before the stamp.
        expected_index = pd.to_datetime(raw["date_time"]) - pd.Timedelta(hours=1)
        assert list(got.index) == list(expected_index)
        assert (got["demand_mw"].to_numpy() == raw["cleaned demand (MW)"].astype(float).to_numpy()).all()
        missing = raw["raw demand (MW)"] == "MISSING"
        assert got["reported_demand_mw"].isna().to_numpy().tolist() == missing.tolist()
        assert (got["imputation_category"].to_numpy() == raw["category"].to_numpy()).all()
        assert got["is_imputed"].tolist() == (raw["category"] != "OKAY").tolist()
    coast_missing = silver[(silver.source_id == "eia930_cleaned") & (silver.region_code == "COAST")]
    assert coast_missing["reported_demand_mw"].isna().sum() == 16  # SOURCE.txt: 16 MISSING in ERCO-COAS


def test_eia_original_missing_goes_to_quarantine(spark, sample_lake, sample_data):
    settings, *_ = sample_lake
    raw = pd.read_csv(sample_data / "eia930_hourly_demand/original_eia_2020_2024/ERCO.csv", dtype=str)
    missing_lines = [i + 2 for i in raw.index[raw["demand (MW)"].str.strip() == "MISSING"]]
    assert 16232 in missing_lines  # SOURCE.txt: "2021-11-07 06:00:00,MISSING"
    quarantine = load(spark, settings, "silver__quarantine")
    eia = quarantine[quarantine.source_id == "eia930_original"]
    assert sorted(eia.source_row_number) == missing_lines
    assert set(eia.reason) == {"missing_value"}
    silver = load(spark, settings, "silver_demand__hourly")
    kept = silver[silver.source_id == "eia930_original"]
    assert len(kept) == len(raw) - len(missing_lines) and set(kept.region_code) == {"ERCOT"}
    assert kept.demand_mw.sum() == pytest.approx(pd.to_numeric(raw["demand (MW)"], errors="coerce").sum())


def test_noaa_column_names_differ_per_file_and_stations_map_to_regions(spark, sample_lake, sample_data):
    settings, *_ = sample_lake
    weather = load(spark, settings, "silver_weather__hourly")
    folder = sample_data / "noaa_isd_texas_2021_hourly_temp"
    for station, region, column in (
        ("HOUSTON", "COAST", "temp_c"),
        ("DFW", "NCENT", "temp_c"),
        ("AUSTIN", "SCENT", "austin_temp_c"),
    ):
        raw = pd.read_csv(folder / f"{station.lower()}_weather_hourly.csv", dtype=str)
        got = weather[weather.station_id == station].sort_values("interval_start_utc")
        assert set(got.region_code) == {region}
        # UTC hour beginning: the stamp is the start of the hour, unchanged.
        assert list(got.interval_start_utc) == list(pd.to_datetime(raw["timestamp"]))
        assert (got.temperature_c.to_numpy() == raw[column].astype(float).to_numpy()).all()


def test_row_accounting_holds_for_every_file(spark, sample_lake, sample_data):
    settings, _, bronze, silver = sample_lake
    accounting = file_accounting_of(spark, settings).toPandas().set_index("source_file")
    for result in bronze.ingested:
        with open(sample_data / result.path, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            lines = sum(1 for _ in reader)
        wide = load_source_definitions()[result.source_id].shape == "wide"
        values_per_line = len(header) - 1 if wide else 1  # wide: a value per region column (all but the time)
        row = accounting.loc[result.path]
        assert row.rows_in == lines * values_per_line, result.path
        assert row.rows_in == row.rows_kept + row.rows_quarantined + row.rows_exact_duplicate
    assert accounting.loc[ERCOT_FILE].rows_in == 8760 * 9


def test_rerun_changes_nothing(spark, sample_lake):
    settings, lake, *_ = sample_lake
    before = delta_versions(lake)
    bronze = ingest_bronze(spark, settings, "samples-b2", SOURCES)
    silver = build_silver(spark, settings, "samples-s2", SOURCES)
    assert not bronze.ingested and not bronze.failed and len(bronze.skipped) == 8
    assert silver.files == []
    assert delta_versions(lake) == before
