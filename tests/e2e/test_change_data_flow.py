"""The whole flow with a change in between: one raw interval value changes and one outage event disappears, the
second run exports only the Gold rows that changed (and the deleted event's key), the load applies them on top of
the first batch, and CURATED then equals, row for row, a full snapshot of the same Gold loaded into a fresh
warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_platform.flow import FlowConfig, lake_settings, run_flow
from local_platform.s3.server import free_port
from tests.e2e.conftest import assert_curated_equals_full_reload, compared_with_full_reload

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

FULL_BATCH = "20261201T000000Z-0000f011"
CHANGED_EVENT = "SYN-N-2025-00001"


def quiet(_: str) -> None:
    pass


def change_raw_files(raw: Path) -> None:
    """One interval value becomes the year's peak; one outage event is removed from its export."""
    load = raw / "synthetic_utility" / "interval_load" / "interval_load_SYN_NORTH_2025.csv"
    header, first, *rest = load.read_text().splitlines(keepends=True)
    load.write_text(header + ",".join([*first.split(",")[:3], "9999999.0\n"]) + "".join(rest))
    oms = raw / "synthetic_utility" / "oms_outages" / "oms_outages_2025.csv"
    lines = oms.read_text().splitlines(keepends=True)
    oms.write_text("".join(line for line in lines if not line.startswith(CHANGED_EVENT)))


@pytest.fixture(scope="module")
def flow_with_a_change(tmp_path_factory, spark):
    from databricks_jobs.synthetic import generate_synthetic_utility
    from local_platform.warehouse import control

    root = tmp_path_factory.mktemp("change-data-flow")
    raw = root / "raw"
    generate_synthetic_utility(raw, seed=11, years=1, regions=2, feeders_per_region=2)
    config = FlowConfig(s3=None, raw_source=raw, lake_root=str(root / "lake"), stage_dir=root / "stage")
    warehouse = control.WarehouseSettings(state_dir=root / "warehouse", port=free_port())
    try:
        first = run_flow(config, warehouse, spark=spark, log=quiet)
        change_raw_files(raw)
        second = run_flow(config, warehouse, spark=spark, log=quiet)
        compared = compared_with_full_reload(spark, lake_settings(config), root, FULL_BATCH, warehouse)
        yield {"first": first, "second": second, **compared}
    finally:
        control.stop(warehouse)


def test_the_second_batch_carries_only_what_changed(flow_with_a_change):
    first, second = flow_with_a_change["first"], flow_with_a_change["second"]
    assert first.manifest["mode"] == "full"
    assert (second.manifest["mode"], second.manifest["base_batch_id"]) == ("incremental", first.batch_id)
    entries = {t["name"]: t for t in second.manifest["tables"]}
    full_rows = {t["name"]: t["row_count"] for t in first.manifest["tables"]}
    # One hour changed: its local day; the event removed: its key deleted, its day's reliability recomputed.
    assert entries["gold_demand__daily"]["row_count"] == 1
    assert entries["gold_outages__events"]["deleted_keys"]["row_count"] == 1
    assert (
        0
        < entries["gold_reliability__daily"]["row_count"]
        + entries["gold_reliability__daily"]["deleted_keys"]["row_count"]
        <= 2
    )
    assert sum(t["row_count"] for t in entries.values()) < sum(full_rows.values()) / 100
    assert second.load["status"] == "LOADED"


def test_curated_after_the_incremental_load_equals_a_full_reload(flow_with_a_change):
    assert CHANGED_EVENT not in set(flow_with_a_change["curated"]["gold_outages__events"]["event_id"])
    assert_curated_equals_full_reload(flow_with_a_change)
