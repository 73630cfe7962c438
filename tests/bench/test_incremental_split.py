"""bench.pipeline's incremental benchmark holds the year's last days back, each as a file of its own: every raw row is
in exactly one file, each held-back day is 24 hours of every region and feeder, and the first is the earlier."""

from __future__ import annotations

import duckdb

from bench.duckdb_reference import INTERVAL_COLUMNS
from bench.pipeline import _new_day_file, _split_last_days, interval_glob
from databricks_jobs.synthetic import generate_synthetic_utility


def _rows(glob: str) -> list[tuple]:
    source = f"read_csv('{glob}', header = true, columns = {INTERVAL_COLUMNS})"
    return duckdb.sql(f"SELECT interval_start_utc, region, feeder_id, load_kw FROM {source}").fetchall()


def test_the_held_back_days_and_the_base_hold_every_row_once(tmp_path):
    raw = tmp_path / "raw"
    generate_synthetic_utility(raw, seed=7, years=1, regions=2, feeders_per_region=1, last_year=2025)
    base_rows, day_rows = _split_last_days(raw, tmp_path / "split", 2)

    everything = _rows(interval_glob(raw))
    base = _rows(interval_glob(tmp_path / "split"))
    days = [_rows(str(_new_day_file(tmp_path / "split", day))) for day in (1, 2)]
    assert sorted(base + days[0] + days[1]) == sorted(everything)
    assert (base_rows, day_rows) == (len(base), len(days[0]))
    # 2 regions x 1 feeder x 24 hours each day, the first day's hours all before the second's per region
    assert [len(day) for day in days] == [48, 48]
    for region in ("SYN-N", "SYN-S"):
        first = [r[0] for r in days[0] if r[1] == region]
        second = [r[0] for r in days[1] if r[1] == region]
        last_base = max(r[0] for r in base if r[1] == region)
        assert last_base < min(first) and max(first) < min(second) and len(first) == len(second) == 24
