"""The warehouse upgrade on the local warehouse (fakesnow), and the load's refusal of a batch from a newer contract."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from databricks_jobs.tables import CONTRACT_FINGERPRINTS, CONTRACT_VERSION, contracts_fingerprint
from local_platform.warehouse.control import session
from snowpark.energy_snowpark import export_contract
from snowpark.energy_snowpark.load_manifest import LoadError, parse_manifest
from snowpark.energy_snowpark.upgrade_warehouse import (
    WarehouseUpgradeRefused,
    plan_warehouse,
    upgrade_warehouse,
)
from tests.snowflake.contract_export import BATCH_1, export_tables, write_export


def test_a_contract_change_needs_a_new_contract_version():
    assert max(CONTRACT_FINGERPRINTS) == CONTRACT_VERSION
    assert contracts_fingerprint() == CONTRACT_FINGERPRINTS[CONTRACT_VERSION], (
        "a table contract changed: raise tables.CONTRACT_VERSION to "
        f"{CONTRACT_VERSION + 1} and pin {contracts_fingerprint()!r} for it in CONTRACT_FINGERPRINTS"
    )
    assert export_contract.CONTRACT_VERSION == CONTRACT_VERSION  # the load's copy is regenerated with it


def test_a_batch_from_a_newer_contract_is_refused_naming_both_versions(tmp_path):
    write_export(tmp_path, BATCH_1, export_tables(BATCH_1))
    manifest = json.loads((tmp_path / BATCH_1 / "_manifest.json").read_text())
    assert manifest["contract_version"] == CONTRACT_VERSION
    assert parse_manifest(json.dumps(manifest), BATCH_1).contract_version == manifest["contract_version"]
    newer = {**manifest, "contract_version": CONTRACT_VERSION + 1}
    with pytest.raises(LoadError, match=f"contract version {CONTRACT_VERSION + 1}, newer than .* {CONTRACT_VERSION}"):
        parse_manifest(json.dumps(newer), BATCH_1)
    older = {k: v for k, v in manifest.items() if k != "contract_version"}  # exported before contract versions
    assert parse_manifest(json.dumps(older), BATCH_1).contract_version is None


def columns(session, database: str, table: str) -> list[str]:
    return [c.upper() for c in session.table(f"{database}.CURATED.{table}").columns]


def test_an_old_warehouse_is_upgraded_in_place_and_a_destructive_change_refused(wh_session, warehouse):
    database = warehouse.database
    history = f"{database}.CURATED.LOAD_HISTORY"
    # A new deployment (sql/ applied) already has every column of every contract: sql/06 agrees with tables.py.
    assert all(not p.changes and not p.refusals for p in plan_warehouse(wh_session, database))
    # As a deployment made before contract versions: no CONTRACT_VERSIONS, LOAD_HISTORY without CONTRACT_VERSION.
    wh_session.sql(f"DROP TABLE IF EXISTS {database}.CURATED.CONTRACT_VERSIONS").collect()
    wh_session.sql(f"ALTER TABLE {history} DROP COLUMN CONTRACT_VERSION").collect()
    wh_session.sql(
        f"INSERT INTO {history} (LOAD_ID, BATCH_ID, STATUS, FILES_LOADED, ROWS_IN_MANIFEST, ROWS_LOADED, "
        "ROWS_REJECTED, ROWS_REPLACED, LOADED_AT_UTC) VALUES ('old-load', 'old-batch', 'LOADED', 1, 2, 2, 0, 0, "
        "'2026-01-01 00:00:00')"
    ).collect()
    rows_before = wh_session.sql(f"SELECT LOAD_ID, BATCH_ID, ROWS_LOADED FROM {history}").collect()

    plans = upgrade_warehouse(wh_session, database)
    changed = {p.table: [what for what, _ in p.changes] for p in plans if p.changes}
    assert changed == {"load_history": ["add column CONTRACT_VERSION NUMBER(10, 0) (nullable)"]}
    assert columns(wh_session, database, "LOAD_HISTORY")[-1] == "CONTRACT_VERSION"
    assert wh_session.sql(f"SELECT LOAD_ID, BATCH_ID, ROWS_LOADED FROM {history}").collect() == rows_before
    versions = wh_session.sql(
        f"SELECT TABLE_NAME, CONTRACT_VERSION FROM {database}.CURATED.CONTRACT_VERSIONS"
    ).collect()
    assert sorted((r[0], r[1]) for r in versions) == sorted(
        (t.name, CONTRACT_VERSION) for t in export_contract.WAREHOUSE_TABLES
    )
    assert all(not p.changes and not p.refusals for p in plan_warehouse(wh_session, database))

    # A contract that drops a column the table stores, and one whose new NOT NULL column has no backfill: refused.
    daily = next(t for t in export_contract.WAREHOUSE_TABLES if t.name == "gold_demand__daily")
    dropped = replace(daily, columns=tuple(c for c in daily.columns if c[0] != "load_factor"), fingerprint="changed")
    strict = replace(daily, columns=(*daily.columns, ("is_busy", "boolean", False, None)), fingerprint="changed2")
    before = columns(wh_session, database, "GOLD_DEMAND__DAILY")
    for contract, problem in (
        (dropped, "column LOAD_FACTOR is stored but not in the contract (dropped or renamed)"),
        (strict, "new NOT NULL column IS_BUSY without a declared backfill"),
    ):
        with pytest.raises(
            WarehouseUpgradeRefused,
            match="CURATED.GOLD_DEMAND__DAILY: " + problem.replace("(", r"\(").replace(")", r"\)"),
        ):
            upgrade_warehouse(wh_session, database, contracts=[contract])
    assert columns(wh_session, database, "GOLD_DEMAND__DAILY") == before

    # An added nullable column with a backfilled NOT NULL one: applied, and the table created when missing.
    added = replace(
        daily,
        columns=(*daily.columns, ("note", "string", True, None), ("is_busy", "boolean", False, "HOURS_REPORTED > 20")),
        fingerprint="added",
    )
    wh_session.sql(f"DROP TABLE {database}.CURATED.GOLD_DEMAND__DAILY").collect()
    upgrade_warehouse(wh_session, database, contracts=[daily])
    assert columns(wh_session, database, "GOLD_DEMAND__DAILY") == before
    upgrade_warehouse(wh_session, database, contracts=[added])
    assert columns(wh_session, database, "GOLD_DEMAND__DAILY") == [*before, "NOTE", "IS_BUSY"]


class _AnotherUpgradeFirst:
    """Another load's upgrade (on a session of its own) runs to the end just before this upgrade's first statement
    starting with `before`: two loads started at once both plan the same change before either applies it."""

    def __init__(self, session, other, database: str, before: str) -> None:
        self._session, self._other, self._database, self._before = session, other, database, before

    def sql(self, query: str, params=None):
        if self._other is not None and query.startswith(self._before):
            other, self._other = self._other, None
            upgrade_warehouse(other, self._database)
        return self._session.sql(query, params=params)


def test_two_upgrades_at_once_add_a_column_once_and_record_one_version_row(database):
    settings, _ = database
    name = settings.database
    with session(settings) as first, session(settings) as other:
        first.sql(f"ALTER TABLE {name}.CURATED.LOAD_HISTORY DROP COLUMN CONTRACT_VERSION").collect()
        first.sql(f"DELETE FROM {name}.CURATED.CONTRACT_VERSIONS").collect()
        plans = upgrade_warehouse(_AnotherUpgradeFirst(first, other, name, "ALTER TABLE"), name)
        assert [p.table for p in plans if p.changes] == ["load_history"]
        assert columns(first, name, "LOAD_HISTORY").count("CONTRACT_VERSION") == 1
        versions = first.sql(f"SELECT TABLE_NAME FROM {name}.CURATED.CONTRACT_VERSIONS").collect()
    assert sorted(r[0] for r in versions) == sorted(t.name for t in export_contract.WAREHOUSE_TABLES)
