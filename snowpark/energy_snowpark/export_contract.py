"""The Gold export contract the load procedure trusts: tables, columns (name, Spark type, nullable), primary keys.

export_contract.json is GENERATED from databricks_jobs/tables.py (GOLD_TABLES) by `python -m
databricks_jobs.export.snowflake_contract`; edit the contracts, not the file. A manifest is checked against this,
never the other way round. Read as a package resource, so it works from the zip Snowflake imports the handlers from.
"""

from __future__ import annotations

import json
from importlib import resources

ContractColumns = tuple[tuple[str, str, bool], ...]


def _load() -> dict[str, tuple[ContractColumns, tuple[str, ...]]]:
    raw = json.loads(resources.files(__package__).joinpath("export_contract.json").read_text(encoding="utf-8"))
    return {
        name: (tuple((c[0], c[1], bool(c[2])) for c in table["columns"]), tuple(table["primary_key"]))
        for name, table in raw["tables"].items()
    }


# table -> (columns, primary key)
TABLES = _load()
