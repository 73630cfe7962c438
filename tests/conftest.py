"""Shared fixtures. One Spark session for the whole test run (starting Spark costs ~20 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from databricks_jobs.spark_session import get_spark

    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    # spark.sql.warehouse.dir is static (cannot be set on a running session); the lake is path-based anyway.
    session = get_spark("energy-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return SAMPLE_DATA


def pytest_unconfigure(config):
    """Forget Snowpark sessions before interpreter exit.

    Snowpark registers every Session for closing at exit, and closing one whose connection is still open first sends
    a cancel-all query. By then the tests have stopped (or killed) the local warehouse that served it, and the
    connector retries that query for many minutes, so the run would not exit after its summary. The tests close
    what they open; this only keeps a session left over from a killed server from holding the process.
    """
    import atexit
    import sys
    import threading

    snowpark_session = sys.modules.get("snowflake.snowpark.session")
    if snowpark_session is not None:
        with snowpark_session._session_management_lock:
            for session in list(snowpark_session._active_sessions):
                atexit.unregister(session._close_at_exit)
            snowpark_session._active_sessions.clear()
    for thread in threading.enumerate():
        # The connector's per-query cancel timers are non-daemon threads that would also retry against a dead server.
        if isinstance(thread, threading.Timer) and type(thread).__name__ == "_TrackedQueryCancellationTimer":
            thread.cancel()
