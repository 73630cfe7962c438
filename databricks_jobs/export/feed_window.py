"""Whether a Gold table's change data feed still covers the commits since the last export, decided from the table's
own history and retention before any change file is read.

Two things end a feed's reach (docs: "Use Delta Lake change data feed on Databricks", https://docs.databricks.com/
aws/en/delta/delta-change-data-feed: the feed follows the table's retention; "Work with table history",
https://docs.databricks.com/aws/en/delta/history: `delta.logRetentionDuration`, `delta.deletedFileRetentionDuration`):
- the transaction log no longer holds the first version needed: log clean-up removed it (DESCRIBE HISTORY starts
  later);
- that version was committed longer ago than `delta.deletedFileRetentionDuration` (default 7 days): VACUUM may have
  deleted its change files (`_change_data`) already, whether or not it ran yet.
Either way the export sends a full snapshot. The error texts Delta raises when it finds out late are the backstop
(parquet_export.FEED_ERRORS), not the plan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from databricks_jobs.clock import from_utc_micros, utc_now

RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
DEFAULT_RETENTION = "interval 1 week"  # Delta's default for the property
_INTERVAL = re.compile(r"^\s*(?:interval\s+)?(\d+)\s+(second|minute|hour|day|week)s?\s*$", re.IGNORECASE)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
# The commits read from a table's history. More commits than this since the last batch: a full snapshot (the gap is
# as long as its batch would be large), and the planning never reads an unbounded log.
MAX_COMMITS = 1000


class FeedGap(Exception):
    """The feed cannot cover the gap; the message says which version, and why."""


# Commits that change no rows write no change data (OPTIMIZE compacts, VACUUM deletes unreferenced files, a property
# is set): VACUUM deleting change files cannot lose anything of theirs.
NO_CHANGE_DATA = ("OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "UNSET TBLPROPERTIES", "ANALYZE STATS")


@dataclass(frozen=True)
class Commit:
    version: int
    committed_utc: dt.datetime  # naive UTC
    operation: str = "WRITE"


def retention(spec: str) -> dt.timedelta:
    """`interval 1 week`, `interval 168 hours`, `7 days` -> timedelta; FeedGap for a value it cannot read (the
    export then plays safe)."""
    match = _INTERVAL.match(spec or "")
    if not match:
        raise FeedGap(f"{RETENTION_PROPERTY} {spec!r} is not an interval this export reads")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])


def history(spark: SparkSession, table: str, limit: int = MAX_COMMITS) -> list[Commit]:
    """The newest `limit` commits the log still holds, newest first. DESCRIBE HISTORY … LIMIT reads only those from
    the log: a table committed to every few minutes keeps thousands within delta.logRetentionDuration."""
    log = spark.sql(f"DESCRIBE HISTORY {table} LIMIT {int(limit)}")
    rows = log.select("version", F.unix_micros("timestamp").alias("micros"), "operation").collect()
    commits = (Commit(int(r.version), from_utc_micros(r.micros), r.operation) for r in rows)
    return sorted(commits, key=lambda c: -c.version)


def retention_of(spark: SparkSession, table: str) -> str:
    """The table's delta.deletedFileRetentionDuration, or Delta's default when it is not set."""
    rows = spark.sql(f"SHOW TBLPROPERTIES {table}").collect()
    return next((r.value for r in rows if r.key == RETENTION_PROPERTY), DEFAULT_RETENTION)


def check_covers(commits: list[Commit], after_version: int, retention_spec: str, now: dt.datetime | None = None):
    """FeedGap unless every commit after `after_version` is still in the log and the oldest of them that wrote
    change data is younger than the retention."""
    first_needed = after_version + 1
    earliest = min(c.version for c in commits)
    if first_needed < earliest and len(commits) >= MAX_COMMITS:
        raise FeedGap(f"more than {MAX_COMMITS} commits since version {after_version} (the most this export reads)")
    if first_needed < earliest:
        raise FeedGap(f"the log starts at version {earliest}; the changes needed start at {first_needed}")
    writing = [c for c in commits if c.version >= first_needed and c.operation not in NO_CHANGE_DATA]
    if not writing:
        return  # nothing that wrote change data since after_version
    needed = min(writing, key=lambda c: c.version)
    oldest_kept = (now or utc_now()) - retention(retention_spec)
    if needed.committed_utc < oldest_kept:
        raise FeedGap(
            f"version {needed.version} was committed at {needed.committed_utc:%Y-%m-%dT%H:%M:%S}Z, longer ago than "
            f"{RETENTION_PROPERTY} ({retention_spec}): VACUUM may have deleted its change files"
        )
