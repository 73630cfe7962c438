"""Many small files against the same rows in a few files: raw interval rows -> Gold, rows/s of each and the ratio.

The few-files layout is the synthetic utility's own (one CSV per region and year); the many-files layout is the same
CSVs cut into `files` pieces of consecutive lines, each with the header, so both hold exactly the same rows. Target:
the many-files run within 2x the rows/s of the few-files run (per-file work batched, not one Spark job per file).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from bench.common import BENCH_DIR
from bench.pipeline import generate, run_spark_layers

INTERVAL_FOLDER = Path("synthetic_utility") / "interval_load"
TARGET_RATIO = 2.0


def chunk_lines(lines: list[str], pieces: int) -> list[list[str]]:
    """`lines` cut into at most `pieces` runs of consecutive lines, as even as possible, none empty."""
    size = max(1, math.ceil(len(lines) / pieces))
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def split_files(sources: list[Path], target: Path, files: int) -> int:
    """The data lines of `sources` written as about `files` CSV files (each with its source's header) under
    `target`; returns the number of files written."""
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    per_source = math.ceil(files / len(sources))
    for source in sources:
        header, *lines = source.read_text().splitlines()
        for index, chunk in enumerate(chunk_lines(lines, per_source)):
            (target / f"{source.stem}_part{index:05d}.csv").write_text("\n".join([header, *chunk]) + "\n")
            written += 1
    return written


def layouts(rows: int, files: int) -> tuple[Path, Path, int, int]:
    """(few-files raw root, many-files raw root, rows, files in the many-files root); reused when present."""
    raw, actual_rows = generate(rows, BENCH_DIR / "pipeline")
    many = BENCH_DIR / "many_files" / f"raw_{actual_rows}_{files}"
    marker = many / "SPLIT"
    if not marker.exists():
        shutil.rmtree(many, ignore_errors=True)
        shutil.copytree(raw, many, ignore=shutil.ignore_patterns("interval_load"))
        sources = sorted((raw / INTERVAL_FOLDER).glob("*.csv"))
        marker.write_text(str(split_files(sources, many / INTERVAL_FOLDER, files)))
    return raw, many, actual_rows, int(marker.read_text())


def _timed_run(spark, raw: Path, lake: Path) -> dict[str, float]:
    shutil.rmtree(lake, ignore_errors=True)
    layers = run_spark_layers(spark, raw, lake)["seconds"]
    shutil.rmtree(lake, ignore_errors=True)
    return {stage: round(seconds, 1) for stage, seconds in layers.items()}


def run(spark, rows: int, files: int) -> dict[str, object]:
    """Both layouts through Bronze, Silver and Gold on fresh lakes, one after the other in the same session."""
    few_raw, many_raw, actual_rows, many_files = layouts(rows, files)
    few_files = len(list((few_raw / INTERVAL_FOLDER).glob("*.csv")))
    root = BENCH_DIR / "many_files"
    few = _timed_run(spark, few_raw, root / "lake_few")
    many = _timed_run(spark, many_raw, root / "lake_many")
    few_total, many_total = sum(few.values()), sum(many.values())
    ratio = {stage: round(many[stage] / few[stage], 2) for stage in few if few[stage] and stage in many}
    return {
        "raw_interval_rows": actual_rows,
        "few_files": few_files,
        "many_files": many_files,
        "few_files_seconds_per_layer": few,
        "many_files_seconds_per_layer": many,
        "few_files_rows_per_s": round(actual_rows / few_total),
        "many_files_rows_per_s": round(actual_rows / many_total),
        "ratio_rows_per_s_few_to_many": round(many_total / few_total, 2),
        "ratio_per_layer": ratio,
        "target_ratio": TARGET_RATIO,
        "met": many_total / few_total <= TARGET_RATIO,
    }
