"""One lakehouse layer alone on the demo's data, its steps timed: where a layer's seconds go, per call and thread.

    .venv/bin/python -m bench.steps silver [--warm] [--threads N]

The demo's data (the bundled samples plus the seeded synthetic utility, landed as `energy-platform demo` lands them)
goes once through the layers before the chosen one (a base lake kept in .local/bench/steps/); the layer then runs on a
fresh copy of that lake with the project's step functions (STEPS) wrapped to record each call: thread, start, seconds,
table. --warm runs the layer once before on another copy, so the JVM's JIT and Spark's generated classes are warm as in
the demo's own process, where each layer follows the one before. Prints the calls in start order, then the layer's
seconds, the machine's busy share and the CPU seconds of the Python driver, the driver JVM and its garbage collector
(both cores busy and the JVM's CPU near twice the seconds mean the layer is CPU-bound: only less work makes it faster).
A profiling aid, not a benchmark with a target; bench/RESULTS.md quotes what it showed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH_DIR, land_demo_data, spark_jobs_started
from databricks_jobs.progress import quiet
from databricks_jobs.settings import LakeSettings

LAYERS = ("bronze", "silver", "gold", "export")
# Per layer, the functions (module, name) whose calls are timed: the steps a layer's time divides into.
STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "bronze": (
        ("databricks_jobs.bronze.ingest", "_known_state"),
        ("databricks_jobs.bronze.ingest", "_ingest_source"),
        ("databricks_jobs.bronze.ingest", "read_new_files"),
        ("databricks_jobs.bronze.ingest", "write_raw_rows"),
    ),
    "silver": (
        ("databricks_jobs.silver.build", "pending_files_by_source"),
        ("databricks_jobs.silver.build", "build_group"),
        ("databricks_jobs.silver.candidates", "source_candidates"),
        ("databricks_jobs.silver.build", "candidates_once"),
        ("databricks_jobs.lake", "stage"),
        ("databricks_jobs.silver.build", "_materialised_duplicates"),
        ("databricks_jobs.silver.build", "count_per_file"),
        ("databricks_jobs.silver.build", "_write_new_rows"),
        ("databricks_jobs.lake", "append"),
    ),
    "gold": (
        ("databricks_jobs.gold.fingerprint", "input_states"),
        ("databricks_jobs.gold.runner", "_run_builder"),
        ("databricks_jobs.gold.writer", "write_gold"),
        ("databricks_jobs.lake", "ensure_table"),
        ("databricks_jobs.lake", "append"),
        ("databricks_jobs.lake", "collect_small"),
        ("databricks_jobs.lake", "stage"),
        ("databricks_jobs.gold.fingerprint", "record_fingerprints"),
    ),
    "export": (
        ("databricks_jobs.export.parquet_export", "plan_export"),
        ("databricks_jobs.export.parquet_export", "_export_table"),
        ("databricks_jobs.export.parquet_export", "_write_files"),
        ("databricks_jobs.export.parquet_export", "committed_files"),
    ),
}


@dataclass(frozen=True)
class Call:
    thread: str
    started: float  # seconds since the layer's run began
    seconds: float
    step: str
    table: str


def table_of(args: tuple) -> str:
    """The table a step works on, read from its arguments: a builder's or an export plan's table, a contract, a table
    name or a folder named after one; else the source a step works for (a source definition's id)."""
    for arg in args:
        table = getattr(arg, "table", None) or getattr(arg, "contract", None)
        if getattr(table, "name", None):
            return table.name
        if hasattr(arg, "primary_key") and hasattr(arg, "name"):
            return arg.name
        if isinstance(arg, str):
            # A table name, or a folder named after one (an export's files).
            named = [part for part in arg.split("/") if part.startswith(("bronze_", "silver_", "gold_", "staging_"))]
            if named:
                return named[-1]
    sources = [arg.source_id for arg in args if isinstance(getattr(arg, "source_id", None), str)]
    return sources[0] if sources else ""


class Recorder:
    """Wraps functions so each call is recorded (Call); `calls` since the last `restart`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    def restart(self) -> None:
        with self._lock:
            self.calls, self._origin = [], time.monotonic()

    def timed(self, function: Callable, step: str) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                call = Call(
                    threading.current_thread().name,
                    started - self._origin,
                    time.monotonic() - started,
                    step,
                    table_of(args),
                )
                with self._lock:
                    self.calls.append(call)

        return wrapper

    def wrap(self, module_name: str, name: str) -> None:
        """Replaces `module.name` by its timed wrapper, in its module and in every project module that imported it."""
        original = getattr(importlib.import_module(module_name), name)
        wrapper = self.timed(original, f"{module_name.rsplit('.', 1)[-1]}.{name}")
        for module in list(sys.modules.values()):
            if (
                getattr(module, "__name__", "").startswith("databricks_jobs")
                and getattr(module, name, None) is original
            ):
                setattr(module, name, wrapper)


@dataclass(frozen=True)
class CpuSample:
    busy: int  # the machine's busy clock ticks (all cores)
    total: int
    python_seconds: float
    jvm_seconds: float
    gc_seconds: float


def _process_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_sample(spark) -> CpuSample:
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    jvm = spark._jvm.java.lang.management.ManagementFactory
    gc_ms = sum(bean.getCollectionTime() for bean in jvm.getGarbageCollectorMXBeans())
    jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    return CpuSample(
        sum(ticks) - idle, sum(ticks), _process_seconds(os.getpid()), _process_seconds(jvm_pid), gc_ms / 1000
    )


@contextmanager
def measured(spark) -> Iterator[dict[str, float]]:
    """The enclosed work's seconds and Spark jobs, the machine's busy share, and the CPU seconds of Python, the JVM and
    the JVM's garbage collector."""
    figures: dict[str, float] = {}
    before, started, jobs = cpu_sample(spark), time.monotonic(), spark_jobs_started(spark)
    yield figures
    after = cpu_sample(spark)
    figures.update(
        seconds=round(time.monotonic() - started, 1),
        spark_jobs=spark_jobs_started(spark) - jobs,
        busy_pct=round(100 * (after.busy - before.busy) / max(after.total - before.total, 1)),
        python_cpu_seconds=round(after.python_seconds - before.python_seconds, 1),
        jvm_cpu_seconds=round(after.jvm_seconds - before.jvm_seconds, 1),
        gc_seconds=round(after.gc_seconds - before.gc_seconds, 1),
    )


def base_lake(spark, layer: str, root: Path) -> tuple[Path, Path]:
    """The landed raw folder and a lake holding the layers before `layer`, made once and kept."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    raw, base = root / "raw", root / f"{layer}_base"
    if not (raw / ".landed").exists():
        shutil.rmtree(raw, ignore_errors=True)
        land_demo_data(raw)
        (raw / ".landed").touch()
    before = LAYERS[: LAYERS.index(layer)]
    if not (base / ".complete").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        if before:
            settings = LakeSettings(raw_root=str(raw), lake_root=str(base), export_root=str(root / "base_export"))
            run_pipeline(settings, stages=before, spark=spark, log=quiet)
        (base / ".complete").touch()
    return raw, base


def run_layer(spark, layer: str, raw: Path, base: Path, lake: Path) -> dict[str, float]:
    """The layer on a fresh copy of the base lake (and a fresh export folder)."""
    from databricks_jobs.jobs.pipeline import run_pipeline

    shutil.rmtree(lake, ignore_errors=True)
    shutil.copytree(base, lake)
    export = lake.parent / f"{lake.name}_export"
    shutil.rmtree(export, ignore_errors=True)
    settings = LakeSettings(raw_root=str(raw), lake_root=str(lake), export_root=str(export))
    with measured(spark) as figures:
        run_pipeline(settings, stages=(layer,), spark=spark, log=quiet)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.split("\n\n")[0])
    parser.add_argument("layer", choices=LAYERS)
    parser.add_argument("--warm", action="store_true", help="run the layer once before, in the same process")
    parser.add_argument(
        "--threads",
        type=int,
        help="tables at once (concurrency.CONCURRENT_TABLE_THREADS; Gold: runner.GOLD_BUILDER_THREADS)",
    )
    args = parser.parse_args(argv)

    from databricks_jobs import concurrency
    from databricks_jobs.spark_session import get_spark

    if args.threads:
        from databricks_jobs.gold import runner

        concurrency.CONCURRENT_TABLE_THREADS = runner.GOLD_BUILDER_THREADS = args.threads
    spark = get_spark()
    root = BENCH_DIR / "steps"
    raw, base = base_lake(spark, args.layer, root)
    recorder = Recorder()
    for module_name, name in STEPS[args.layer]:
        recorder.wrap(module_name, name)
    if args.warm:
        warm = run_layer(spark, args.layer, raw, base, root / f"{args.layer}_run")
        print(f"warm-up run: {warm}")
    recorder.restart()
    figures = run_layer(spark, args.layer, raw, base, root / f"{args.layer}_run")
    print(f"{'thread':<12} {'start s':>8} {'seconds':>8}  step  table")
    for call in sorted(recorder.calls, key=lambda c: c.started):
        print(f"{call.thread:<12} {call.started:8.2f} {call.seconds:8.2f}  {call.step}  {call.table}")
    print(f"{args.layer}{' (warm)' if args.warm else ''}: {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
