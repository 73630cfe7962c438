"""Whether a change feed covers the gap since the last export, decided from the table's history and retention (no
Spark: hand-written histories). Docs: "Use Delta Lake change data feed on Databricks"
(https://docs.databricks.com/aws/en/delta/delta-change-data-feed), "Work with table history"
(https://docs.databricks.com/aws/en/delta/history)."""

from __future__ import annotations

import datetime as dt

import pytest

from databricks_jobs.export.feed_window import MAX_COMMITS, Commit, FeedGap, check_covers, retention

NOW = dt.datetime(2026, 12, 3, 12, 0, 0)


def _commits(*specs: tuple[int, float, str]) -> list[Commit]:
    """(version, days ago, operation) -> newest first, as DESCRIBE HISTORY lists them."""
    return sorted((Commit(v, NOW - dt.timedelta(days=d), op) for v, d, op in specs), key=lambda c: -c.version)


@pytest.mark.parametrize(
    "spec, seconds",
    [("interval 1 week", 604800), ("interval 168 hours", 604800), ("7 days", 604800), ("INTERVAL 30 SECONDS", 30)],
)
def test_retention_reads_delta_s_interval_forms(spec, seconds):
    assert retention(spec) == dt.timedelta(seconds=seconds)


def test_an_unreadable_retention_is_a_gap_not_a_guess():
    with pytest.raises(FeedGap, match="'interval forever'"):
        retention("interval forever")


def test_changes_within_the_log_and_the_retention_are_covered():
    history = _commits((10, 8, "WRITE"), (11, 6.9, "MERGE"), (12, 1, "MERGE"))
    check_covers(history, 10, "interval 1 week", NOW)  # version 11, 6.9 days old: inside 7 days


def test_a_first_change_older_than_the_retention_is_a_gap():
    history = _commits((10, 9, "WRITE"), (11, 7.5, "MERGE"), (12, 1, "MERGE"))
    with pytest.raises(FeedGap, match="version 11 was committed at 2026-11-26T00:00:00Z"):
        check_covers(history, 10, "interval 1 week", NOW)


def test_old_commits_without_change_data_do_not_count():
    """OPTIMIZE and VACUUM write no change files: only the oldest commit that wrote rows must be young enough."""
    history = _commits((10, 20, "WRITE"), (11, 14, "OPTIMIZE"), (12, 13, "VACUUM START"), (13, 2, "MERGE"))
    check_covers(history, 10, "interval 1 week", NOW)
    check_covers(_commits((10, 20, "WRITE"), (11, 14, "OPTIMIZE")), 10, "interval 1 week", NOW)


def test_versions_the_log_no_longer_holds_are_a_gap():
    with pytest.raises(FeedGap, match="the log starts at version 12; the changes needed start at 11"):
        check_covers(_commits((12, 1, "MERGE"), (13, 0.5, "MERGE")), 10, "interval 1 week", NOW)


def test_a_gap_longer_than_the_history_read_is_a_gap_named_as_such():
    """history() reads at most MAX_COMMITS commits: the oldest read being newer than the first needed is then a long
    gap, not a truncated log; one commit fewer is the log's own start."""
    long_gap = _commits(*((v, 0.5, "MERGE") for v in range(11 + 1, 11 + 1 + MAX_COMMITS)))
    with pytest.raises(FeedGap, match=f"more than {MAX_COMMITS} commits since version 10"):
        check_covers(long_gap, 10, "interval 1 week", NOW)
    with pytest.raises(FeedGap, match="the log starts at version 13; the changes needed start at 11"):
        check_covers(long_gap[:-1], 10, "interval 1 week", NOW)
