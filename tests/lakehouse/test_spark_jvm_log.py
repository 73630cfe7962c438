"""The local JVM's output goes to a log file, Python's own output still reaches the terminal, and a session that
fails to start shows the log's tail (no Spark here: a child process and a failing builder stand in for the JVM)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from databricks_jobs import spark_session
from databricks_jobs.spark_session import new_jvm_log, process_output_to, start_local_session

CHILD = (
    "import sys, time\n"
    "print('child stdout', flush=True)\n"
    "print('child stderr', file=sys.stderr, flush=True)\n"
    "time.sleep(0.5)\n"  # still writing after the parent has restored its own descriptors
    "print('child later', flush=True)\n"
)


def test_a_child_started_inside_writes_to_the_log_for_its_life_and_python_returns_to_the_terminal(tmp_path, capfd):
    log = tmp_path / "jvm.log"
    print("python before")
    with process_output_to(log):
        child = subprocess.Popen([sys.executable, "-c", CHILD])
    print("python after")
    print("python stderr after", file=sys.stderr)
    assert child.wait(timeout=60) == 0
    out, err = capfd.readouterr()
    assert out.splitlines() == ["python before", "python after"]
    assert err.splitlines() == ["python stderr after"]
    assert log.read_text().splitlines() == ["child stdout", "child stderr", "child later"]


class FailingBuilder:
    """What configure_spark_with_delta_pip returns, failing as spark-submit does when a jar cannot be resolved."""

    def config(self, key: str, value: str) -> FailingBuilder:
        return self

    def getOrCreate(self):  # noqa: N802 - the builder's own name
        os.write(2, b"Error: Could not find artifact io.delta#delta-spark_4.2_2.13;9.9.9\n")
        raise RuntimeError("Java gateway process exited before sending its port number")


def test_a_session_that_fails_to_start_prints_the_tail_of_its_log(tmp_path, monkeypatch, capfd):
    monkeypatch.setattr(spark_session, "JVM_LOG_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="Java gateway process exited"):
        start_local_session(FailingBuilder())
    err = capfd.readouterr().err
    assert "failed to start" in err and str(tmp_path / "spark-") in err
    assert "Could not find artifact io.delta#delta-spark_4.2_2.13;9.9.9" in err


def test_a_new_log_keeps_only_the_newest_older_ones(tmp_path):
    for second in range(25):
        (tmp_path / f"spark-20260101T0000{second:02d}.000000Z.log").write_text("old")
    (tmp_path / "notes.txt").write_text("not a Spark log")
    log = new_jvm_log(tmp_path, kept=20)
    left = sorted(p.name for p in tmp_path.glob("spark-*.log"))
    assert left == [f"spark-20260101T0000{second:02d}.000000Z.log" for second in range(6, 25)]
    assert log.parent == tmp_path and log.name.startswith("spark-") and not log.exists()
    assert (tmp_path / "notes.txt").exists()
