"""Work at once (databricks_jobs.concurrency), Silver's sources grouped per table, and the retry of an idempotent
write that met a concurrent commit. No Spark: the threads and the exceptions are what is tested; the Silver, Gold and
fault tests run the same code on real tables."""

from __future__ import annotations

import threading
import time

import pytest
from delta.exceptions import ConcurrentAppendException, ConcurrentDeleteDeleteException

from databricks_jobs import lake
from databricks_jobs.concurrency import CONCURRENT_TABLE_THREADS, run_at_once
from databricks_jobs.gold.runner import GOLD_BUILDER_THREADS
from databricks_jobs.silver.build import table_groups
from databricks_jobs.silver.registry import handler_for
from databricks_jobs.sources import load_source_definitions


@pytest.mark.parametrize("threads", [None, GOLD_BUILDER_THREADS], ids=["default width", "Gold's builders"])
def test_tasks_run_at_once_and_each_result_reaches_on_done_on_the_calling_thread(threads):
    # Every task waits for all the others: run one after another, or on fewer threads than asked, the barrier breaks.
    width = threads or CONCURRENT_TABLE_THREADS
    barrier = threading.Barrier(width, timeout=10)
    caller = threading.current_thread()
    seen: list[tuple[int, int, bool]] = []

    def work(task: int) -> int:
        barrier.wait()
        return task * task

    run_at_once(
        list(range(width)),
        work,
        lambda t, r: seen.append((t, r, threading.current_thread() is caller)),
        name="t",
        threads=threads,
    )
    assert sorted(seen) == [(t, t * t, True) for t in range(width)]


def test_a_failure_stops_tasks_not_started_and_is_raised_after_the_running_ones_finish():
    stop = threading.Event()
    started, finished = [], []
    first_failed = threading.Event()

    def work(task: str) -> str:
        started.append(task)
        if task == "fails":
            first_failed.set()
            raise ValueError("source fails: row 3 is bad")
        if task == "running":
            first_failed.wait(10)
            time.sleep(0.2)  # still running when the failure arrives: it must be allowed to finish
            finished.append(task)
        time.sleep(0.05)  # queued tasks take a while, so they cannot all have started before the failure is seen
        return task

    done: list[str] = []
    # "fails" and "running" take two of the threads; the queued ones behind them must never start.
    tasks = ["fails", "running"] + [f"queued-{i}" for i in range(20)]
    with pytest.raises(ValueError, match="row 3 is bad"):
        run_at_once(tasks, work, lambda t, r: done.append(r), name="t", stop=stop)
    assert stop.is_set()
    assert "running" in finished and "running" in done
    assert len(started) < len(tasks), started


def test_silver_groups_sources_by_the_table_they_write_in_the_given_order():
    definitions = load_source_definitions()
    chosen = sorted(definitions)
    groups = table_groups(chosen, definitions)

    def table(source_id: str) -> str:
        return handler_for(definitions[source_id].dataset).target.name

    assert sorted(s for group in groups for s in group) == chosen  # every source once
    for group in groups:
        assert len({table(s) for s in group}) == 1, group
        assert group == sorted(group)  # the given order kept within a group
    assert len(groups) == len({table(s) for s in chosen}) >= 3  # demand, weather and outage events at once


def test_an_idempotent_write_is_retried_after_a_concurrent_commit_and_gives_up_naming_it():
    calls = []

    def conflicts_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConcurrentAppendException(message="files were added by a concurrent update")

    lake.retry_on_conflict(conflicts_once, "silver_quarantine: delete")
    assert len(calls) == 2

    def always() -> None:
        raise ConcurrentDeleteDeleteException(message="a concurrent transaction deleted the same file")

    with pytest.raises(RuntimeError, match=f"silver_quarantine: delete: {lake.CONFLICT_ATTEMPTS} attempts"):
        lake.retry_on_conflict(always, "silver_quarantine: delete")

    other = []

    def fails() -> None:
        other.append(1)
        raise ValueError("not a conflict")

    with pytest.raises(ValueError):
        lake.retry_on_conflict(fails, "x")
    assert other == [1]  # anything else is not retried


def test_bronze_lines_come_in_the_asked_order_and_survive_a_failing_source(monkeypatch, tmp_path):
    """Sources finish in any order; their lines come in the order asked for, and when one source fails the lines of
    those that finished behind it still come before the error is raised. Bronze's I/O is replaced (no Spark): the
    threads and the ordering are what is tested."""
    from databricks_jobs.bronze import ingest
    from databricks_jobs.settings import LakeSettings

    chosen = ["noaa_isd_temperature", "ercot_native_load", "eia930_cleaned", "doe_oe417"]
    delays = {"noaa_isd_temperature": 0.4, "ercot_native_load": 0.0, "eia930_cleaned": 0.2, "doe_oe417": 0.0}

    def fake_source(spark, settings, batch_id, known, claimed, lock, task):
        definition, _files = task
        time.sleep(delays[definition.source_id])
        if fails and definition.source_id == "eia930_cleaned":
            raise RuntimeError("eia930_cleaned: the executor died")
        return [ingest.FileResult(definition.source_id, "f.csv", "h", ingest.INGESTED, 3)], [], 0.0

    monkeypatch.setattr(ingest, "_ingest_source", fake_source)
    monkeypatch.setattr(ingest, "_known_state", lambda spark, settings: ingest.KnownFiles(set(), set(), {}))
    monkeypatch.setattr(ingest, "list_files", lambda root, glob, s3=None: [glob])
    monkeypatch.setattr(ingest.lake, "append", lambda *args: None)
    settings = LakeSettings(raw_root=str(tmp_path), lake_root=str(tmp_path / "lake"))

    fails, lines = False, []
    ingest.ingest_bronze(None, settings, "b", chosen, progress=lines.append)
    assert [line.split(":")[0].strip() for line in lines] == [f"bronze {s}" for s in chosen]

    fails, lines = True, []
    with pytest.raises(RuntimeError, match="executor died"):
        ingest.ingest_bronze(None, settings, "b", chosen, progress=lines.append)
    # The failed source has no line; the others all do, in the asked order.
    assert [line.split(":")[0].strip() for line in lines] == [f"bronze {s}" for s in chosen if s != "eia930_cleaned"]
