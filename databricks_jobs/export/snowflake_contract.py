"""The export contract as Snowflake receives it: the CURATED tables' DDL and the load procedure's contract, rendered
from the Gold table contracts (databricks_jobs.tables.GOLD_TABLES), so neither can drift from what the lakehouse
exports. It belongs to the contract, not to the local stand-ins: the same files deploy to a real account.

`python -m databricks_jobs.export.snowflake_contract` rewrites sql/05_curated_tables.sql and
snowpark/energy_snowpark/export_contract.json; tests fail when either disagrees with the contracts.
"""

from __future__ import annotations

import json

from databricks_jobs.batch import BATCH_ID_PATTERN
from databricks_jobs.export import manifest
from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.tables import CONTRACT_VERSION, GOLD_TABLES, WAREHOUSE_TABLES, TableContract
from snowpark.energy_snowpark.snowflake_types import SNOWFLAKE_TYPES

CURATED_TABLES_SQL = PROJECT_ROOT / "sql" / "05_curated_tables.sql"
EXPORT_CONTRACT_JSON = PROJECT_ROOT / "snowpark" / "energy_snowpark" / "export_contract.json"


def _comment(text: str) -> str:
    """A quoted comment. Apostrophes become U+2019: fakesnow 0.12 re-inserts table comments with '' unescaped."""
    return "'" + text.replace("'", "\u2019") + "'"


def table_ddl(table: TableContract) -> str:
    """CREATE TABLE IF NOT EXISTS for one Gold table, with NOT NULL, primary key and clustering key."""
    lines = [
        f"    {column.name.upper()} {SNOWFLAKE_TYPES[column.type]}{'' if column.nullable else ' NOT NULL'}"
        + (f" COMMENT {_comment(column.description)}" if column.description else "")
        for column in table.columns
    ]
    lines.append(f"    PRIMARY KEY ({', '.join(c.upper() for c in table.primary_key)})")
    cluster = f"\nCLUSTER BY ({', '.join(c.upper() for c in table.cluster_by)})" if table.cluster_by else ""
    return (
        f"CREATE TABLE IF NOT EXISTS <% database %>.CURATED.{table.name.upper()} (\n"
        + ",\n".join(lines)
        + f"\n){cluster}\nCOMMENT = {_comment(table.description)};\n"
    )


def curated_tables_sql() -> str:
    header = (
        "-- Curated tables: one per exported Gold table. GENERATED from databricks_jobs/tables.py by\n"
        "-- `python -m databricks_jobs.export.snowflake_contract`; edit the contracts, not this file. Run as\n"
        "-- ENERGY_ADMIN.\n"
        "-- PRIMARY KEY is informational in Snowflake: the load procedure enforces it (upsert on these columns).\n"
        "-- CLUSTER BY follows the app's filters (region, date).\n\n"
    )
    return header + "\n".join(table_ddl(table) for table in GOLD_TABLES)


def _contract_json_entry(table: TableContract) -> str:
    """One table: key, fingerprint, clustering, its CREATE TABLE (for a table a release adds), and one column per line
    as [name, Spark type, nullable, backfill or null]."""
    columns = ",\n".join(f"    {json.dumps([c.name, c.type, c.nullable, c.backfill])}" for c in table.columns)
    head = {
        "primary_key": list(table.primary_key),
        "fingerprint": table.fingerprint,
        "cluster_by": list(table.cluster_by),
        "create_sql": table_ddl(table).replace("<% database %>", "{database}") if table.primary_key else None,
    }
    fields = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    return f'  {json.dumps(table.name)}: {{{fields}, "columns": [\n{columns}\n  ]}}'


def export_layout() -> dict[str, object]:
    """How a batch is laid out, as the lakehouse writes it (batch.py, export/manifest.py): the load reads these from
    the contract instead of declaring its own."""
    return {
        "batch_id_pattern": BATCH_ID_PATTERN.pattern,
        "latest_file": manifest.LATEST_FILE,
        "manifest_file": manifest.MANIFEST_FILE,
        "manifest_version": manifest.MANIFEST_VERSION,
        "format": manifest.FORMAT,
        "modes": list(manifest.MODES),
        "deleted_keys_folder": manifest.DELETED_KEYS_FOLDER,
    }


def export_contract_json() -> str:
    """The Snowpark package's copy of the export contract (the load procedure cannot import databricks_jobs): the
    batch layout, the contract version, the Gold tables and the warehouse's own tables, one column per line, JSON."""
    layout = json.dumps(export_layout())
    entries = ",\n".join(_contract_json_entry(table) for table in GOLD_TABLES)
    warehouse = ",\n".join(_contract_json_entry(table) for table in WAREHOUSE_TABLES)
    return (
        f'{{"layout": {layout},\n"contract_version": {CONTRACT_VERSION},\n"tables": {{\n'
        + entries
        + '\n},\n"warehouse_tables": {\n'
        + warehouse
        + "\n}}\n"
    )


if __name__ == "__main__":
    for path, text in ((CURATED_TABLES_SQL, curated_tables_sql()), (EXPORT_CONTRACT_JSON, export_contract_json())):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
