"""Shared fixtures. One Spark session per pytest worker (starting Spark costs ~20 s; `make test` runs two workers).

A test declares what it needs with a marker (pyproject.toml): `spark`, `server`, `browser`, `e2e`, `network`.
`make test-fast` runs the tests that need none of them, so a test that starts Spark or a local server without its
marker would slow the fast loop down unseen: the hooks below fail such a test, naming the marker it lacks.
"""

from __future__ import annotations

import functools
import os
import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"

# The test being set up, run or torn down: server starts are checked against its markers.
_CURRENT_ITEM: list[pytest.Item | None] = [None]
_SPARK_BEFORE = pytest.StashKey[bool]()
SERVER_MARKERS = ("server", "e2e", "browser")


def _spark_running() -> bool:
    """Whether this process has a live SparkContext (pyspark not imported yet means none)."""
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None


def _refuse_unmarked_server(start, what: str):
    @functools.wraps(start)
    def guarded(*args, **kwargs):
        item = _CURRENT_ITEM[0]
        if item is not None and not any(item.get_closest_marker(m) for m in SERVER_MARKERS):
            raise RuntimeError(
                f"{item.nodeid} starts {what} but is not marked @pytest.mark.server (or e2e / browser): "
                "mark it, so `make test-fast` leaves it out"
            )
        return start(*args, **kwargs)

    return guarded


# Fixtures that start Spark or a server: a test using one (directly or through another fixture) gets the marker.
MARKER_OF_FIXTURE = {
    "spark": "spark",
    "moto_server": "server",
    "warehouse": "server",
    "seeded_local_warehouse": "server",
}


# The order files are handed to the workers in (`make test`: --dist loadfile --no-loadscope-reorder): the whole-flow
# files first (minutes each), then Spark, then servers, then the rest, so that no minutes-long file is left for the
# end while the other worker sits idle. xdist's own order (most tests first) put the heaviest files, with few tests
# each, last.
ORDER_OF_MARKER = {"e2e": 0, "spark": 1, "server": 2, "browser": 2}


def _heaviest_files_first(items: list[pytest.Item]) -> None:
    """Sort `items` in place by their file's heaviest marker, keeping each file's tests together and in order."""
    rank: dict[Path, int] = {}
    for item in items:
        marks = {m.name for m in item.iter_markers()} & ORDER_OF_MARKER.keys()
        item_rank = min((ORDER_OF_MARKER[m] for m in marks), default=len(ORDER_OF_MARKER))
        rank[item.path] = min(rank.get(item.path, item_rank), item_rank)
    first_seen = {path: index for index, path in enumerate(dict.fromkeys(item.path for item in items))}
    items.sort(key=lambda item: (rank[item.path], first_seen[item.path]))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in MARKER_OF_FIXTURE.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(MARKER_OF_FIXTURE[fixture])
    _heaviest_files_first(items)


def pytest_configure(config):
    from local_platform.s3.server import MotoS3Server
    from local_platform.warehouse import control

    control.start = _refuse_unmarked_server(control.start, "the local warehouse")
    MotoS3Server.start = _refuse_unmarked_server(MotoS3Server.start, "the moto S3 server")


def _check_spark(item: pytest.Item) -> None:
    if item.get_closest_marker("spark") is None and not item.stash[_SPARK_BEFORE] and _spark_running():
        raise RuntimeError(
            f"{item.nodeid} started a Spark session but is not marked @pytest.mark.spark: mark it, so "
            "`make test-fast` leaves it out"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    _CURRENT_ITEM[0] = item
    item.stash[_SPARK_BEFORE] = _spark_running()
    result = yield
    _check_spark(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    _check_spark(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        _CURRENT_ITEM[0] = None


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from databricks_jobs.spark_session import get_spark

    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    session = get_spark("energy-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def moto_server():
    """A real S3 API server (moto) on 127.0.0.1, its own process: boto3 and s3a reach it over HTTP as they reach AWS."""
    from local_platform.s3.server import MotoS3Server

    with MotoS3Server() as server:
        yield server


@pytest.fixture()
def s3_settings(moto_server):
    """Fresh buckets per test: S3A caches one filesystem per bucket, and tests must not see each other's objects."""
    from local_platform.s3.client import ensure_bucket, s3_client
    from local_platform.s3.settings import S3Settings

    suffix = uuid.uuid4().hex[:8]
    base = S3Settings(landing_bucket=f"landing-{suffix}", curated_bucket=f"curated-{suffix}")
    settings = moto_server.settings(base)
    client = s3_client(settings)
    for bucket in (settings.landing_bucket, settings.curated_bucket):
        ensure_bucket(client, settings, bucket, create=True)
    return settings


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
