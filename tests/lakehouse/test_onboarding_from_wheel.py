"""Onboarding without a rebuild: a new utility's load and outage sources, its region and its customers served live
in a config folder only; the pipeline runs from the built wheel (not the source tree) and Gold holds the utility.

Expected figures are computed by hand in tests/lakehouse/onboarding_config.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.lakehouse import onboarding_config as peach
from tests.lakehouse.conftest import lake_over

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

PROJECT_PARTS = ("pyproject.toml", "README.md", "databricks_jobs", "local_platform", "snowpark")
RUN = """
import sys
import databricks_jobs
print("databricks_jobs from", databricks_jobs.__file__)
from local_platform.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _build_wheel(tmp: Path) -> Path:
    """The wheel of the working tree, built from a copy so the tree gets no build/ folder."""
    source = tmp / "project"
    for part in PROJECT_PARTS:
        target = source / part
        if (REPO_ROOT / part).is_dir():
            shutil.copytree(REPO_ROOT / part, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / part, target)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp), "."]
    subprocess.run(command, cwd=source, check=True, capture_output=True, timeout=300)
    (wheel,) = tmp.glob("energy_reliability_platform-*.whl")
    return wheel


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel-onboarding")
    site = tmp / "site"
    with zipfile.ZipFile(_build_wheel(tmp)) as wheel:
        wheel.extractall(site)
    assert not (site / "databricks_jobs/sources/definitions/peach_feeder_load.yml").exists()
    config = peach.write_config(tmp / "config")
    raw = peach.write_raw(tmp / "raw")
    settings = lake_over(raw, tmp / "lake")
    env = {k: v for k, v in os.environ.items() if k != "ENERGY_CONFIG_ROOT"}
    env |= {"PYTHONPATH": str(site), "SPARK_SHUFFLE_PARTITIONS": "2"}
    args = ["pipeline", "--raw-root", str(raw), "--lake-root", settings.lake_root, "--config-root", str(config)]
    args += ["--stage", "bronze", "--stage", "silver", "--stage", "gold"]
    result = subprocess.run(
        [sys.executable, "-c", RUN, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return settings, site, result.stdout


def _table(spark, settings, name: str):
    from databricks_jobs import lake

    return lake.read(spark, settings, name).toPandas()


def test_the_pipeline_ran_from_the_wheel(run):
    _, site, stdout = run
    assert f"databricks_jobs from {site / 'databricks_jobs' / '__init__.py'}" in stdout


def test_gold_holds_the_new_utility(spark, run):
    settings, _, _ = run
    regions = _table(spark, settings, "gold_reference__regions")
    assert regions.loc[regions.region_code == peach.REGION, "time_zone"].tolist() == ["America/New_York"]
    daily = _table(spark, settings, "gold_demand__daily").set_index(["source_id", "region_code"])
    day = daily.loc[("peach_feeder_load", peach.REGION)]
    # Lines 2-4 kept: 1500, 1400, 1300.5 kW in the hours starting 00:00, 01:00, 02:00 EST on 2024-01-01.
    assert str(day.date_local) == "2024-01-01" and day.hours_reported == 3 and day.hours_expected == 24
    assert day.energy_mwh == pytest.approx(1.5 + 1.4 + 1.3005) and day.peak_demand_mw == pytest.approx(1.5)
    yearly = _table(spark, settings, "gold_reliability__yearly").set_index(["region_code", "year"])
    row = yearly.loc[(peach.REGION, 2024)]
    assert row.customers_served == peach.CUSTOMERS_SERVED
    assert row.saidi_w_major_event_days_minutes == pytest.approx(peach.SAIDI_2024)
    assert row.saifi_w_major_event_days == pytest.approx(peach.SAIFI_2024)
    assert row.maifi_w_major_event_days == pytest.approx(peach.MAIFI_2024)


def test_quarantine_and_accounting_of_the_new_source(spark, run):
    settings, _, _ = run
    quarantine = _table(spark, settings, "silver__quarantine")
    load = quarantine[quarantine.source_id == "peach_feeder_load"]
    assert sorted(zip(load.source_row_number, load.reason, strict=True)) == peach.LOAD_QUARANTINED
    accounting = _table(spark, settings, "gold_quality__file_accounting").set_index("source_file")
    assert accounting.loc["peach/load_2024_01.csv", ["rows_in", "rows_kept", "rows_quarantined"]].tolist() == [5, 3, 2]
    assert accounting.loc["peach/outages_2024.csv", ["rows_in", "rows_kept"]].tolist() == [3, 3]
