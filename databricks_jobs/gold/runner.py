"""build_gold: run every registered Gold builder and write its table."""

from __future__ import annotations

import time
from collections.abc import Callable

from pyspark.sql import SparkSession

from databricks_jobs import lake
from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.builders import gold_builders
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.writer import write_gold
from databricks_jobs.progress import gold_table_line
from databricks_jobs.settings import LakeSettings
from databricks_jobs.spark_session import require_utc_session


def build_gold(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    full_refresh: bool = False,
    tables: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict]:
    """Builds the Gold tables (all, or the named ones); returns per table the write's operation and row counts.

    Incremental by default: only keys touched by Silver rows from batches Gold has not seen are recomputed.
    """
    require_utc_session(spark)
    builders: list[GoldBuilder] = list(gold_builders())
    if tables:
        unknown = set(tables) - {b.table.name for b in builders}
        if unknown:
            raise ValueError(f"no Gold builder for {sorted(unknown)}")
        builders = [b for b in builders if b.table.name in tables]
    ctx = GoldContext(spark, settings, batch_id, full_refresh)
    results: dict[str, dict] = {}
    try:
        _run_builders(spark, settings, ctx, builders, full_refresh, results, log)
    finally:
        ctx.release()
    if tables is None:
        # Only a run of every builder may mark Silver batches as reflected in Gold.
        ctx.record_processed(sorted({name for b in builders for name in b.inputs}))
    return results


def _run_builders(
    spark: SparkSession,
    settings: LakeSettings,
    ctx: GoldContext,
    builders: list[GoldBuilder],
    full_refresh: bool,
    results: dict[str, dict],
    log: Callable[[str], None],
) -> None:
    for builder in builders:
        started = time.monotonic()
        result = _run_builder(spark, settings, ctx, builder, full_refresh)
        result["seconds"] = round(time.monotonic() - started, 2)
        results[builder.table.name] = result
        log(gold_table_line(builder.table.name, result))


def _run_builder(
    spark: SparkSession, settings: LakeSettings, ctx: GoldContext, builder: GoldBuilder, full_refresh: bool
) -> dict:
    if _nothing_new(spark, settings, ctx, builder, full_refresh):
        # What write_gold reports for an upsert of no recomputed keys, without building and checking them.
        return {"operation": "skip", "rows_written": 0}
    rows = builder.build(ctx)
    if rows is None:
        return {"operation": "no input", "rows_written": 0}
    return write_gold(spark, settings, builder.table, rows, builder.mode, full_refresh)


def _nothing_new(
    spark: SparkSession, settings: LakeSettings, ctx: GoldContext, builder: GoldBuilder, full_refresh: bool
) -> bool:
    """An upsert builder recomputes only keys of Silver rows new to Gold: with every input present and none holding a
    new batch, it would return no rows. (Sync builders rebuild whole tables from more than Silver batches: they run.)"""
    if full_refresh or builder.mode != "upsert" or not builder.inputs:
        return False
    if not lake.exists(spark, settings, builder.table.name):
        return False
    return all(ctx.read(name) is not None and not ctx.has_new_batches(name) for name in builder.inputs)
