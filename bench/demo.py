"""The demo as a user runs it: `energy-platform demo --no-app` on a fresh lake and warehouse, then again with nothing
new, each in a new process (a new JVM), timed as a whole and per step from the lines the command prints.

Targets (issue "Fast: fixed costs"): first run <= 120 s, second run <= 30 s; the reference measured in the same run is
the first run itself (the second as a share of it). A third run, nothing new again, without the local driver's class
archive (ENERGY_CLASS_ARCHIVE_DIR=off) is the reference for what the archive saves a new process."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from bench.common import BENCH_DIR, timed
from databricks_jobs.class_archive import ARCHIVE_DIR_ENV, archive_dir, is_complete
from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.spark_session import local_class_archive_path

TARGET_FIRST_SECONDS = 120.0
TARGET_SECOND_SECONDS = 30.0
# "[bronze] done in 29.2 s: ...", "[2/5] lakehouse pipeline: done in 190.0 s", "... session ready in 6.4 s"
STAGE_DONE = re.compile(r"^\[(?P<name>[a-z]+)\] done in (?P<seconds>[\d.]+) s")
STEP_DONE = re.compile(r"^\[\d+/\d+\] (?P<name>[^:]+): done in (?P<seconds>[\d.]+) s")
SESSION_READY = re.compile(r"local session ready in (?P<seconds>[\d.]+) s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_timings(output: str) -> dict[str, float]:
    """Seconds per pipeline stage, per flow step and for the Spark session, from the demo's printed lines."""
    timings: dict[str, float] = {}
    for line in output.splitlines():
        line = line.strip()
        for pattern, prefix in ((STAGE_DONE, "stage"), (STEP_DONE, "step")):
            match = pattern.match(line)
            if match:
                timings[f"{prefix} {match['name']}"] = float(match["seconds"])
        ready = SESSION_READY.search(line)
        if ready:
            timings["spark session up"] = float(ready["seconds"])
    return timings


def _environment(root: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "ENERGY_LAKE_ROOT": str(root / "lake"),
        "ENERGY_EXPORT_ROOT": str(root / "export"),
        "ENERGY_WAREHOUSE_DIR": str(root / "warehouse"),
        "ENERGY_WAREHOUSE_PORT": str(port),
    }


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "local_platform.cli", *args]


def _timed_demo(env: dict[str, str], log: Path) -> dict[str, object]:
    with timed() as whole, log.open("w") as out:
        done = subprocess.run(_cli("demo", "--no-app"), cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text()
    if done.returncode != 0:
        raise RuntimeError(f"demo failed (exit {done.returncode}); its output: {log}\n{text[-3000:]}")
    return {"whole_command_seconds": round(whole.seconds, 1), **parse_timings(text)}


def _class_archive_state() -> str:
    """Whether the first and second runs mapped the class archive: turned off, made, or not made yet."""
    if archive_dir() is None:
        return f"off ({ARCHIVE_DIR_ENV}=off)"
    path = local_class_archive_path()
    return "used" if path is not None and is_complete(path) else "none made (make jvm-archive)"


def run() -> dict[str, object]:
    root = BENCH_DIR / "demo"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = _environment(root, _free_port())
    try:
        first = _timed_demo(env, root / "first.log")
        second = _timed_demo(env, root / "second.log")
        # The reference for the class archive (databricks_jobs/class_archive.py): the second run again, nothing new,
        # its new JVM loading every class from jars.
        without = _timed_demo({**env, ARCHIVE_DIR_ENV: "off"}, root / "second-without-class-archive.log")
    finally:
        subprocess.run(_cli("warehouse", "stop"), cwd=PROJECT_ROOT, env=env, capture_output=True)
    first_s, second_s = first["whole_command_seconds"], second["whole_command_seconds"]
    return {
        "first_run": first,
        "second_run_nothing_new": second,
        "second_run_without_class_archive": without,
        "class_archive": _class_archive_state(),
        "ratio_second_to_first": round(second_s / first_s, 3),
        "ratio_second_without_to_with_class_archive": round(without["whole_command_seconds"] / second_s, 3),
        "target_first_seconds": TARGET_FIRST_SECONDS,
        "target_second_seconds": TARGET_SECOND_SECONDS,
        "first_met": first_s <= TARGET_FIRST_SECONDS,
        "second_met": second_s <= TARGET_SECOND_SECONDS,
    }
