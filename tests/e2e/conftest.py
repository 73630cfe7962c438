"""The end-to-end fixtures: the whole flow on the real samples (run once for the package), and the session's Spark
pointed at the real S3 API server (moto) on 127.0.0.1 that tests/conftest.py starts."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from databricks_jobs.tables import GOLD_TABLES
from local_platform.flow import FlowConfig, run_flow
from local_platform.s3.server import free_port
from local_platform.s3.settings import S3Settings


@pytest.fixture()
def s3_spark(spark, s3_settings):
    """The session's Spark with s3a aimed at the moto server (configured at runtime: Spark may already be running)."""
    from databricks_jobs.spark_session import s3a_settings
    from local_platform.s3.spark import configure_s3a

    configure_s3a(spark, s3a_settings(s3_settings.access), (s3_settings.landing_bucket, s3_settings.curated_bucket))
    return spark


# The change between two runs of the synthetic utility (seed 11): one interval value becomes the year's peak, one
# outage event is removed from its export.
CHANGED_EVENT = "SYN-N-2025-00001"


def change_raw_files(raw: Path) -> None:
    """One interval value becomes the year's peak; one outage event is removed from its export."""
    load = raw / "synthetic_utility" / "interval_load" / "interval_load_SYN_NORTH_2025.csv"
    header, first, *rest = load.read_text().splitlines(keepends=True)
    load.write_text(header + ",".join([*first.split(",")[:3], "9999999.0\n"]) + "".join(rest))
    oms = raw / "synthetic_utility" / "oms_outages" / "oms_outages_2025.csv"
    lines = oms.read_text().splitlines(keepends=True)
    oms.write_text("".join(line for line in lines if not line.startswith(CHANGED_EVENT)))


E2E_VIEWS = ("DAILY_DEMAND", "RELIABILITY_YEARLY", "LOAD_FACTOR_MONTHLY", "HOURLY_DEMAND", "OUTAGE_EVENTS")


@pytest.fixture(scope="package")
def folder_flow(tmp_path_factory, spark, sample_data):
    """The embedded default: landing and export are local folders."""
    config = FlowConfig(s3=None, raw_source=sample_data, **_local_parts(tmp_path_factory.mktemp("folder-flow")))
    yield from _run_twice(config, spark)


# The samples the S3 flow lands: one source of each dataset (load, weather, outage events) and both file containers
# (CSV, the OE-417 .xls workbooks). The transport is one code path for every file; the folder flow (and the app's
# test on it) carries every sample, and the S3 flow would double the package's time to prove the transport again.
S3_FLOW_SAMPLES = ("ercot_native_load_2021", "noaa_isd_texas_2021_hourly_temp", "doe_oe417")


@pytest.fixture(scope="package")
def s3_flow(tmp_path_factory, spark, sample_data, moto_server):
    """Through the S3 API server: boto3 lands the samples, Spark reads them and writes the export over s3a://, and
    the stage is downloaded from the bucket after the manifest is verified against it."""
    suffix = uuid.uuid4().hex[:8]
    s3 = moto_server.settings(S3Settings(landing_bucket=f"landing-{suffix}", curated_bucket=f"curated-{suffix}"))
    root = tmp_path_factory.mktemp("s3-flow")
    raw = root / "raw"
    for folder in S3_FLOW_SAMPLES:
        shutil.copytree(sample_data / folder, raw / folder)
    config = FlowConfig(s3=s3, raw_source=raw, create_buckets=True, **_local_parts(root))
    yield from _run_twice(config, spark)


@pytest.fixture(params=["folders", "s3"])
def flow(request):
    """Each whole-flow check runs on both: the embedded default and the S3 API server."""
    return request.getfixturevalue(f"{'folder' if request.param == 'folders' else 's3'}_flow")


def _local_parts(root) -> dict:
    return {"lake_root": str(root / "lake"), "stage_dir": root / "stage"}


def _run_twice(config: FlowConfig, spark):
    """Runs the flow twice on one lake, landing and warehouse; yields what the checks need."""
    from local_platform.warehouse import control

    warehouse = control.WarehouseSettings(state_dir=config.stage_dir.parent / "warehouse", port=free_port())
    try:
        first = run_flow(config, warehouse, spark=spark)
        views_first = _views(warehouse)
        second = run_flow(config, warehouse, spark=spark)
        views_second = _views(warehouse)
        yield {
            "config": config,
            "first": first,
            "second": second,
            "views": views_first,
            "views_after_second_run": views_second,
            "warehouse": warehouse,
        }
    finally:
        control.stop(warehouse)


def _views(warehouse) -> dict[str, pd.DataFrame]:
    from local_platform.warehouse import control

    with control.session(warehouse, "REPORTING") as session:
        frames = {name: session.table(f"{warehouse.database}.REPORTING.{name}").to_pandas() for name in E2E_VIEWS}
        counts = [
            (t.name, session.table(f"{warehouse.database}.CURATED.{t.name.upper()}").count()) for t in GOLD_TABLES
        ]
        frames["CURATED_COUNTS"] = pd.DataFrame(counts, columns=["table", "rows"])
        return frames


def curated(warehouse) -> dict[str, pd.DataFrame]:
    """Every curated table, rows sorted on every column (as text, so nulls sort too)."""
    from local_platform.warehouse import control

    frames = {}
    with control.session(warehouse) as session:
        for contract in GOLD_TABLES:
            frame = session.table(f"{warehouse.database}.CURATED.{contract.name.upper()}").to_pandas()
            frame.columns = [c.lower() for c in frame.columns]
            order = frame.astype(str).sort_values(list(frame.columns)).index
            frames[contract.name] = frame.loc[order].reset_index(drop=True)
    return frames


def compared_with_full_reload(spark, settings, root: Path, batch_id: str, warehouse) -> dict:
    """The same Gold exported whole to `root`/full-stage and loaded into a fresh warehouse of its own (started and
    stopped here): what an incremental history loaded into `warehouse` must equal. Returns both warehouses' curated
    tables ("curated", "reference") and the full load's report ("reference_load")."""
    from databricks_jobs.export import export_gold
    from local_platform.warehouse import control, runner

    stage = root / "full-stage"
    reference = control.WarehouseSettings(state_dir=root / "reference-warehouse", port=free_port(), data_dirs=(stage,))
    full = replace(settings, export_root=str(stage))
    try:
        export_gold(spark, full, batch_id, log=lambda _: None, full=True)
        control.start(reference)
        runner.apply(reference, full.export_root)
        load = runner.load_and_build(reference, batch_id)["load"]
        return {"curated": curated(warehouse), "reference": curated(reference), "reference_load": load}
    finally:
        control.stop(reference)


def assert_curated_equals_full_reload(compared: dict) -> None:
    """Row for row, every curated table after the incremental loads equals the full reload (and holds rows)."""
    assert compared["reference_load"]["status"] == "LOADED"
    after, reference = compared["curated"], compared["reference"]
    for contract in GOLD_TABLES:
        assert len(after[contract.name]) == len(reference[contract.name]), contract.name
        pd.testing.assert_frame_equal(after[contract.name], reference[contract.name], obj=contract.name)
    assert sum(len(frame) for frame in after.values()) > 0
