"""Every reliability index on a small case computed by hand here (America/Chicago, N_T = 1000 customers).

2020 (history): two days, SAIDI 1.0 and 4.0 -> 2021 MED threshold exp(mean(ln) + 2.5 * sample stdev(ln)) = 23.19 min.
2021 events:
  E1 2021-03-14 01:30 CST (DST day) -> 04:30 CDT: 120 minutes (not 180), 100 customers, feeder F1
  E2 2021-03-14 momentary 3 minutes, 400 customers
  E3 2021-05-31 23:30 CDT -> 06-01 01:30: spans midnight, counts on 05-31 local (06-01 in UTC), 120 min x 50
  E4 2021-06-01 unknown customers, 60 minutes: an interruption, excluded from customer figures
  E6 2021-06-01 11:00 CDT, 30 min x 200, feeder F1
  E7 2021-06-02, 10 min x 80, feeder F1
  E8 2021-08-01, 60 min x 500, feeder F3: daily SAIDI 30 > 23.19 -> Major Event Day
  E9 2021-10-05 restoration unknown, 300 customers, feeder F4: a sustained interruption (SAIFI) without minutes
  E5 2021-12-31 open: in no index
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from databricks_jobs.gold.reliability import (
    daily_reliability,
    events_local,
    outage_events_gold,
    period_reliability,
)
from databricks_jobs.reference.regions import load_regions
from databricks_jobs.tables import GOLD_RELIABILITY_MONTHLY, GOLD_RELIABILITY_YEARLY, SILVER_OUTAGE_EVENTS

pytestmark = pytest.mark.spark
N_T = 1000


def _event(event_id, start_utc, minutes, customers, feeder="F2", momentary=False, open_=False):
    """minutes None and not open_: restored at an unknown time."""
    restored = None if minutes is None else start_utc + timedelta(minutes=minutes)
    unknown = minutes is None and not open_
    return (
        "hand", event_id, "SYN_NORTH", feeder, start_utc, restored, None if minutes is None else float(minutes),
        customers, customers is None, momentary, open_, unknown, "test", "fuse", "SYN-N", None, "hand.csv", 1, "b0",
    )  # fmt: skip


EVENTS = [
    _event("H1", datetime(2020, 1, 10, 18, 0, tzinfo=UTC), 100, 10),
    _event("H2", datetime(2020, 2, 10, 18, 0, tzinfo=UTC), 200, 20),
    _event("E1", datetime(2021, 3, 14, 7, 30, tzinfo=UTC), 120, 100, feeder="F1"),
    _event("E2", datetime(2021, 3, 14, 15, 0, tzinfo=UTC), 3, 400, momentary=True),
    _event("E3", datetime(2021, 6, 1, 4, 30, tzinfo=UTC), 120, 50),
    _event("E4", datetime(2021, 6, 1, 15, 0, tzinfo=UTC), 60, None),
    _event("E6", datetime(2021, 6, 1, 16, 0, tzinfo=UTC), 30, 200, feeder="F1"),
    _event("E7", datetime(2021, 6, 2, 16, 0, tzinfo=UTC), 10, 80, feeder="F1"),
    _event("E8", datetime(2021, 8, 1, 16, 0, tzinfo=UTC), 60, 500, feeder="F3"),
    _event("E9", datetime(2021, 10, 5, 16, 0, tzinfo=UTC), None, 300, feeder="F4"),
    _event("E5", datetime(2021, 12, 31, 20, 0, tzinfo=UTC), None, 70, open_=True),
]
ALPHA = (math.log(1.0) + math.log(4.0)) / 2
BETA = math.sqrt(((math.log(1.0) - ALPHA) ** 2 + (math.log(4.0) - ALPHA) ** 2) / (2 - 1))  # sample stdev
THRESHOLD_2021 = math.exp(ALPHA + 2.5 * BETA)


@pytest.fixture(scope="module")
def gold(spark):
    silver = spark.createDataFrame(EVENTS, SILVER_OUTAGE_EVENTS.spark_schema())
    served = spark.createDataFrame(
        [("SYN_NORTH", 2020, N_T), ("SYN_NORTH", 2021, N_T)], "region_code string, year int, customers_served bigint"
    )
    regions = load_regions()
    local = events_local(silver, regions)
    daily = daily_reliability(local, served, "b1").cache()
    events = outage_events_gold(local, daily, "b1").cache()
    monthly = period_reliability(daily, events, regions, GOLD_RELIABILITY_MONTHLY, 1, "b1")
    yearly = period_reliability(daily, events, regions, GOLD_RELIABILITY_YEARLY, 1, "b1")
    return {
        "daily": {r.date_local: r for r in daily.collect()},
        "events": {r.event_id: r for r in events.collect()},
        "monthly": {r.month_start_date: r for r in monthly.collect()},
        "yearly": {r.year: r for r in yearly.collect()},
    }


def test_threshold_value_is_what_the_hand_computation_gives():
    assert THRESHOLD_2021 == pytest.approx(23.19, abs=0.01)


def test_daily_rows_cover_every_local_day_and_count_on_start_day(gold):
    daily = gold["daily"]
    assert len(daily) == 366 + 365
    dst_day = daily[date(2021, 3, 14)]
    assert (dst_day.sustained_interruptions, dst_day.momentary_interruptions) == (1, 1)
    assert dst_day.customer_minutes_interrupted == pytest.approx(120 * 100)  # 01:30 CST -> 04:30 CDT is 120 min
    assert dst_day.momentary_customer_interruptions == 400
    assert dst_day.saidi_minutes == pytest.approx(12.0) and dst_day.saifi == pytest.approx(0.1)
    midnight = daily[date(2021, 5, 31)]
    assert midnight.customer_interruptions == 50 and midnight.saidi_minutes == pytest.approx(6.0)
    june_first = daily[date(2021, 6, 1)]
    assert june_first.sustained_interruptions == 2  # E4 (unknown customers) and E6
    assert june_first.customer_interruptions == 200 and june_first.events_excluded_unknown_customers == 1
    assert daily[date(2021, 12, 31)].sustained_interruptions == 0  # E5 still open
    unknown_end = daily[date(2021, 10, 5)]  # E9: an interruption of 300 customers for an unknown time
    assert (unknown_end.sustained_interruptions, unknown_end.customer_interruptions) == (1, 300)
    assert unknown_end.customer_minutes_interrupted == 0.0 and unknown_end.saifi == pytest.approx(0.3)
    assert unknown_end.events_excluded_unknown_restoration == 1 and not unknown_end.is_major_event_day
    assert sum(r.events_excluded_unknown_restoration for r in daily.values()) == 1
    assert daily[date(2021, 7, 1)].saidi_minutes == 0.0


def test_major_event_day_threshold_and_flags(gold):
    daily = gold["daily"]
    assert daily[date(2020, 1, 10)].med_threshold_saidi_minutes is None  # no history before 2020
    for day in (date(2021, 3, 14), date(2021, 8, 1)):
        row = daily[day]
        assert row.med_threshold_saidi_minutes == pytest.approx(THRESHOLD_2021)
        assert row.is_med_threshold_provisional and row.med_history_days == 2
    assert daily[date(2021, 8, 1)].is_major_event_day
    assert [d for d, r in daily.items() if r.is_major_event_day] == [date(2021, 8, 1)]
    assert gold["events"]["E8"].is_major_event_day and not gold["events"]["E1"].is_major_event_day


def test_events_have_local_times(gold):
    e3 = gold["events"]["E3"]
    assert e3.date_local == date(2021, 5, 31)
    assert e3.started_at_local == datetime(2021, 5, 31, 23, 30)
    assert e3.restored_at_local == datetime(2021, 6, 1, 1, 30)
    assert gold["events"]["E1"].restored_at_local == datetime(2021, 3, 14, 4, 30)
    e5 = gold["events"]["E5"]
    assert e5.is_open and e5.restored_at_local is None and e5.duration_minutes is None


def test_yearly_indices_with_and_without_major_event_days(gold):
    y = gold["yearly"][2021]
    assert y.customers_served == N_T and y.period_hours == 8760 and y.cemi_n == 1
    ci_w, cmi_w = 100 + 50 + 200 + 80 + 500 + 300, 120 * 100 + 120 * 50 + 30 * 200 + 10 * 80 + 60 * 500
    ci_wo, cmi_wo = ci_w - 500, cmi_w - 60 * 500
    assert y.saifi_w_major_event_days == pytest.approx(ci_w / N_T)  # 1.23: E9 counts, without minutes
    assert y.saidi_w_major_event_days_minutes == pytest.approx(cmi_w / N_T)  # 54.8
    assert y.caidi_w_major_event_days_minutes == pytest.approx(cmi_w / ci_w)
    assert y.saifi_wo_major_event_days == pytest.approx(ci_wo / N_T)  # 0.73
    assert y.saidi_wo_major_event_days_minutes == pytest.approx(cmi_wo / N_T)  # 24.8
    assert y.caidi_wo_major_event_days_minutes == pytest.approx(cmi_wo / ci_wo)
    assert y.maifi_w_major_event_days == pytest.approx(0.4) and y.maifi_wo_major_event_days == pytest.approx(0.4)
    assert y.asai_w_major_event_days_pct == pytest.approx(100 * (1 - 54.8 / (8760 * 60)))
    assert y.asai_wo_major_event_days_pct == pytest.approx(100 * (1 - 24.8 / (8760 * 60)))
    # F1 had 200, 100 and 80 customers out: nested, 100 customers had more than one interruption.
    assert y.cemi_w_major_event_days_pct == pytest.approx(100 * 100 / N_T)
    assert y.cemi_wo_major_event_days_pct == pytest.approx(100 * 100 / N_T)
    assert (y.major_event_days, y.is_med_threshold_provisional, y.events_excluded_unknown_customers) == (1, True, 1)
    assert y.events_excluded_unknown_restoration == 1
    assert gold["monthly"][date(2021, 10, 1)].events_excluded_unknown_restoration == 1
    history = gold["yearly"][2020]
    assert history.saidi_w_major_event_days_minutes == pytest.approx(5.0) and history.period_hours == 8784


def test_monthly_indices_use_local_month_hours(gold):
    march = gold["monthly"][date(2021, 3, 1)]
    assert march.period_hours == 743  # 31 days, one lost on the DST change
    assert march.saidi_w_major_event_days_minutes == pytest.approx(12.0)
    assert march.maifi_w_major_event_days == pytest.approx(0.4)
    assert march.asai_w_major_event_days_pct == pytest.approx(100 * (1 - 12.0 / (743 * 60)))
    june = gold["monthly"][date(2021, 6, 1)]
    assert june.saifi_w_major_event_days == pytest.approx(0.28)  # E6 200 + E7 80; E3 is May's
    assert june.cemi_w_major_event_days_pct == pytest.approx(100 * 80 / N_T)  # F1: 200, 80 in June
    august = gold["monthly"][date(2021, 8, 1)]
    assert august.saidi_wo_major_event_days_minutes == 0.0 and august.caidi_wo_major_event_days_minutes is None
    assert august.major_event_days == 1


def test_caidi_is_saidi_over_saifi_in_every_row(gold):
    # Every month of 2020-2021 and both years, each with and without MED: 52 pairs.
    assert (len(gold["monthly"]), len(gold["yearly"])) == (24, 2)
    ratios, nulls = 0, 0
    for table in ("monthly", "yearly"):
        for row in gold[table].values():
            for med in ("w", "wo"):
                saifi = getattr(row, f"saifi_{med}_major_event_days")
                caidi = getattr(row, f"caidi_{med}_major_event_days_minutes")
                if saifi > 0:
                    assert caidi == pytest.approx(getattr(row, f"saidi_{med}_major_event_days_minutes") / saifi)
                    ratios += 1
                else:
                    assert caidi is None
                    nulls += 1
    # By hand: months with customers interrupted are 2020-01, 2020-02, 2021-03, 2021-05 (E3 starts on May 31
    # local), 2021-06, 2021-08 (E8, the MED: with MED only) and 2021-10 (E9); both years with and without MED.
    # So 7 + 6 months and 2 + 2 years have a CAIDI; the other 52 - 17 = 35 pairs have none.
    assert (ratios, nulls) == (17, 35)


def test_customer_minutes_are_the_same_whatever_order_the_events_are_added_in(spark):
    # One customer out 0.1, 0.2 and 0.3 minutes on one local day: 0.6 customer minutes. As doubles, 0.1 + 0.2 + 0.3
    # is 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6: a rebuilt day would differ from the stored one in the last bits.
    start = datetime(2021, 6, 10, 16, 0, tzinfo=UTC)
    events = [_event(f"O{i}", start + timedelta(hours=i), minutes, 1) for i, minutes in enumerate((0.1, 0.2, 0.3))]
    served = spark.createDataFrame([("SYN_NORTH", 2021, N_T)], "region_code string, year int, customers_served bigint")
    regions = load_regions()
    for order in (1, -1):  # one partition, events added in the order given
        silver = spark.createDataFrame(events[::order], SILVER_OUTAGE_EVENTS.spark_schema()).coalesce(1)
        local = events_local(silver, regions)
        daily = daily_reliability(local, served, "b1")
        day = daily.where(F.col("date_local") == date(2021, 6, 10)).first()
        assert (day["customer_minutes_interrupted"], day["customer_interruptions"]) == (0.6, 3), order
        yearly = period_reliability(
            daily, outage_events_gold(local, daily, "b1"), regions, GOLD_RELIABILITY_YEARLY, 1, "b1"
        ).first()
        # SAIDI = 0.6 / 1000 = 0.0006 (from 0.6000000000000001 it would be 0.0006000000000000001).
        assert (yearly["year"], yearly["saidi_w_major_event_days_minutes"]) == (2021, 0.6 / N_T), order
