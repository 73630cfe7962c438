"""A class data sharing archive for the local driver JVM: the Spark, Delta and Scala classes a local session loads,
stored once so that every new session maps them instead of reading and verifying them from jars again (about 2 s of
each new process's start; bench/RESULTS.md).

Java 17's dynamic archives (JEP 350, https://openjdk.org/jeps/350; "Class Data Sharing" in Oracle's JDK 17 guide): a
JVM started with `-XX:ArchiveClassesAtExit=FILE` writes the classes it loaded when it exits normally, one started
with `-XX:SharedArchiveFile=FILE` maps them. An archive is valid for one JVM build, class path and set of options; the
file name carries a key of all of them, so a new JDK, pyspark, package list or option picks a name no archive has yet
and the session starts without one (a JVM given a mismatching archive anyway logs a warning and runs without it).

Made once per install by local_platform/make_class_archive.py (`make jvm-archive`; `make demo`, `make test` and
`make bench` run it). The JVM writes an archive's header last (HotSpot's FileMapInfo seeks past it and writes it once
every region is out), so a file with the dynamic archive's magic number at its start is whole: only such a file is
mapped, and a killed dump is never used. On Databricks none of this applies: the cluster's JVM is the runtime's own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from databricks_jobs.settings import PROJECT_ROOT

# Where archives live; "off" = sessions neither use nor make one (e.g. to measure without).
ARCHIVE_DIR_ENV = "ENERGY_CLASS_ARCHIVE_DIR"
DEFAULT_ARCHIVE_DIR = PROJECT_ROOT / ".local" / "jvm"
# Set by make_archive on its child only: the file that child's JVM writes its classes to when it exits.
ARCHIVE_OUT_ENV = "ENERGY_CLASS_ARCHIVE_OUT"
# HotSpot's CDS_DYNAMIC_ARCHIVE_MAGIC, the first four bytes of a dynamic archive (little-endian on x86-64 and arm64).
DYNAMIC_ARCHIVE_MAGIC = (0xF00BABA8).to_bytes(4, "little")


def archive_dir() -> Path | None:
    """The folder of archives, or None when they are turned off."""
    configured = os.environ.get(ARCHIVE_DIR_ENV, "")
    if configured.lower() == "off":
        return None
    return Path(configured) if configured else DEFAULT_ARCHIVE_DIR


def java_executable() -> Path | None:
    """The java that spark-submit starts: $JAVA_HOME/bin/java, else the first `java` on PATH (Spark's spark-class)."""
    java_home = os.environ.get("JAVA_HOME")
    found = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).is_file() else None


def _file_identity(path: Path) -> list:
    try:
        stat = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), stat.st_size, stat.st_mtime_ns]


def archive_key(resolution: str, java_options: str, driver_memory: str) -> str | None:
    """What an archive is valid for: the JVM build, Spark's class path, the packages Ivy resolves, the JVM's options.
    None when there is no java to start."""
    import pyspark

    java = java_executable()
    if java is None:
        return None
    jars = Path(pyspark.__file__).resolve().parent / "jars"
    identity = {
        "java": _file_identity(java),
        # The JDK's release file names its exact build; libjvm is what maps the archive.
        "jdk": [_file_identity(p) for p in sorted(java.parent.parent.glob("release"))],
        "libjvm": [_file_identity(p) for p in sorted(java.parent.parent.glob("lib/server/libjvm.so"))],
        "pyspark": [pyspark.__version__, str(jars), len(list(jars.glob("*.jar")))],
        "resolution": resolution,
        "java_options": java_options,
        "driver_memory": driver_memory,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def archive_path(resolution: str, java_options: str, driver_memory: str) -> Path | None:
    folder = archive_dir()
    key = archive_key(resolution, java_options, driver_memory) if folder is not None else None
    return folder / f"spark-driver-{key}.jsa" if folder is not None and key else None


def is_complete(path: Path) -> bool:
    """A dynamic archive the JVM finished writing (its header, written last, is there)."""
    try:
        with open(path, "rb") as archive:
            return archive.read(4) == DYNAMIC_ARCHIVE_MAGIC
    except OSError:
        return False


def _quoted(path: Path) -> str:
    # Spark splits the options string on whitespace, honouring double quotes.
    return f'"{path}"' if any(c.isspace() for c in str(path)) else str(path)


def java_option(resolution: str, java_options: str, driver_memory: str) -> str:
    """The option for a new local driver JVM: map the archive made for exactly this JVM when there is one, write it
    when this process is make_archive's child; else nothing."""
    out = os.environ.get(ARCHIVE_OUT_ENV)
    if out:
        return f"-XX:ArchiveClassesAtExit={_quoted(Path(out))}"
    path = archive_path(resolution, java_options, driver_memory)
    if path is not None and is_complete(path):
        return f"-XX:SharedArchiveFile={_quoted(path)}"
    return ""
