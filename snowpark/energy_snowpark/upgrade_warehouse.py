"""The warehouse upgrade: CURATED tables and LOAD_HISTORY brought to the code's contracts, keeping their rows.

Run by the load procedure before it loads (so a batch with a column the contract added finds it) and by
`energy-platform upgrade`. CURATED.CONTRACT_VERSIONS records, per table, the contract version and fingerprint it was
created or last upgraded with; a table whose fingerprint is current costs nothing more. Otherwise its columns (from
INFORMATION_SCHEMA.COLUMNS) are compared with the contract:
- applied in place: a new table (its CREATE TABLE from the contract); a new nullable column (ALTER TABLE ADD COLUMN
  IF NOT EXISTS: two loads starting at once may both upgrade, before either takes the load's lock);
  a new NOT NULL column with a declared backfill (added, filled, then SET NOT NULL); NUMBER(10,0) -> NUMBER(19,0)
  (int -> bigint: Snowflake allows raising a NUMBER's precision); NOT NULL -> nullable;
- refused, before anything is written, naming the table, the change and the way (docs/upgrading.md): a column the
  contract no longer has, any other type change, nullable -> NOT NULL without a backfill, a table recorded by a newer
  contract version. Comments and clustering are not compared here (the deploy's sql/ sets them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .export_contract import CONTRACT_VERSION, WAREHOUSE_TABLES, WarehouseTable
from .snowflake_types import SNOWFLAKE_TYPES

VERSIONS_TABLE = "CONTRACT_VERSIONS"
VERSIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS {database}.CURATED.CONTRACT_VERSIONS (TABLE_NAME VARCHAR NOT NULL, "
    "CONTRACT_VERSION NUMBER(10, 0) NOT NULL, FINGERPRINT VARCHAR NOT NULL, UPGRADED_AT_UTC TIMESTAMP_NTZ NOT NULL, "
    "PRIMARY KEY (TABLE_NAME))"
)  # sql/06_load_history.sql creates it with its comments; this is for a warehouse deployed before it
WIDENINGS = frozenset({("int", "bigint")})
DOCS = "docs/upgrading.md"


class WarehouseUpgradeRefused(RuntimeError):
    """A warehouse table differs from its contract in a way that would lose or rewrite data; nothing was changed."""


@dataclass
class WarehouseTablePlan:
    table: str
    exists: bool
    recorded_version: int | None = None
    changes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (what, statements)
    refusals: list[str] = field(default_factory=list)

    def describe(self) -> str:
        where = f"CURATED.{self.table.upper()}"
        version = f"contract version {self.recorded_version or 'unrecorded'}"
        if not self.changes and not self.refusals:
            if self.recorded_version != CONTRACT_VERSION:
                return f"{where}: matches the contract; contract version {CONTRACT_VERSION} recorded ({version} before)"
            return f"{where}: up to date ({version})"
        lines = [f"{where} ({version} -> {CONTRACT_VERSION}):"]
        lines += [f"  REFUSED {r}" for r in self.refusals] + [f"  {what}" for what, _ in self.changes]
        return "\n".join(lines)


def _canonical(data_type: str, precision: Any) -> str:
    """INFORMATION_SCHEMA's DATA_TYPE (and precision) as the DDL's type spelling (SNOWFLAKE_TYPES' values)."""
    kind = str(data_type).upper().split("(")[0]
    if kind in ("TEXT", "VARCHAR", "STRING"):
        return "VARCHAR"
    if kind in ("NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT"):
        return f"NUMBER({int(precision) if precision is not None else 38}, 0)"
    if kind in ("FLOAT", "DOUBLE", "REAL", "FLOAT8"):
        return "FLOAT"
    if kind.startswith("TIMESTAMP"):
        return "TIMESTAMP_NTZ" if kind in ("TIMESTAMP", "TIMESTAMP_NTZ") else kind
    return kind


def stored_columns(session: Any, database: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """CURATED's tables -> column (lower case) -> (type as the DDL spells it, nullable)."""
    rows = session.sql(
        f"SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, IS_NULLABLE FROM {database}.INFORMATION_SCHEMA"
        ".COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
        params=["CURATED"],
    ).collect()
    tables: dict[str, dict[str, tuple[str, bool]]] = {}
    for row in rows:
        column = (_canonical(row[2], row[3]), str(row[4]).upper() == "YES")
        tables.setdefault(str(row[0]).lower(), {})[str(row[1]).lower()] = column
    return tables


def recorded_versions(session: Any, database: str, tables: dict[str, Any]) -> dict[str, tuple[int, str]]:
    if VERSIONS_TABLE.lower() not in tables:
        return {}
    rows = session.sql(
        f"SELECT TABLE_NAME, CONTRACT_VERSION, FINGERPRINT FROM {database}.CURATED.{VERSIONS_TABLE}"
    ).collect()
    return {str(r[0]).lower(): (int(r[1]), str(r[2])) for r in rows}


def plan_table(
    database: str,
    contract: WarehouseTable,
    stored: dict[str, tuple[str, bool]] | None,
    recorded: tuple[int, str] | None,
) -> WarehouseTablePlan:
    name = f"{database}.CURATED.{contract.name.upper()}"
    plan = WarehouseTablePlan(contract.name, stored is not None, recorded[0] if recorded else None)
    if recorded == (CONTRACT_VERSION, contract.fingerprint) and stored is not None:
        return plan
    if recorded and recorded[0] > CONTRACT_VERSION:
        plan.refusals.append(
            f"table recorded by contract version {recorded[0]}, newer than this code's {CONTRACT_VERSION}: deploy "
            "that release's load procedure (a table is never downgraded)"
        )
        return plan
    if stored is None:
        if contract.create_sql is None:
            plan.refusals.append(f"table missing: run the deploy (sql/) that creates {name}")
        else:
            plan.changes.append(
                ("create table (new in this contract)", (contract.create_sql.format(database=database),))
            )
        return plan
    way = (
        f"rebuild it from the export: DROP TABLE {name}, then load a full batch (export with --full-export) "
        f"({DOCS}, 'Refused changes')"
    )
    wanted = {c[0] for c in contract.columns}
    plan.refusals += [
        f"column {c.upper()} is stored but not in the contract (dropped or renamed); {way}"
        for c in stored
        if c not in wanted
    ]
    for column, spark_type, nullable, backfill in contract.columns:
        _plan_column(plan, name, column, spark_type, nullable, backfill, stored.get(column), way)
    return plan


def _plan_column(
    plan: WarehouseTablePlan,
    name: str,
    column: str,
    spark_type: str,
    nullable: bool,
    backfill: str | None,
    stored: tuple[str, bool] | None,
    way: str,
) -> None:
    wanted_type, quoted = SNOWFLAKE_TYPES[spark_type], column.upper()
    if stored is None:
        # IF NOT EXISTS and the backfill of nulls only: two loads starting at once both run the upgrade before the
        # load's lock (DDL would commit the lock's transaction), so the second must find the first's work harmless.
        add = f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {quoted} {wanted_type}"
        if nullable:
            plan.changes.append((f"add column {quoted} {wanted_type} (nullable)", (add,)))
        elif backfill is None:
            plan.refusals.append(
                f"new NOT NULL column {quoted} without a declared backfill: declare one or make it nullable"
            )
        else:
            plan.changes.append(
                (
                    f"add column {quoted} {wanted_type} NOT NULL, existing rows backfilled with {backfill}",
                    (
                        add,
                        f"UPDATE {name} SET {quoted} = {backfill} WHERE {quoted} IS NULL",
                        f"ALTER TABLE {name} ALTER COLUMN {quoted} SET NOT NULL",
                    ),
                )
            )
        return
    stored_type, stored_nullable = stored
    if stored_type != wanted_type:
        widening = {SNOWFLAKE_TYPES[a]: SNOWFLAKE_TYPES[b] for a, b in WIDENINGS}
        if widening.get(stored_type) != wanted_type:
            plan.refusals.append(f"column {quoted} type {stored_type} -> {wanted_type}; {way}")
            return
        plan.changes.append(
            (
                f"widen column {quoted} {stored_type} -> {wanted_type}",
                (f"ALTER TABLE {name} ALTER COLUMN {quoted} SET DATA TYPE {wanted_type}",),
            )
        )
    if stored_nullable and not nullable:
        if backfill is None:
            plan.refusals.append(f"column {quoted} nullable -> NOT NULL without a declared backfill")
        else:
            plan.changes.append(
                (
                    f"column {quoted} becomes NOT NULL (null rows backfilled with {backfill})",
                    (
                        f"UPDATE {name} SET {quoted} = {backfill} WHERE {quoted} IS NULL",
                        f"ALTER TABLE {name} ALTER COLUMN {quoted} SET NOT NULL",
                    ),
                )
            )
    elif nullable and not stored_nullable:
        plan.changes.append(
            (f"column {quoted} becomes nullable", (f"ALTER TABLE {name} ALTER COLUMN {quoted} DROP NOT NULL",))
        )


def plan_warehouse(
    session: Any, database: str, contracts: Iterable[WarehouseTable] = WAREHOUSE_TABLES
) -> list[WarehouseTablePlan]:
    stored = stored_columns(session, database)
    recorded = recorded_versions(session, database, stored)
    return [plan_table(database, c, stored.get(c.name), recorded.get(c.name)) for c in contracts]


def upgrade_warehouse(
    session: Any, database: str, apply: bool = True, contracts: Iterable[WarehouseTable] = WAREHOUSE_TABLES
) -> list[WarehouseTablePlan]:
    """Plan every table; refuse (nothing written) when any change is destructive; else apply the additive changes
    and record each table's version. Snowflake DDL commits as it runs, so each statement stands on its own; a table
    left half-way is planned again from what it has (its version is written after its changes)."""
    contracts = tuple(contracts)
    plans = plan_warehouse(session, database, contracts)
    refused = [f"- CURATED.{p.table.upper()}: {r}" for p in plans for r in p.refusals]
    if refused:
        raise WarehouseUpgradeRefused(
            f"warehouse upgrade refused: {len(refused)} change(s) would lose or rewrite data; nothing was changed\n"
            + "\n".join(refused)
        )
    if not apply or all(p.exists and not p.changes and p.recorded_version == CONTRACT_VERSION for p in plans):
        return plans
    session.sql(VERSIONS_DDL.format(database=database)).collect()
    fingerprints = {c.name: c.fingerprint for c in contracts}
    for plan in plans:
        for _what, statements in plan.changes:
            for statement in statements:
                session.sql(statement).collect()
        if plan.changes or plan.recorded_version != CONTRACT_VERSION:
            _record(session, database, plan.table, fingerprints[plan.table])
    return plans


def _record(session: Any, database: str, table: str, fingerprint: str) -> None:
    """One statement (a MERGE: Snowflake does not enforce the primary key, and a DELETE then INSERT of two upgrades
    at once would leave two rows)."""
    session.sql(
        f"MERGE INTO {database}.CURATED.{VERSIONS_TABLE} t USING (SELECT ? AS TABLE_NAME, ? AS CONTRACT_VERSION, "
        "? AS FINGERPRINT) s ON t.TABLE_NAME = s.TABLE_NAME WHEN MATCHED THEN UPDATE SET CONTRACT_VERSION = "
        "s.CONTRACT_VERSION, FINGERPRINT = s.FINGERPRINT, UPGRADED_AT_UTC = SYSDATE() WHEN NOT MATCHED THEN INSERT "
        "(TABLE_NAME, CONTRACT_VERSION, FINGERPRINT, UPGRADED_AT_UTC) VALUES (s.TABLE_NAME, s.CONTRACT_VERSION, "
        "s.FINGERPRINT, SYSDATE())",
        params=[table, CONTRACT_VERSION, fingerprint],
    ).collect()
