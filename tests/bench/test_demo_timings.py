"""The demo benchmark reads its per-step figures from the lines `energy-platform demo` prints."""

from __future__ import annotations

from bench.demo import parse_timings

# Lines as the demo prints them (local_platform/flow.py, databricks_jobs/jobs/pipeline.py, spark_session.py), with
# the status and summary lines around them that must not be taken for timings.
DEMO_OUTPUT = """\
[0] raw files for this run ...
[1/5] land raw files ...
[1/5] land raw files: done in 0.1 s
Spark 4.2.0 local session ready in 6.4 s (JVM log: .local/logs/spark-x.log)
pipeline batch 20261203T160000Z: stages bronze -> silver -> gold -> export; tables spark_catalog.energy_lakehouse
[bronze] started
  ercot_native_load: 2 files, 17,544 rows in 3.1 s
[bronze] done in 29.2 s: 14 files, 1,476,706 rows
[silver] done in 93.6 s: 14 files
[gold] problem: a file was refused
[gold] done in 72.7 s: 12 tables
[export] done in 15.6 s: batch 20261203T160000Z
[2/5] lakehouse pipeline: done in 217.5 s
Views rebuilt in ENERGY.REPORTING. Whole flow: 225.8 s
"""


def test_each_stage_step_and_the_session_are_read_once():
    assert parse_timings(DEMO_OUTPUT) == {
        "step land raw files": 0.1,
        "spark session up": 6.4,
        "stage bronze": 29.2,
        "stage silver": 93.6,
        "stage gold": 72.7,
        "stage export": 15.6,
        "step lakehouse pipeline": 217.5,
    }
