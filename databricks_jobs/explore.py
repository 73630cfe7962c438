"""What the notebooks under databricks_jobs/notebooks/ call: widget values -> the wheel tasks' arguments, and the
queries a data engineer asks of the lake, each DataFrame in -> DataFrame out (nothing here writes a table).

The layer notebooks run the same `run_pipeline` stage as the wheel entry points (`energy-bronze` ...), with the same
argument parser (`jobs/common.py`), so a notebook task and a wheel task given the same values do the same thing.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.jobs.common import batch_id_from, settings_from, task_parser
from databricks_jobs.settings import LakeSettings
from databricks_jobs.spark_session import is_databricks
from databricks_jobs.tables import bronze_raw_rows

# Widgets of the layer notebooks, name -> default. An empty value means "not given": the task's default applies
# (LakeSettings.from_env, a batch id derived from run_id or a new one). In a job, the job parameters catalog /
# schema / raw_root / export_root / config_root are pushed down to the notebook's widgets and run_id comes from
# {{job.run_id}}.
STAGE_WIDGETS: dict[str, str] = {
    "catalog": "",
    "schema": "",
    "raw_root": "",
    "lake_root": "",
    "export_root": "",
    "config_root": "",
    "batch_id": "",
    "run_id": "",
    "sources": "",
    "full_refresh": "false",
    "full_export": "false",
}
# Widgets of the exploration notebooks: where the tables are, and what to look at.
LAKE_WIDGETS: dict[str, str] = {"catalog": "", "schema": "", "lake_root": ""}

# Tolerance of the recomputation checks (double sums in a different order).
RELATIVE_TOLERANCE = 1e-9


def stage_arguments(values: Mapping[str, str]) -> argparse.Namespace:
    """Widget values -> the arguments a wheel task parses (`--catalog ... --source ... --full-refresh`).

    `sources` is a comma-separated list of source ids; `full_refresh` and `full_export` are true / false. On
    Databricks a catalog is required: without one the tables would land in the workspace's legacy Hive metastore
    instead of Unity Catalog.
    """
    argv: list[str] = []
    for name in ("catalog", "schema", "raw_root", "lake_root", "export_root", "config_root", "batch_id", "run_id"):
        value = (values.get(name) or "").strip()
        if value:
            argv += [f"--{name.replace('_', '-')}", value]
    for source_id in (values.get("sources") or "").split(","):
        if source_id.strip():
            argv += ["--source", source_id.strip()]
    for flag in ("full_refresh", "full_export"):
        value = (values.get(flag) or "false").strip().lower()
        if value not in ("true", "false"):
            raise ValueError(f"{flag} must be true or false, got {values.get(flag)!r}")
        if value == "true":
            argv.append(f"--{flag.replace('_', '-')}")
    arguments = task_parser("Notebook task of the energy lakehouse pipeline.").parse_args(argv)
    if is_databricks() and not arguments.catalog:
        raise ValueError(
            "on Databricks give the catalog widget (job parameter `catalog`): tables live in Unity Catalog"
        )
    return arguments


def create_widgets(widgets: Any, defaults: Mapping[str, str]) -> dict[str, str]:
    """Create a text widget per name (`dbutils.widgets`) with its default, and return the values they hold: in a job,
    the job's parameters and the task's base parameters; interactively, what was typed."""
    for name, default in defaults.items():
        widgets.text(name, default)
    return {name: widgets.get(name) for name in defaults}


def lake_settings(values: Mapping[str, str]) -> LakeSettings:
    """Where the tables are, from widget values (catalog, schema; lake_root for the local catalog)."""
    return settings_from(stage_arguments(values))


@dataclass
class StageRun:
    settings: LakeSettings
    batch_id: str
    report: Any  # jobs.pipeline.PipelineReport


def run_stage(stage: str, values: Mapping[str, str], spark: SparkSession) -> StageRun:
    """One stage, as the wheel task runs it (jobs/common.py run_stage): the same arguments, settings and batch id,
    then run_pipeline for that stage alone. A failing stage raises, failing the notebook task as it fails the
    wheel task."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    arguments = stage_arguments(values)
    settings, batch_id = settings_from(arguments), batch_id_from(arguments)
    report = run_pipeline(
        settings,
        batch_id=batch_id,
        stages=(stage,),
        full_refresh=arguments.full_refresh,
        source_ids=arguments.sources,
        spark=spark,
        full_export=arguments.full_export,
    )
    return StageRun(settings, batch_id, report)


def step_frame(spark: SparkSession, report) -> DataFrame:
    """A PipelineReport's steps: stage, seconds, summary and per-file problems."""
    rows = [(s.stage, float(s.seconds), s.summary, list(s.problems)) for s in report.steps]
    schema = "stage string, seconds double, summary string, problems array<string>"
    return lake.rows_frame(spark, rows, schema)


def gold_results_frame(spark: SparkSession, results: Mapping[str, Mapping[str, object]]) -> DataFrame:
    """build_gold's result per table: operation, rows written, seconds."""
    rows = [
        (table, str(r.get("operation", "")), int(r.get("rows_written", 0)), float(r.get("seconds", 0.0)))
        for table, r in results.items()
    ]
    return lake.rows_frame(spark, rows, "table string, operation string, rows_written bigint, seconds double")


def manifest_frame(spark: SparkSession, manifest: Mapping[str, object] | None) -> DataFrame:
    """An export manifest's tables: mode, rows, deleted keys and files per table, with the batch id (no rows when
    the export wrote no batch: Gold had not changed)."""
    rows = [
        (
            str(manifest["batch_id"]),
            str(manifest["mode"]),
            t["name"],
            int(t["row_count"]),
            int(t["deleted_keys"]["row_count"]),
            len(t["files"]),
        )
        for t in (manifest or {}).get("tables", [])  # type: ignore[union-attr]
    ]
    schema = "batch_id string, mode string, table string, row_count bigint, deleted_keys bigint, files int"
    return lake.rows_frame(spark, rows, schema)


def of_batch(frame: DataFrame, batch_id: str) -> DataFrame:
    """The rows a batch wrote (bookkeeping and quarantine tables carry batch_id)."""
    return frame.where(F.col("batch_id") == batch_id)


# --- row accounting and quarantine -------------------------------------------------------------------------------


def row_accounting_by_source(file_accounting: DataFrame) -> DataFrame:
    """gold_quality__file_accounting summed per source, with whether rows_in = kept + quarantined + duplicates."""
    counts = ("rows_in", "rows_kept", "rows_quarantined", "rows_exact_duplicate")
    totals = file_accounting.groupBy("source_id").agg(
        F.count("*").alias("files"), *[F.sum(c).cast("bigint").alias(c) for c in counts]
    )
    balanced = F.col("rows_in") == F.col("rows_kept") + F.col("rows_quarantined") + F.col("rows_exact_duplicate")
    return totals.withColumn("is_balanced", balanced).orderBy("source_id")


def quarantine_by_source_and_reason(quarantine: DataFrame) -> DataFrame:
    """silver__quarantine counted per source and reason (rows, files), largest first."""
    return (
        quarantine.groupBy("source_id", "reason")
        .agg(F.count("*").alias("row_count"), F.countDistinct("source_file").alias("files"))
        .orderBy(F.desc("row_count"), "source_id", "reason")
    )


def bronze_rows(
    spark: SparkSession, settings: LakeSettings, source_ids: Iterable[str] | None = None
) -> DataFrame | None:
    """The Bronze raw rows of these sources (default: every declared source), one table per source, as one frame;
    None when none of the tables exists."""
    if source_ids is None:
        from databricks_jobs.sources import load_source_definitions

        source_ids = load_source_definitions(config_root=settings.config_root)
    frames = [lake.read(spark, settings, bronze_raw_rows(s).name) for s in sorted(set(source_ids))]
    columns = ["source_id", "source_file", "content_hash", "source_row_number", "raw_line"]
    present = [f.select(*columns) for f in frames if f is not None]
    if not present:
        return None
    union = present[0]
    for frame in present[1:]:
        union = union.unionByName(frame)
    return union


def rejected_rows(
    quarantine: DataFrame,
    processed_files: DataFrame,
    raw_rows: DataFrame | None,
    source_id: str | None = None,
    reason: str | None = None,
) -> DataFrame:
    """Each quarantined row (of one source / one reason when given) with its reason, detail and the raw line it came
    from.

    The raw line is the Bronze row of the file version Silver processed last (silver__processed_files names it by
    content hash), so a file that changed shows the line that was rejected, not an older one. A wide file's line
    appears once per rejected cell (source_column says which).
    """
    newest = Window.partitionBy("source_id", "source_file").orderBy(F.desc("processed_at_utc"), F.desc("batch_id"))
    versions = (
        processed_files.withColumn("_n", F.row_number().over(newest))
        .where("_n = 1")
        .select("source_id", "source_file", "content_hash")
    )
    line_columns = ["source_id", "source_file", "content_hash", "source_row_number"]
    if raw_rows is None:  # no Bronze table yet: the raw lines are unknown
        lines = lake.rows_frame(
            quarantine.sparkSession,
            [],
            "source_id string, source_file string, content_hash string, source_row_number bigint, raw_line string",
        )
    else:
        lines = raw_rows.select(*line_columns, "raw_line")
    if source_id:
        quarantine = quarantine.where(F.col("source_id") == source_id)
    if reason:
        quarantine = quarantine.where(F.col("reason") == reason)
    return (
        quarantine.join(versions, ["source_id", "source_file"], "left")
        .join(lines, line_columns, "left")
        .select(
            "source_id",
            "source_file",
            "source_row_number",
            "source_column",
            "reason",
            "detail",
            "raw_line",
            "raw_record",
            "batch_id",
        )
        .orderBy("source_id", "source_file", "source_row_number", "source_column", "reason")
    )


# --- Gold against Silver -----------------------------------------------------------------------------------------


def _close(left: str, right: str) -> F.Column:
    a, b = F.col(left), F.col(right)
    scale = F.greatest(F.lit(1.0), F.abs(a), F.abs(b))
    return F.coalesce(F.abs(a - b) <= F.lit(RELATIVE_TOLERANCE) * scale, a.isNull() & b.isNull())


def demand_reconciliation(silver_demand: DataFrame, gold_daily: DataFrame) -> DataFrame:
    """Per source and region: hours and energy in silver_demand__hourly against gold_demand__daily's sums.

    Gold's daily energy is the sum of the hourly demand over the hours reported, so over all days both sides hold
    the same hours and MWh; a difference means Gold is missing or double-counting hours.
    """
    silver = (
        silver_demand.where(F.col("demand_mw").isNotNull())
        .groupBy("source_id", "region_code")
        .agg(F.count("*").cast("bigint").alias("silver_hours"), F.sum("demand_mw").alias("silver_energy_mwh"))
    )
    gold = gold_daily.groupBy("source_id", "region_code").agg(
        F.count("*").cast("bigint").alias("gold_days"),
        F.sum("hours_reported").cast("bigint").alias("gold_hours"),
        F.sum("energy_mwh").alias("gold_energy_mwh"),
    )
    joined = silver.join(gold, ["source_id", "region_code"], "full_outer")
    return (
        joined.withColumn("energy_difference_mwh", F.col("gold_energy_mwh") - F.col("silver_energy_mwh"))
        .withColumn(
            "is_reconciled",
            F.coalesce(F.col("silver_hours") == F.col("gold_hours"), F.lit(False))
            & _close("silver_energy_mwh", "gold_energy_mwh"),
        )
        .select(
            "source_id",
            "region_code",
            "gold_days",
            "silver_hours",
            "gold_hours",
            "silver_energy_mwh",
            "gold_energy_mwh",
            "energy_difference_mwh",
            "is_reconciled",
        )
        .orderBy("source_id", "region_code")
    )


def quarantine_reconciliation(quarantine: DataFrame, quarantine_summary: DataFrame) -> DataFrame:
    """Per source, file and reason: rows in silver__quarantine against gold_quality__quarantine_summary."""
    keys = ["source_id", "source_file", "reason"]
    silver = quarantine.groupBy(*keys).agg(F.count("*").cast("bigint").alias("silver_rows"))
    gold = quarantine_summary.select(*keys, F.col("row_count").cast("bigint").alias("gold_rows"))
    return (
        silver.join(gold, keys, "full_outer")
        .withColumn("is_reconciled", F.coalesce(F.col("silver_rows") == F.col("gold_rows"), F.lit(False)))
        .orderBy(*keys)
    )


def check_summary(checks: DataFrame) -> DataFrame:
    """How many rows of a check frame (a boolean `is_consistent` column) pass and fail."""
    return checks.agg(
        F.count("*").cast("bigint").alias("rows"),
        F.sum(F.col("is_consistent").cast("int")).cast("bigint").alias("consistent"),
        F.sum((~F.col("is_consistent")).cast("int")).cast("bigint").alias("inconsistent"),
    )


# --- load factor and peaks of a region ---------------------------------------------------------------------------


def load_factor_checks(gold_daily: DataFrame, region_code: str) -> DataFrame:
    """One region's days from gold_demand__daily with the load factor recomputed from its own figures.

    Checks per day: load factor = avg / peak, avg = energy / hours reported, min <= avg <= peak, 0 < load factor <= 1.
    """
    day = gold_daily.where(F.col("region_code") == region_code)
    recomputed = day.withColumn("load_factor_recomputed", F.col("avg_demand_mw") / F.col("peak_demand_mw")).withColumn(
        "avg_demand_recomputed_mw", F.col("energy_mwh") / F.col("hours_reported")
    )
    consistent = (
        _close("load_factor", "load_factor_recomputed")
        & _close("avg_demand_mw", "avg_demand_recomputed_mw")
        & F.coalesce(
            (F.col("min_demand_mw") <= F.col("avg_demand_mw")) & (F.col("avg_demand_mw") <= F.col("peak_demand_mw")),
            F.lit(True),
        )
        & F.coalesce((F.col("load_factor") > 0) & (F.col("load_factor") <= 1), F.col("load_factor").isNull())
    )
    return recomputed.withColumn("is_consistent", consistent).select(
        "source_id",
        "region_code",
        "date_local",
        "hours_reported",
        "hours_expected",
        "energy_mwh",
        "min_demand_mw",
        "avg_demand_mw",
        "peak_demand_mw",
        "peak_interval_start_local",
        "load_factor",
        "load_factor_recomputed",
        "is_consistent",
    )


def peak_checks(gold_daily: DataFrame, hourly: DataFrame, region_code: str) -> DataFrame:
    """One region's daily peaks in gold_demand__daily against the highest hour of that local day in
    gold_demand__hourly_weather (the hourly demand with local fields): same peak, and the peak's hour among the
    hours that reach it."""
    hours = hourly.where(F.col("region_code") == region_code).where(F.col("demand_mw").isNotNull())
    highest = hours.groupBy("source_id", "region_code", "date_local").agg(
        F.max("demand_mw").alias("hourly_max_demand_mw"), F.count("*").cast("int").alias("hourly_rows")
    )
    at_peak = (
        hours.join(highest, ["source_id", "region_code", "date_local"])
        .where(F.col("demand_mw") == F.col("hourly_max_demand_mw"))
        .groupBy("source_id", "region_code", "date_local")
        .agg(F.collect_set("interval_start_utc").alias("_peak_hours"))
    )
    day = gold_daily.where(F.col("region_code") == region_code).select(
        "source_id", "region_code", "date_local", "peak_demand_mw", "peak_interval_start_utc", "hours_reported"
    )
    joined = day.join(highest, ["source_id", "region_code", "date_local"], "left").join(
        at_peak, ["source_id", "region_code", "date_local"], "left"
    )
    ok = (
        _close("peak_demand_mw", "hourly_max_demand_mw")
        & F.coalesce(F.array_contains("_peak_hours", F.col("peak_interval_start_utc")), F.lit(False))
        & F.coalesce(F.col("hours_reported") == F.col("hourly_rows"), F.lit(False))
    )
    return (
        joined.withColumn("is_consistent", ok)
        .drop("_peak_hours")
        .orderBy(F.desc("peak_demand_mw"), "source_id", "date_local")
    )


# --- reliability with and without Major Event Days ---------------------------------------------------------------


def reliability_by_year(yearly: DataFrame, daily: DataFrame, region_code: str) -> DataFrame:
    """One region's yearly SAIDI / SAIFI with and without Major Event Days beside the Major Event Day threshold in
    force that year (gold_reliability__daily's med_threshold_saidi_minutes; min and max, equal unless it changed)."""
    threshold = (
        daily.where(F.col("region_code") == region_code)
        .groupBy(F.year("date_local").alias("year"))
        .agg(
            F.min("med_threshold_saidi_minutes").alias("med_threshold_min_saidi_minutes"),
            F.max("med_threshold_saidi_minutes").alias("med_threshold_max_saidi_minutes"),
            F.sum(F.col("is_major_event_day").cast("int")).cast("int").alias("major_event_days_daily"),
            F.max(F.col("is_med_threshold_provisional").cast("int")).cast("boolean").alias("is_provisional"),
        )
    )
    return (
        yearly.where(F.col("region_code") == region_code)
        .select(
            "region_code",
            "year",
            "customers_served",
            "major_event_days",
            "saidi_w_major_event_days_minutes",
            "saidi_wo_major_event_days_minutes",
            (F.col("saidi_w_major_event_days_minutes") - F.col("saidi_wo_major_event_days_minutes")).alias(
                "saidi_on_major_event_days_minutes"
            ),
            "saifi_w_major_event_days",
            "saifi_wo_major_event_days",
            "caidi_w_major_event_days_minutes",
            "caidi_wo_major_event_days_minutes",
        )
        .join(threshold, "year", "left")
        .orderBy("year")
    )


def major_event_days(daily: DataFrame, region_code: str) -> DataFrame:
    """One region's Major Event Days: the day's SAIDI against the threshold in force."""
    return (
        daily.where((F.col("region_code") == region_code) & F.col("is_major_event_day"))
        .select(
            "region_code",
            "date_local",
            "saidi_minutes",
            "med_threshold_saidi_minutes",
            "customer_interruptions",
            "customer_minutes_interrupted",
            "is_med_threshold_provisional",
        )
        .orderBy("date_local")
    )
