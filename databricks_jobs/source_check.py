"""`sources check`: try a source definition on sample files before any pipeline run, writing nothing.

For each file it reports the header match (which header column each declared column resolved to), the first rows as
Silver would hold them (UTC and local time, region, value with its unit) and every row Silver would quarantine, with
its reason and detail, and the row accounting. It runs the pipeline's own readers, transform and duplicate ranking,
so what it prints is what Bronze and Silver would do (rows already in Silver are not consulted). It stands above
the layers: it drives Bronze's reader and Silver's candidates, as a run does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from databricks_jobs import lake
from databricks_jobs.bronze.ingest import read_file_rows
from databricks_jobs.bronze.raw_files import RawFile, RawFileError, list_files, raw_file
from databricks_jobs.reference.regions import Region
from databricks_jobs.silver.build import EXACT_DUPLICATE, KEPT, QUARANTINED, assign_fates
from databricks_jobs.silver.candidates import source_candidates
from databricks_jobs.silver.parsing import RawFields
from databricks_jobs.silver.registry import handler_for
from databricks_jobs.sources.aliases import find_column
from databricks_jobs.sources.model import SourceDefinition
from databricks_jobs.storage import S3Access

# What to show per dataset: (instant column, value columns with their canonical unit).
SHOWN = {
    "demand": ("interval_start_utc", (("demand_mw", "MW"),)),
    "weather": ("interval_start_utc", (("temperature_c", "°C"), ("station_id", ""))),
    "outage_events": (
        "started_at_utc",
        (
            ("restored_at_utc", "UTC"),
            ("customers_affected", "customers"),
            ("is_open", ""),
            ("is_restoration_unknown", ""),
        ),
    ),  # fmt: skip
}


@dataclass
class FileCheck:
    path: str
    lines: list[str] = field(default_factory=list)
    refused: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def header_match(definition: SourceDefinition, header: list[str]) -> list[str]:
    """One line per declared column: the header column it resolved to, or what is missing."""
    wanted = [(f"timestamp part {i + 1}", aliases, True) for i, aliases in enumerate(definition.timestamp.columns)]
    if definition.shape == "long":
        wanted += [(f"field {f.name}", f.columns, f.required) for f in definition.fields]
    for what, key in (("region", definition.region), ("station", definition.station)):
        if key is not None and key.origin == "column":
            wanted.append((what, key.columns, True))
    wanted += [(f"sum_over {c}", (c,), True) for c in definition.sum_over]
    lines = []
    for what, aliases, required in wanted:
        found = find_column(header, aliases)
        status = f"-> {found!r}" if found else ("MISSING (required)" if required else "absent (optional)")
        lines.append(f"  {what:<28} {status}   aliases {list(aliases)}")
    return lines


def _candidates(
    spark: SparkSession, definition: SourceDefinition, file: RawFile, regions: tuple[Region, ...]
) -> tuple[list[str], DataFrame]:
    header, bronze, _ = read_file_rows(spark, definition, file, batch_id="check")
    handler = handler_for(definition.dataset)
    candidates = source_candidates(bronze, definition, RawFields.of({file.relative_path: header}), regions)
    existing = lake.rows_frame(spark, [], handler.target.spark_schema())
    return header, assign_fates(candidates, existing, handler)


def _local(instant: str, regions: tuple[Region, ...]) -> F.Column:
    zones = F.create_map(*[F.lit(x) for r in regions for x in (r.region_code, r.time_zone)])
    zone = F.element_at(zones, F.col("region_code"))
    return F.concat(F.from_utc_timestamp(instant, zone).cast("string"), F.lit(" "), zone)


def _shown(value: object) -> str:
    """Floats as a person writes them (1.4, not the 1.4000000000000001 a kW -> MW conversion gives)."""
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def _row_lines(
    fates: DataFrame, definition: SourceDefinition, regions: tuple[Region, ...], first_rows: int
) -> list[str]:
    instant, values = SHOWN[definition.dataset]
    kept = (
        fates.where(F.col("_fate") == KEPT)
        .orderBy("source_row_number", "source_column")
        .select(
            "source_row_number",
            "source_column",
            instant,
            _local(instant, regions).alias("_local"),
            "region_code",
            *[name for name, _ in values],
        )  # fmt: skip
        .limit(first_rows)
        .collect()
    )
    lines = [f"  first {len(kept)} kept row(s): line [column]  {instant}  local time  region  values"]
    for row in kept:
        column = f" [{row.source_column}]" if row.source_column else ""
        shown = ", ".join(f"{name} = {_shown(row[name])} {unit}".rstrip() for name, unit in values)
        lines.append(
            f"  {row.source_row_number}{column}  {row[instant]} UTC  {row['_local']}  {row.region_code}  {shown}"
        )
    return lines


def _quarantine_lines(fates: DataFrame) -> list[str]:
    bad = (
        fates.where(F.col("_fate") == QUARANTINED)
        .orderBy("source_row_number", "source_column")
        .select("source_row_number", "source_column", "reason", "detail")
        .collect()
    )
    lines = [f"  {len(bad)} row(s) would be quarantined" + (":" if bad else "")]
    for row in bad:
        column = f" [{row.source_column}]" if row.source_column else ""
        lines.append(f"  line {row.source_row_number}{column}: {row.reason}: {row.detail}")
    return lines


def check_file(
    spark: SparkSession, definition: SourceDefinition, file: RawFile, regions: tuple[Region, ...], first_rows: int = 5
) -> FileCheck:
    """What Bronze and Silver would do with one sample file, resolving regions against `regions`."""
    result = FileCheck(file.relative_path)
    try:
        header, fates = _candidates(spark, definition, file, regions)
    except RawFileError as error:
        result.refused = True
        result.lines.append(f"  file refused: {error}")
        return result
    result.lines += [f"  header: {header}", *header_match(definition, header)]
    result.lines += _row_lines(fates, definition, regions, first_rows)
    result.lines += _quarantine_lines(fates)
    counts = {r["_fate"]: r["count"] for r in fates.groupBy("_fate").count().collect()}
    result.counts = {fate: counts.get(fate, 0) for fate in (KEPT, QUARANTINED, EXACT_DUPLICATE)}
    result.counts["rows_in"] = sum(result.counts.values())
    c = result.counts
    result.lines.append(
        f"  rows in {c['rows_in']} = kept {c[KEPT]} + quarantined {c[QUARANTINED]} "
        f"+ exact duplicates {c[EXACT_DUPLICATE]}"
    )
    return result


def sample_files(definition: SourceDefinition, raw_root: str, paths: list[str], *, s3: S3Access) -> list[RawFile]:
    """The named files (relative to raw_root or absolute), or every file of raw_root matching the definition; `s3`
    reaches those on S3."""
    if paths:
        return [raw_file(raw_root, p, s3=s3) for p in paths]
    return [f for pattern in definition.files for f in list_files(raw_root, pattern, s3=s3)]
