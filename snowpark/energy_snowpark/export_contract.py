"""The Gold export contract the load procedure trusts: tables, columns (name, Spark type, nullable), primary keys;
the contract version; and the warehouse's own tables (LOAD_HISTORY).

export_contract.json is GENERATED from databricks_jobs/tables.py (GOLD_TABLES, WAREHOUSE_TABLES) by `python -m
local_platform.warehouse.ddl`; edit the contracts, not the file. A manifest is checked against this, never the other
way round. Read as a package resource, so it works from the zip Snowflake imports the handlers from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

ContractColumns = tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True)
class WarehouseTable:
    """What the warehouse upgrade needs of a table's contract."""

    name: str
    columns: tuple[tuple[str, str, bool, str | None], ...]  # name, Spark type, nullable, backfill expression
    primary_key: tuple[str, ...]
    fingerprint: str
    create_sql: str | None  # CREATE TABLE IF NOT EXISTS with {database}; None: created by the deploy (sql/)


def _raw() -> dict:
    return json.loads(resources.files(__package__).joinpath("export_contract.json").read_text(encoding="utf-8"))


def _load(raw: dict) -> dict[str, tuple[ContractColumns, tuple[str, ...]]]:
    return {
        name: (tuple((c[0], c[1], bool(c[2])) for c in table["columns"]), tuple(table["primary_key"]))
        for name, table in raw["tables"].items()
    }


def _warehouse_tables(raw: dict) -> tuple[WarehouseTable, ...]:
    return tuple(
        WarehouseTable(
            name,
            tuple((c[0], c[1], bool(c[2]), c[3]) for c in table["columns"]),
            tuple(table["primary_key"]),
            table["fingerprint"],
            table["create_sql"],
        )
        for section in ("tables", "warehouse_tables")
        for name, table in raw[section].items()
    )


_RAW = _raw()
# table -> (columns, primary key)
TABLES = _load(_RAW)
# The contract version this code loads: a manifest from a newer one is refused.
CONTRACT_VERSION: int = int(_RAW["contract_version"])
# Every table the warehouse upgrade keeps in step: the curated tables, then LOAD_HISTORY.
WAREHOUSE_TABLES = _warehouse_tables(_RAW)
