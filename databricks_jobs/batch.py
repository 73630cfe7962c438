"""Batch ids: `20261125T201500Z-3f9a1c2b` (UTC start time + 8 hex chars), one per pipeline run."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# ASCII digits only: `\d` also matches Arabic-Indic and other Unicode digits.
BATCH_ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


def new_batch_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def batch_id_for_run(run_started_ms: int, run_id: str) -> str:
    """The same id in every task of one Databricks job run: start time of the run + a hash of its run id."""
    moment = datetime.fromtimestamp(run_started_ms / 1000, tz=UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def run_started_ms_from_jobs_api(run_id: str, get_run: Callable[[int], Any] | None = None) -> int:
    """When the job run `run_id` started, as the Jobs API records it (epoch ms).

    A repair re-runs tasks inside the same run (same run id), and `{{job.start_time}}` is not documented to stay put
    across repairs; the run's recorded start, its ORIGINAL attempt in `repair_history`, does. So the batch id is a
    function of the run id alone and a repaired task writes under the batch its run began. The Jobs API returns
    `repair_history` only when asked (`include_history=true`, https://docs.databricks.com/api/workspace/jobs/getrun).
    """
    run = (get_run or _workspace_get_run())(int(run_id), include_history=True)
    for attempt in run.repair_history or []:
        if getattr(attempt.type, "value", attempt.type) == "ORIGINAL" and attempt.start_time:
            return int(attempt.start_time)
    if not run.start_time:
        raise ValueError(f"the Jobs API has no start time for run {run_id}")
    return int(run.start_time)


def _workspace_get_run() -> Callable[[int], Any]:
    # databricks-sdk ships with Databricks Runtime and serverless environments and authenticates from the task's
    # own context there; imported late so local runs never need it.
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient().jobs.get_run


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID_PATTERN.match(batch_id):
        raise ValueError(f"batch id {batch_id!r} is not of the form 20261125T201500Z-3f9a1c2b")
    return batch_id
