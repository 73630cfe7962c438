"""Upgrades that keep the data: compare each stored lake table with its contract and apply what is additive in place.

Every table records, as Delta table properties, the contract version and fingerprint it was created or last upgraded
with (tables.CONTRACT_VERSION, TableContract.fingerprint) and its primary key. A table whose fingerprint matches its
contract costs one metadata read (lake.metadata; its schema is not read). Otherwise its schema is compared with the
contract:
- applied in place: a new nullable column (ALTER TABLE ADD COLUMNS); a new NOT NULL column that declares a backfill
  (added, filled, then SET NOT NULL; locally a CHECK constraint); int -> bigint (Delta type widening); NOT NULL ->
  nullable; a changed table or column comment; changed liquid clustering; the change data feed turned on where the
  contract wants it;
- refused, before anything is written: a column the contract no longer has (dropped or renamed), any other type
  change, nullable -> NOT NULL without a backfill, a changed primary key, a table recorded by a newer contract version.
  The refusal names the table, the change and the documented way (docs/upgrading.md): Gold is rebuilt from Silver
  with --full-refresh after the table is dropped; Silver and Bronze by a migration step or a rebuild from the layer
  below.
A missing table is not created here: its layer creates it from its contract on its next run (and fills it from the
layer below), exactly as for a new deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from pyspark.sql import SparkSession

from databricks_jobs import lake
from databricks_jobs.concurrency import CONCURRENT_TABLE_THREADS
from databricks_jobs.lake import FINGERPRINT_PROPERTY, PRIMARY_KEY_PROPERTY, VERSION_PROPERTY, version_properties
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import (
    BOOKKEEPING_TABLES,
    CHANGE_DATA_FEED_TABLES,
    CONTRACT_VERSION,
    GOLD_TABLES,
    SILVER_TABLES,
    Column,
    TableContract,
    bronze_raw_rows,
)

TYPE_WIDENING = "delta.enableTypeWidening"
# Widenings both Delta (type widening) and Snowflake (a larger NUMBER precision) apply in place, keeping every value.
WIDENINGS = frozenset({("int", "bigint")})
LAYERS = ("bronze", "silver", "gold")
# Databricks sets NOT NULL on an existing column (ALTER COLUMN ... SET NOT NULL, verified against every stored row;
# docs page "Constraints on Databricks"); open-source Delta refuses it ("Cannot change nullable column to
# non-nullable"), so on the local catalog a column made NOT NULL by an upgrade gets a Delta CHECK constraint of this
# name instead, likewise verified when added and enforced on every write. read_stored reads either as NOT NULL.
NOT_NULL_CHECK = "{column}_is_not_null"


def _set_not_null(name: str, column: str, local: bool) -> str:
    if not local:
        return f"ALTER TABLE {name} ALTER COLUMN `{column}` SET NOT NULL"
    check = NOT_NULL_CHECK.format(column=column)
    return f"ALTER TABLE {name} ADD CONSTRAINT {check} CHECK (`{column}` IS NOT NULL)"


DOCS = "docs/upgrading.md"


class UpgradeRefused(RuntimeError):
    """A stored table differs from its contract in a way that would lose or rewrite data; nothing was changed."""


@dataclass(frozen=True)
class Change:
    table: str
    what: str  # for people: "add column note STRING"
    statements: tuple[str, ...] = ()  # empty for a refused change
    refused_because: str = ""  # the documented way, for a refused change

    @property
    def refused(self) -> bool:
        return bool(self.refused_because)


@dataclass
class TablePlan:
    table: str
    layer: str
    exists: bool
    recorded_version: str | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def refusals(self) -> list[Change]:
        return [c for c in self.changes if c.refused]

    def describe(self) -> str:
        version = f"contract version {self.recorded_version or 'unrecorded'}"
        if not self.exists:
            return f"{self.table}: not created yet (its {self.layer} step creates it from the contract)"
        if not self.changes:
            return f"{self.table}: up to date ({version})"
        lines = [f"{self.table} ({version} -> {CONTRACT_VERSION}):"]
        lines += [f"  {'REFUSED ' if c.refused else ''}{c.what}" for c in self.changes]
        return "\n".join(lines)


def layer_of(table: str) -> str:
    """The layer that owns a table: its name's first word (bookkeeping tables too: bronze__ingested_files...)."""
    return table.split("_", 1)[0]


def lake_contracts(source_ids: Iterable[str], layers: Sequence[str] = LAYERS) -> list[TableContract]:
    """The contracts of the given layers: Bronze's per-source tables, Silver, Gold and their bookkeeping."""
    every = [*(bronze_raw_rows(s) for s in sorted(source_ids)), *SILVER_TABLES, *GOLD_TABLES, *BOOKKEEPING_TABLES]
    return [c for c in every if layer_of(c.name) in layers]


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rebuild_way(table: str) -> str:
    layer = layer_of(table)
    if layer == "gold":
        return (
            f"rebuild it from Silver: DROP TABLE {table}, then run the pipeline with --full-refresh (Gold is rebuilt "
            f"from all of Silver and the export sends a full snapshot) ({DOCS}, 'Refused changes')"
        )
    below = "the raw files" if layer == "bronze" else "Bronze"
    return (
        f"write a migration step for it, or rebuild {layer.title()} from {below} as {DOCS} 'Refused changes' describes"
    )


@dataclass(frozen=True)
class StoredTable:
    """What the lake has for a table: columns (name -> type, nullable, comment), comment, clustering, properties.
    `columns` and `cluster_by` are None when they were not read: the table records this code's contract version and
    fingerprint."""

    columns: dict[str, tuple[str, bool, str]] | None
    comment: str
    cluster_by: tuple[str, ...] | None
    properties: dict[str, str]


def _records_contract(properties: dict[str, str], contract: TableContract) -> bool:
    """The table was made or last upgraded by this very contract (its version and fingerprint recorded)."""
    return properties.get(FINGERPRINT_PROPERTY) == contract.fingerprint and properties.get(VERSION_PROPERTY) == str(
        CONTRACT_VERSION
    )


def read_stored(
    spark: SparkSession, settings: LakeSettings, table: str, contract: TableContract | None = None
) -> StoredTable | None:
    """The table's metadata (lake.metadata), and its schema and clustering unless it records `contract` already: an
    up-to-date table (every table on a run without a release) costs that one metadata read."""
    found = lake.metadata(spark, settings, table)
    if found is None:
        return None
    properties = found.properties
    stored = StoredTable(None, found.description, None, properties)
    if contract is not None and _records_contract(properties, contract):
        return stored
    checked = {k.split(".", 2)[2] for k in properties if k.startswith("delta.constraints.")}
    columns = {
        f.name: (
            f.dataType.simpleString(),
            f.nullable and NOT_NULL_CHECK.format(column=f.name).lower() not in checked,
            f.metadata.get("comment", ""),
        )
        for f in spark.read.table(settings.table_name(table)).schema.fields
    }
    clustering = lake.detail(spark, settings, table)["clusteringColumns"] or ()
    return replace(stored, columns=columns, cluster_by=tuple(clustering))


def plan_table(settings: LakeSettings, contract: TableContract, stored: StoredTable | None) -> TablePlan:
    """What upgrading one table would do; pure (statements are rendered, nothing runs)."""
    plan = TablePlan(contract.name, layer_of(contract.name), stored is not None)
    if stored is None:
        return plan
    plan.recorded_version = stored.properties.get(VERSION_PROPERTY)
    if _records_contract(stored.properties, contract):
        return plan
    if stored.columns is None or stored.cluster_by is None:
        raise ValueError(f"{contract.name}: its columns were not read (read_stored without this contract)")
    name, local = settings.table_name(contract.name), settings.is_local_catalog
    changes = plan.changes
    if plan.recorded_version and int(plan.recorded_version) > CONTRACT_VERSION:
        changes.append(
            _refuse(
                contract.name,
                f"table made by contract version {plan.recorded_version}, newer than this code's {CONTRACT_VERSION}",
                "run the release that made it (or a newer one); a table is never downgraded",
            )
        )
        return plan
    recorded_key = stored.properties.get(PRIMARY_KEY_PROPERTY)
    if recorded_key is not None and recorded_key != ",".join(contract.primary_key):
        changes.append(
            _refuse(
                contract.name,
                f"primary key ({recorded_key}) -> ({', '.join(contract.primary_key)})",
                _rebuild_way(contract.name),
            )
        )
    wanted = {c.name for c in contract.columns}
    for column in stored.columns:
        if column not in wanted:
            changes.append(
                _refuse(
                    contract.name,
                    f"column {column} is stored but not in the contract (dropped or renamed)",
                    _rebuild_way(contract.name),
                )
            )
    previous: str | None = None
    for column in contract.columns:
        if column.name in stored.columns:
            changes += _column_changes(name, contract.name, column, stored.columns[column.name], stored, local)
        else:
            changes += _add_column(name, contract.name, column, previous, local)
        previous = column.name
    if stored.comment != contract.description:
        changes.append(
            Change(
                contract.name,
                "table comment changed",
                (f"COMMENT ON TABLE {name} IS {_sql_string(contract.description)}",),
            )
        )
    if tuple(stored.cluster_by) != tuple(contract.cluster_by):
        target = ", ".join(f"`{c}`" for c in contract.cluster_by) if contract.cluster_by else "NONE"
        clause = f"CLUSTER BY ({target})" if contract.cluster_by else "CLUSTER BY NONE"
        changes.append(
            Change(
                contract.name,
                f"clustering ({', '.join(stored.cluster_by)}) -> ({', '.join(contract.cluster_by)})",
                (f"ALTER TABLE {name} {clause}",),
            )
        )
    if contract.name in CHANGE_DATA_FEED_TABLES and stored.properties.get(lake.CHANGE_DATA_FEED) != "true":
        changes.append(
            Change(
                contract.name,
                "change data feed turned on",
                (f"ALTER TABLE {name} SET TBLPROPERTIES ('{lake.CHANGE_DATA_FEED}' = 'true')",),
            )
        )
    changes.append(
        Change(
            contract.name,
            f"record contract version {CONTRACT_VERSION} (fingerprint {contract.fingerprint})",
            (f"ALTER TABLE {name} SET TBLPROPERTIES ({version_properties(contract)})",),
        )
    )
    return plan


def _refuse(table: str, what: str, way: str) -> Change:
    return Change(table, what, (), way)


def _column_changes(
    name: str, table: str, column: Column, stored: tuple[str, bool, str], table_state: StoredTable, local: bool
) -> list[Change]:
    stored_type, stored_nullable, stored_comment = stored
    changes = []
    if stored_type != column.type:
        if (stored_type, column.type) not in WIDENINGS:
            return [_refuse(table, f"column {column.name} type {stored_type} -> {column.type}", _rebuild_way(table))]
        statements = (
            ()
            if table_state.properties.get(TYPE_WIDENING) == "true"
            else (f"ALTER TABLE {name} SET TBLPROPERTIES ('{TYPE_WIDENING}' = 'true')",)
        )
        changes.append(
            Change(
                table,
                f"widen column {column.name} {stored_type} -> {column.type}",
                (*statements, f"ALTER TABLE {name} ALTER COLUMN `{column.name}` TYPE {column.type.upper()}"),
            )
        )
    if stored_nullable and not column.nullable:
        if column.backfill is None:
            changes.append(
                _refuse(
                    table,
                    f"column {column.name} nullable -> NOT NULL without a declared backfill",
                    "declare Column(backfill=...) for its null rows in databricks_jobs/tables.py, or keep it nullable",
                )
            )
        else:
            changes.append(
                Change(
                    table,
                    f"column {column.name} becomes NOT NULL (null rows backfilled with {column.backfill})",
                    (
                        f"UPDATE {name} SET `{column.name}` = {column.backfill} WHERE `{column.name}` IS NULL",
                        _set_not_null(name, column.name, local),
                    ),
                )
            )
    elif column.nullable and not stored_nullable:
        check = NOT_NULL_CHECK.format(column=column.name)
        checked = f"delta.constraints.{check}".lower() in {k.lower() for k in table_state.properties}
        statement = (
            f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {check}"
            if checked
            else f"ALTER TABLE {name} ALTER COLUMN `{column.name}` DROP NOT NULL"
        )
        changes.append(Change(table, f"column {column.name} becomes nullable", (statement,)))
    if stored_comment != column.description:
        changes.append(
            Change(
                table,
                f"column {column.name} comment changed",
                (f"ALTER TABLE {name} ALTER COLUMN `{column.name}` COMMENT {_sql_string(column.description)}",),
            )
        )
    return changes


def _add_column(name: str, table: str, column: Column, after: str | None, local: bool) -> list[Change]:
    comment = f" COMMENT {_sql_string(column.description)}" if column.description else ""
    position = f" AFTER `{after}`" if after else " FIRST"
    add = f"ALTER TABLE {name} ADD COLUMNS (`{column.name}` {column.type.upper()}{comment}{position})"
    if column.nullable:
        return [Change(table, f"add column {column.name} {column.type.upper()} (nullable)", (add,))]
    if column.backfill is None:
        return [
            _refuse(
                table,
                f"new NOT NULL column {column.name} without a declared backfill",
                "declare Column(backfill=...) (the value for the rows already stored) in databricks_jobs/tables.py, "
                "or make the column nullable",
            )
        ]
    return [
        Change(
            table,
            f"add column {column.name} {column.type.upper()} NOT NULL, existing rows backfilled with {column.backfill}",
            (
                add,
                f"UPDATE {name} SET `{column.name}` = {column.backfill}",
                _set_not_null(name, column.name, local),
            ),
        )
    ]


def plan_lake(spark: SparkSession, settings: LakeSettings, contracts: Sequence[TableContract]) -> list[TablePlan]:
    """Every table's plan; the stored states are read at once (in a new process each read replays a Delta log)."""
    with ThreadPoolExecutor(max_workers=CONCURRENT_TABLE_THREADS, thread_name_prefix="upgrade") as pool:
        stored = list(pool.map(lambda c: read_stored(spark, settings, c.name, c), contracts))
    return [plan_table(settings, c, s) for c, s in zip(contracts, stored, strict=True)]


def refusal_message(plans: Sequence[TablePlan]) -> str:
    refused = [c for p in plans for c in p.refusals]
    lines = [f"upgrade refused: {len(refused)} change(s) would lose or rewrite data; nothing was changed"]
    lines += [f"- {c.table}: {c.what}. The way: {c.refused_because}" for c in refused]
    return "\n".join(lines)


def upgrade_lake(
    spark: SparkSession,
    settings: LakeSettings,
    contracts: Sequence[TableContract],
    apply: bool = True,
    log: Callable[[str], None] = print,
) -> list[TablePlan]:
    """Plan every table first; refuse (UpgradeRefused, nothing written) if any change is destructive; else run the
    additive changes table by table, each table's version recorded last (a table left half-way is planned again)."""
    lake.bind_local_schema(spark, settings)
    plans = plan_lake(spark, settings, contracts)
    if any(p.refusals for p in plans):
        raise UpgradeRefused(refusal_message(plans))
    for plan in plans:
        if plan.changes:
            log(("applying " if apply else "would apply ") + plan.describe())
            if apply:
                for change in plan.changes:
                    for statement in change.statements:
                        spark.sql(statement)
    return plans
