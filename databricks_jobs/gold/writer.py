"""Writing a Gold table: conform to the contract, then overwrite (full refresh), or, incrementally, append rows of
new keys only or MERGE."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.settings import LakeSettings
from databricks_jobs.tables import TableContract, gold_staging


def conform(df: DataFrame, contract: TableContract) -> DataFrame:
    """Exactly the contract's columns, in order, with its types; raises naming the missing columns."""
    missing = [c for c in contract.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{contract.name}: the builder did not produce columns {missing}")
    return df.select([F.col(c.name).cast(c.type).alias(c.name) for c in contract.columns])


def _valued_columns(contract: TableContract) -> list[str]:
    """The columns whose values decide whether a row changed: all but batch_id, the run that last wrote it."""
    return [c for c in contract.column_names if c != "batch_id"]


# Two doubles this close are one value: what another summation order, or an older release's double sums, leaves in
# the last bits of a recomputed row (at most (n - 1) * 2**-53 of a sum of n values), never a reading's change (1e-9
# MW is a milliwatt; 1e-12 of a day's 1.2 million MWh is 1.2 Wh). Gold's own sums are exact (gold/exact_sums.py);
# this keeps rows an older release summed as doubles from being rewritten and exported as changed on an upgrade.
SAME_DOUBLE_ABSOLUTE = 1e-9
SAME_DOUBLE_RELATIVE = 1e-12


def _doubles(contract: TableContract) -> set[str]:
    return {c.name for c in contract.columns if c.type == "double"}


def _same_sql(contract: TableContract, column: str) -> str:
    """SQL over aliases t and s: the column holds the same value on both sides (nulls equal, doubles within the
    tolerance above)."""
    t, s = f"t.`{column}`", f"s.`{column}`"
    if column not in _doubles(contract):
        return f"({t} <=> {s})"
    tolerance = f"greatest({SAME_DOUBLE_ABSOLUTE!r}, {SAME_DOUBLE_RELATIVE!r} * greatest(abs({t}), abs({s})))"
    return f"({t} <=> {s} OR coalesce(abs({t} - {s}) <= {tolerance}, false))"


def _same_python(a: object, b: object) -> bool:
    """_same_sql on the driver, for one value of a double column."""
    if a is None or b is None:
        return a is b
    return a == b or math.isclose(a, b, rel_tol=SAME_DOUBLE_RELATIVE, abs_tol=SAME_DOUBLE_ABSOLUTE)


def _value_changed(contract: TableContract) -> str:
    """MERGE condition: some non-key column other than batch_id holds another value (see _same_sql), so unchanged
    rows keep their batch_id and an idempotent re-run rewrites nothing."""
    keys = set(contract.primary_key)
    compared = [c for c in _valued_columns(contract) if c not in keys]
    if not compared:
        return "false"
    return " OR ".join(f"NOT {_same_sql(contract, c)}" for c in compared)


# Sync tables up to this many rows are compared on the driver first: an unchanged table (the usual case on an
# incremental run) then costs two small reads instead of a MERGE's joins, and one whose only change is new rows an
# append of them.
SMALL_SYNC_ROWS = 10_000

# The column _not_held adds to the rows it keeps: whether the table holds the row's key (with other values).
KEY_HELD = "__key_held_by_table"


@dataclass(frozen=True)
class Difference:
    """How a sync table's rows differ from the table's, computed on the driver: the rows of new keys, and how many
    keys hold other values or are gone."""

    inserted: list[Row]
    changed: int
    deleted: int


def _difference(
    spark: SparkSession, settings: LakeSettings, contract: TableContract, collected: lake.Collected
) -> Difference | None:
    """The table's rows against `collected` (batch_id aside, doubles within the tolerance), or None when unsure (a
    large table, unhashable values, a TIMESTAMP nested in a value): the MERGE then decides, as before. Both sides
    cross as lake.collect_small gives them (instants as microseconds), so an autumn's repeated hour stays two."""
    if len(collected.rows) > SMALL_SYNC_ROWS:
        return None
    columns = _valued_columns(contract)
    current = lake.collect_small(lake.read(spark, settings, contract.name).select(*columns), SMALL_SYNC_ROWS)
    if current is None:
        return None
    doubles = {i for i, c in enumerate(columns) if c in _doubles(contract)}
    try:
        held = {tuple(r[k] for k in contract.primary_key): tuple(r[c] for c in columns) for r in current.rows}
        computed = {tuple(r[k] for k in contract.primary_key): r for r in collected.rows}
    except TypeError:  # maps or arrays are unhashable
        return None
    if len(computed) != len(collected.rows) or len(held) != len(current.rows):
        return None
    changed = sum(
        not _same_row(tuple(row[c] for c in columns), held[k], doubles) for k, row in computed.items() if k in held
    )
    inserted = [row for k, row in computed.items() if k not in held]
    return Difference(inserted, changed, sum(k not in computed for k in held))


def _same_row(row: tuple, other: tuple, doubles: set[int]) -> bool:
    return all(_same_python(a, b) if i in doubles else a == b for i, (a, b) in enumerate(zip(row, other, strict=True)))


def write_gold(
    spark: SparkSession,
    settings: LakeSettings,
    contract: TableContract,
    rows: DataFrame,
    mode: str,
    full_refresh: bool,
) -> dict:
    """Writes `rows` to the contract's table; returns {"rows_written", "operation"}."""
    rows = conform(rows, contract)
    first_build = not lake.exists(spark, settings, contract.name)
    if first_build or full_refresh:
        # A first build appends to the table just created from its contract; an overwrite would reset the table's
        # clustering and need an ALTER commit after it. A full refresh overwrites (lake.overwrite re-applies it).
        # Both are reported as an overwrite (the whole table written), counted from the write's own commit.
        (lake.append if first_build else lake.overwrite)(spark, settings, contract, rows)
        return {"operation": "overwrite", "rows_written": _written_rows(spark, settings, contract)}

    if mode == "upsert":
        # Only the rows the table does not hold as they are: a MERGE whose matched rows all fail its update condition
        # still rewrites their files and commits a version (a month's coincident peak on most new days).
        rows = _not_held(spark, settings, contract, rows)
    collected = lake.collect_small(rows)
    if collected is None:
        # Many rows: computed again into a staging table, for the checks and the MERGE to read the same rows (as
        # Silver stages its candidates; serverless refuses DataFrame.persist / cache).
        staged = lake.stage(spark, settings, gold_staging(contract.name), rows)
        return _merge(spark, settings, contract, conform(staged, contract), mode)
    if mode == "upsert":
        if not collected.rows:
            return _skipped()
        if not any(row[KEY_HELD] for row in collected.rows):
            return _append_new(spark, settings, contract, collected)
        return _merge(spark, settings, contract, conform(lake.local_frame(spark, collected), contract), mode)
    difference = _difference(spark, settings, contract, collected)
    if difference is not None and not (difference.changed or difference.deleted):
        if not difference.inserted:
            return {"operation": "merge", "rows_written": 0, "rows_deleted": 0}  # what the MERGE would report
        return _append_new(spark, settings, contract, collected._replace(rows=difference.inserted))
    return _merge(spark, settings, contract, conform(lake.local_frame(spark, collected), contract), mode)


def _append_new(spark: SparkSession, settings: LakeSettings, contract: TableContract, new: lake.Collected) -> dict:
    """Rows whose keys the table does not hold, appended: one commit that reads nothing, where a MERGE of the same
    rows joins them with the table to find no match (a new day's daily rows, a new file's account). Safe because
    one pipeline run writes at a time (the job's max_concurrent_runs: 1, which incremental Gold already relies on)."""
    lake.append(spark, settings, contract, conform(lake.local_frame(spark, new), contract))
    return {"operation": "append", "rows_written": len(new.rows)}


def _skipped() -> dict:
    """What write_gold reports for an upsert with nothing to write: no recomputed rows, or none the table lacks (a new
    dict each time: the runner adds the table's seconds to it)."""
    return {"operation": "skip", "rows_written": 0}


def _not_held(spark: SparkSession, settings: LakeSettings, contract: TableContract, rows: DataFrame) -> DataFrame:
    """The rows of `rows` the table does not hold with these values (batch_id aside, nulls equal, doubles within
    the tolerance): new keys and changed values, as the MERGE's condition (_value_changed) sees them; each with
    KEY_HELD, whether the table holds its key."""
    compared = _valued_columns(contract)
    keys = set(contract.primary_key)
    table = lake.read(spark, settings, contract.name).select(*compared, F.lit(True).alias(KEY_HELD))
    # The key's null-safe equalities are what Spark hash-joins on (one table row per key at most); the doubles'
    # tolerance then decides whether the matched row holds the same values.
    on = F.expr(" AND ".join(f"t.`{k}` <=> s.`{k}`" for k in contract.primary_key))
    same = F.expr(" AND ".join([_same_sql(contract, c) for c in compared if c not in keys] or ["true"]))
    held = F.col(f"t.`{KEY_HELD}`").isNotNull()
    joined = rows.alias("s").join(table.alias("t"), on, "left")
    return joined.where(~(held & same)).select("s.*", held.alias(KEY_HELD))


# Commits after an overwrite that write no rows (a whole-table overwrite is followed by CLUSTER BY: lake.overwrite).
_METADATA_ONLY = ("CLUSTER BY", "SET TBLPROPERTIES", "UNSET TBLPROPERTIES")


def _history(spark: SparkSession, settings: LakeSettings, contract: TableContract, limit: int) -> list:
    return spark.sql(f"DESCRIBE HISTORY {settings.table_name(contract.name)} LIMIT {int(limit)}").collect()


def _written_rows(spark: SparkSession, settings: LakeSettings, contract: TableContract) -> int:
    """Rows the whole-table write (an overwrite, or a first build's append) just committed, from its commit's
    operationMetrics (numOutputRows): no scan of the table. A commit without that figure (Delta records none for some
    empty writes) is counted the slow way."""
    for entry in _history(spark, settings, contract, 3):
        if entry["operation"] in _METADATA_ONLY:
            continue
        metrics = entry["operationMetrics"] or {}
        if "numOutputRows" in metrics:
            return int(metrics["numOutputRows"])
        break
    return lake.read(spark, settings, contract.name).count()


def _merge(spark: SparkSession, settings: LakeSettings, contract: TableContract, rows: DataFrame, mode: str) -> dict:
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in contract.primary_key)
    merge = (
        lake.delta_table(spark, settings, contract.name)
        .alias("t")
        .merge(rows.alias("s"), on)
        .whenMatchedUpdateAll(condition=_value_changed(contract))
        .whenNotMatchedInsertAll()
    )
    if mode == "sync":
        merge = merge.whenNotMatchedBySourceDelete()
    # The version before the MERGE is needed only where execute() returns no counts; a runtime that returned them
    # once always does, so later MERGEs of the process skip that read of the table's history.
    before = None if _MERGE_COUNTS["returned"] else _history(spark, settings, contract, 1)[0]["version"]
    result = merge.execute()
    _MERGE_COUNTS["returned"] = result is not None
    return {"operation": "merge", **_merge_counts(spark, settings, contract, result, before)}


# Whether this process's runtime returns a MERGE's counts from execute() (Delta 3.0 and later: every runtime the
# bundle targets, and delta-spark locally); learned from the first MERGE.
_MERGE_COUNTS = {"returned": False}


def _merge_counts(
    spark: SparkSession, settings: LakeSettings, contract: TableContract, result: DataFrame | None, before: int | None
) -> dict[str, int]:
    """Rows the MERGE wrote and deleted. Delta 3.x / 4.x return them as a one-row DataFrame; older runtimes return
    None after the MERGE committed, so the counts then come from the MERGE's commit in the history, and a MERGE
    that changed nothing (no new version) counts zero, not the previous commit's figures."""
    if result is not None:
        metrics = result.first()
        inserted, updated, deleted = (metrics[f"num_{k}_rows"] for k in ("inserted", "updated", "deleted"))
    else:
        if before is None:
            raise RuntimeError(
                f"{contract.name}: the MERGE returned no counts where an earlier MERGE of this process did; its counts "
                "cannot be told from the history without the version before it"
            )
        (latest,) = _history(spark, settings, contract, 1)
        if latest["version"] == before:
            return {"rows_written": 0, "rows_deleted": 0}
        metrics = latest["operationMetrics"] or {}
        inserted, updated, deleted = (metrics.get(f"numTargetRows{k}", 0) for k in ("Inserted", "Updated", "Deleted"))
    return {"rows_written": int(inserted) + int(updated), "rows_deleted": int(deleted)}
