"""build_gold: run every registered Gold builder and write its table."""

from __future__ import annotations

import time
from collections.abc import Callable

from pyspark.sql import SparkSession

from databricks_jobs import lake
from databricks_jobs.concurrency import run_at_once
from databricks_jobs.gold.builder import GoldBuilder
from databricks_jobs.gold.builders import gold_builders
from databricks_jobs.gold.context import GoldContext
from databricks_jobs.gold.fingerprint import (
    builder_inputs,
    fingerprint,
    input_states,
    record_fingerprints,
    reference_data,
    stored_fingerprints,
)
from databricks_jobs.gold.writer import write_gold
from databricks_jobs.progress import gold_table_line
from databricks_jobs.settings import LakeSettings
from databricks_jobs.spark_session import require_utc_session

# Gold's builders at once: more than concurrency.CONCURRENT_TABLE_THREADS, because a builder that needs a result
# another is computing waits for it (GoldContext, a lock per key) and holds its thread meanwhile; on a new day four
# demand builders wait for the day's keys while the file accounting, queued fifth, could have run. Alternated in one
# warm process on the 5M-row benchmark's new day: Gold 9.2-10.3 s with 4 threads, 7.6-8.9 with 6, 8.1-8.5 with 8.
GOLD_BUILDER_THREADS = 8


def build_gold(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    full_refresh: bool = False,
    tables: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict]:
    """Builds the Gold tables (all, or the named ones); returns per table the write's operation and row counts.

    Incremental by default: a builder whose inputs are unchanged since it last built its table is skipped
    (gold/fingerprint.py), and the others recompute only keys touched by Silver rows from batches Gold has not seen.
    """
    require_utc_session(spark)
    builders: list[GoldBuilder] = list(gold_builders())
    if tables:
        unknown = set(tables) - {b.table.name for b in builders}
        if unknown:
            raise ValueError(f"no Gold builder for {sorted(unknown)}")
        builders = [b for b in builders if b.table.name in tables]
    ctx = GoldContext(spark, settings, batch_id, full_refresh)
    # What a builder whose table is not there yet reads: every Silver row, processed by Gold before or not.
    whole = ctx if full_refresh else GoldContext(spark, settings, batch_id, full_refresh=True)
    results: dict[str, dict] = {}
    built: list[tuple[str, dict[str, object]]] = []
    try:
        try:
            _run_builders(spark, settings, (ctx, whole), builders, full_refresh, results, built, log)
        except BaseException:
            # What did build is remembered even when a later builder failed: a re-run skips it.
            record_fingerprints(spark, settings, batch_id, built)
            raise
        records: list[Callable[[], None]] = [lambda: record_fingerprints(spark, settings, batch_id, built)]
        if tables is None and any(r["operation"] != "unchanged inputs" for r in results.values()):
            # Only a run of every builder may mark Silver batches as reflected in Gold; when every builder found its
            # inputs unchanged there is no Silver batch to mark. Before the contexts are released: the builders
            # already asked which Silver tables hold new batches (builders write neither Silver nor that record).
            # Only the upsert builders' inputs: they alone read the record (ctx.changed, _nothing_new); a sync
            # builder rebuilds its whole table, and listing its inputs' batches was a Silver read for nothing.
            inputs = sorted({name for b in builders if b.mode == "upsert" for name in b.inputs})
            records.append(lambda: ctx.record_processed(inputs))
        # Two tables, neither read by the other's writer: written at once (a new day's Gold ~1 s sooner).
        run_at_once(records, lambda record: record(), name="gold_records")
    finally:
        ctx.release()
        whole.release()
    return results


def _run_builders(
    spark: SparkSession,
    settings: LakeSettings,
    contexts: tuple[GoldContext, GoldContext],
    builders: list[GoldBuilder],
    full_refresh: bool,
    results: dict[str, dict],
    built: list[tuple[str, dict[str, object]]],
    log: Callable[[str], None],
) -> None:
    """Runs the builders at once (concurrency.run_at_once), a line per table as it finishes: each writes its own table
    and reads only Silver and Bronze. The first failure stops builders not yet started and is raised once those
    running have finished (their tables written and remembered in `built`)."""
    stored = stored_fingerprints(spark, settings)
    reference, states = reference_data(settings.config_root), input_states(spark, settings, builders)

    def build_one(builder: GoldBuilder) -> tuple[dict, dict[str, object] | None]:
        started = time.monotonic()
        inputs = builder_inputs(builder, states, reference)
        if _unchanged_inputs(spark, settings, builder, stored, inputs, full_refresh):
            result, remembered = {"operation": "unchanged inputs", "rows_written": 0}, None
        else:
            result = _run_builder(spark, settings, contexts, builder, full_refresh)
            # A table not written has no inputs to remember.
            remembered = inputs if result["operation"] != "no input" else None
        result["seconds"] = round(time.monotonic() - started, 2)
        return result, remembered

    finished: dict[str, dict] = {}

    def on_done(builder: GoldBuilder, outcome: tuple[dict, dict[str, object] | None]) -> None:
        result, remembered = outcome
        if remembered is not None:
            built.append((builder.table.name, remembered))
        finished[builder.table.name] = result
        log(gold_table_line(builder.table.name, result))

    try:
        run_at_once(builders, build_one, on_done, name="gold", threads=GOLD_BUILDER_THREADS)
    finally:
        # In the builders' order, whatever order they finished in.
        results.update({b.table.name: finished[b.table.name] for b in builders if b.table.name in finished})


def _unchanged_inputs(
    spark: SparkSession,
    settings: LakeSettings,
    builder: GoldBuilder,
    stored: dict[str, str],
    inputs: dict[str, object],
    full_refresh: bool,
) -> bool:
    """The builder last built its table from these very inputs (and the table is still there)."""
    if full_refresh or stored.get(builder.table.name) != fingerprint(inputs):
        return False
    return lake.exists(spark, settings, builder.table.name)


def _run_builder(
    spark: SparkSession,
    settings: LakeSettings,
    contexts: tuple[GoldContext, GoldContext],
    builder: GoldBuilder,
    full_refresh: bool,
) -> dict:
    """Builds and writes one table. `contexts`: the run's (incremental, whole); a table that is not there yet (a new
    deployment, a table a release adds, a table dropped to be rebuilt) is built from the whole context, all of Silver,
    as upgrade.py promises, not from the keys of the batches Gold has not processed yet."""
    ctx, whole = contexts
    if not lake.exists(spark, settings, builder.table.name):
        ctx = whole
    elif _nothing_new(ctx, builder, full_refresh):
        # What write_gold reports for an upsert of no recomputed keys, without building and checking them.
        return {"operation": "skip", "rows_written": 0}
    rows = builder.build(ctx)
    if rows is None:
        return {"operation": "no input", "rows_written": 0}
    return write_gold(spark, settings, builder.table, rows, builder.mode, full_refresh)


def _nothing_new(ctx: GoldContext, builder: GoldBuilder, full_refresh: bool) -> bool:
    """An upsert builder of an existing table recomputes only keys of Silver rows new to Gold: with every input present
    and none holding a new batch, it would return no rows. (Sync builders rebuild whole tables from more than Silver
    batches: they run.)"""
    if full_refresh or builder.mode != "upsert" or not builder.inputs:
        return False
    return all(ctx.read(name) is not None and not ctx.has_new_batches(name) for name in builder.inputs)
