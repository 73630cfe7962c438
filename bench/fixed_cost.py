"""The pipeline's fixed cost per source: N sources of one tiny file each (N = 1, 5, 20 by default) through Bronze,
Silver and Gold on a fresh lake in one warm session; seconds per source per layer.

Each source is a copy of the synthetic interval-load definition under its own source_id and folder (given in a
config root, as a utility onboards one), with one CSV of a day of hourly rows. The rows are too few to matter, so the
time is what the layers spend per source and per run; the slope between the smallest and largest N is the cost of
one more source, the reference measured in the same run."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.common import BENCH_DIR
from bench.pipeline import generate, run_layers
from databricks_jobs.settings import LakeSettings

TEMPLATE = Path(__file__).resolve().parents[1] / "databricks_jobs/sources/definitions/synthetic_interval_load.yml"
ROWS_PER_FILE = 24 * 4  # one day of hourly rows of a few feeders


def source_id(index: int) -> str:
    return f"fixed_cost_{index:02d}"


def write_sources(root: Path, sources: int) -> tuple[Path, Path]:
    """(config root, raw root): `sources` definitions and one CSV each, cut from the seeded synthetic utility."""
    shutil.rmtree(root, ignore_errors=True)
    config, raw = root / "config", root / "raw"
    (config / "sources").mkdir(parents=True)
    generated, _ = generate(50_000, BENCH_DIR / "pipeline")
    sample = sorted((generated / "synthetic_utility" / "interval_load").glob("*.csv"))[0]
    with sample.open() as handle:
        lines = [next(handle) for _ in range(ROWS_PER_FILE + 1)]
    template = TEMPLATE.read_text()
    for index in range(sources):
        name = source_id(index)
        definition = template.replace("source_id: synthetic_interval_load", f"source_id: {name}")
        definition = definition.replace("files: synthetic_utility/interval_load/*.csv", f"files: {name}/*.csv")
        (config / "sources" / f"{name}.yml").write_text(definition)
        (raw / name).mkdir(parents=True)
        (raw / name / "day.csv").write_text("".join(lines))
    return config, raw


def run_sources(spark, sources: int) -> dict[str, dict[str, float]]:
    """Seconds and Spark jobs per layer for `sources` one-file sources on a fresh lake."""
    root = BENCH_DIR / "fixed_cost" / f"n{sources}"
    config, raw = write_sources(root, sources)
    settings = LakeSettings(
        raw_root=str(raw), lake_root=str(root / "lake"), export_root=str(root / "export"), config_root=str(config)
    )
    runs = run_layers(spark, settings, [source_id(i) for i in range(sources)])
    shutil.rmtree(root, ignore_errors=True)
    return runs


def _slope(runs: dict[int, dict[str, dict[str, float]]], what: str, low: int, high: int) -> dict[str, float]:
    return {
        stage: round((runs[high][what][stage] - runs[low][what][stage]) / (high - low), 2) for stage in runs[low][what]
    }


def run(spark, counts: list[int]) -> dict[str, object]:
    runs = {n: run_sources(spark, n) for n in counts}
    low, high = min(counts), max(counts)
    seconds_slope = _slope(runs, "seconds", low, high)
    return {
        "rows_per_source": ROWS_PER_FILE,
        "seconds_per_layer": {f"N={n}": runs[n]["seconds"] for n in counts},
        "spark_jobs_per_layer": {f"N={n}": runs[n]["spark_jobs"] for n in counts},
        "seconds_per_source_per_layer": {
            f"N={n}": {stage: round(s / n, 2) for stage, s in runs[n]["seconds"].items()} for n in counts
        },
        f"one_more_source_seconds_per_layer (slope N={low}..{high})": seconds_slope,
        f"one_more_source_spark_jobs_per_layer (slope N={low}..{high})": _slope(runs, "spark_jobs", low, high),
        "one_more_source_seconds": round(sum(seconds_slope.values()), 2),
        f"run_with_N={low}_seconds": round(sum(runs[low]["seconds"].values()), 1),
    }
