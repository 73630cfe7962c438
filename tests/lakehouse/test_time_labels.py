"""Time labels as utilities write them: an unmarked repeated fall-back hour in an unsorted file, and a plausible
time window that keeps rows dated 1990 or 9999 out of Silver.

Expected instants are derived here from the local days' first hour (pandas + the IANA zone) and the label order, not
from the pipeline's parsing.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from databricks_jobs.bronze.ingest import ingest_bronze
from databricks_jobs.gold.demand_daily import daily_demand
from databricks_jobs.gold.local_time import with_local_fields
from databricks_jobs.lake import read as read_table
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.silver.build import build_silver
from databricks_jobs.sources import parse_definition
from tests.lakehouse.conftest import file_accounting_of, lake_over

pytestmark = pytest.mark.spark

ZONE = "America/Chicago"


def _definition(source_id: str, folder: str, **timestamp: object) -> dict:
    return {
        "source_id": source_id,
        "dataset": "demand",
        "files": f"{folder}/*.csv",
        "timestamp": {
            "column": "Hour Ending",
            "format": "MM/dd/yyyy HH:mm",
            "time_zone": ZONE,
            "convention": "hour_ending",
            "allow_24_00": True,
            **timestamp,
        },  # fmt: skip
        "region": {"from": "fixed", "value": "COAST"},
        "fields": {"demand_mw": {"column": "Load MW", "unit": "MW", "valid_range": [0, 100000]}},
    }


def _labels(day: str, hours: list[int]) -> list[str]:
    month, dom, year = day.split("/")
    return [f"{month}/{dom}/{year} {h:02d}:00" for h in hours]


# Hour-ending labels in chronological order: the fall-back day writes 02:00 twice (CDT, then CST) without a marker;
# the spring-forward day has no 03:00 (02:00-03:00 CST does not exist).
FALL = _labels("11/07/2021", [1, 2, 2, *range(3, 25)])
SPRING = _labels("03/14/2021", [1, 2, *range(4, 25)])


def _rows() -> tuple[list[tuple[str, float]], dict[pd.Timestamp, float]]:
    """(file rows in a shuffled order, expected UTC hour start -> MW). The first 02:00 row in the file holds the
    daylight hour's value: that is what `dst_repeat: file_order` declares."""
    expected, chronological = {}, []
    for day, labels in (("2021-11-07", FALL), ("2021-03-14", SPRING)):
        first_hour_utc = pd.Timestamp(day, tz=ZONE).tz_convert("UTC").tz_localize(None)
        for i, label in enumerate(labels):
            value = float(1000 + len(chronological))
            chronological.append((label, value))
            expected[first_hour_utc + pd.Timedelta(hours=i)] = value
    shuffled = chronological[:]
    random.Random(7).shuffle(shuffled)
    repeated = [i for i, (label, _) in enumerate(shuffled) if label == "11/07/2021 02:00"]
    daylight, standard = chronological[1][1], chronological[2][1]
    shuffled[repeated[0]], shuffled[repeated[1]] = ("11/07/2021 02:00", daylight), ("11/07/2021 02:00", standard)
    return shuffled, expected


WINDOW_ROWS = [  # (label, MW, expected reason)
    ("06/01/2021 01:00", 500.0, None),
    ("06/01/1990 01:00", 501.0, "timestamp_out_of_range"),  # before valid_from
    ("12/31/9999 23:00", 502.0, "timestamp_out_of_range"),  # after now + 1 day
    ("06/01/2021 02:00", 503.0, None),
]


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("time-labels")
    rows, expected = _rows()
    for folder in ("ordered", "marked_nothing"):
        (root / "raw" / folder).mkdir(parents=True)
        lines = ["Hour Ending,Load MW", *[f"{label},{value}" for label, value in rows]]
        (root / "raw" / folder / "load.csv").write_text("\n".join(lines) + "\n")
    (root / "raw" / "window").mkdir()
    lines = ["Hour Ending,Load MW", *[f"{label},{value}" for label, value, _ in WINDOW_ROWS]]
    (root / "raw" / "window" / "load.csv").write_text("\n".join(lines) + "\n")
    definitions = {
        "file_order_load": parse_definition(_definition("file_order_load", "ordered", dst_repeat="file_order")),
        "no_rule_load": parse_definition(_definition("no_rule_load", "marked_nothing")),
        "window_load": parse_definition(_definition("window_load", "window", valid_from="2000-01-01")),
    }
    settings = lake_over(root / "raw", root / "lake")
    report = ingest_bronze(spark, settings, "tl-b1", definitions=definitions)
    assert not report.failed, report.summary()
    build_silver(spark, settings, "tl-s1", definitions=definitions)
    silver = read_table(spark, settings, "silver_demand__hourly")
    quarantine = read_table(spark, settings, "silver__quarantine").toPandas()
    return {
        "silver": silver,
        "rows": silver.toPandas(),
        "quarantine": quarantine,
        "accounting": file_accounting_of(spark, settings).toPandas(),
        "expected": expected,
        "file_rows": rows,
    }


def test_file_order_tells_the_repeated_hour_apart(lake):
    got = lake["rows"][lake["rows"].source_id == "file_order_load"]
    assert dict(zip(got.interval_start_utc, got.demand_mw, strict=True)) == lake["expected"]
    assert not (lake["quarantine"].source_id == "file_order_load").any()
    # 01:00-02:00 CDT = 06:00 UTC holds the first 02:00 row of the file, 01:00-02:00 CST = 07:00 UTC the second.
    repeated = [value for label, value in lake["file_rows"] if label == "11/07/2021 02:00"]
    assert lake["expected"][pd.Timestamp("2021-11-07 06:00")] == repeated[0]
    assert lake["expected"][pd.Timestamp("2021-11-07 07:00")] == repeated[1]


def test_the_25_and_23_hour_days_come_out_right(spark, lake):
    hourly = lake["silver"].where("source_id = 'file_order_load'")
    daily = daily_demand(with_local_fields(hourly, load_regions()), "g1").toPandas()
    by_day = {str(r.date_local): r for r in daily.itertuples()}
    assert set(by_day) == {"2021-11-07", "2021-03-14"}
    for day, labels in (("2021-11-07", FALL), ("2021-03-14", SPRING)):
        values = [
            v for t, v in lake["expected"].items() if t.tz_localize("UTC").tz_convert(ZONE).date().isoformat() == day
        ]
        row = by_day[day]
        assert (row.hours_reported, row.hours_expected) == (len(labels), len(labels))
        assert row.energy_mwh == pytest.approx(sum(values)) and row.peak_demand_mw == max(values)
    assert (by_day["2021-11-07"].hours_expected, by_day["2021-03-14"].hours_expected) == (25, 23)


def test_without_a_rule_the_unmarked_repeat_stays_a_conflicting_duplicate(lake):
    quarantine = lake["quarantine"][lake["quarantine"].source_id == "no_rule_load"]
    assert quarantine.reason.tolist() == ["conflicting_duplicate"]
    repeated_lines = [i + 2 for i, (label, _) in enumerate(lake["file_rows"]) if label == "11/07/2021 02:00"]
    assert quarantine.source_row_number.tolist() == [repeated_lines[1]]  # the later line loses
    kept = lake["rows"][lake["rows"].source_id == "no_rule_load"]
    assert len(kept) == len(FALL) + len(SPRING) - 1


def test_rows_outside_the_time_window_are_quarantined(lake):
    quarantine = lake["quarantine"][lake["quarantine"].source_id == "window_load"]
    expected = {i + 2: reason for i, (_, _, reason) in enumerate(WINDOW_ROWS) if reason}
    assert dict(zip(quarantine.source_row_number, quarantine.reason, strict=True)) == expected
    assert quarantine.detail.str.contains("outside the source's window").all()
    # hour ending 12/31/9999 23:00 CST starts at 22:00 CST = 04:00 UTC the next day (Spark writes year 10000 '+10000')
    assert sorted(quarantine.detail.str.extract(r"interval start (\S+ \S+) UTC")[0]) == [
        "+10000-01-01 04:00:00",
        "1990-06-01 05:00:00",
    ]
    kept = lake["rows"][lake["rows"].source_id == "window_load"]
    assert sorted(kept.demand_mw) == [500.0, 503.0]
    account = lake["accounting"].set_index("source_id").loc["window_load"]
    assert (account.rows_in, account.rows_kept, account.rows_quarantined) == (4, 2, 2)
