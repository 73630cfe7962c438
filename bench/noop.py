"""A run with nothing new, on the demo's data (the bundled samples plus the seeded synthetic utility): every stage,
Bronze -> Silver -> Gold -> export, timed against the first run of the same data in the same Spark session.

Target (issue "Fast when little changed"): the lakehouse no-op <= 10 s once the Spark session is up."""

from __future__ import annotations

import shutil

from bench.common import BENCH_DIR, land_demo_data
from databricks_jobs.progress import quiet
from databricks_jobs.settings import LakeSettings

TARGET_NOOP_SECONDS = 10.0


def _seconds_per_stage(report) -> dict[str, float]:
    return {step.stage: step.seconds for step in report.steps}


def run(spark) -> dict[str, object]:
    from databricks_jobs.jobs.pipeline import run_pipeline

    root = BENCH_DIR / "noop"
    shutil.rmtree(root, ignore_errors=True)
    raw = land_demo_data(root / "raw")
    settings = LakeSettings(raw_root=str(raw), lake_root=str(root / "lake"), export_root=str(root / "export"))
    first = run_pipeline(settings, spark=spark, log=quiet)
    noop = run_pipeline(settings, spark=spark, log=quiet)
    first_s, noop_s = _seconds_per_stage(first), _seconds_per_stage(noop)
    raw_rows = sum(f.rows for f in first.step("bronze").result.ingested)
    shutil.rmtree(root, ignore_errors=True)
    return {
        "raw_rows": raw_rows,
        "first_run_seconds_per_stage": first_s,
        "first_run_seconds": round(sum(first_s.values()), 1),
        "noop_run_seconds_per_stage": noop_s,
        "noop_run_seconds": round(sum(noop_s.values()), 1),
        "ratio_noop_to_first": round(sum(noop_s.values()) / sum(first_s.values()), 3),
        "noop_wrote_an_export_batch": noop.exported,
        "target_noop_seconds": TARGET_NOOP_SECONDS,
        "target_met": sum(noop_s.values()) <= TARGET_NOOP_SECONDS,
    }
