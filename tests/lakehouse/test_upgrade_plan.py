"""The upgrade plan without Spark (upgrade.plan_table is pure): a table recording its contract is not compared column
by column."""

from __future__ import annotations

from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import CONTRACT_VERSION
from databricks_jobs.upgrade import StoredTable, plan_table
from tests.lakehouse.test_upgrade_lake import V1


def test_a_table_recording_this_contract_is_not_compared_column_by_column():
    """read_stored leaves the columns unread (None) for such a table; the plan needs none of them."""
    properties = {
        "energy_platform.contract_version": str(CONTRACT_VERSION),
        "energy_platform.contract_fingerprint": V1.fingerprint,
    }
    up_to_date = StoredTable(None, "", (), properties)
    plan = plan_table(LakeSettings(catalog="main", schema="energy"), V1, up_to_date)
    assert plan.exists and plan.changes == [] and plan.recorded_version == str(CONTRACT_VERSION)
