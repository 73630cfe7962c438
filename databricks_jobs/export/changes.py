"""The net effect of a Gold table's Delta change data feed, per primary key: what an export batch must carry.

A key may change several times between two exports (a MERGE update, then a whole-table overwrite that deletes and
re-inserts it). Only its state before the first change and after the last one matter:
- no state before, a state after: upsert the row;
- a state before, none after: delete the key;
- a state before and after that differ in any column: upsert the row; equal: nothing travels.
Within one commit, a delete or update pre-image comes before an insert or update post-image (an overwrite removes
the old file's row and adds the new file's row in the same version).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from databricks_jobs.tables import TableContract

BEFORE_TYPES = ("delete", "update_preimage")
AFTER_TYPES = ("insert", "update_postimage")


def _order() -> Column:
    within_commit = F.when(F.col("_change_type").isin(*BEFORE_TYPES), F.lit(0)).otherwise(F.lit(1))
    return F.struct(F.col("_commit_version"), within_commit)


UPSERT, DELETE = "upsert", "delete"


def net_actions(feed: DataFrame, contract: TableContract) -> DataFrame:
    """One row per key whose changes net to something: `_action` (upsert or delete) and the contract's columns (the
    key's last state; for a delete, the row deleted). The one plan that reads the feed: an export materialises it
    once and splits it (split_actions) without reading the feed again."""
    columns, keys = contract.column_names, list(contract.primary_key)
    row, order = F.struct(*[F.col(c) for c in columns]), _order()
    per_key = feed.groupBy(*keys).agg(
        F.min_by(F.col("_change_type"), order).alias("_first_type"),
        F.min_by(row, order).alias("_before"),
        F.max_by(F.col("_change_type"), order).alias("_last_type"),
        F.max_by(row, order).alias("_after"),
    )
    had_row = F.col("_first_type").isin(*BEFORE_TYPES)
    has_row = F.col("_last_type").isin(*AFTER_TYPES)
    changed = ~had_row | ~F.col("_before").eqNullSafe(F.col("_after"))
    action = F.when(has_row & changed, F.lit(UPSERT)).when(had_row & ~has_row, F.lit(DELETE))
    netted = per_key.select(action.alias("_action"), *[F.col(f"_after.{c}").alias(c) for c in columns])
    return netted.where(F.col("_action").isNotNull())


def split_actions(actions: DataFrame, contract: TableContract) -> tuple[DataFrame, DataFrame]:
    """(rows to upsert with the contract's columns, keys to delete with the key columns) of net_actions' rows."""
    upserts = actions.where(F.col("_action") == UPSERT).select(*contract.column_names)
    deletes = actions.where(F.col("_action") == DELETE).select(*contract.primary_key)
    return upserts, deletes


def net_changes(feed: DataFrame, contract: TableContract) -> tuple[DataFrame, DataFrame]:
    """(rows to upsert with the contract's columns, keys to delete with the key columns) from a change feed that
    has the contract's columns plus _change_type and _commit_version."""
    return split_actions(net_actions(feed, contract), contract)
