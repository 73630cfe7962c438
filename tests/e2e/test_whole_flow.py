"""The whole flow on the real samples, twice over: on the embedded defaults (landing and export folders, every sample)
and through the S3 API server (moto on 127.0.0.1: boto3 lands one source of each dataset, Spark reads raw and writes
the export over s3a://).
Each time with local Spark + Delta and the local warehouse: the export is verified and loaded by the load procedure,
and the app's view figures are checked against the Gold Delta tables (and recomputed from Gold with pandas). A second
run changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from databricks_jobs import lake
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import GOLD_DEMAND_DAILY, GOLD_RELIABILITY_YEARLY, GOLD_TABLES
from tests.e2e.conftest import S3_FLOW_SAMPLES

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def _gold_table(spark, flow, name: str):
    return lake.read(spark, LakeSettings(lake_root=flow["config"].lake_root), name)


def _gold(spark, flow, name: str) -> pd.DataFrame:
    return _gold_table(spark, flow, name).toPandas()


def test_export_in_the_stage_is_the_loaded_batch(flow):
    config, batch = flow["config"], flow["first"].batch_id
    manifest = json.loads((config.stage_dir / batch / "_manifest.json").read_text())
    assert manifest == flow["first"].manifest and manifest["mode"] == "full"
    # The flow ran twice; nothing changed in Gold the second time, so no new batch: LATEST still names the first,
    # and the load found it loaded already.
    assert (config.stage_dir / "LATEST").read_text().strip() == batch
    assert flow["first"].load["status"] == "LOADED"
    second = flow["second"]
    assert not second.exported and not (config.stage_dir / second.batch_id).exists()
    assert (second.load["status"], second.load["batch_id"]) == ("SKIPPED", batch)


def test_s3_holds_the_landed_samples_and_the_complete_export(s3_flow):
    from local_platform.s3.client import s3_client
    from local_platform.s3.landing import read_latest_batch_id, read_verified_manifest

    s3 = s3_flow["config"].s3
    client = s3_client(s3)
    landed = client.list_objects_v2(Bucket=s3.landing_bucket, Prefix=f"{s3.landing_prefix}/")["Contents"]
    sample_files = [p for p in s3_flow["config"].raw_source.rglob("*") if p.is_file()]
    assert {p.relative_to(s3_flow["config"].raw_source).parts[0] for p in sample_files} == set(S3_FLOW_SAMPLES)
    assert len(landed) == len(sample_files) == len(s3_flow["first"].landed.uploaded)
    assert sum(o["Size"] for o in landed) == sum(p.stat().st_size for p in sample_files)
    assert s3_flow["second"].landed.uploaded == []
    # The first run's batch is complete in the bucket; the second run changed nothing, exported nothing.
    assert read_latest_batch_id(client, s3) == s3_flow["first"].batch_id
    assert read_verified_manifest(client, s3, s3_flow["first"].batch_id) == s3_flow["first"].manifest
    assert not s3_flow["second"].exported
    second_batch = client.list_objects_v2(
        Bucket=s3.curated_bucket, Prefix=f"{s3.curated_prefix}/{s3_flow['second'].batch_id}/"
    )
    assert second_batch.get("KeyCount", 0) == 0


def test_row_counts_reconcile_gold_manifest_and_curated(spark, flow):
    manifest_rows = {t["name"]: t["row_count"] for t in flow["first"].manifest["tables"]}
    curated = dict(flow["views"]["CURATED_COUNTS"].itertuples(index=False))
    for contract in GOLD_TABLES:
        gold_rows = _gold_table(spark, flow, contract.name).count()
        assert manifest_rows[contract.name] == gold_rows, contract.name
        assert curated[contract.name] == gold_rows, contract.name
    assert sum(manifest_rows.values()) > 0


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.rename(columns=str.lower)
    for key in keys:
        if "date" in key:
            frame[key] = pd.to_datetime(frame[key]).dt.date
    return frame.set_index(keys).sort_index()


def test_daily_demand_view_equals_gold(spark, flow):
    keys = list(GOLD_DEMAND_DAILY.primary_key)
    gold = _keyed(_gold(spark, flow, GOLD_DEMAND_DAILY.name), keys)
    view = _keyed(flow["views"]["DAILY_DEMAND"], keys)
    assert len(gold) > 1000 and view.index.equals(gold.index)
    for column in ("energy_mwh", "peak_demand_mw", "min_demand_mw", "load_factor", "completeness_pct"):
        np.testing.assert_allclose(view[column].astype(float), gold[column].astype(float), rtol=1e-9, err_msg=column)
    assert (view["hours_reported"].astype(int) == gold["hours_reported"]).all()


def test_monthly_load_factor_view_equals_pandas_from_gold(spark, flow):
    """LOAD_FACTOR = energy / (peak x hours) per local calendar month, recomputed here from Gold daily rows."""
    daily = _gold(spark, flow, GOLD_DEMAND_DAILY.name).dropna(subset=["energy_mwh"])
    daily["period_start_date"] = pd.to_datetime(daily["date_local"]).dt.to_period("M").dt.start_time.dt.date
    expected = daily.groupby(["source_id", "region_code", "period_start_date"]).agg(
        energy_mwh=("energy_mwh", "sum"), peak_demand_mw=("peak_demand_mw", "max"), hours=("hours_reported", "sum")
    )
    expected["load_factor"] = expected["energy_mwh"] / (expected["peak_demand_mw"] * expected["hours"])
    view = _keyed(flow["views"]["LOAD_FACTOR_MONTHLY"], ["source_id", "region_code", "period_start_date"])
    assert view.index.equals(expected.index)
    np.testing.assert_allclose(view["energy_mwh"].astype(float), expected["energy_mwh"], rtol=1e-9)
    np.testing.assert_allclose(view["load_factor"].astype(float), expected["load_factor"], rtol=1e-9)


def test_reliability_yearly_view_equals_gold(spark, flow):
    keys = list(GOLD_RELIABILITY_YEARLY.primary_key)
    gold = _keyed(_gold(spark, flow, GOLD_RELIABILITY_YEARLY.name), keys)
    view = _keyed(flow["views"]["RELIABILITY_YEARLY"], keys)
    assert view.index.equals(gold.index)
    for column in ("saidi_w_major_event_days_minutes", "saifi_wo_major_event_days", "major_event_days"):
        np.testing.assert_allclose(
            view[column].astype(float), gold[column].astype(float), rtol=1e-9, equal_nan=True, err_msg=column
        )


def test_hourly_and_outage_views_hold_every_gold_row(spark, flow):
    assert len(flow["views"]["HOURLY_DEMAND"]) == _gold(spark, flow, "gold_demand__hourly_weather").shape[0]
    assert len(flow["views"]["OUTAGE_EVENTS"]) == _gold(spark, flow, "gold_outages__events").shape[0]


def test_second_run_uploads_nothing_and_changes_no_figure(flow):
    second = flow["second"]
    assert second.batch_id != flow["first"].batch_id
    for name in (name for name in flow["views"] if name != "CURATED_COUNTS"):
        # Text form: sorts rows with nulls in any column; a changed figure still shows as a changed string.
        before = flow["views"][name].drop(columns=["BATCH_ID"], errors="ignore").astype(str)
        after = flow["views_after_second_run"][name].drop(columns=["BATCH_ID"], errors="ignore").astype(str)
        columns = list(before.columns)
        pd.testing.assert_frame_equal(
            after.sort_values(columns).reset_index(drop=True),
            before.sort_values(columns).reset_index(drop=True),
            obj=name,
        )
    assert flow["views_after_second_run"]["CURATED_COUNTS"].equals(flow["views"]["CURATED_COUNTS"])
    assert sum(second.seconds.values()) < sum(flow["first"].seconds.values())
