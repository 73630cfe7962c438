"""The jars Ivy resolved, remembered so a new local session skips the resolution: used only while every file is
there, for exactly the package list (and exclusions) that was resolved."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

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
lock, marks, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
with ivy_resolution_lock(lock):
    (marks / "held").touch()
    time.sleep(seconds)
    (marks / "released").touch()
"""


def _hold_lock(lock, marks, seconds: float) -> subprocess.Popen:
    """Another process holding the lock for `seconds`, once it has written `marks`/held."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock), str(marks), str(seconds)], cwd=PROJECT_ROOT)
    deadline = time.monotonic() + 60
    while not (marks / "held").exists():
        assert holder.poll() is None and time.monotonic() < deadline, "the other process never took the lock"
        time.sleep(0.02)
    return holder


def test_sessions_resolving_packages_take_turns_across_processes(tmp_path, capsys):
    """Two workers resolving into an empty Ivy cache at once broke each other's downloads: the lock lets one process
    resolve at a time. Another process holds it here; this one gets it only after that one let go, and says it waits."""
    lock = tmp_path / "ivy" / "resolution.lock"
    holder = _hold_lock(lock, tmp_path, 1.0)
    try:
        with ivy_resolution_lock(lock):
            assert (tmp_path / "released").exists()
    finally:
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert f"Waiting for another Spark session resolving its packages into Ivy's cache (lock {lock})" in (
        capsys.readouterr().out
    )


def test_a_lock_held_too_long_is_a_clear_error_naming_it(tmp_path):
    lock = tmp_path / "ivy" / "resolution.lock"
    holder = _hold_lock(lock, tmp_path, 5.0)
    try:
        with pytest.raises(RuntimeError, match=rf"for over 0 s \(it holds {re.escape(str(lock))}\)"):
            with ivy_resolution_lock(lock, timeout_s=0.2):
                pass
    finally:
        holder.wait(timeout=60)
