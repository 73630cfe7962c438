"""The local driver JVM's class data sharing archive: used only when whole and made for exactly this JVM, and mapped
by the suite's own session (`make test` makes it before the tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from databricks_jobs.class_archive import (
    ARCHIVE_DIR_ENV,
    ARCHIVE_OUT_ENV,
    DYNAMIC_ARCHIVE_MAGIC,
    archive_key,
    archive_path,
    is_complete,
    java_option,
)
from databricks_jobs.settings import PROJECT_ROOT
from databricks_jobs.spark_session import local_class_archive_path

RESOLUTION = "io.delta:delta-spark_4.2_2.13:4.4.0 excluding software.amazon.awssdk:bundle"
JVM = (RESOLUTION, "-XX:+UseParallelGC", "4g")


@pytest.fixture()
def archives(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(ARCHIVE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(ARCHIVE_OUT_ENV, raising=False)
    return tmp_path


def _write(path: Path, header: bytes) -> None:
    path.write_bytes(header + bytes(4096))


def test_only_a_whole_archive_for_this_jvm_is_mapped(archives):
    path = archive_path(*JVM)
    assert path is not None and path.parent == archives
    assert java_option(*JVM) == ""  # none made yet
    _write(path, bytes(4))  # a dump killed before its header (written last) was out
    assert not is_complete(path)
    assert java_option(*JVM) == ""
    _write(path, DYNAMIC_ARCHIVE_MAGIC)
    assert java_option(*JVM) == f"-XX:SharedArchiveFile={path}"
    # Another JVM (other options, memory or packages) has another name, and no archive yet.
    for other in [(RESOLUTION, "-XX:+UseG1GC", "4g"), (RESOLUTION, "-XX:+UseParallelGC", "8g"), ("x", *JVM[1:])]:
        assert archive_path(*other) != path
        assert java_option(*other) == ""


def test_the_key_follows_the_java_build(archives, tmp_path, monkeypatch):
    key = archive_key(*JVM)
    assert key == archive_key(*JVM)
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    (java_home / "bin" / "java").write_text("#!/bin/sh\n")
    (java_home / "release").write_text('JAVA_VERSION="17.0.15"\n')
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    other_jdk = archive_key(*JVM)
    assert other_jdk not in (None, key)
    (java_home / "release").write_text('JAVA_VERSION="17.0.16"\n')  # the same path, upgraded in place
    assert archive_key(*JVM) not in (None, other_jdk)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    assert archive_key(*JVM) is None and java_option(*JVM) == ""


def test_turned_off_or_written_by_the_making_child(archives, monkeypatch):
    _write(archive_path(*JVM), DYNAMIC_ARCHIVE_MAGIC)
    monkeypatch.setenv(ARCHIVE_DIR_ENV, "off")
    assert archive_path(*JVM) is None and java_option(*JVM) == ""
    monkeypatch.setenv(ARCHIVE_OUT_ENV, "/tmp/a dir/partial.jsa")  # make_archive's child writes, never reads
    assert java_option(*JVM) == '-XX:ArchiveClassesAtExit="/tmp/a dir/partial.jsa"'


@pytest.mark.spark
def test_the_suites_own_session_maps_the_archive_make_made(spark):
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    mapped = Path(f"/proc/{pid}/maps").read_text()
    path = local_class_archive_path()
    if path is None:  # ENERGY_CLASS_ARCHIVE_DIR=off (or no java): nothing of ours mapped
        assert "spark-driver-" not in mapped
        return
    assert is_complete(path), f"no class archive for this JVM at {path}: `make test` makes it (make jvm-archive)"
    assert str(path) in mapped, f"the session's JVM (pid {pid}) did not map {path}: see its log for [cds] warnings"
    assert f"-XX:SharedArchiveFile={path}" in spark.conf.get("spark.driver.defaultJavaOptions")


def test_a_failed_making_leaves_no_archive_and_does_not_stop_the_install(tmp_path):
    archives = tmp_path / "archives"
    java_home = tmp_path / "broken-jdk"
    (java_home / "bin").mkdir(parents=True)
    (java_home / "bin" / "java").write_text("#!/bin/sh\necho 'no JVM here' >&2\nexit 1\n")
    (java_home / "bin" / "java").chmod(0o755)
    env = {**os.environ, ARCHIVE_DIR_ENV: str(archives), "JAVA_HOME": str(java_home)}
    done = subprocess.run(
        [sys.executable, "-m", "local_platform.make_class_archive"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: no class archive made: the training session exited with" in done.stderr
    assert "sessions will start without a class archive" in done.stderr
    assert [p.name for p in archives.iterdir()] == ["make.lock"]  # no archive, no partial file left
