"""The IEEE 1366 2.5-beta threshold on a series whose alpha and beta are computed here with the statistics module."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest

from databricks_jobs.gold.major_event_days import flag_major_event_days, med_thresholds

pytestmark = pytest.mark.spark

# Non-zero daily SAIDI (minutes) per history year; every year also has zero days, which the method drops.
HISTORY = {
    2016: [0.5, 1.2, 3.0],
    2017: [0.8, 2.2],
    2018: [1.1, 0.4, 6.0, 2.5],
    2019: [0.9, 1.7],
    2020: [0.3, 4.4, 1.0],
}
TARGET = {date(2021, 2, 1): 30.0, date(2021, 2, 2): 10.0, date(2021, 2, 3): 0.0}


def _rows():
    rows = [("R", date(year, 3, i + 1), v) for year, values in HISTORY.items() for i, v in enumerate(values)]
    rows += [("R", date(year, 12, 31), 0.0) for year in HISTORY]
    rows += [("R", d, v) for d, v in TARGET.items()]
    return rows


@pytest.fixture(scope="module")
def frames(spark):
    daily = spark.createDataFrame(_rows(), "region_code string, date_local date, saidi_minutes double")
    thresholds = {r.year: r for r in med_thresholds(daily).collect()}
    flagged = {r.date_local: r for r in flag_major_event_days(daily, med_thresholds(daily)).collect()}
    return thresholds, flagged


def test_threshold_for_the_year_after_five_years_of_history(frames):
    thresholds, _ = frames
    logs = [math.log(v) for values in HISTORY.values() for v in values]
    alpha, beta = statistics.fmean(logs), statistics.stdev(logs)  # sample standard deviation (n - 1)
    row = thresholds[2021]
    assert row.med_alpha == pytest.approx(alpha) and row.med_beta == pytest.approx(beta)
    assert row.med_threshold_saidi_minutes == pytest.approx(math.exp(alpha + 2.5 * beta))
    assert row.med_history_days == len(logs) == 14 and row.med_history_years == 5
    assert not row.is_med_threshold_provisional
    # The population standard deviation would give a different threshold: the choice is explicit and tested.
    assert row.med_threshold_saidi_minutes != pytest.approx(math.exp(alpha + 2.5 * statistics.pstdev(logs)))


def test_history_is_only_the_previous_years_and_provisional_when_short(frames):
    thresholds, _ = frames
    logs_2016_2018 = [math.log(v) for y in (2016, 2017, 2018) for v in HISTORY[y]]
    row = thresholds[2019]
    expected = math.exp(statistics.fmean(logs_2016_2018) + 2.5 * statistics.stdev(logs_2016_2018))
    assert row.med_threshold_saidi_minutes == pytest.approx(expected)
    assert row.is_med_threshold_provisional and row.med_history_years == 3
    assert thresholds[2016].med_threshold_saidi_minutes is None and thresholds[2016].med_history_days == 0


def test_days_above_the_threshold_are_major_event_days(frames):
    thresholds, flagged = frames
    threshold = thresholds[2021].med_threshold_saidi_minutes
    assert 10.0 < threshold < 30.0
    assert flagged[date(2021, 2, 1)].is_major_event_day
    assert not flagged[date(2021, 2, 2)].is_major_event_day and not flagged[date(2021, 2, 3)].is_major_event_day
    # 2018's 6.0 is above 2018's threshold (fitted on 2016-2017) or not, exactly as the hand computation says.
    logs = [math.log(v) for y in (2016, 2017) for v in HISTORY[y]]
    assert flagged[date(2018, 3, 3)].is_major_event_day == (
        6.0 > math.exp(statistics.fmean(logs) + 2.5 * statistics.stdev(logs))
    )


def test_the_threshold_is_the_same_whatever_the_order_and_partitioning_of_its_history(spark):
    """A rebuild from the same history must not change the threshold in its last bits (the rebuilt table would be
    exported as changed): 3,000 days, read in three orders and partitionings, give one value, the hand one rounded."""
    days = [date(2016, 1, 1) + timedelta(days=i) for i in range(5 * 365)]
    values = [math.exp(math.sin(i) * 2.3 + (i % 7) / 3.1) for i in range(len(days))]
    rows = [("R", d, v) for d, v in zip(days, values, strict=True)] + [("R", date(2021, 6, 1), 1.0)]
    schema = "region_code string, date_local date, saidi_minutes double"
    found = set()
    for order, partitions in ((rows, 1), (rows[::-1], 7), (rows[1::2] + rows[::2], 13)):
        daily = spark.createDataFrame(order, schema).repartition(partitions)
        (row,) = [r for r in med_thresholds(daily).collect() if r.year == 2021]
        found.add(row.med_threshold_saidi_minutes)
    logs = [math.log(v) for v in values]
    assert found == {round(math.exp(statistics.fmean(logs) + 2.5 * statistics.stdev(logs)), 9)}
