"""The Gold export contract the load procedure trusts: the batch layout (batch id pattern, manifest and LATEST file
names, manifest version, modes), the contract version, the tables, columns (name, Spark type, nullable), primary
keys, and the warehouse's own tables (LOAD_HISTORY).

export_contract.json is GENERATED from databricks_jobs/tables.py (GOLD_TABLES, WAREHOUSE_TABLES) by `python -m
databricks_jobs.export.snowflake_contract`; edit the contracts, not the file. A manifest is checked against this,
never the other way round. Read as a package resource, so it works from the zip Snowflake imports the handlers from.
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


_CONTRACT = json.loads(resources.files(__package__).joinpath("export_contract.json").read_text(encoding="utf-8"))

# table -> (columns, primary key)
TABLES: dict[str, tuple[ContractColumns, tuple[str, ...]]] = {
    name: (tuple((c[0], c[1], bool(c[2])) for c in table["columns"]), tuple(table["primary_key"]))
    for name, table in _CONTRACT["tables"].items()
}

_LAYOUT = _CONTRACT["layout"]
BATCH_ID_PATTERN: str = _LAYOUT["batch_id_pattern"]
LATEST_FILE: str = _LAYOUT["latest_file"]
MANIFEST_FILE: str = _LAYOUT["manifest_file"]
MANIFEST_VERSION: int = _LAYOUT["manifest_version"]
FORMAT: str = _LAYOUT["format"]
FULL, INCREMENTAL = _LAYOUT["modes"]
DELETED_KEYS_FOLDER: str = _LAYOUT["deleted_keys_folder"]

# The contract version this code loads: a manifest from a newer one is refused.
CONTRACT_VERSION: int = int(_CONTRACT["contract_version"])
# Every table the warehouse upgrade keeps in step: the curated tables, then LOAD_HISTORY.
WAREHOUSE_TABLES: tuple[WarehouseTable, ...] = tuple(
    WarehouseTable(
        name,
        tuple((c[0], c[1], bool(c[2]), c[3]) for c in table["columns"]),
        tuple(table["primary_key"]),
        table["fingerprint"],
        table["create_sql"],
    )
    for section in ("tables", "warehouse_tables")
    for name, table in _CONTRACT[section].items()
)
