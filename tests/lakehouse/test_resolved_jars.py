"""The jars Ivy resolved, remembered so a new local session skips the resolution: used only while every file is
there, for exactly the package list (and exclusions) that was resolved."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.spark_session import ivy_resolution_lock, remember_resolved_jars, resolved_jars

PACKAGES = "io.delta:delta-spark_4.2_2.13:4.4.0 excluding software.amazon.awssdk:bundle"


def test_remembered_jars_are_given_back_while_they_all_exist(tmp_path):
    cache = tmp_path / "resolved.json"
    delta, storage = tmp_path / "delta-spark.jar", tmp_path / "delta-storage.jar"
    delta.write_bytes(b"jar")
    storage.write_bytes(b"jar")
    assert resolved_jars(PACKAGES, cache) is None  # nothing remembered: Ivy resolves
    remember_resolved_jars(PACKAGES, f"file://{delta},file://{storage}", cache)
    assert resolved_jars(PACKAGES, cache) == [f"file://{delta}", f"file://{storage}"]
    assert resolved_jars(PACKAGES.replace("4.4.0", "4.5.0"), cache) is None  # another list: resolved afresh
    storage.unlink()  # e.g. a cleaned Ivy cache
    assert resolved_jars(PACKAGES, cache) is None


def test_a_damaged_or_empty_record_means_resolving_again(tmp_path):
    cache = tmp_path / "resolved.json"
    cache.write_text("{not json")
    assert resolved_jars(PACKAGES, cache) is None
    cache.write_text(json.dumps({PACKAGES: []}))
    assert resolved_jars(PACKAGES, cache) is None
    cache.write_text(json.dumps([1, 2]))
    assert resolved_jars(PACKAGES, cache) is None
    remember_resolved_jars(PACKAGES, "", cache)  # a session that resolved nothing records nothing
    remember_resolved_jars("other", f"file://{cache}", cache)  # a damaged record is replaced, not raised on
    assert json.loads(cache.read_text()) == {"other": [f"file://{cache}"]}


HOLD_LOCK = """
import sys, time
from pathlib import Path
from databricks_jobs.spark_session import ivy_resolution_lock
lock, marks = Path(sys.argv[1]), Path(sys.argv[2])
with ivy_resolution_lock(lock):
    (marks / "held").touch()
    time.sleep(1.0)
    (marks / "released").touch()
"""


def test_sessions_resolving_packages_take_turns_across_processes(tmp_path):
    """Two workers resolving into an empty Ivy cache at once broke each other's downloads: the lock lets one process
    resolve at a time. Another process holds it here; this one gets it only after that one let go."""
    lock = tmp_path / "ivy" / "resolution.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock), str(tmp_path)], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "held").exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the other process never took the lock"
            time.sleep(0.02)
        with ivy_resolution_lock(lock):
            assert (tmp_path / "released").exists()
    finally:
        holder.wait(timeout=60)
    assert holder.returncode == 0
