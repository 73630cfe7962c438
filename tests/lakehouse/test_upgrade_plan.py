"""The upgrade plan without Spark (upgrade.plan_table is pure): which statement makes a column NOT NULL on Unity
Catalog and on the local catalog, and that a table recording its contract is not compared column by column."""

from __future__ import annotations

from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import CONTRACT_VERSION
from databricks_jobs.upgrade import StoredTable, plan_table
from tests.lakehouse.test_upgrade_lake import V0, V1

# V0 as the lake stores it (types as Spark's simpleString, comments as written), recorded by an older release.
V0_STORED = StoredTable(
    {"region_code": ("string", False, ""), "reads": ("int", False, "reads counted"), "note": ("string", True, "")},
    V0.description,
    V0.cluster_by,
    {"energy_platform.contract_version": "0", "energy_platform.contract_fingerprint": V0.fingerprint},
)


def statements_for(settings: LakeSettings, what: str) -> tuple[str, ...]:
    (change,) = [c for c in plan_table(settings, V1, V0_STORED).changes if c.what.startswith(what)]
    return change.statements


def test_a_new_not_null_column_is_set_not_null_on_unity_catalog_and_checked_locally():
    unity = LakeSettings(catalog="main", schema="energy")
    assert statements_for(unity, "add column is_busy") == (
        "ALTER TABLE main.energy.gold_upgrade_test__daily ADD COLUMNS (`is_busy` BOOLEAN COMMENT 'more than one read' "
        "AFTER `energy_mwh`)",
        "UPDATE main.energy.gold_upgrade_test__daily SET `is_busy` = reads > 1",
        # Databricks verifies every stored row and then refuses nulls on write ("Constraints on Databricks").
        "ALTER TABLE main.energy.gold_upgrade_test__daily ALTER COLUMN `is_busy` SET NOT NULL",
    )
    local = LakeSettings(schema="energy")
    # Open-source Delta refuses SET NOT NULL on an existing column: a CHECK constraint, read back as NOT NULL.
    assert statements_for(local, "add column is_busy")[-1] == (
        f"ALTER TABLE {local.table_name(V1.name)} ADD CONSTRAINT is_busy_is_not_null CHECK (`is_busy` IS NOT NULL)"
    )


def test_a_table_recording_this_contract_is_not_compared_column_by_column():
    """read_stored leaves the columns and clustering unread (None) for such a table; the plan needs none of them."""
    properties = {
        "energy_platform.contract_version": str(CONTRACT_VERSION),
        "energy_platform.contract_fingerprint": V1.fingerprint,
    }
    up_to_date = StoredTable(None, "", None, properties)
    plan = plan_table(LakeSettings(catalog="main", schema="energy"), V1, up_to_date)
    assert plan.exists and plan.changes == [] and plan.recorded_version == str(CONTRACT_VERSION)
