"""Incremental Silver: a new file is the only one processed; a changed file supersedes its older version."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.silver.build import build_silver
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

NOAA = "noaa_isd_texas_2021_hourly_temp"
SOURCE = ["noaa_isd_temperature"]


def weather(spark, settings) -> pd.DataFrame:
    return lake.read(spark, settings, "silver_weather__hourly").toPandas()


def test_new_file_only_and_changed_file_supersedes(spark, sample_data, tmp_path):
    raw = tmp_path / "raw"
    (raw / NOAA).mkdir(parents=True)
    for name in ("houston", "dfw"):
        shutil.copy(sample_data / NOAA / f"{name}_weather_hourly.csv", raw / NOAA)
    settings = lake_over(raw, tmp_path / "lake")
    ingest_bronze(spark, settings, "b1", SOURCE)
    first = build_silver(spark, settings, "s1", SOURCE)
    assert sorted(f.source_file.split("/")[-1] for f in first.files) == [
        "dfw_weather_hourly.csv",
        "houston_weather_hourly.csv",
    ]

    shutil.copy(sample_data / NOAA / "austin_weather_hourly.csv", raw / NOAA)
    bronze = ingest_bronze(spark, settings, "b2", SOURCE)
    assert [f.path for f in bronze.ingested] == [f"{NOAA}/austin_weather_hourly.csv"]
    assert len(bronze.skipped) == 2
    second = build_silver(spark, settings, "s2", SOURCE)
    assert [f.source_file for f in second.files] == [f"{NOAA}/austin_weather_hourly.csv"]
    rows = weather(spark, settings)
    assert rows.groupby("station_id").batch_id.unique().map(list).to_dict() == {
        "AUSTIN": ["s2"],
        "DFW": ["s1"],
        "HOUSTON": ["s1"],
    }

    # Change one value and drop the last line of the DFW file: same path, new content.
    dfw = raw / NOAA / "dfw_weather_hourly.csv"
    lines = dfw.read_text().splitlines()
    assert lines[1] == "2021-01-01 00:00:00,3.3"
    lines[1] = "2021-01-01 00:00:00,39.5"
    dfw.write_text("\n".join(lines[:-1]) + "\n")
    bronze = ingest_bronze(spark, settings, "b3", SOURCE)
    assert [f.path for f in bronze.ingested] == [f"{NOAA}/dfw_weather_hourly.csv"]
    third = build_silver(spark, settings, "s3", SOURCE)
    assert third.superseded_files == [f"{NOAA}/dfw_weather_hourly.csv"]
    rows = weather(spark, settings)
    dfw_rows = rows[rows.station_id == "DFW"]
    assert len(dfw_rows) == 8759 and set(dfw_rows.batch_id) == {"s3"}
    assert dfw_rows.set_index("source_row_number").temperature_c[2] == 39.5
    assert len(rows) == 8760 * 2 + 8759
    accounting = file_accounting_of(spark, settings).toPandas().set_index("source_file")
    assert accounting.loc[f"{NOAA}/dfw_weather_hourly.csv"].rows_in == 8759
    assert len(accounting) == 3
