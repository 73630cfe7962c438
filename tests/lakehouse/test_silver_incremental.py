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


LCD = "noaa_lcd_atlanta_2020"
WEATHER_SOURCES = ["noaa_isd_temperature", "noaa_lcd_v1"]


def silver_state(spark, settings) -> dict[str, list[tuple]]:
    """Silver's rows, quarantine and file log, without the batch ids and times that differ from run to run."""
    tables = {"silver_weather__hourly": (), "silver__quarantine": (), "silver__processed_files": ("processed_at_utc",)}
    state = {}
    for name, also_dropped in tables.items():
        frame = lake.read(spark, settings, name).drop("batch_id", *also_dropped)
        state[name] = sorted(tuple(r) for r in frame.collect())
    return state


def test_sources_of_one_table_in_one_pass_equal_one_pass_each(spark, sample_data, tmp_path):
    """Two weather sources pending together (one with conflicting duplicates quarantined after the transform, whose
    raw records come from Bronze; then one with a changed file) give exactly what building them one at a time gives,
    with one write of the Silver table instead of one per source."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_data / NOAA, raw / NOAA, ignore=shutil.ignore_patterns("austin*", "SOURCE.txt"))
    shutil.copytree(sample_data / LCD, raw / LCD, ignore=shutil.ignore_patterns("*.pdf", "SOURCE.txt"))
    dfw = raw / NOAA / "dfw_weather_hourly.csv"
    first_hour = dfw.read_text().splitlines()[1]
    with dfw.open("a") as file:  # the first hour again, with another value: a conflict only the fates can see
        file.write(first_hour.rsplit(",", 1)[0] + ",41.0\n")
    together, apart = lake_over(raw, tmp_path / "together"), lake_over(raw, tmp_path / "apart")

    def build(run: str) -> None:
        for settings in (together, apart):
            ingest_bronze(spark, settings, f"b{run}", WEATHER_SOURCES)
        build_silver(spark, together, f"s{run}", WEATHER_SOURCES)
        for source_id in WEATHER_SOURCES:
            build_silver(spark, apart, f"s{run}", [source_id])

    build("1")
    state = silver_state(spark, together)
    assert state == silver_state(spark, apart)
    quarantine = lake.read(spark, together, "silver__quarantine").toPandas()
    late = quarantine[quarantine.reason == "conflicting_duplicate"]
    assert late.source_row_number.tolist() == [8762] and late.raw_record.str.contains("41.0").all()
    assert {r[0] for r in state["silver_weather__hourly"]} == set(WEATHER_SOURCES)

    def appends(settings) -> int:
        history = lake.delta_table(spark, settings, "silver_weather__hourly").history().toPandas()
        return int((history.operation == "WRITE").sum())

    assert (appends(together), appends(apart)) == (1, 2)

    lines = dfw.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",39.5"
    dfw.write_text("\n".join(lines[:-1]) + "\n")  # the conflicting line gone, the first hour changed
    build("2")
    assert silver_state(spark, together) == silver_state(spark, apart)
    rows = lake.read(spark, together, "silver_weather__hourly").where("station_id = 'DFW'").toPandas()
    assert len(rows) == 8760 and set(rows.batch_id) == {"s2"}
    quarantine = lake.read(spark, together, "silver__quarantine").toPandas()
    assert (quarantine.reason == "conflicting_duplicate").sum() == 0


def test_a_small_pass_collected_on_the_driver_equals_a_staged_pass(spark, sample_data, tmp_path, monkeypatch):
    """A pass over few rows takes its candidates onto the driver, not into a staging table: the same Silver rows,
    quarantine (a conflicting duplicate's raw record read back from Bronze) and file accounts as a staged pass, for a
    first build and for a changed file that supersedes its older version."""
    from databricks_jobs.silver import build
    from databricks_jobs.tables import silver_staging

    raw = tmp_path / "raw"
    (raw / NOAA).mkdir(parents=True)
    dfw = raw / NOAA / "dfw_weather_hourly.csv"
    shutil.copy(sample_data / NOAA / "dfw_weather_hourly.csv", dfw)
    first_hour = dfw.read_text().splitlines()[1]
    with dfw.open("a") as file:  # 8,761 rows: under build.DRIVER_CANDIDATES
        file.write(first_hour.rsplit(",", 1)[0] + ",41.0\n")
    on_driver, staged = lake_over(raw, tmp_path / "driver"), lake_over(raw, tmp_path / "staged")
    candidates_table = silver_staging("silver_weather__hourly", "candidates")

    def build_both(run: str) -> None:
        for settings, raw_bytes in ((on_driver, build.DRIVER_RAW_BYTES), (staged, 0)):
            ingest_bronze(spark, settings, f"b{run}", SOURCE)
            with monkeypatch.context() as patch:
                patch.setattr(build, "DRIVER_RAW_BYTES", raw_bytes)
                build_silver(spark, settings, f"s{run}", SOURCE)

    build_both("1")
    assert [lake.exists(spark, s, candidates_table) for s in (on_driver, staged)] == [False, True]
    state = silver_state(spark, on_driver)
    assert state == silver_state(spark, staged)
    quarantined = [r for r in state["silver__quarantine"] if "conflicting_duplicate" in r]
    assert len(quarantined) == 1 and any("41.0" in str(v) for v in quarantined[0])
    assert len(state["silver_weather__hourly"]) == 8760

    lines = dfw.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",39.5"
    dfw.write_text("\n".join(lines[:-1]) + "\n")  # the conflicting line gone, the first hour changed
    build_both("2")
    state = silver_state(spark, on_driver)
    assert state == silver_state(spark, staged)
    assert not [r for r in state["silver__quarantine"] if "conflicting_duplicate" in r]
    # (source_id, station_id, region_code, interval_start_utc, temperature_c, source_file, source_row_number)
    assert [r[4] for r in state["silver_weather__hourly"] if r[6] == 2] == [39.5]
    assert len(state["silver_weather__hourly"]) == 8760
