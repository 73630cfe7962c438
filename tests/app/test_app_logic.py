"""Pure parts of the app: date windows and quick picks, region defaults, window reliability (hand-computed cases)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from energy_app import filters, formatting, metrics


def test_previous_window_has_the_same_length_and_ends_the_day_before():
    window = filters.Window(dt.date(2021, 3, 1), dt.date(2021, 3, 31))
    assert window.days == 31
    assert window.previous() == filters.Window(dt.date(2021, 1, 29), dt.date(2021, 2, 28))


def test_quick_picks_count_back_from_the_last_day_with_data():
    first, last = dt.date(2020, 7, 1), dt.date(2021, 12, 31)
    assert filters.quick_picks(first, last) == [
        "Last 7 days of data",
        "Last 30 days of data",
        "Last 365 days of data",
        "Year 2021",
        "Year 2020",
        "Custom range",
    ]
    assert filters.window_for_pick("Last 7 days of data", first, last) == filters.Window(
        dt.date(2021, 12, 25), dt.date(2021, 12, 31)
    )
    assert filters.window_for_pick("Last 365 days of data", first, last).start == dt.date(2021, 1, 1)
    leap = filters.window_for_pick("Year 2020", first, last)
    assert (leap.start, leap.end, leap.days) == (dt.date(2020, 1, 1), dt.date(2020, 12, 31), 366)
    with pytest.raises(ValueError, match="unknown window pick 'Next week'"):
        filters.window_for_pick("Next week", first, last)


def test_span_covers_demand_and_outage_ranges():
    demand = (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    outages = (dt.date(2020, 12, 1), dt.date(2022, 6, 30))
    assert filters.span(demand, outages) == (dt.date(2020, 12, 1), dt.date(2022, 6, 30))
    assert filters.span(demand, None) == demand


REGIONS = [
    {"REGION_CODE": "ERCOT", "IS_AGGREGATE": True, "PARENT_REGION_CODE": None},
    {"REGION_CODE": "COAST", "IS_AGGREGATE": False, "PARENT_REGION_CODE": "ERCOT"},
    {"REGION_CODE": "NCENT", "IS_AGGREGATE": False, "PARENT_REGION_CODE": "ERCOT"},
]


def test_default_regions_are_the_zones_or_else_the_total():
    assert filters.default_regions(REGIONS) == ["COAST", "NCENT"]
    assert filters.default_regions(REGIONS[:1]) == ["ERCOT"]


def test_a_total_selected_with_its_own_zone_is_flagged():
    assert filters.double_counted(("ERCOT", "COAST"), REGIONS) == ["ERCOT"]
    assert filters.double_counted(("ERCOT",), REGIONS) == []
    assert filters.double_counted(("COAST", "NCENT"), REGIONS) == []


def test_window_reliability_weights_regions_by_customers_served():
    # Region A: 100 customers, daily SAIDI summed over the window = 30 min (10 of them on a MED), SAIFI 0.6 (0.2 MED).
    # Region B: 300 customers, SAIDI 10 min, SAIFI 0.1, no MED.
    per_region = pd.DataFrame(
        {
            "REGION_CODE": ["A", "B", "C"],
            "SAIDI_W_MED_MINUTES": [30.0, 10.0, None],
            "SAIDI_WO_MED_MINUTES": [20.0, 10.0, None],
            "SAIFI_W_MED": [0.6, 0.1, None],
            "SAIFI_WO_MED": [0.4, 0.1, None],
            "CUSTOMERS_SERVED": [100, 300, None],  # C: no customer count, left out
        }
    )
    result = metrics.window_reliability(per_region)
    # with MED: (30*100 + 10*300) / 400 = 15 min; SAIFI (0.6*100 + 0.1*300) / 400 = 0.225; CAIDI = 15 / 0.225
    assert result["SAIDI_W_MED"] == pytest.approx(15.0)
    assert result["SAIFI_W_MED"] == pytest.approx(0.225)
    assert result["CAIDI_W_MED"] == pytest.approx(15.0 / 0.225)
    # without MED: (20*100 + 10*300) / 400 = 12.5 min; SAIFI (0.4*100 + 0.1*300) / 400 = 0.175
    assert result["SAIDI_WO_MED"] == pytest.approx(12.5)
    assert result["SAIFI_WO_MED"] == pytest.approx(0.175)
    assert result["CAIDI_WO_MED"] == pytest.approx(12.5 / 0.175)


def test_caidi_is_undefined_without_interruptions_and_no_rows_mean_no_figures():
    quiet = pd.DataFrame(
        {
            "REGION_CODE": ["A"],
            "SAIDI_W_MED_MINUTES": [0.0],
            "SAIDI_WO_MED_MINUTES": [0.0],
            "SAIFI_W_MED": [0.0],
            "SAIFI_WO_MED": [0.0],
            "CUSTOMERS_SERVED": [1000],
        }
    )
    result = metrics.window_reliability(quiet)
    assert result["SAIDI_W_MED"] == 0.0 and result["CAIDI_W_MED"] is None
    assert set(metrics.window_reliability(quiet.iloc[0:0]).values()) == {None}


def test_change_pct():
    assert metrics.change_pct(110.0, 100.0) == pytest.approx(10.0)
    assert metrics.change_pct(90.0, -100.0) == pytest.approx(190.0)
    assert metrics.change_pct(5.0, 0.0) is None
    assert metrics.change_pct(None, 3.0) is None


def test_fitted_line_recovers_a_known_quadratic():
    x = pd.Series([-5.0, 0.0, 5.0, 10.0, 20.0, 30.0])
    y = 2.0 * (x - 18) ** 2 + 1000
    a, b, c = metrics.fitted_line(x, y)
    assert (a, b, c) == pytest.approx((2.0, -72.0, 1648.0))
    assert metrics.fitted_line(pd.Series([1.0, 1.0, 2.0]), pd.Series([3.0, 4.0, 5.0])) is None


@pytest.mark.parametrize(
    ("column", "label"),
    [
        ("PEAK_DEMAND_MW", "Peak demand (MW)"),
        ("ENERGY_MWH", "Energy (MWh)"),
        ("DATE_LOCAL", "Date (local)"),
        ("LOADED_AT_UTC", "Loaded at (UTC)"),
        ("COMPLETENESS_PCT", "Completeness (%)"),
        ("MEAN_TEMPERATURE_C", "Mean temperature (°C)"),
        ("COOLING_DEGREE_DAYS_F", "Cooling degree days (°F·day)"),
        ("EVENT_ID", "Event ID"),
        ("CUSTOMER_MINUTES", "Customer-minutes interrupted"),
        ("ROWS_QUARANTINED", "Rows quarantined"),
    ],
)
def test_table_headers_carry_units(column, label):
    assert formatting.column_label(column) == label


def test_peak_time_is_local_for_one_time_zone_and_utc_across_several():
    from energy_app.tabs.overview import peak_time_text

    peak = {"INTERVAL_START_LOCAL": dt.datetime(2021, 7, 22, 15), "INTERVAL_START_UTC": dt.datetime(2021, 7, 22, 20)}
    assert peak_time_text(peak, ["America/Chicago"]) == "at Thu 22 Jul 2021 15:00 America/Chicago (hour beginning)"
    assert peak_time_text(peak, ["America/Chicago", "America/Denver"]).startswith("at Thu 22 Jul 2021 20:00 UTC")
