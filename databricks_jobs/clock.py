"""The pipeline's clock."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Now, as a naive UTC datetime to the second: the session time zone is UTC, so Spark stores the same instant."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
