"""Batch ids of a Databricks job run: every task, and every repair of the run, writes under the same id.

A repair re-runs tasks inside the original run (same {{job.run_id}}, {{job.repair_count}} goes up), so the id is
derived from the run id alone: its hash, and the run's start as the Jobs API records it (the ORIGINAL attempt)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from databricks_jobs import batch
from databricks_jobs.batch import BATCH_ID_PATTERN, batch_id_for_run, run_started_ms_from_jobs_api
from databricks_jobs.jobs import common
from tests.lakehouse.workspace_standin import WorkspaceStandIn

RUN_ID = "550315892394120"
STARTED_MS = 1795637700000  # 2026-11-25T20:15:00Z
REPAIRED_MS = STARTED_MS + 3 * 3600 * 1000


def _run(start_time: int | None, *attempts: tuple[str, int]) -> SimpleNamespace:
    history = [SimpleNamespace(type=SimpleNamespace(value=kind), start_time=ms) for kind, ms in attempts]
    return SimpleNamespace(start_time=start_time, repair_history=history or None)


class FakeJobsApi:
    """`jobs.get_run` of a workspace where RUN_ID first ran at STARTED_MS and was repaired three hours later."""

    def __init__(self, repaired: bool) -> None:
        self.repaired = repaired
        self.asked: list[int] = []

    def get_run(self, run_id: int, include_history: bool = False) -> SimpleNamespace:
        self.asked.append(run_id)
        if not self.repaired:
            return _run(STARTED_MS)
        if not include_history:  # as the Jobs API: no repair_history unless asked for
            return _run(REPAIRED_MS)
        return _run(REPAIRED_MS, ("ORIGINAL", STARTED_MS), ("REPAIR", REPAIRED_MS))


def _batch_id(argv: list[str], api: FakeJobsApi, monkeypatch) -> str:
    monkeypatch.setattr(batch, "_workspace_get_run", lambda: api.get_run)
    return common.batch_id_from(common.task_parser("test").parse_args(argv))


def test_a_repair_keeps_the_batch_id_of_its_run(monkeypatch):
    first, repair = FakeJobsApi(repaired=False), FakeJobsApi(repaired=True)
    original_id = _batch_id(["--run-id", RUN_ID], first, monkeypatch)
    assert _batch_id(["--run-id", RUN_ID], repair, monkeypatch) == original_id
    assert original_id == batch_id_for_run(STARTED_MS, RUN_ID)
    assert BATCH_ID_PATTERN.match(original_id) and original_id.startswith("20261125T201500Z-")
    assert first.asked == repair.asked == [int(RUN_ID)]


def test_another_run_gets_another_batch_id(monkeypatch):
    api = FakeJobsApi(repaired=False)
    assert _batch_id(["--run-id", RUN_ID], api, monkeypatch) != _batch_id(
        ["--run-id", "550315892394121"], api, monkeypatch
    )


def test_the_original_attempt_wins_over_the_run_s_start_field():
    """Read the ORIGINAL attempt of repair_history first: it is the start the run's batch was stamped with."""
    run = _run(REPAIRED_MS, ("REPAIR", REPAIRED_MS), ("ORIGINAL", STARTED_MS))
    assert run_started_ms_from_jobs_api(RUN_ID, lambda _, **__: run) == STARTED_MS
    assert run_started_ms_from_jobs_api(RUN_ID, lambda _, **__: _run(STARTED_MS)) == STARTED_MS


def test_a_run_without_a_start_time_is_refused():
    with pytest.raises(ValueError, match=RUN_ID):
        run_started_ms_from_jobs_api(RUN_ID, lambda _, **__: _run(None))


def test_explicit_start_or_batch_id_needs_no_jobs_api(monkeypatch):
    """Local runs and tests pass the start (or the id) and never reach the workspace."""

    def no_api():
        raise AssertionError("the Jobs API was asked")

    monkeypatch.setattr(batch, "_workspace_get_run", no_api)
    parse = common.task_parser("test").parse_args
    explicit = common.batch_id_from(parse(["--run-id", RUN_ID, "--run-started-ms", str(STARTED_MS)]))
    assert explicit == batch_id_for_run(STARTED_MS, RUN_ID)
    given = "20261125T201500Z-3f9a1c2b"
    assert common.batch_id_from(parse(["--run-id", RUN_ID, "--batch-id", given])) == given


def test_the_repair_history_is_asked_for_through_the_sdk_from_a_recorded_response(monkeypatch):
    """The real SDK (`WorkspaceClient().jobs.get_run`, as the task builds it from its environment) against the
    workspace stand-in, which answers runs/get with tests/lakehouse/jobs_api/runs_get_repaired.json: a run whose gold
    task failed and was repaired three hours later. The response is written after the Jobs API reference
    (https://docs.databricks.com/api/workspace/jobs/getrun), not captured from a workspace; its top-level start_time
    is the repair's (the case the ORIGINAL attempt guards against). The API returns repair_history only with
    include_history=true, so without it the batch id would move to the repair's start."""
    pytest.importorskip("databricks.sdk")
    recorded = json.loads((Path(__file__).with_name("jobs_api") / "runs_get_repaired.json").read_text())
    with WorkspaceStandIn() as standin:
        standin.workspace.runs[int(RUN_ID)] = recorded
        for name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DATABRICKS_HOST", standin.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", "stand-in-token")
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/.databrickscfg")
        batch_id = common.batch_id_from(common.task_parser("test").parse_args(["--run-id", RUN_ID]))
    (asked,) = standin.workspace.requests("GET", r"/api/2\.2/jobs/runs/get")
    assert asked.query == {"run_id": RUN_ID, "include_history": "true"}
    assert batch_id == batch_id_for_run(STARTED_MS, RUN_ID) and batch_id.startswith("20261125T201500Z-")
