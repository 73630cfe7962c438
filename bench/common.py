"""Timing, the machine description and result printing shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from databricks_jobs.progress import quiet
from databricks_jobs.settings import PROJECT_ROOT

BENCH_DIR = PROJECT_ROOT / ".local" / "bench"
RESULTS_JSON = BENCH_DIR / "results.json"


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    started = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def repeat_ms(func: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls."""
    times = []
    for _ in range(runs):
        with timed() as t:
            func()
        times.append(t.seconds * 1000)
    return times


def summary_ms(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
    }


def machine() -> dict[str, object]:
    mem_gb = None
    try:
        with open("/proc/meminfo") as handle:
            mem_gb = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


@dataclass
class Report:
    """Collects each benchmark's figures; printed as it goes and saved as JSON for RESULTS.md."""

    results: dict[str, object] = field(default_factory=dict)

    def add(self, name: str, figures: dict[str, object]) -> None:
        self.results[name] = figures
        print(f"\n== {name}")
        for key, value in figures.items():
            print(f"  {key}: {value}")
        self.save()  # after each benchmark, so an interrupted run keeps what it measured

    def save(self, path: Path = RESULTS_JSON) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"machine": machine(), "results": self.results}, indent=2, default=str))
        return path


def spark_jobs_started(spark) -> int:
    """Spark jobs this session has started so far (job ids are sequential): the difference over a step is the number
    of jobs the step ran."""
    ids = spark.sparkContext.statusTracker().getJobIdsForGroup()
    return max(ids) + 1 if ids else 0


def land_demo_data(raw: Path) -> Path:
    """The demo's raw files (the bundled samples plus the seeded synthetic utility) landed in `raw` as `energy-platform
    demo` lands them; returns the raw root."""
    from local_platform.flow import prepare_landing_folder

    return prepare_landing_folder(PROJECT_ROOT / "sample_data", raw, synthetic=True, log=quiet)
