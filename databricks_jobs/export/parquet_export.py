"""Export Gold to Parquet + `_manifest.json` + `LATEST` (layout: export/manifest.py), as changes since the last batch.

Order matters for readers: every Parquet file, then the manifest (its presence = the batch is complete), then LATEST.
Timestamps go out as TIMESTAMP_NTZ: *_utc hold the UTC wall clock, *_local the region's wall clock, so a Snowflake COPY
with USE_LOGICAL_TYPE = TRUE reads the same instants whatever the session time zone.

Incremental by default: LATEST's manifest says which Delta version of each Gold table the warehouse has; a new batch
carries only what changed since (the tables' change data feed, netted per key by export/changes.py: rows to upsert, keys
to delete; computed once per table, on the driver when small, else staged to Delta). No row changed in Gold (no commit,
or only commits such as OPTIMIZE and VACUUM that change none): no new batch at all. A full snapshot (every row of every
table) is written on the first export, on request (`full=True`, the pipeline's --full-export or --full-refresh), and
whenever the feed cannot cover the gap, decided up front (export/feed_window.py): a table re-created or not yet carrying
the feed, a version behind LATEST's, a first needed version the log no longer holds or older than the table's
delta.deletedFileRetentionDuration; Delta's own errors for a vacuumed feed are the backstop. The mode is the batch's,
never mixed.

LATEST only moves forward: a repaired run older than LATEST's batch exports nothing and says so (its Gold changes
go out with the next batch).

The manifest lists the files Spark's reader sees in each table's folder (`_metadata.file_name`): the committed
output. A raw listing could also show files of failed task attempts, which Databricks' commit protocol leaves behind
and its readers skip. A retried export task whose manifest is already written verifies it and finishes LATEST; one
that died before its manifest starts its batch folder again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from databricks_jobs import lake, storage, tables
from databricks_jobs.batch import check_batch_id
from databricks_jobs.concurrency import run_at_once
from databricks_jobs.export import feed_window
from databricks_jobs.export.changes import DELETE, UPSERT, net_actions, split_actions
from databricks_jobs.export.manifest import (
    DATA_FILE,
    FULL,
    INCREMENTAL,
    LATEST_FILE,
    MANIFEST_FILE,
    ManifestError,
    advance_latest,
    batch_root,
    build_manifest,
    columns_of,
    deleted_keys_folder,
    latest_batch_id,
    publish,
    read_manifest,
    table_entry,
)
from databricks_jobs.settings import LakeSettings
from databricks_jobs.spark_session import require_utc_session
from databricks_jobs.storage import S3Access

ROWS_PER_FILE = 1_000_000
# Spark type name in the Parquet file for each contract type that is written differently.
PARQUET_TYPE = {"timestamp": "timestamp_ntz"}
Log = Callable[[str], None]
Item = TypeVar("Item")
Result = TypeVar("Result")


class ExportVerificationError(Exception):
    """The export does not match its manifest; the message names the batch, table and file."""


class ChangeFeedUnavailable(Exception):
    """The change data feed cannot cover the gap since the last batch; the message says why."""


def for_parquet(df: DataFrame, contract: tables.TableContract, columns: list[str] | None = None) -> DataFrame:
    """Contract columns (or the named ones) in order; TIMESTAMP -> TIMESTAMP_NTZ (UTC wall clock, session zone UTC)."""
    chosen = [c for c in contract.columns if columns is None or c.name in columns]
    return df.select([F.col(c.name).cast(PARQUET_TYPE.get(c.type, c.type)).alias(c.name) for c in chosen])


def committed_files(spark: SparkSession, folder: str, schema: StructType | None = None) -> dict[str, tuple[int, int]]:
    """file name -> (rows, bytes) of the Parquet files Spark reads in `folder` (files with rows only). `schema`: the
    files' schema when known (just written): Spark then reads no footer for it (a Spark job fewer)."""
    reader = spark.read if schema is None else spark.read.schema(schema)
    try:
        counted = reader.parquet(folder).groupBy("_metadata.file_name", "_metadata.file_size").count().collect()
    except Exception as error:  # noqa: BLE001 - Spark raises several types for unreadable Parquet
        raise ExportVerificationError(f"{folder}: the Parquet files cannot be read: {error}") from None
    return {r.file_name: (int(r["count"]), int(r.file_size)) for r in counted}


def _write_files(
    spark: SparkSession, s3: S3Access, df: DataFrame, folder: str, empty_file: bool, rows: int | None = None
) -> list[dict]:
    """Write `df` as Parquet in `folder`; the files with their row counts, as the write's own read-back finds them.
    No rows: one empty file carrying the schema when `empty_file`, else nothing at all. `rows`: the count when known
    already (net changes); else counted here (a Delta table's count comes from its file statistics)."""
    rows = df.count() if rows is None else rows
    if rows == 0 and not empty_file:
        return []
    out = df.repartition(max(1, math.ceil(rows / ROWS_PER_FILE))) if rows else df.coalesce(1)
    out.write.mode("overwrite").option("compression", "snappy").parquet(folder)
    storage.delete(f"{folder}/_SUCCESS", s3=s3)
    # A local folder's checksum sidecar; Hadoop deleted it with _SUCCESS.
    storage.delete(f"{folder}/._SUCCESS.crc", s3=s3)
    if rows == 0:
        # An empty table is one empty file (it carries the schema); no reader row names it, so it is listed.
        empty = [f for f in storage.list_dir(folder, s3=s3) if DATA_FILE.match(f.name)]
        return [{"name": f.name, "row_count": 0, "size_bytes": f.size_bytes} for f in empty]
    files = committed_files(spark, folder, out.schema)
    if sum(n for n, _ in files.values()) != rows:
        raise ExportVerificationError(f"{folder}: Spark reads {files} back, not {rows} rows")
    return [{"name": name, "row_count": n, "size_bytes": size} for name, (n, size) in files.items()]


@dataclass(frozen=True)
class TablePlan:
    """What the batch carries of one Gold table: the version it brings the table to, from which base."""

    contract: tables.TableContract
    state: lake.TableState | None  # None: no builder has produced the table yet
    version: int | None
    base_version: int | None = None  # incremental: the version LATEST's batch exported

    @property
    def carries_nothing(self) -> bool:
        """Incremental and nothing to send: the table is at the exported version, or still not built."""
        return self.version is None or (self.base_version is not None and self.base_version == self.version)


def _finish_retry(spark: SparkSession, settings: LakeSettings, batch_id: str, log: Log) -> dict:
    """The batch's manifest exists (an earlier attempt of this task wrote it): verify it, then move LATEST to it
    unless LATEST is newer already."""
    manifest = verify_export(settings.export_root, batch_id, spark=spark, s3=settings.s3)
    if advance_latest(settings.export_root, batch_id, s3=settings.s3):
        log(f"  export {batch_id}: already complete from an earlier attempt; verified, LATEST set")
    else:
        log(f"  export {batch_id}: already complete from an earlier attempt; verified, LATEST is at or after it")
    return manifest


def _base_manifest(settings: LakeSettings, log: Log) -> dict | None:
    """LATEST's manifest, or None (with the reason logged) when there is none to build on."""
    latest = latest_batch_id(settings.export_root, s3=settings.s3)
    if latest is None:
        log("  export: no earlier batch (no LATEST): full snapshot")
        return None
    try:
        return read_manifest(settings.export_root, latest, s3=settings.s3)
    except ManifestError as error:
        log(f"  export: LATEST's manifest cannot be built on ({error}): full snapshot")
        return None


def _full_plan(spark: SparkSession, settings: LakeSettings, contract: tables.TableContract) -> TablePlan:
    state = lake.table_state(spark, settings, contract.name)
    version = None if state is None else lake.latest_version(spark, settings, contract.name)
    return TablePlan(contract, state, version)


def _incremental_plan(
    spark: SparkSession, settings: LakeSettings, contract: tables.TableContract, exported: dict
) -> TablePlan:
    """The table's changes since the version `exported` (its entry in LATEST's manifest); ChangeFeedUnavailable when
    the change feed cannot say what they are."""
    state = lake.table_state(spark, settings, contract.name)
    base_version, base_id = exported.get("gold_version"), exported.get("gold_table_id")
    if state is None:
        if base_id is None:
            return TablePlan(contract, None, None, None)  # still not built: nothing to send, as before
        raise ChangeFeedUnavailable(f"{contract.name} no longer exists")
    if base_id is None or base_version is None:
        raise ChangeFeedUnavailable(f"{contract.name}: the last batch has no Gold version for it")
    if state.table_id != base_id:
        raise ChangeFeedUnavailable(f"{contract.name} was re-created (table id {base_id} -> {state.table_id})")
    if state.last_modified_utc == exported.get("gold_committed_at_utc"):
        return TablePlan(contract, state, base_version, base_version)
    if not state.change_data_feed:
        lake.enable_change_data_feed(spark, settings, contract.name)
        raise ChangeFeedUnavailable(f"{contract.name} had no change data feed (turned on now)")
    table = settings.table_name(contract.name)
    commits = feed_window.history(spark, table)
    version = commits[0].version
    if version < base_version:
        raise ChangeFeedUnavailable(f"{contract.name} is at version {version}, behind the exported {base_version}")
    try:
        feed_window.check_covers(commits, base_version, feed_window.retention_of(spark, table))
    except feed_window.FeedGap as gap:
        raise ChangeFeedUnavailable(f"{contract.name}: {gap}") from None
    return TablePlan(contract, state, version, base_version)


def plan_export(
    spark: SparkSession, settings: LakeSettings, base: dict | None, log: Log
) -> tuple[str, list[TablePlan]]:
    """(mode, one plan per Gold table): incremental on `base` (LATEST's manifest) when every table's change feed
    covers the gap, else a full snapshot."""
    if base is not None:
        exported = {t["name"]: t for t in base["tables"]}
        try:
            for contract in tables.GOLD_TABLES:
                if contract.name not in exported:
                    raise ChangeFeedUnavailable(f"{contract.name} is not in batch {base['batch_id']}")
            plans = _per_table(tables.GOLD_TABLES, lambda c: _incremental_plan(spark, settings, c, exported[c.name]))
            return INCREMENTAL, plans
        except ChangeFeedUnavailable as reason:
            log(f"  export: changes since batch {base['batch_id']} cannot be read ({reason}): full snapshot")
    return FULL, _per_table(tables.GOLD_TABLES, lambda c: _full_plan(spark, settings, c))


def _per_table(items: Sequence[Item], work: Callable[[Item], Result]) -> list[Result]:
    """work(item) for every item, the tables at once (each is a few small Spark jobs and storage calls, mostly
    waiting); the results in the items' order. The first failure is raised once the running ones have finished."""
    results: dict[int, Result] = {}
    indexed = list(enumerate(items))
    run_at_once(
        indexed, lambda pair: work(pair[1]), lambda pair, result: results.__setitem__(pair[0], result), name="export"
    )
    return [results[i] for i, _ in indexed]


@dataclass(frozen=True)
class NetChanges:
    """A table's net changes, computed once (on the driver, or staged to Delta when many), and their counts."""

    upserts: DataFrame
    deletes: DataFrame
    rows: int
    deleted: int


def _net_changes(spark: SparkSession, settings: LakeSettings, plan: TablePlan) -> NetChanges:
    """The table's change feed netted per key, once: collected to the driver when small (a new day's changes: no
    Delta commit, a fifth of the Spark jobs), else one staged Delta table (serverless has no persist), so the
    emptiness check, the counts and both folders' files read the same rows without reading the feed again."""
    name = plan.contract.name
    actions = net_actions(lake.changes(spark, settings, name, plan.base_version, plan.version), plan.contract)
    collected = lake.collect_small(actions)
    if collected is None:
        actions = lake.stage(spark, settings, tables.export_staging(name), actions)
        counts = {r["_action"]: int(r["count"]) for r in actions.groupBy("_action").count().collect()}
    else:
        counts = Counter(r["_action"] for r in collected.rows)
        actions = lake.local_frame(spark, collected)
    upserts, deletes = split_actions(actions, plan.contract)
    return NetChanges(upserts, deletes, counts.get(UPSERT, 0), counts.get(DELETE, 0))


def _changes(spark: SparkSession, settings: LakeSettings, plans: list[TablePlan]) -> dict[str, NetChanges]:
    """The net changes of each table that carries any."""
    carrying = [p for p in plans if not p.carries_nothing]
    changes = _per_table(carrying, lambda p: _net_changes(spark, settings, p))
    return {p.contract.name: change for p, change in zip(carrying, changes, strict=True)}


def _export_table(
    spark: SparkSession,
    settings: LakeSettings,
    root: str,
    mode: str,
    plan: TablePlan,
    changes: dict[str, NetChanges],
) -> dict:
    """Write one table's files (full: the table at plan.version; incremental: its net changes) -> manifest
    entry."""
    contract, name = plan.contract, plan.contract.name
    table = settings.table_name(name)
    deleted: list[dict] = []
    if mode == FULL:
        # Every contract table is in a full batch, one not built yet as an empty file.
        rows = (
            spark.read.option("versionAsOf", plan.version).table(table)
            if plan.version is not None
            else lake.read_or_empty(spark, settings, contract)
        )
        files = _write_files(spark, settings.s3, for_parquet(rows, contract), f"{root}/{name}", empty_file=True)
    elif name not in changes:
        files = []
    else:
        change = changes[name]
        upserts = for_parquet(change.upserts, contract)
        files = _write_files(spark, settings.s3, upserts, f"{root}/{name}", empty_file=False, rows=change.rows)
        keys = list(contract.primary_key)
        folder = f"{root}/{deleted_keys_folder(name)}"
        deletes = for_parquet(change.deletes, contract, keys)
        deleted = _write_files(spark, settings.s3, deletes, folder, empty_file=False, rows=change.deleted)
    return table_entry(
        contract,
        files,
        deleted,
        gold_table_id=None if plan.state is None else plan.state.table_id,
        gold_version=plan.version,
        gold_base_version=plan.base_version if mode == INCREMENTAL else None,
        gold_committed_at_utc=None if plan.state is None else plan.state.last_modified_utc,
    )


def export_gold(
    spark: SparkSession,
    settings: LakeSettings,
    batch_id: str,
    log: Log = print,
    full: bool = False,
) -> dict | None:
    """Writes the batch under {export_root}/{batch_id}/ and returns its manifest: Gold's changes since LATEST's batch,
    or every row when `full` (or when the changes cannot be read). None, and nothing written, when no Gold table
    changed since LATEST's batch."""
    require_utc_session(spark)
    check_batch_id(batch_id)
    root = batch_root(settings.export_root, batch_id)
    if storage.exists(f"{root}/{MANIFEST_FILE}", s3=settings.s3):
        return _finish_retry(spark, settings, batch_id, log)
    latest = latest_batch_id(settings.export_root, s3=settings.s3)
    if latest is not None and latest > batch_id:
        # A repaired (or very late) run older than the published state: exporting it would move the loader
        # backwards, and failing would fail every retry. Its Gold changes go out with the next batch.
        log(f"  export {batch_id}: LATEST is the newer batch {latest}; an older run exports nothing")
        return None
    base = None if full else _base_manifest(settings, log)
    mode, plans = plan_export(spark, settings, base, log)
    if mode == INCREMENTAL and all(p.carries_nothing for p in plans):
        log(f"  export: no Gold table changed since batch {base['batch_id']}: no new batch")
        return None
    try:
        changes = _changes(spark, settings, plans) if mode == INCREMENTAL else {}
    except Exception as error:
        if not _is_feed_error(error):
            raise
        log(f"  export: the change data feed cannot be read ({_first_line(error)}): full snapshot")
        mode, plans = plan_export(spark, settings, None, log)
        changes = {}
    if mode == INCREMENTAL and not any(c.rows or c.deleted for c in changes.values()):
        # Commits that change no rows (OPTIMIZE, VACUUM, predictive optimization, a property) moved versions only.
        log(f"  export: no Gold row changed since batch {base['batch_id']}: no new batch")
        return None
    storage.delete(root, recursive=True, s3=settings.s3)  # files of an attempt that died before its manifest
    entries = _per_table(plans, lambda plan: _export_table(spark, settings, root, mode, plan, changes))
    for entry in entries:
        _logged(log, entry)
    manifest = build_manifest(
        batch_id, entries, mode=mode, base_batch_id=base["batch_id"] if mode == INCREMENTAL else None
    )
    publish(settings.export_root, manifest, s3=settings.s3)
    return manifest


def _logged(log: Log, entry: dict) -> dict:
    deleted = entry["deleted_keys"]["row_count"]
    log(
        f"  export {entry['name']}: {entry['row_count']} rows in {len(entry['files'])} file(s)"
        + (f", {deleted} deleted keys" if deleted else "")
    )
    return entry


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# Delta's errors when a change feed's files or versions are gone (VACUUM, log clean-up): the backstop when the plan
# (export/feed_window.py) could not foresee it.
FEED_ERRORS = (
    "DELTA_TRUNCATED_TRANSACTION_LOG",
    "FAILED_READ_FILE",
    "DELTA_CHANGE_DATA_FILE_NOT_FOUND",
    "DELTA_VERSIONS_NOT_CONTIGUOUS",
    "VersionNotFound",
    "FileNotFound",
    "DELTA_MISSING_CHANGE_DATA",
    "DELTA_CDC_NOT_ALLOWED_IN_THIS_VERSION",
    "DELTA_FILE_NOT_FOUND",
)


def _is_feed_error(error: Exception) -> bool:
    text = f"{type(error).__name__}: {error}"
    return any(marker in text for marker in FEED_ERRORS)


def _verify_files(
    spark: SparkSession | None,
    s3: S3Access,
    root: str,
    folder: str,
    listed: list[dict],
    types: list[tuple[str, str]],
    where: str,
    read_back: bool,
) -> None:
    """The files listed for `folder` (relative to the batch) exist with their sizes; with `read_back`, also their
    row counts and schema, and no other file there holds rows."""
    by_name = {f["path"].rsplit("/", 1)[-1]: f for f in listed}
    for file_name, meta in sorted(by_name.items()):
        info = storage.file_info(f"{root}/{folder}/{file_name}", s3=s3)
        if info is None:
            raise ExportVerificationError(f"{where}: {folder}: file {file_name} is in the manifest but missing")
        if info.size_bytes != meta["size_bytes"]:
            raise ExportVerificationError(
                f"{where}: file {root}/{folder}/{file_name}: {info.size_bytes} bytes, manifest says "
                f"{meta['size_bytes']}"
            )
    if not read_back:
        return
    if by_name:
        data = spark.read.parquet(*[f"{root}/{folder}/{file_name}" for file_name in sorted(by_name)])
        actual_types = [(f.name, f.dataType.simpleString()) for f in data.schema.fields]
        if actual_types != types:
            raise ExportVerificationError(f"{where}: {folder}: schema {actual_types} != contract {types}")
    has_rows = any(meta["row_count"] for meta in by_name.values())
    seen = committed_files(spark, f"{root}/{folder}") if has_rows else {}
    with_rows = {file_name for file_name, meta in by_name.items() if meta["row_count"]}
    for extra in sorted(set(seen) - with_rows):
        raise ExportVerificationError(f"{where}: {folder}: file {extra} holds rows but is not in the manifest")
    for file_name in sorted(by_name):
        rows = seen.get(file_name, (0, 0))[0]
        if rows != by_name[file_name]["row_count"]:
            raise ExportVerificationError(
                f"{where}: file {root}/{folder}/{file_name}: {rows} rows, manifest says "
                f"{by_name[file_name]['row_count']}"
            )


def _verify_table(
    spark: SparkSession | None, s3: S3Access, root: str, entry: dict, mode: str, where: str, read_back: bool
) -> None:
    name = entry["name"]
    try:
        contract = tables.contract(name)
    except KeyError:
        raise ExportVerificationError(f"{where}: table {name} has no contract in tables.py") from None
    if entry["columns"] != columns_of(contract) or entry["primary_key"] != list(contract.primary_key):
        raise ExportVerificationError(f"{where}: table {name}: manifest columns or key differ from tables.py")
    if mode == FULL and not entry["files"]:
        raise ExportVerificationError(f"{where}: table {name}: no data file listed")
    types = [(c.name, PARQUET_TYPE.get(c.type, c.type)) for c in contract.columns]
    _verify_files(spark, s3, root, name, entry["files"], types, where, read_back)
    key_types = [t for t in types if t[0] in contract.primary_key]
    _verify_files(
        spark, s3, root, deleted_keys_folder(name), entry["deleted_keys"]["files"], key_types, where, read_back
    )


def verify_export(
    export_root: str,
    batch_id: str | None = None,
    spark: SparkSession | None = None,
    read_back: bool = True,
    *,
    s3: S3Access,
) -> dict:
    """Re-reads a batch's manifest (LATEST's when batch_id is None) and checks every table's files, sizes, row
    counts and schema against it and against tables.py. Returns the manifest; raises ExportVerificationError.
    `read_back=False` checks the manifest and each file's presence and size in storage only (no Spark): for a batch
    export_gold has just written, whose row counts are what Spark read back from the files it wrote. `s3` reaches an
    export root on S3 (LakeSettings.s3); a session started here gets it too."""
    from databricks_jobs.spark_session import get_spark

    spark = spark or (get_spark(s3=s3) if read_back else None)
    root = export_root.rstrip("/")
    if batch_id is None:
        batch_id = latest_batch_id(root, s3=s3)
        if batch_id is None:
            raise ExportVerificationError(f"{root}/{LATEST_FILE} does not exist: no complete export batch")
    folder = batch_root(root, batch_id)
    where = f"export batch {folder}"
    try:
        manifest = read_manifest(root, batch_id, s3=s3)
    except ManifestError as error:
        raise ExportVerificationError(str(error)) from None
    exported = [t["name"] for t in manifest["tables"]]
    expected = [t.name for t in tables.GOLD_TABLES]
    if sorted(exported) != sorted(expected):
        raise ExportVerificationError(f"{where}: tables {sorted(exported)} != contract Gold tables {sorted(expected)}")
    for entry in manifest["tables"]:
        _verify_table(spark, s3, folder, entry, manifest["mode"], where, read_back)
    return manifest
