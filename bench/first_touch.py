"""A new process's first touch of every table of a lake: lake.metadata against DESCRIBE DETAIL, each in its own new
process (a new JVM: Delta's snapshots are cached per process), on the same tables.

    python -m bench.first_touch [LAKE_ROOT]    (default: the demo benchmark's lake, .local/bench/demo/lake)

DESCRIBE DETAIL by name reconstructs each table's state on its first load in a process (delta-spark 4.4:
DeltaTableV2.clusterBySpec -> Snapshot.domainMetadata); lake.metadata reads the snapshot's metadata only. The
reference is DESCRIBE DETAIL, measured in the same run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BENCH_DIR
from databricks_jobs.settings import PROJECT_ROOT

WAYS = ("metadata", "describe_detail")


def _touch_all(way: str, lake_root: str) -> dict[str, object]:
    """In this process: every table of the lake touched once `way`; seconds in all and the slowest table."""
    from databricks_jobs import lake
    from databricks_jobs.settings import LakeSettings
    from databricks_jobs.spark_session import get_spark

    spark = get_spark("bench-first-touch")
    settings = LakeSettings(lake_root=lake_root, schema="bench_first_touch")
    names = sorted(p.name for p in Path(lake_root).iterdir() if (p / "_delta_log").is_dir())
    for name in names:  # registration is the same for both ways: not timed
        lake.exists(spark, settings, name)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    for name in names:
        began = time.monotonic()
        if way == "metadata":
            lake.metadata(spark, settings, name)
        else:
            spark.sql(f"DESCRIBE DETAIL {settings.table_name(name)}").first()
        seconds[name] = time.monotonic() - began
    slowest = max(seconds, key=seconds.get) if seconds else None
    return {
        "tables": len(names),
        "seconds": round(time.monotonic() - started, 2),
        "slowest_table": slowest,
        "slowest_seconds": round(seconds[slowest], 2) if slowest else None,
    }


def run(lake_root: Path | None = None) -> dict[str, object]:
    lake_root = lake_root or BENCH_DIR / "demo" / "lake"
    if not lake_root.is_dir():
        raise FileNotFoundError(f"{lake_root}: no lake (run `python -m bench.run_all --only demo` first)")
    figures = {}
    for way in WAYS:
        done = subprocess.run(
            [sys.executable, "-m", "bench.first_touch", "--way", way, str(lake_root)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        figures[way] = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = figures["describe_detail"]["seconds"] / max(figures["metadata"]["seconds"], 0.01)
    return {**figures, "describe_detail_over_metadata": round(ratio, 1)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--way"]:
        print(json.dumps(_touch_all(argv[1], argv[2])))
        return 0
    print(json.dumps(run(Path(argv[0]) if argv else None), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
