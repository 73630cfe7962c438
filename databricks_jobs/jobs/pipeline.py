"""run_pipeline: bronze -> silver -> gold -> export for one batch, each step logged with its timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from databricks_jobs import lake, tables
from databricks_jobs.batch import check_batch_id, new_batch_id
from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.export import export_gold, verify_export
from databricks_jobs.gold.runner import build_gold
from databricks_jobs.settings import LakeSettings
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import load_source_definitions
from databricks_jobs.spark_session import get_spark
from databricks_jobs.upgrade import lake_contracts, upgrade_lake

STAGES = ("bronze", "silver", "gold", "export", "maintain")
# What a run does unless told otherwise; maintenance (OPTIMIZE, VACUUM) is its own scheduled task.
DEFAULT_STAGES = ("bronze", "silver", "gold", "export")
# VACUUM keeps this much history (Delta's minimum is 7 days: older readers and time travel need the files).
VACUUM_RETAIN_HOURS = 168


@dataclass(frozen=True)
class RunOptions:
    """What a run was asked for besides its stages."""

    full_refresh: bool = False  # Gold rebuilt from all of Silver (the export then sends a full snapshot too)
    full_export: bool = False  # the export sends every row, not the changes since the last batch
    source_ids: list[str] | None = None  # Bronze and Silver limited to these sources


@dataclass
class StepResult:
    stage: str
    seconds: float
    summary: str
    result: object = None
    problems: list[str] = field(default_factory=list)


@dataclass
class PipelineReport:
    batch_id: str
    settings: LakeSettings
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def problems(self) -> list[str]:
        return [p for step in self.steps for p in step.problems]

    def step(self, stage: str) -> StepResult:
        return next(s for s in self.steps if s.stage == stage)

    @property
    def exported(self) -> bool:
        """Whether the run's export wrote a batch (none when it did not run, or when Gold had not changed)."""
        return any(s.stage == "export" and s.result is not None for s in self.steps)


def _bronze(spark: SparkSession, settings: LakeSettings, batch_id: str, options: RunOptions, log):
    report = ingest_bronze(spark, settings, batch_id, options.source_ids, progress=log)
    problems = [f"bronze: {f.source_id} {f.path}: {f.error}" for f in report.failed]
    return report, report.summary(), problems


def _silver(spark: SparkSession, settings: LakeSettings, batch_id: str, options: RunOptions, log):
    report = build_silver(spark, settings, batch_id, options.source_ids, progress=log)
    return report, report.summary(), []


def _gold(spark: SparkSession, settings: LakeSettings, batch_id: str, options: RunOptions, log):
    results = build_gold(spark, settings, batch_id, full_refresh=options.full_refresh, log=log)
    written = sum(r.get("rows_written", 0) for r in results.values())
    return results, f"gold batch {batch_id}: {len(results)} tables, {written:,} rows written", []


def _export(spark: SparkSession, settings: LakeSettings, batch_id: str, options: RunOptions, log):
    full = options.full_export or options.full_refresh
    manifest = export_gold(spark, settings, batch_id, log=log, full=full)
    if manifest is None:
        return None, "export: Gold unchanged since the last batch; no new batch", []
    # The files' row counts are what the export read back from them; what is left to check is the published
    # manifest against the sizes in storage (no second read of the batch).
    verify_export(settings.export_root, batch_id, spark=spark, read_back=False, s3=settings.s3)
    rows = sum(t["row_count"] for t in manifest["tables"])
    deleted = sum(t["deleted_keys"]["row_count"] for t in manifest["tables"])
    where = f"{settings.export_root.rstrip('/')}/{batch_id}"
    summary = f"export {where} ({manifest['mode']}): {len(manifest['tables'])} tables, {rows:,} rows"
    return manifest, summary + (f", {deleted:,} deleted keys" if deleted else "") + ", verified", []


def _maintain(spark: SparkSession, settings: LakeSettings, batch_id: str, options: RunOptions, log):
    bronze = [d.bronze_table for d in load_source_definitions(config_root=settings.config_root).values()]
    names = [*bronze, *(t.name for t in (*tables.SILVER_TABLES, *tables.GOLD_TABLES, *tables.BOOKKEEPING_TABLES))]
    results = lake.maintain(spark, settings, names, VACUUM_RETAIN_HOURS)
    compacted = sum(r["files_removed"] for r in results.values())
    summary = f"maintain: {len(results)} tables optimized ({compacted} files compacted) and vacuumed"
    dropped = lake.drop_scratch_tables(spark, settings, tables.staging_tables())
    if dropped:
        summary += f"; {len(dropped)} scratch tables an earlier release wrote dropped ({', '.join(dropped)})"
    return results, summary, []


def upgrade_for_stages(
    spark: SparkSession, settings: LakeSettings, stages: Sequence[str], log: Callable[[str], None], apply: bool = True
):
    """Before a stage writes anything: its layer's stored tables brought to the code's contracts (additive changes
    applied in place), or the run refused (upgrade.UpgradeRefused) naming each destructive change and its way."""
    layers = {"bronze": "bronze", "silver": "silver", "gold": "gold", "export": "gold"}
    wanted = [layers[s] for s in stages if s in layers]
    if not wanted:
        return []
    contracts = lake_contracts(load_source_definitions(config_root=settings.config_root), wanted)
    return upgrade_lake(spark, settings, contracts, apply=apply, log=log)


def _run_stage(
    report: PipelineReport, chosen: Sequence[str], log: Callable, stage: str, runner: Callable, *args
) -> None:
    """Runs one stage if it was chosen: logs and times it and records it in the report. A stage that raises is
    recorded as failed and stops the run."""
    if stage not in chosen:
        return
    started = time.monotonic()
    log(f"[{stage}] started")
    try:
        result, summary, problems = runner(*args, log)
    except Exception as error:
        seconds = round(time.monotonic() - started, 1)
        report.steps.append(StepResult(stage, seconds, f"FAILED: {error}"))
        report.error = f"{stage} failed after {seconds} s: {type(error).__name__}: {error}"
        log(f"[{stage}] {report.error}")
        raise
    seconds = round(time.monotonic() - started, 1)
    report.steps.append(StepResult(stage, seconds, summary, result, problems))
    log(f"[{stage}] done in {seconds} s: {summary}")
    for problem in problems:
        log(f"[{stage}] problem: {problem}")


def run_pipeline(
    settings: LakeSettings,
    batch_id: str | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
    full_refresh: bool = False,
    log: Callable[[str], None] = print,
    source_ids: list[str] | None = None,
    spark: SparkSession | None = None,
    full_export: bool = False,
) -> PipelineReport:
    """Runs the chosen stages in order for one batch. A stage that raises stops the run (report.error says which);
    per-file problems (a bad raw file) are collected in report.problems while the rest of the batch goes on."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; choose from {list(STAGES)}")
    batch_id = check_batch_id(batch_id) if batch_id else new_batch_id()
    if spark is None:
        spark = get_spark(s3=settings.s3)
    # Local times are derived from UTC instants through the session zone (see gold/local_time.py).
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    report = PipelineReport(batch_id, settings)
    options = RunOptions(full_refresh, full_export, source_ids)
    lake.bind_local_schema(spark, settings)
    upgrade_for_stages(spark, settings, stages, log)
    where = settings.namespace + (f" (stored in {settings.lake_root})" if settings.is_local_catalog else "")
    log(f"pipeline batch {batch_id}: stages {' -> '.join(stages)}; tables {where}")
    # The stages in their fixed order, each named here so a reader can follow the run.
    _run_stage(report, stages, log, "bronze", _bronze, spark, settings, batch_id, options)
    _run_stage(report, stages, log, "silver", _silver, spark, settings, batch_id, options)
    _run_stage(report, stages, log, "gold", _gold, spark, settings, batch_id, options)
    _run_stage(report, stages, log, "export", _export, spark, settings, batch_id, options)
    _run_stage(report, stages, log, "maintain", _maintain, spark, settings, batch_id, options)
    return report
