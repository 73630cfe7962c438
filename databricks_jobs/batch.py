"""Batch ids: `20261125T201500Z-3f9a1c2b` (UTC start time + 8 hex chars), one per pipeline run."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

BATCH_ID_PATTERN = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def new_batch_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def batch_id_for_run(run_started_ms: int, run_id: str) -> str:
    """The same id in every task of one Databricks job run: start time of the run + a hash of its run id."""
    moment = datetime.fromtimestamp(run_started_ms / 1000, tz=UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID_PATTERN.match(batch_id):
        raise ValueError(f"batch id {batch_id!r} is not of the form 20261125T201500Z-3f9a1c2b")
    return batch_id
