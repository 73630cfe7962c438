"""Silver build: Bronze rows of files not yet in Silver -> typed rows (Delta MERGE) + quarantine + file accounting.

Per source: the dataset's transform (silver.registry) gives one candidate per Silver row; every candidate gets one
fate, counted per file in `silver__processed_files`:
- quarantined: the transform's reason, or `conflicting_duplicate` (same key, different value);
- exact_duplicate: same key and same values as a row kept earlier (merged once);
- kept: the first row of its key, in (source_file, source_row_number, source_column) order, or the row already in
  Silver. Rule for conflicts: the first one seen wins; later ones are quarantined with the winner named.
Incremental: a file is processed when its newest Bronze version (content hash) is not in silver__processed_files.
A changed file supersedes its older version: that version's Silver and quarantine rows are deleted first.
Re-running with nothing new writes nothing, so every table keeps its Delta version.
Cost: the sources of one table pending together are built in one pass (build_group: a source's fixed cost is its
Spark jobs and commits, not its rows); the transforms run once (candidates staged to Delta, or collected onto the
driver when few); only keys held by several candidates are ranked by a window; the outputs re-derive the fates from
the staged rows; a plain append writes new rows unless an interrupted earlier attempt left rows of the same files
(then an insert-only MERGE).
"""

from __future__ import annotations

import json
import operator
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.clock import utc_now
from databricks_jobs.concurrency import run_at_once
from databricks_jobs.progress import silver_source_line
from databricks_jobs.reference.regions import Region, load_regions
from databricks_jobs.settings import LakeSettings
from databricks_jobs.silver.candidates import source_candidates
from databricks_jobs.silver.dataset import DatasetHandler
from databricks_jobs.silver.parsing import RawFields
from databricks_jobs.silver.registry import handler_for
from databricks_jobs.sources import SourceDefinition, load_source_definitions
from databricks_jobs.tables import (
    BRONZE_INGESTED_FILES,
    FILE_INGESTED,
    SILVER_PROCESSED_FILES,
    SILVER_QUARANTINE,
    QuarantineReason,
    TableContract,
    silver_staging,
)

ORDER = ("source_file", "source_row_number", "source_column")
KEPT, QUARANTINED, EXACT_DUPLICATE = "kept", "quarantined", "exact_duplicate"


@dataclass(frozen=True)
class FileAccount:
    source_id: str
    source_file: str
    content_hash: str
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    rows_exact_duplicate: int


@dataclass
class SilverReport:
    batch_id: str
    files: list[FileAccount] = field(default_factory=list)
    superseded_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = {k: sum(getattr(f, k) for f in self.files) for k in ("rows_in", "rows_kept", "rows_quarantined")}
        head = f"silver batch {self.batch_id}: {len(self.files)} files processed, "
        return head + ", ".join(f"{k} {v}" for k, v in total.items())


@dataclass(frozen=True)
class PendingFile:
    """A Bronze file version not yet in Silver."""

    source_file: str
    content_hash: str
    supersedes_older: bool  # an older version of the file is in Silver: its rows are replaced
    header: tuple[str, ...]  # the header Bronze logged for it
    rows: int = 0  # data rows Bronze ingested from it
    size_bytes: int | None = None  # as listed; None when the log has no size


def current_versions(spark: SparkSession, settings: LakeSettings) -> DataFrame:
    """The newest ingested content hash of each Bronze file, with the header Bronze logged for it."""
    log = lake.read_or_empty(spark, settings, BRONZE_INGESTED_FILES)
    ingested = log.where(F.col("status") == FILE_INGESTED)
    newest = Window.partitionBy("source_id", "source_file").orderBy(F.desc("ingested_at_utc"), F.desc("batch_id"))
    return (
        ingested.withColumn("_n", F.row_number().over(newest))
        .where("_n = 1")
        .select("source_id", "source_file", "content_hash", "ingested_at_utc", "header_json", "rows", "size_bytes")
    )


def pending_files_by_source(spark: SparkSession, settings: LakeSettings) -> dict[str, list[PendingFile]]:
    """Per source, the files whose newest version is not in Silver, in path order: one query for every source, so
    a run with nothing new costs one small job, not one per source."""
    current = current_versions(spark, settings)
    processed = lake.read_or_empty(spark, settings, SILVER_PROCESSED_FILES)
    done = processed.select("source_id", "source_file", "content_hash")
    todo = current.join(done, ["source_id", "source_file", "content_hash"], "left_anti")
    older = processed.select("source_id", "source_file").distinct().withColumn("_older", F.lit(True))
    rows = todo.join(older, ["source_id", "source_file"], "left").orderBy("source_id", "source_file").collect()
    pending: dict[str, list[PendingFile]] = {}
    for r in rows:
        pending.setdefault(r.source_id, []).append(
            PendingFile(
                r.source_file,
                r.content_hash,
                bool(r._older),
                tuple(json.loads(r.header_json or "[]")),
                int(r.rows),
                None if r.size_bytes is None else int(r.size_bytes),
            )
        )
    return pending


def file_headers(files: list[PendingFile]) -> RawFields:
    """RawFields over the headers Bronze logged for these file versions: how their raw lines split into fields."""
    return RawFields.of({f.source_file: f.header for f in files})


def logged_fields(spark: SparkSession, settings: LakeSettings, source_id: str) -> RawFields:
    """RawFields of every file of a source as Bronze holds it now (its newest version's logged header)."""
    current = current_versions(spark, settings).where(F.col("source_id") == source_id)
    rows = current.select("source_file", "header_json").collect()
    return RawFields.of({r.source_file: json.loads(r.header_json or "[]") for r in rows})


def fate_key(handler: DatasetHandler) -> list[str]:
    """The de-duplication key: the target's primary key and the sub-region id (`_sub_id`: null unless the source's
    sub-region rows are summed, so a plain source's key is the primary key alone)."""
    return [*handler.target.primary_key, "_sub_id"]


def is_sub_row() -> F.Column:
    """A candidate of a source whose sub-region rows are summed (source_candidates gives those a `_sub_id`)."""
    return F.col("_sub_id").isNotNull()


def _same_key(key: list[str], other: str) -> F.Column:
    # Null-safe: a plain source's `_sub_id` is null in every candidate.
    return reduce(operator.and_, [F.col(k).eqNullSafe(F.col(f"{other}{k}")) for k in key])


def _key_hash(key: list[str]) -> F.Column:
    # xxhash64 is null-safe (equal keys, nulls included, hash alike), like the window's partitioning.
    return F.xxhash64(*key)


def duplicate_keys(candidates: DataFrame, key: list[str]) -> DataFrame:
    """Hashes (`_d_hash`) of the keys held by more than one usable candidate: usually none.

    Grouping one long is cheaper than grouping the key; a hash collision only sends a few more rows through the
    exact ranking in assign_fates, so no fate depends on it.
    """
    usable = candidates.where(F.col("reason").isNull())
    return usable.groupBy(_key_hash(key).alias("_d_hash")).count().where(F.col("count") > 1).select("_d_hash")


def assign_fates(
    candidates: DataFrame, existing: DataFrame, handler: DatasetHandler, duplicates: DataFrame | None = None
) -> DataFrame:
    """Every candidate with `_fate` (kept | quarantined | exact_duplicate) and, for conflicts, reason and detail.

    `existing`: the target table's rows from other files. `duplicates`: duplicate_keys(candidates, fate_key(...)),
    when the caller has it already (e.g. materialised, with a broadcast hint); computed here otherwise. Candidates of
    several sources may come together (every key starts with source_id), summed ones (is_sub_row) among them.
    Pure: DataFrames in, DataFrame out.
    """
    key = fate_key(handler)
    compared = list(handler.compared_columns())
    bad = candidates.where(F.col("reason").isNotNull()).withColumn("_fate", F.lit(QUARANTINED))
    good = candidates.where(F.col("reason").isNull())
    if duplicates is None:
        duplicates = duplicate_keys(candidates, key)
    # Only keys held by several rows need the window's sort; a key held by one row is its own winner.
    on_duplicate = _key_hash(key) == F.col("_d_hash")
    unique = good.join(duplicates, on_duplicate, "left_anti")
    shared = good.join(duplicates, on_duplicate, "left_semi")
    ranked = shared.withColumn("_rank", F.row_number().over(Window.partitionBy(*key).orderBy(*ORDER)))
    winners = unique.unionByName(ranked.where("_rank = 1").drop("_rank"))
    first = ranked.where("_rank = 1").select(
        *[F.col(k).alias(f"_k_{k}") for k in key],
        *[F.col(c).alias(f"_w_{c}") for c in compared],
        F.concat_ws(":", "source_file", F.col("source_row_number").cast("string")).alias("_w_where"),
    )
    losers = ranked.where("_rank > 1").drop("_rank").join(first, _same_key(key, "_k_"))
    same = F.lit(True)
    for c in compared:
        same = same & F.col(c).eqNullSafe(F.col(f"_w_{c}"))
    losers = losers.select(
        *candidates.columns,
        F.when(same, F.lit(EXACT_DUPLICATE)).otherwise(F.lit(QUARANTINED)).alias("_fate"),
        F.when(~same, F.lit(QuarantineReason.CONFLICTING_DUPLICATE)).alias("_reason"),
        F.when(~same, F.concat(F.lit("same key as "), F.col("_w_where"), F.lit(" with different values"))).alias(
            "_detail"
        ),
    )
    # Winners against rows already in Silver from other files: the row already there wins.
    pk = list(handler.target.primary_key)
    there = existing.select(
        *pk,
        *[F.col(c).alias(f"_e_{c}") for c in compared],
        F.concat_ws(":", "source_file", F.col("source_row_number").cast("string")).alias("_e_where"),
        F.lit(True).alias("_exists"),
    )
    # A sub-region row cannot be compared with a region sum already there: that key is a conflict.
    same_there = ~is_sub_row()
    for c in compared:
        same_there = same_there & F.col(c).eqNullSafe(F.col(f"_e_{c}"))
    winners = winners.join(there, pk, "left").select(
        *candidates.columns,
        F.when(F.col("_exists").isNull(), F.lit(KEPT))
        .when(same_there, F.lit(EXACT_DUPLICATE))
        .otherwise(F.lit(QUARANTINED))
        .alias("_fate"),
        F.when(F.col("_exists") & ~same_there, F.lit(QuarantineReason.CONFLICTING_DUPLICATE)).alias("_reason"),
        F.when(
            F.col("_exists") & ~same_there,
            F.concat(F.lit("key already in Silver from "), F.col("_e_where"), F.lit(" with different values")),
        ).alias("_detail"),
    )
    resolved = losers.unionByName(winners)
    resolved = resolved.withColumn("reason", F.coalesce("_reason", "reason")).withColumn(
        "detail", F.coalesce("_detail", "detail")
    )
    return bad.unionByName(resolved.drop("_reason", "_detail"))


def aggregate_sub_rows(kept: DataFrame, handler: DatasetHandler) -> DataFrame:
    """Sum kept sub-region rows (meters, feeders) to the target key; lineage points at the first contributing row."""
    pk = list(handler.target.primary_key)
    sums = {"demand_mw", "reported_demand_mw"}
    others = [c for c in handler.target.column_names if c not in pk and c != "batch_id"]
    aggregates = []
    for c in others:
        if c in sums:
            aggregates.append(F.sum(c).alias(c))
        elif c == "is_imputed":
            aggregates.append(F.max(c).alias(c))
        elif c in ("source_file", "source_row_number"):
            continue
        else:
            aggregates.append(F.first(c, ignorenulls=True).alias(c))
    first_row = F.min(F.struct("source_file", "source_row_number")).alias("_first")
    return (
        kept.groupBy(*pk)
        .agg(*aggregates, first_row)
        .select("*", "_first.source_file", "_first.source_row_number")
        .drop("_first")
    )


def of_files(files: dict[str, list[str]]) -> Column:
    """Rows of these files, per source: `(source_id = s AND source_file IN (...)) OR ...`."""
    terms = [
        (F.col("source_id") == source_id) & F.col("source_file").isin(*names) for source_id, names in files.items()
    ]
    return reduce(operator.or_, terms) if terms else F.lit(False)


def _write_new_rows(
    spark: SparkSession, settings: LakeSettings, table: TableContract, rows: DataFrame, files: Column, count: int
) -> None:
    """Insert `rows` (`count` of them, none sharing a key with the table's rows of other files) into the table.

    The table holds rows of these files (`files`: of_files) only after an interrupted earlier attempt; then an
    insert-only MERGE keeps the rows already there. Otherwise no key can collide, and a plain append writes the same
    rows without the MERGE's join. The table is created even when there is nothing to write (readers tell "no rows"
    from "no table").
    """
    if not lake.exists(spark, settings, table.name):
        lake.ensure_table(spark, settings, table)
        if count:
            lake.append(spark, settings, table, rows)
        return
    if count == 0:
        return
    target = lake.delta_table(spark, settings, table.name)
    if target.toDF().where(files).isEmpty():
        lake.append(spark, settings, table, rows)
        return
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.primary_key)
    lake.retry_on_conflict(
        lambda: target.alias("t").merge(rows.alias("s"), condition).whenNotMatchedInsertAll().execute(),
        f"{table.name}: insert of new rows",
    )


def _delete_file_rows(spark: SparkSession, settings: LakeSettings, files: Column, tables: tuple[str, ...]) -> None:
    for name in tables:
        if lake.exists(spark, settings, name):
            table = lake.delta_table(spark, settings, name)
            lake.retry_on_conflict(lambda t=table: t.delete(files), f"{name}: delete of superseded files' rows")


# Duplicate keys up to this many are broadcast to the joins that split unique from shared keys (a few hundred MB at
# most); more (e.g. a whole file delivered twice under two names) go through a shuffle join instead.
BROADCAST_DUPLICATE_KEYS = 2_000_000
ROWS_IN, REJECTED = "_rows_in", "_rejected"


# A pass over files this small (rows and listed bytes, none gzipped: a compressed size bounds nothing) takes its
# candidates onto the driver instead of staging them: a staging table costs a Delta write and a log replay for each of
# the pass's later reads, most of a small pass's time (bench.steps silver, the demo's outage pass: 8.5 -> 5.8-6.1 s).
DRIVER_RAW_BYTES = 4 * 2**20
# At most this many raw rows, and candidates: what 4 MiB of short CSV lines (~80 bytes) hold, a day of a utility's
# 15-minute feeder readings (13,728 rows in bench.pipeline's new day). Held on the driver they are tens of MB at most.
DRIVER_CANDIDATES = 50_000


def fits_on_driver(files: list[PendingFile]) -> bool:
    """The files' candidates are few and small enough to be held on the driver (DRIVER_CANDIDATES rows, a candidate
    per raw row unless a wide row gives several: candidates_once still refuses more candidates than that)."""
    return (
        sum(f.rows for f in files) <= DRIVER_CANDIDATES
        and all(f.size_bytes is not None and not f.source_file.endswith(".gz") for f in files)
        and sum(f.size_bytes or 0 for f in files) <= DRIVER_RAW_BYTES
    )


def candidates_once(
    spark: SparkSession, settings: LakeSettings, group: str, candidates: DataFrame, files: list[PendingFile]
) -> DataFrame:
    """The candidates computed once for every output of the pass: onto the driver when the files are small, else into
    a staging table."""
    if fits_on_driver(files):
        collected = lake.collect_small(candidates, DRIVER_CANDIDATES)
        if collected is not None:
            return lake.local_frame(spark, collected)
    return lake.stage(spark, settings, silver_staging(group, "candidates"), candidates)


def _materialised_duplicates(
    spark: SparkSession, settings: LakeSettings, group: str, staged: DataFrame, key: list[str]
) -> DataFrame:
    """duplicate_keys, computed once for every output below: on the driver when few (usually none: no Delta commit),
    else staged and broadcast when small enough."""
    keys = duplicate_keys(staged, key)
    collected = lake.collect_small(keys)
    if collected is not None:
        return F.broadcast(lake.local_frame(spark, collected))
    duplicates = lake.stage(spark, settings, silver_staging(group, "duplicate_keys"), keys)
    return F.broadcast(duplicates) if duplicates.count() <= BROADCAST_DUPLICATE_KEYS else duplicates


def count_per_file(staged: DataFrame, fates: DataFrame) -> dict[tuple[str, str, str], int]:
    """Rows per (source, file, fate), per (source, file, ROWS_IN) counted on the candidates themselves and per
    (source, file, REJECTED) (those of them the transform quarantined), in one aggregation.

    rows_in comes from the staged candidates, not from the fates, so rows_in = kept + quarantined + exact_duplicate
    is a real check of assign_fates (a lost or doubled row breaks it).
    """
    label = F.when(F.col("reason").isNotNull(), F.lit(REJECTED)).otherwise(F.lit(ROWS_IN)).alias("_fate")
    where = ("source_id", "source_file")
    counted = staged.select(*where, label).unionByName(fates.select(*where, "_fate"))
    counts = {
        (r.source_id, r.source_file, r._fate): r["count"] for r in counted.groupBy(*where, "_fate").count().collect()
    }
    # Counted as usable or rejected in one pass; rows_in is both.
    for source_id, source_file, _ in [k for k in counts if k[2] == REJECTED]:
        rows_in = counts.get((source_id, source_file, ROWS_IN), 0)
        counts[(source_id, source_file, ROWS_IN)] = rows_in + counts[(source_id, source_file, REJECTED)]
    return counts


def with_raw_records(
    quarantine: DataFrame, bronze: DataFrame, late: int, definition: SourceDefinition, fields: RawFields
) -> DataFrame:
    """raw_record from Bronze for quarantined rows whose transform left it null (usable then, quarantined later as
    conflicting duplicates): `late` of them at most, broadcast when few (as usual); only their lines are split."""
    missing = quarantine.where(F.col("raw_record").isNull()).drop("raw_record")
    missing = F.broadcast(missing) if late <= BROADCAST_DUPLICATE_KEYS else missing
    lines = bronze.select("source_file", "source_row_number", "raw_line")
    found = fields.split(lines.join(missing, ["source_file", "source_row_number"]), definition).select(
        *[F.to_json(fields.record()).alias(c) if c == "raw_record" else c for c in quarantine.columns]
    )
    return quarantine.where(F.col("raw_record").isNotNull()).unionByName(found)


@dataclass(frozen=True)
class SourceFiles:
    """A source's pending files: its part of a one-pass group."""

    definition: SourceDefinition
    files: list[PendingFile]

    @property
    def source_id(self) -> str:
        return self.definition.source_id

    @property
    def names(self) -> list[str]:
        return [f.source_file for f in self.files]


def build_group(
    spark: SparkSession, settings: LakeSettings, batch_id: str, parts: list[SourceFiles], regions: tuple[Region, ...]
) -> dict[str, tuple[list[FileAccount], list[str]]]:
    """Process the pending files of sources that write one Silver table in one pass, and return per source its file
    accounts and superseded files. Every key of the table starts with source_id, so each source's rows meet only its
    own: one pass gives each source's fates exactly as a pass per source would, with one set of Spark jobs and
    commits (the candidates computed once, one write per table) instead of one per source."""
    parts = [p for p in parts if p.files]
    if not parts:
        return {}
    handler = handler_for(parts[0].definition.dataset)
    group = handler.target.name
    superseded = {p.source_id: [f.source_file for f in p.files if f.supersedes_older] for p in parts}
    superseded = {source_id: names for source_id, names in superseded.items() if names}
    if superseded:
        tables = (handler.target.name, SILVER_QUARANTINE.name, SILVER_PROCESSED_FILES.name)
        _delete_file_rows(spark, settings, of_files(superseded), tables)
    bronze = {
        p.source_id: lake.rows_of_file_versions(
            spark,
            lake.read(spark, settings, p.definition.bronze_table),
            ((f.source_file, f.content_hash) for f in p.files),
        )
        for p in parts
    }
    fields = {p.source_id: file_headers(p.files) for p in parts}
    candidates = reduce(
        DataFrame.unionByName,
        (source_candidates(bronze[p.source_id], p.definition, fields[p.source_id], regions) for p in parts),
    )
    staged = candidates_once(spark, settings, group, candidates, [f for p in parts for f in p.files])
    files = of_files({p.source_id: p.names for p in parts})
    existing = (
        lake.read_or_empty(spark, settings, handler.target)
        .where(F.col("source_id").isin(*[p.source_id for p in parts]))
        .where(~files)
    )
    duplicates = _materialised_duplicates(spark, settings, group, staged, fate_key(handler))
    # Not staged: each output below re-derives the fates from the staged candidates, reading only its columns.
    fates = assign_fates(staged, existing, handler, duplicates)
    # Counted before anything is written, so every output sees the same `existing`.
    counts = count_per_file(staged, fates)

    def total(fate: str, source_id: str | None = None) -> int:
        return sum(n for (s, _, f), n in counts.items() if f == fate and source_id in (None, s))

    quarantine = fates.where(F.col("_fate") == QUARANTINED)
    late = {p.source_id: total(QUARANTINED, p.source_id) - total(REJECTED, p.source_id) for p in parts}
    late_parts = [p for p in parts if late[p.source_id]]
    if late_parts:
        filled = [
            with_raw_records(
                quarantine.where(F.col("source_id") == p.source_id),
                bronze[p.source_id],
                late[p.source_id],
                p.definition,
                fields[p.source_id],
            )
            for p in late_parts
        ]
        others = quarantine.where(~F.col("source_id").isin(*[p.source_id for p in late_parts]))
        quarantine = reduce(DataFrame.unionByName, filled, others)
    quarantine = quarantine.select(
        *[c for c in SILVER_QUARANTINE.column_names if c != "batch_id"], F.lit(batch_id).alias("batch_id")
    )
    _write_new_rows(spark, settings, SILVER_QUARANTINE, quarantine, files, total(QUARANTINED))
    kept = fates.where(F.col("_fate") == KEPT)
    if any(p.definition.sum_over for p in parts):
        columns = [c for c in handler.target.column_names if c != "batch_id"]
        summed = aggregate_sub_rows(kept.where(is_sub_row()), handler).select(*columns)
        kept = kept.where(~is_sub_row()).select(*columns).unionByName(summed)
    target_rows = kept.select(
        *[F.col(c.name).cast(c.type) for c in handler.target.columns if c.name != "batch_id"],
        F.lit(batch_id).alias("batch_id"),
    )
    _write_new_rows(spark, settings, handler.target, target_rows, files, total(KEPT))

    done: dict[str, tuple[list[FileAccount], list[str]]] = {}
    for p in parts:
        accounts = []
        for file in p.files:
            fates_of_file = (ROWS_IN, KEPT, QUARANTINED, EXACT_DUPLICATE)
            per = [counts.get((p.source_id, file.source_file, f), 0) for f in fates_of_file]
            accounts.append(FileAccount(p.source_id, file.source_file, file.content_hash, *per))
        done[p.source_id] = (accounts, superseded.get(p.source_id, []))
    now = utc_now()
    log = [
        asdict(a) | {"batch_id": batch_id, "processed_at_utc": now} for accounts, _ in done.values() for a in accounts
    ]
    lake.append(spark, settings, SILVER_PROCESSED_FILES, lake.records_frame(spark, SILVER_PROCESSED_FILES, log))
    return done


def build_silver(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    source_ids: list[str] | None = None,
    *,
    definitions: dict[str, SourceDefinition] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SilverReport:
    """Process every Bronze file not yet in Silver: the sources of each Silver table in one pass, the tables at once
    (table_groups); `progress` gets a line per source as its table's pass finishes (files, row accounting, the pass's
    seconds). A failure stops passes not started yet and is raised once those running have finished."""
    # Timestamp arithmetic in silver.parsing treats TIMESTAMP values as UTC wall-clock.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if definitions is None:
        definitions = load_source_definitions(config_root=settings.config_root)
    regions = load_regions(settings.config_root)
    report = SilverReport(batch_id)
    chosen = source_ids if source_ids is not None else sorted(definitions)
    unknown = [source_id for source_id in chosen if source_id not in definitions]
    if unknown:
        raise KeyError(f"unknown source {unknown[0]!r}; known sources: {sorted(definitions)}")
    pending = pending_files_by_source(spark, settings)
    present = [s for s in chosen if lake.exists(spark, settings, definitions[s].bronze_table)]
    done: dict[str, tuple[list[FileAccount], list[str]]] = {}
    lock = threading.Lock()

    def build_table(group: list[str]) -> None:
        started = time.monotonic()
        parts = [SourceFiles(definitions[s], pending.get(s, [])) for s in group]
        built = build_group(spark, settings, batch_id, parts, regions)
        seconds = time.monotonic() - started
        for source_id in group:
            done[source_id] = built.get(source_id, ([], []))
            if progress is not None:
                line = silver_source_line(source_id, definitions[source_id].dataset, done[source_id][0], seconds)
                with lock:
                    progress(line)

    run_at_once(table_groups(present, definitions), build_table, name="silver")
    for source_id in present:  # in the order asked for, whatever order the tables finished in
        accounts, superseded = done[source_id]
        report.files += accounts
        report.superseded_files += superseded
    return report


def table_groups(source_ids: list[str], definitions: dict[str, SourceDefinition]) -> list[list[str]]:
    """The sources grouped by the Silver table they write, each group in the given order: a group is built in one
    pass (build_group), the groups at once. Their writes to the shared quarantine and file log are blind appends (no
    conflict under Delta's default WriteSerializable isolation); a pass's append to its own table reads that table
    (its rows already there decide each candidate's fate), and two of those at once failed with
    ConcurrentAppendException (seen locally): one pass per table never does that."""
    groups: dict[str, list[str]] = {}
    for source_id in source_ids:
        groups.setdefault(handler_for(definitions[source_id].dataset).target.name, []).append(source_id)
    return list(groups.values())
