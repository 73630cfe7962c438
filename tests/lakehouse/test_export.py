"""Export: Parquet + manifest + LATEST, verified; TIMESTAMP_NTZ in the files; tampering is caught and named."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from databricks_jobs import lake
from databricks_jobs.export import ExportVerificationError, export_gold, verify_export
from databricks_jobs.gold.runner import build_gold
from databricks_jobs.settings import LakeSettings
from databricks_jobs.storage import S3Access
from databricks_jobs.tables import GOLD_TABLES, SILVER_DEMAND_HOURLY, SILVER_WEATHER_HOURLY
from snowpark.energy_snowpark.load_manifest import parse_manifest

pytestmark = pytest.mark.spark

BATCH = "20261125T201500Z-3f9a1c2b"


@pytest.fixture(scope="module")
def exported(spark, tmp_path_factory) -> LakeSettings:
    root = tmp_path_factory.mktemp("export-test")
    settings = LakeSettings(lake_root=str(root / "lake"), export_root=str(root / "export"))
    start = datetime(2021, 11, 6, 0)  # spans the fall-back day
    demand = [
        ("s", "COAST", start + timedelta(hours=i), start + timedelta(hours=i + 1), 900.0 + i, 900.0 + i, None, False)
        + ("f.csv", i, BATCH)
        for i in range(60)
    ]
    weather = [
        ("noaa", "HOUSTON", "COAST", start + timedelta(hours=i), 20.0 - i / 10, "w.csv", i, BATCH) for i in range(60)
    ]
    for rows, contract in ((demand, SILVER_DEMAND_HOURLY), (weather, SILVER_WEATHER_HOURLY)):
        lake.append(spark, settings, contract, spark.createDataFrame(rows, contract.spark_schema()))
    build_gold(
        spark,
        settings,
        BATCH,
        tables=[t.name for t in GOLD_TABLES[:4]],
        log=lambda _: None,
    )
    export_gold(spark, settings, BATCH, log=lambda _: None)
    return settings


def test_layout_manifest_and_latest(exported):
    root = Path(exported.export_root)
    assert (root / "LATEST").read_text().strip() == BATCH
    manifest = json.loads((root / BATCH / "_manifest.json").read_text())
    assert manifest["manifest_version"] == 2 and manifest["batch_id"] == BATCH and manifest["format"] == "parquet"
    assert manifest["mode"] == "full" and manifest["base_batch_id"] is None
    assert [t["name"] for t in manifest["tables"]] == [t.name for t in GOLD_TABLES]
    for entry in manifest["tables"]:
        on_disk = sorted(p.name for p in (root / BATCH / entry["name"]).glob("part-*.parquet"))
        assert [f["path"] for f in entry["files"]] == [f"{entry['name']}/{n}" for n in on_disk]
        assert sum(f["row_count"] for f in entry["files"]) == entry["row_count"]
    daily = next(t for t in manifest["tables"] if t["name"] == "gold_demand__daily")
    assert daily["primary_key"] == ["source_id", "region_code", "date_local"]
    assert {"name": "peak_interval_start_utc", "type": "timestamp", "nullable": True} in daily["columns"]
    # 60 hours from 2021-11-06 00:00 UTC = Nov 5 19:00 CDT .. Nov 8 04:00 CST -> 4 local days.
    assert daily["row_count"] == 4
    assert verify_export(exported.export_root, s3=S3Access())["batch_id"] == BATCH
    # A full batch carries every table with at least one file, an empty table as one empty file: the load's rule.
    assert any(entry["row_count"] == 0 for entry in manifest["tables"])
    assert all(entry["files"] for entry in manifest["tables"])
    loaded = parse_manifest(json.dumps(manifest), BATCH)
    assert {t.name for t in loaded.tables} == {t.name for t in GOLD_TABLES}


def test_parquet_equals_gold_delta_tables(spark, exported):
    batch_root = Path(exported.export_root) / BATCH
    for contract in GOLD_TABLES[:4]:  # regions, daily, hourly profile, hourly weather
        key = list(contract.primary_key)
        from_parquet = pd.read_parquet(batch_root / contract.name).sort_values(key).reset_index(drop=True)
        delta = lake.read(spark, exported, contract.name).toPandas()
        delta = delta.sort_values(key).reset_index(drop=True)
        assert len(delta) > 0
        for column in delta.columns:
            if pd.api.types.is_datetime64_any_dtype(delta[column]):
                delta[column] = delta[column].astype("datetime64[us]")
                from_parquet[column] = from_parquet[column].astype("datetime64[us]")
        pd.testing.assert_frame_equal(from_parquet, delta, check_dtype=False)


def test_timestamps_are_ntz_and_read_back_as_utc_wall_clock(exported):
    folder = Path(exported.export_root) / BATCH / "gold_demand__hourly_weather"
    (part,) = folder.glob("part-*.parquet")
    schema = pq.ParquetFile(part).schema  # the Parquet (not Arrow) schema: logical types as written
    for name in ("interval_start_utc", "interval_start_local"):
        logical = schema.column(schema.names.index(name)).logical_type
        assert logical.type == "TIMESTAMP"
        written = json.loads(logical.to_json())
        assert (written["isAdjustedToUTC"], written["timeUnit"]) == (False, "microseconds")
    table = pq.read_table(part).to_pandas().sort_values("interval_start_utc")
    first = table.iloc[0]
    # The first hour is 2021-11-06 00:00 UTC = 2021-11-05 19:00 CDT (UTC-5), as naive wall clocks.
    assert first["interval_start_utc"] == pd.Timestamp("2021-11-06 00:00:00")
    assert first["interval_start_local"] == pd.Timestamp("2021-11-05 19:00:00")
    assert first["temperature_c"] == 20.0
    # The repeated 01:00 of the fall-back day appears twice in local time, once each in CDT and CST.
    assert (table["interval_start_local"] == pd.Timestamp("2021-11-07 01:00:00")).sum() == 2


def tampered_copy(exported: LakeSettings, tmp_path: Path) -> Path:
    copy = tmp_path / "export"
    shutil.copytree(exported.export_root, copy)
    return copy


def test_verify_names_a_missing_file(exported, tmp_path):
    copy = tampered_copy(exported, tmp_path)
    (part,) = (copy / BATCH / "gold_demand__daily").glob("part-*.parquet")
    size = part.stat().st_size
    assert verify_export(str(copy), read_back=False, s3=S3Access())["batch_id"] == BATCH
    # Storage only (the pipeline's check of a batch it has just written and read back): sizes and presence.
    part.write_bytes(part.read_bytes() + b"x")
    with pytest.raises(ExportVerificationError, match=f"{part.name}: {size + 1} bytes, manifest says {size}"):
        verify_export(str(copy), read_back=False, s3=S3Access())
    part.unlink()
    for read_back in (False, True):
        with pytest.raises(ExportVerificationError, match=f"gold_demand__daily: file {part.name} is in the manifest"):
            verify_export(str(copy), read_back=read_back, s3=S3Access())


def test_verify_names_a_wrong_row_count(exported, tmp_path):
    copy = tampered_copy(exported, tmp_path)
    manifest_path = copy / BATCH / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    daily = next(t for t in manifest["tables"] if t["name"] == "gold_demand__daily")
    daily["files"][0]["row_count"] += 1
    manifest_path.write_text(json.dumps(manifest))
    # A manifest whose table total disagrees with its files is refused as malformed, before any data is read.
    with pytest.raises(ExportVerificationError, match=r"gold_demand__daily: row_count 4 != its files' sum 5"):
        verify_export(str(copy), BATCH, s3=S3Access())
    daily["row_count"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ExportVerificationError, match=r"gold_demand__daily/part-.*: 4 rows, manifest says 5"):
        verify_export(str(copy), BATCH, s3=S3Access())


def test_verify_names_a_foreign_file_and_an_incomplete_batch(exported, tmp_path):
    copy = tampered_copy(exported, tmp_path)
    folder = copy / BATCH / "gold_reference__regions"
    (part,) = folder.glob("part-*.parquet")
    # A data file Spark would read that the manifest does not list: the batch is not what its manifest says.
    shutil.copy(part, folder / "part-99999-stray.parquet")
    with pytest.raises(ExportVerificationError, match="gold_reference__regions: file part-99999-stray.parquet holds"):
        verify_export(str(copy), s3=S3Access())
    (copy / BATCH / "_manifest.json").unlink()
    with pytest.raises(ExportVerificationError, match="_manifest.json is missing"):
        verify_export(str(copy), BATCH, s3=S3Access())


def test_a_retried_export_verifies_the_complete_batch_and_finishes_latest(spark, exported, tmp_path):
    copy = tampered_copy(exported, tmp_path)
    settings = LakeSettings(lake_root=exported.lake_root, export_root=str(copy))
    (copy / "LATEST").write_text("20200101T000000Z-00000000\n")  # the attempt died before writing LATEST
    files = {p: p.stat().st_mtime_ns for p in (copy / BATCH).rglob("*.parquet")}
    manifest = export_gold(spark, settings, BATCH, log=lambda _: None)
    assert manifest == json.loads((copy / BATCH / "_manifest.json").read_text())
    assert (copy / "LATEST").read_text().strip() == BATCH
    assert {p: p.stat().st_mtime_ns for p in (copy / BATCH).rglob("*.parquet")} == files  # nothing rewritten
    next((copy / BATCH / "gold_demand__daily").glob("part-*.parquet")).unlink()
    with pytest.raises(ExportVerificationError, match="gold_demand__daily: file part-.* is in the manifest"):
        export_gold(spark, settings, BATCH, log=lambda _: None)
