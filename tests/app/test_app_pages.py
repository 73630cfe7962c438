"""The app under streamlit.testing.v1.AppTest on a seeded Snowpark local-testing session.

Expected figures are computed here with pandas from the seeded rows (tests/app/reporting_seed.py), independently of
the app's Snowpark queries.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import streamlit as st
from apptest_helpers import delta_pct, expected_reliability, last_days, metric, open_page, started_app
from streamlit.testing.v1 import AppTest

# Every page through streamlit.testing.v1.AppTest, several runs per test: minutes in all, so not in the fast loop.
pytestmark = pytest.mark.slow

PAGES = ["Overview", "Demand", "Load shapes", "Load factor", "Outages & reliability", "Data freshness & quality"]


@pytest.fixture(scope="module", autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def app(local_testing_session, monkeypatch) -> AppTest:
    return started_app(local_testing_session, monkeypatch)


def test_every_page_renders_without_an_error(app):
    assert app.radio(key="page").options == PAGES
    tables = charts = 0
    for page in PAGES:
        open_page(app, page)
        assert not app.exception, (page, app.exception)
        assert not app.error, page
        # Every table has its CSV download next to it.
        assert len(app.get("download_button")) == len(app.dataframe), page
        tables += len(app.dataframe)
        charts += len(app.get("arrow_vega_lite_chart"))
    assert tables >= 10 and charts >= 10


def test_overview_matches_pandas_on_the_seeded_rows(app, seeded_views):
    app.selectbox(key="window_pick").set_value("Last 30 days of data").run()
    assert not app.exception
    daily = seeded_views["DAILY_DEMAND"]
    zones = ["COAST", "NCENT", "SCENT"]  # the default: the source's non-aggregate regions
    ercot = daily[(daily["SOURCE_ID"] == "ercot_native_load") & daily["REGION_CODE"].isin(zones)]
    end = ercot["DATE_LOCAL"].max()
    start = end - dt.timedelta(days=29)
    window = last_days(ercot, "DATE_LOCAL", 30, end)
    previous = last_days(ercot, "DATE_LOCAL", 30, start - dt.timedelta(days=1))

    assert metric(app, "Energy") == pytest.approx(window["ENERGY_MWH"].sum(), abs=0.5)
    expected_change = 100 * (window["ENERGY_MWH"].sum() / previous["ENERGY_MWH"].sum() - 1)
    assert delta_pct(app, "Energy") == pytest.approx(expected_change, abs=0.05)
    assert metric(app, "Average load factor") == pytest.approx(window["LOAD_FACTOR"].mean(), abs=0.0005)

    hourly = seeded_views["HOURLY_DEMAND"]
    hourly = hourly[(hourly["SOURCE_ID"] == "ercot_native_load") & hourly["REGION_CODE"].isin(zones)]
    hourly = last_days(hourly, "DATE_LOCAL", 30, end)
    system = hourly.groupby(["INTERVAL_START_UTC", "INTERVAL_START_LOCAL"])["DEMAND_MW"].sum()
    peak_utc, peak_local = system.idxmax()
    assert metric(app, "Peak demand") == pytest.approx(system.max(), abs=0.5)
    assert any(f"at {peak_local:%a %d %b %Y %H:%M} America/Chicago" in c.value for c in app.caption)

    reliability = expected_reliability(seeded_views["RELIABILITY_DAILY"], zones, start, end)
    assert reliability["with"][0] > reliability["without"][0] > 0  # the window holds a Major Event Day
    for label in ("with", "without"):
        saidi, saifi, caidi = reliability[label]
        assert metric(app, f"SAIDI {label} Major Event Days") == pytest.approx(saidi, abs=0.05)
        assert metric(app, f"SAIFI {label} Major Event Days") == pytest.approx(saifi, abs=0.0005)
        assert metric(app, f"CAIDI {label} Major Event Days") == pytest.approx(caidi, abs=0.05)

    events = seeded_views["OUTAGE_EVENTS"]
    events = last_days(events[events["REGION_CODE"].isin(zones)], "DATE_LOCAL", 30, end)
    assert metric(app, "Outage events (including MED)") == len(events)
    assert metric(app, "Customers affected (including MED)") == events["CUSTOMERS_AFFECTED"].sum()


def test_filters_change_the_numbers(app, seeded_views):
    daily = seeded_views["DAILY_DEMAND"]
    app.selectbox(key="window_pick").set_value("Last 7 days of data").run()
    energy_all_zones = metric(app, "Energy")

    app.multiselect(key="regions__ercot_native_load").set_value(["COAST"]).run()
    assert not app.exception
    coast = daily[(daily["SOURCE_ID"] == "ercot_native_load") & (daily["REGION_CODE"] == "COAST")]
    expected = last_days(coast, "DATE_LOCAL", 7, coast["DATE_LOCAL"].max())["ENERGY_MWH"].sum()
    assert metric(app, "Energy") == pytest.approx(expected, abs=0.5)
    assert metric(app, "Energy") < energy_all_zones

    events_with = metric(app, "Outage events (including MED)")
    app.toggle(key="include_med").set_value(False).run()
    events = seeded_views["OUTAGE_EVENTS"]
    coast_events = last_days(events[events["REGION_CODE"] == "COAST"], "DATE_LOCAL", 7, coast["DATE_LOCAL"].max())
    assert metric(app, "Outage events (excluding MED)") == len(coast_events[~coast_events["IS_MAJOR_EVENT_DAY"]])
    assert events_with == len(coast_events)

    app.selectbox(key="source").set_value("eia930_cleaned").run()
    assert not app.exception
    eia = daily[(daily["SOURCE_ID"] == "eia930_cleaned") & (daily["REGION_CODE"].isin(["COAST", "NCENT", "SCENT"]))]
    expected = last_days(eia, "DATE_LOCAL", 7, eia["DATE_LOCAL"].max())["ENERGY_MWH"].sum()
    assert metric(app, "Energy") == pytest.approx(expected, abs=0.5)


def test_a_year_pick_and_a_custom_range(app, seeded_views):
    daily = seeded_views["DAILY_DEMAND"]
    ercot = daily[(daily["SOURCE_ID"] == "ercot_native_load") & daily["REGION_CODE"].isin(["COAST", "NCENT", "SCENT"])]
    app.selectbox(key="window_pick").set_value("Year 2021").run()
    assert metric(app, "Energy") == pytest.approx(ercot["ENERGY_MWH"].sum(), abs=0.5)
    assert delta_pct(app, "Energy") is None  # no data in 2020: no change to show

    app.selectbox(key="window_pick").set_value("Custom range").run()
    app.date_input(key="custom_range").set_value((dt.date(2021, 3, 14), dt.date(2021, 3, 14))).run()
    assert not app.exception
    dst_day = ercot[ercot["DATE_LOCAL"] == dt.date(2021, 3, 14)]
    assert set(dst_day["HOURS_EXPECTED"]) == {23}
    assert metric(app, "Energy") == pytest.approx(dst_day["ENERGY_MWH"].sum(), abs=0.5)


def test_empty_selection_shows_a_message_instead_of_figures(app):
    app.multiselect(key="regions__ercot_native_load").set_value([]).run()
    assert not app.exception
    assert any("Select at least one region" in i.value for i in app.info)
    assert len(app.metric) == 0 and len(app.radio) == 0


def test_region_without_outage_data_says_so(app):
    app.multiselect(key="regions__ercot_native_load").set_value(["SCENT"]).run()
    assert not app.exception
    messages = [i.value for i in app.info]
    assert any("No outage data for the selected regions" in m for m in messages)
    assert metric(app, "Outage events (including MED)") == 0
    assert metric(app, "Energy") is not None
    open_page(app, "Outages & reliability")
    assert not app.exception
    assert any("No outage data for the selected regions" in i.value for i in app.info)
    assert len(app.get("arrow_vega_lite_chart")) == 0


def test_reliability_page_tables_match_pandas(app, seeded_views):
    app.selectbox(key="window_pick").set_value("Last 30 days of data")
    app.toggle(key="include_med").set_value(False)
    open_page(app, "Outages & reliability")
    assert not app.exception
    events = seeded_views["OUTAGE_EVENTS"]
    end = seeded_views["DAILY_DEMAND"]["DATE_LOCAL"].max()
    window = last_days(events[events["REGION_CODE"].isin(["COAST", "NCENT", "SCENT"])], "DATE_LOCAL", 30, end)
    assert window["IS_MAJOR_EVENT_DAY"].any()
    window = window[~window["IS_MAJOR_EVENT_DAY"]]
    minutes = window["DURATION_MINUTES"] * window["CUSTOMERS_AFFECTED"].astype(float)
    largest = next(d.value for d in app.dataframe if "EVENT_ID" in d.value.columns)
    assert list(largest["EVENT_ID"][:10]) == list(
        window.loc[minutes.sort_values(ascending=False).index[:10], "EVENT_ID"]
    )
    assert not largest["IS_MAJOR_EVENT_DAY"].any()
    causes = next(d.value for d in app.dataframe if list(d.value.columns[:2]) == ["CAUSE", "EVENTS"])
    expected = window["CAUSE"].fillna("Unknown").value_counts()
    assert dict(zip(causes["CAUSE"], causes["EVENTS"], strict=True)) == expected.to_dict()
    thresholds = next(d.value for d in app.dataframe if "MED_THRESHOLD_SAIDI_MINUTES" in d.value.columns)
    assert sorted(thresholds["REGION_CODE"]) == ["COAST", "NCENT"]  # SCENT has no outage log


def test_freshness_page_counts_incomplete_days_and_quarantine(app, seeded_views):
    open_page(app, "Data freshness & quality")
    assert not app.exception
    daily = seeded_views["DAILY_DEMAND"]
    zones = daily[(daily["SOURCE_ID"] == "ercot_native_load") & daily["REGION_CODE"].isin(["COAST", "NCENT", "SCENT"])]
    assert (
        metric(app, "Region-days with missing hours") == (zones["HOURS_REPORTED"] < zones["HOURS_EXPECTED"]).sum() == 1
    )
    freshness = seeded_views["DATA_FRESHNESS"]
    assert any(c.value == freshness["BATCH_ID"].iloc[-1] for c in app.code)
    shown = {m.label: m.value for m in app.metric}
    assert (shown["Last change (UTC)"], shown["Last checked (UTC)"]) == ("2026-11-25 20:16", "2026-11-26 06:00")
    quarantine = next(d.value for d in app.dataframe if "ROWS_QUARANTINED" in d.value.columns)
    expected = seeded_views["QUARANTINE_SUMMARY"].groupby("SOURCE_ID")["ROW_COUNT"].sum()
    assert quarantine.groupby("SOURCE_ID")["ROWS_QUARANTINED"].sum().to_dict() == expected.to_dict()


def test_outage_only_region_without_customer_counts(app, seeded_views):
    app.multiselect(key="regions__ercot_native_load").set_value(["NERC_TRE"]).run()
    assert not app.exception
    assert any("No customers-served count for NERC_TRE" in i.value for i in app.info)
    assert any("No demand data" in i.value for i in app.info)
    events = seeded_views["OUTAGE_EVENTS"]
    tre = last_days(events[events["REGION_CODE"] == "NERC_TRE"], "DATE_LOCAL", 365, dt.date(2021, 4, 30))
    assert metric(app, "Outage events (including MED)") == len(tre) > 0
    open_page(app, "Outages & reliability")
    assert any("SAIDI and SAIFI need a customers-served count" in i.value for i in app.info)
    largest = next(d.value for d in app.dataframe if "EVENT_ID" in d.value.columns)
    assert set(largest["REGION_CODE"]) == {"NERC_TRE"} and len(largest) == min(len(tre), 25)


def test_double_counting_warning(app):
    app.multiselect(key="regions__ercot_native_load").set_value(["ERCOT", "COAST"]).run()
    assert not app.exception
    assert any("ERCOT is a system total" in w.value for w in app.warning)


@pytest.mark.parametrize("period", ["Day", "Week", "Month"])
def test_load_factor_periods(app, seeded_views, period):
    app.selectbox(key="window_pick").set_value("Year 2021")
    open_page(app, "Load factor")
    app.radio(key="load_factor_period").set_value(period).run()
    assert not app.exception
    shown = next(
        d.value
        for d in app.dataframe
        if "LOAD_FACTOR" in d.value.columns
        and "ENERGY_MWH" in d.value.columns
        and "PEAK_DEMAND_MW" in d.value.columns
        and "HOURS_REPORTED" in d.value.columns
        and "MIN_DEMAND_MW" not in d.value.columns
    )
    daily = seeded_views["DAILY_DEMAND"]
    rows = daily[(daily["SOURCE_ID"] == "ercot_native_load") & daily["REGION_CODE"].isin(["COAST", "NCENT", "SCENT"])]
    if period == "Day":
        expected = rows["ENERGY_MWH"] / (rows["PEAK_DEMAND_MW"] * rows["HOURS_REPORTED"])
        assert len(shown) == len(rows)
    else:
        # independent recomputation of the period's load factor from the daily rows
        dates = pd.to_datetime(rows["DATE_LOCAL"])
        key = dates.dt.to_period("W-SUN" if period == "Week" else "M")
        grouped = rows.groupby([rows["REGION_CODE"], key])
        expected = grouped["ENERGY_MWH"].sum() / (grouped["PEAK_DEMAND_MW"].max() * grouped["HOURS_REPORTED"].sum())
        assert len(shown) == len(expected)
    assert sorted(shown["LOAD_FACTOR"].round(9)) == sorted(expected.round(9))
    assert any("Load factor" in m.value and "average demand" in m.value for m in app.markdown)
